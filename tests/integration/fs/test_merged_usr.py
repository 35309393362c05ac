"""Merged /usr (docs/sptfs.md, "Merged /usr"): a map whose source is a host symlink
appears in the tree as a relative symlink when another map shows its target, so
/bin/true and /usr/bin/true are one file at one canonical path and one rule decides
both; a rule written with /bin compiles to /usr/bin. A source link whose target no map
shows is mapped as the directory, with a warning.

The host here is a fake one in a temp dir (host/bin -> usr/bin, host/sbin ->
opt/sbin, and host/opt is not mapped), so the test does not depend on the machine's layout. The test process
is the caller, in the mount's --default-domain (usrDom).
"""
import errno
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import warnings

from sptfs_harness import is_mounted, mount, run, sptfs_bin, unmount, write_policy

DOMAINS = {"usrDom": dict(id=5, rules=[
    "-r / r", "-r /usr/bin/true ", "-r /bin/secret "])}


class MergedUsrTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.work = tempfile.mkdtemp(prefix="sptfs-usr-")
        self.mnt = os.path.join(self.work, "mnt")
        host = os.path.join(self.work, "host")
        for d in ("host/usr/bin", "host/opt/sbin", "root/bin"):
            os.makedirs(os.path.join(self.work, d))
        for name in ("true", "secret", "other"):
            with open(os.path.join(host, "usr/bin", name), "w") as f:
                f.write(f"{name}\n")
        with open(os.path.join(host, "opt/sbin/init"), "w") as f:
            f.write("init\n")
        os.symlink("usr/bin", os.path.join(host, "bin"))
        os.symlink("opt/sbin", os.path.join(host, "sbin"))
        os.makedirs(self.mnt)
        self.policy = write_policy(os.path.join(self.work, "policy"), DOMAINS)
        self.maps = ('[[map]]\nat = "/"\nsource = "root"\n'
                     + "".join(f'\n[[map]]\nat = "/{m}"\nsource = "host/{m}"\nread_only = true\n'
                               for m in ("usr", "bin", "sbin")))

    def tearDown(self):
        unmount(self.mnt)
        shutil.rmtree(self.work, ignore_errors=True)

    def config(self, extra=""):
        cfg = os.path.join(self.work, "mount.toml")
        with open(cfg, "w") as f:
            f.write(f'policy = "{self.policy}"\ndefault_domain = "usrDom"\n' + self.maps + extra)
        return cfg

    def p(self, *parts):
        return os.path.join(self.mnt, *parts)

    def test_a_map_of_a_host_symlink_is_a_relative_symlink_in_the_tree(self):
        with mount(config=self.config(), mountpoint=self.mnt):
            self.assertTrue(stat.S_ISLNK(os.lstat(self.p("bin")).st_mode))
            self.assertEqual(os.readlink(self.p("bin")), "usr/bin")
            entries = {e.name: e for e in os.scandir(self.mnt)}
            self.assertTrue(entries["bin"].is_symlink())
            self.assertEqual(open(self.p("bin", "other")).read(), "other\n")
            self.assertEqual(os.stat(self.p("bin", "other")).st_ino,
                             os.stat(self.p("usr", "bin", "other")).st_ino)

    def test_one_rule_decides_both_paths(self):
        with mount(config=self.config(), mountpoint=self.mnt) as m:
            # "-r /usr/bin/true " (no access) and "-r /bin/secret " (compiled to
            # /usr/bin/secret) each deny the file under both of its names.
            for name in ("true", "secret"):
                for path in (self.p("bin", name), self.p("usr", "bin", name)):
                    with self.assertRaises(OSError, msg=path) as cm:
                        open(path).read()
                    self.assertEqual(cm.exception.errno, errno.EPERM)
            want = lambda rs: [r for r in rs if r.get("path") == "/usr/bin/true"]
            recs = m.audit(until=lambda rs: len(want(rs)) >= 2)
            self.assertEqual(len(want(recs)), 2, [r["_line"] for r in recs])
            self.assertFalse([r for r in recs if r.get("path", "").startswith("/bin/")])

    def test_a_link_whose_target_no_map_shows_is_mapped_as_the_directory(self):
        with mount(config=self.config(), mountpoint=self.mnt) as m:
            self.assertTrue(stat.S_ISDIR(os.lstat(self.p("sbin")).st_mode))
            self.assertEqual(open(self.p("sbin", "init")).read(), "init\n")
            self.assertIn("map at /sbin: its source " + os.path.join(self.work, "host/sbin")
                          + " is a symlink to " + os.path.join(self.work, "host/opt/sbin")
                          + ", which no other map shows", m.stderr())

    def test_a_map_below_a_tree_symlink_is_refused(self):
        extra = '\n[[map]]\nat = "/bin/extra"\nsource = "root"\n'
        try:
            r = run([sptfs_bin(), "--config", self.config(extra), self.mnt], timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("map at /bin/extra: the tree has a symlink on the way (/bin -> usr/bin",
                          r.stderr)
            self.assertFalse(is_mounted(self.mnt))
        except subprocess.TimeoutExpired:
            self.fail("sptfs did not refuse the config")


if __name__ == "__main__":
    unittest.main()
