"""`spt --import`, `spt --suggest` and offline `spt --why` as a user runs them.

--import is checked on the seed's own `secpolicytools -d4` listing (seed_d4.txt, a copy
of reference/esxi-daemon-sandboxing.txt's listing): the imported domain file loads in
the sample policy set and `spt -d4` prints the seed's rules back byte for byte.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # scenario.py
import sptfs_harness as h  # noqa: E402
from scenario import DATASTORE, ISO, LOCKER  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.join(HERE, "seed_d4.txt")


def spt(*args, input=None):
    return h.run([h.tool("spt"), *args], input=input)


def seed_rules():
    """The rule lines of the seed's listing (everything after the State: line)."""
    with open(SEED) as f:
        lines = f.read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("State:")) + 1
    return "\n".join(lines[start:]).strip("\n")


class ImportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sptfs-imp-")
        self.policy = os.path.join(self.dir, "policy")
        shutil.copytree(h.sample_policy(), self.policy)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_seed_listing_round_trip(self):
        r = spt("--import", SEED)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('name = "globalVMDom"\nid = 4\nlevel = "enforcing"\n', r.stdout)
        # Replace the sample's globalVMDom with the imported one.
        os.unlink(os.path.join(self.policy, "domains", "globalVMDom.toml"))
        w = spt("--import", SEED, "--out", os.path.join(self.policy, "domains"))
        self.assertEqual(w.returncode, 0, w.stderr)
        self.assertIn("globalVMDom.toml", w.stdout)
        check = spt("--check", self.policy)
        self.assertEqual(check.returncode, 0, check.stderr)
        d4 = spt("--policy", self.policy, "-d4")
        self.assertEqual(d4.returncode, 0, d4.stderr)
        got = d4.stdout.split("\n")
        start = next(i for i, l in enumerate(got) if l.startswith("State:")) + 1
        self.assertEqual("\n".join(got[start:]).strip("\n"), seed_rules())

    def test_from_stdin(self):
        with open(SEED) as f:
            r = spt("--import", "-", input=f.read())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('  "-r /var/run/inetd.conf ",\n', r.stdout)

    def test_bad_listing_names_line_and_writes_nothing(self):
        bad = os.path.join(self.dir, "bad.txt")
        with open(bad, "w") as f:
            f.write("Domain Name: globalVMDom Domain ID :4 Enforcement Level: enforcing\n"
                    "-r /tmp rw\n-r /etc rwq\n")
        out = os.path.join(self.dir, "out")
        os.mkdir(out)
        r = spt("--import", bad, "--out", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{bad}:3:", r.stderr)
        self.assertIn("expected", r.stderr)
        self.assertEqual(os.listdir(out), [])

    def test_existing_file_is_not_overwritten(self):
        r = spt("--import", SEED, "--out", os.path.join(self.policy, "domains"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("globalVMDom.toml exists", r.stderr)

    def test_missing_file(self):
        r = spt("--import", os.path.join(self.dir, "nope.txt"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read", r.stderr)


AVC = ('type=SPT_AVC msg=audit(1700000000.001): denied {{ {perm} }} op=open pid=7 tid=7 '
       'comm="vmx" exe="/bin/vmx" uid=0 path="{path}" label=unlabeled domain={dom} '
       'level=enforcing rule="no rule" generation=1\n')


class SuggestTest(unittest.TestCase):
    def log(self):
        return (AVC.format(perm="read", path=f"{DATASTORE}/vmtools/windows.iso", dom="globalVMDom(4)")
                + AVC.format(perm="read", path=f"{DATASTORE}/vmtools/linux.iso", dom="globalVMDom(4)")
                + "type=SPT_POLICY_LOAD msg=audit(1700000001.000): dir=\"/x\" result=ok\n"
                + AVC.format(perm="write", path="/var/log/x", dom="appDom(2)"))

    def test_exact_rules_per_domain(self):
        r = spt("--suggest", input=self.log())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([l for l in r.stdout.splitlines() if not l.startswith("#")],
                         [f"-r {DATASTORE}/vmtools/linux.iso r",
                          f"-r {DATASTORE}/vmtools/windows.iso r", "", "-r /var/log/x w"])
        self.assertIn("# globalVMDom (4): 2 denials", r.stdout)
        self.assertIn("# appDom (2): 1 denial", r.stdout)

    def test_glob_widens_to_directories(self):
        r = spt("--suggest", "--glob", input=self.log())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"\n-r {DATASTORE}/vmtools r\n", r.stdout)
        self.assertNotIn("windows.iso r", r.stdout)

    def test_unreadable_log(self):
        r = spt("--suggest", "/nonexistent/audit.log")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read /nonexistent/audit.log", r.stderr)


class OfflineWhyTest(unittest.TestCase):
    """--why on the sample tree on disk (no daemon): the policy is compiled now."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sptfs-why-")
        r = h.run([sys.executable, os.path.join(h.source_dir(), "scripts", "make-sample-tree.py"),
                   cls.dir, "--vmx", h.tool("vmx-standin")])
        if r.returncode != 0:
            raise AssertionError(r.stderr)
        cls.root = os.path.join(cls.dir, "tree")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def why(self, *args):
        return spt("--policy", h.sample_policy(), "--root", self.root, "--why", *args)

    def test_allow_through_links(self):
        r = self.why("globalVMDom", ISO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(f"allow: globalVMDom (4, enforcing) r {ISO}"))
        self.assertIn(f"canonical path: {LOCKER}/vmtools/windows.iso", r.stdout)
        self.assertIn(f"-r /productLocker r, compiled to {LOCKER}", r.stdout)

    def test_label_from_the_tree(self):
        if os.geteuid() != 0:
            self.skipTest("labels are trusted.* xattrs as root")
        r = self.why("--domain", "globalVMDom", "/etc/shadow", "r")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("deny: "), r.stdout)
        self.assertIn("object label:   authObj (3119)", r.stdout)

    def test_bad_requests(self):
        for args, msg in ((["nosuchDom", "/tmp"], "unknown domain 'nosuchDom'"),
                          (["globalVMDom", "tmp"], "tmp: not an absolute path"),
                          (["globalVMDom", "/tmp", "rwz"], "access 'rwz'")):
            r = self.why(*args)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(msg, r.stderr)
            self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
