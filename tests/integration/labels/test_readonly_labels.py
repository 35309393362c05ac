"""Labels on read-only maps (docs/sptfs.md, "Labels"): a file whose label attribute the
mount cannot write carries the default label of its path (default-labels.toml), computed
at lookup; a stored attribute wins over it. Decisions, `spt-label -g` and
`spt-label --restore` see the same label.

The test process itself is the caller: nobody placed it, so it runs in the mount's
--default-domain (etcDom), which may read passwdObj but not shadowObj.
"""
import errno
import os
import shutil
import tempfile
import unittest
import warnings

from sptfs_harness import get_label, label_xattr, mount, run, tool, write_policy

LABEL = label_xattr()
DOMAINS = {"etcDom": dict(id=5, rules=["-r / r", "-o passwdObj r"])}
LABELS = [("shadowObj", 3300), ("passwdObj", 3301)]
DEFAULTS = [("/etc/shadow", "shadowObj"), ("/etc/passwd", "passwdObj"),
            ("/etc/group", "shadowObj"), ("/opt", "shadowObj")]
COMPUTED = "(computed: default-labels, read-only map)"


class ReadOnlyLabelsTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.work = tempfile.mkdtemp(prefix="sptfs-rolabel-")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.mnt)
        for rel in ("root/opt/app.conf", "etc/shadow", "etc/passwd", "etc/group", "etc/motd"):
            self.write(rel, rel + "\n")
        # A stored label on the read-only side: it wins over the default (shadowObj).
        os.setxattr(self.b("etc/group"), LABEL, b"passwdObj")
        policy = write_policy(os.path.join(self.work, "policy"), DOMAINS, LABELS, DEFAULTS)
        cfg = os.path.join(self.work, "mount.toml")
        with open(cfg, "w") as f:
            f.write(f'policy = "{policy}"\ndefault_domain = "etcDom"\n'
                    '[[map]]\nat = "/"\nsource = "root"\n\n'
                    '[[map]]\nat = "/etc"\nsource = "etc"\nread_only = true\n')
        self.ctx = mount(config=cfg, mountpoint=self.mnt)
        self.m = self.ctx.__enter__()

    def tearDown(self):
        self.ctx.__exit__(None, None, None)
        shutil.rmtree(self.work, ignore_errors=True)

    def write(self, rel, text):
        os.makedirs(os.path.dirname(self.b(rel)), exist_ok=True)
        with open(self.b(rel), "w") as f:
            f.write(text)

    def b(self, rel):
        return os.path.join(self.work, rel)

    def p(self, rel):
        return os.path.join(self.mnt, rel)

    def label(self, *args):
        return run([tool("spt-label")] + list(args))

    def test_unlabeled_file_of_a_read_only_map_is_decided_by_its_default_label(self):
        self.assertIsNone(get_label(self.b("etc/shadow")))  # nothing stored
        with self.assertRaises(OSError) as cm:
            open(self.p("etc/shadow")).read()
        self.assertEqual(cm.exception.errno, errno.EPERM)
        self.assertEqual(open(self.p("etc/passwd")).read(), "etc/passwd\n")
        self.assertEqual(open(self.p("etc/motd")).read(), "etc/motd\n")  # no default
        recs = self.m.audit(until=lambda rs: [r for r in rs if r.get("path") == "/etc/shadow"])
        denied = [r for r in recs if r.get("path") == "/etc/shadow"]
        self.assertTrue(denied, [r["_line"] for r in recs])
        self.assertIn("shadowObj", denied[0]["_line"])

    def test_stored_label_wins_over_the_default(self):
        # group: stored passwdObj (readable) although default-labels say shadowObj.
        self.assertEqual(open(self.p("etc/group")).read(), "etc/group\n")

    def test_writable_maps_do_not_compute(self):
        # /opt defaults to shadowObj, but its map is writable: the file stays unlabeled
        # until someone restores it (spt-label --restore can there).
        self.assertEqual(open(self.p("opt/app.conf")).read(), "root/opt/app.conf\n")
        r = self.label("-g", self.p("opt/app.conf"))
        self.assertEqual(r.stdout, "unlabeled\n", r.stderr)

    def test_get_says_the_label_is_computed(self):
        r = self.label("-g", self.p("etc/shadow"))
        self.assertEqual((r.returncode, r.stdout), (0, f"shadowObj {COMPUTED}\n"), r.stderr)
        r = self.label("-g", self.p("etc/group"), self.p("etc/motd"))
        self.assertEqual(r.stdout, f"{self.p('etc/group')}: passwdObj\n"
                                   f"{self.p('etc/motd')}: unlabeled\n", r.stderr)
        r = self.label("--json", "-g", self.p("etc/passwd"))
        self.assertIn('"label":"passwdObj","source":"computed"', r.stdout)
        # The attribute itself reads the same through the mount (what getfattr shows),
        # and the backing file still has none.
        self.assertEqual(os.getxattr(self.p("etc/shadow"), LABEL), b"shadowObj")
        self.assertEqual(os.getxattr(self.p("etc/shadow"), LABEL + ".source"), b"computed")
        self.assertEqual(os.getxattr(self.p("etc/group"), LABEL + ".source"), b"stored")
        self.assertIsNone(get_label(self.b("etc/shadow")))

    def test_restore_on_a_read_only_map_keeps_the_computed_labels(self):
        files = [self.p("etc/" + n) for n in ("shadow", "passwd", "motd")]
        r = self.label("--restore", *files)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{files[0]}: shadowObj {COMPUTED}\n"
                                   f"{files[1]}: passwdObj {COMPUTED}\n"
                                   f"{files[2]}: unlabeled\n")

    def test_restore_reports_a_stored_label_it_cannot_replace(self):
        r = self.label("--restore", "-R", self.p("etc"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{self.p('etc/shadow')}: shadowObj {COMPUTED}", r.stdout)
        self.assertIn(f"{self.p('etc/group')}: setting label shadowObj: Read-only file system "
                      "(a read-only map: the file keeps its stored label passwdObj", r.stderr)
        self.assertNotIn("etc/shadow", r.stderr)


if __name__ == "__main__":
    unittest.main()
