#!/usr/bin/env python3
"""End-to-end tests of the offline `spt` program: outputs, exit codes, errors.

Run by meson (`meson test spt_cli`); needs SPTFS_BUILD and SPTFS_SOURCE.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["SPTFS_BUILD"]
SOURCE = os.environ["SPTFS_SOURCE"]
SPT = os.path.join(BUILD, "tools", "spt", "spt")
ESXI = os.path.join(SOURCE, "policies", "esxi")
TESTDATA = os.path.join(SOURCE, "src", "cli", "testdata")


def spt(*args):
    return subprocess.run([SPT, *args], capture_output=True, text=True, timeout=30)


def fixture(name):
    with open(os.path.join(TESTDATA, name), encoding="utf-8") as f:
        return f.read()


class SeedOutputs(unittest.TestCase):
    def test_list_labels_is_the_seeds(self):
        r = spt("--policy", ESXI, "-l")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, fixture("seed_list_labels.txt"))
        self.assertEqual(r.stderr, "")

    def test_display_4_is_the_seeds_plus_product_locker(self):
        for args in (["-d4"], ["-d", "4"], ["--display-policy=4"], ["-d", "globalVMDom"]):
            r = spt("--policy", ESXI, *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, fixture("seed_display_4.txt") + "-r /productLocker r\n")

    def test_help_starts_with_the_seeds(self):
        r = spt("-h")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(fixture("seed_help.txt")))

    def test_lookups(self):
        self.assertEqual(spt("--policy", ESXI, "-D", "globalVMDom").stdout, "4\n")
        self.assertEqual(spt("--policy", ESXI, "-O", "unlabeled").stdout, "0\n")
        r = spt("--policy", ESXI, "-D", "noSuchDom")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown domain 'noSuchDom'", r.stderr)

    def test_json_parses(self):
        labels = json.loads(spt("--policy", ESXI, "-l", "--json").stdout)
        self.assertEqual(len(labels["labels"]), 13)
        self.assertEqual(len(labels["domains"]), 35)
        policy = json.loads(spt("--policy", ESXI, "-d", "--json").stdout)
        vm = [d for d in policy["domains"] if d["id"] == 4][0]
        self.assertEqual(vm["name"], "globalVMDom")
        texts = [rule["text"] for rule in vm["rules"]]
        self.assertIn("-r /var/run/inetd.conf ", texts)
        keywords = json.loads(spt("-k", "--json", "--policy", ESXI).stdout)["keywords"]
        self.assertIn("file_relabel", [k["word"] for k in keywords])


class TreeAndCheck(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="spt-test-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_root_shows_compiled_paths_and_check_warns(self):
        tree = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(tree, "locker", "vmtools"))
        os.symlink("/locker", os.path.join(tree, "productLocker"))
        r = spt("--policy", ESXI, "--root", tree, "-d4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("\n-r /locker r\n", r.stdout)
        self.assertNotIn("/productLocker", r.stdout)
        c = spt("--check", ESXI, "--root", tree)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertIn("ok: 35 domains, 13 object labels", c.stdout)
        self.assertIn("spt: Partially resolved path: /bin/vmx\n", c.stderr)
        self.assertNotIn("Partially resolved path: /productLocker\n", c.stderr)

    def test_check_rejects_a_broken_copy(self):
        bad = os.path.join(self.tmp, "bad")
        shutil.copytree(ESXI, bad)
        path = os.path.join(bad, "domains", "globalVMDom.toml")
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        n = lines.index('  "-r /tmp rw",')
        lines[n] = '  "-r /tmp rwz",'
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        for args in (["--check", bad], ["--policy", bad, "-l"]):
            r = spt(*args)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stdout, "")
            self.assertIn(f"{path}:{n + 1}: bad permissions 'rwz'", r.stderr)
            self.assertIn("(expected", r.stderr)

    def test_check_of_a_missing_directory(self):
        r = spt("--check", os.path.join(self.tmp, "nope"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such file or directory (expected a policy set directory)", r.stderr)


class ExitCodes(unittest.TestCase):
    def test_usage_errors_exit_2(self):
        for args in (["-x"], ["--policy"], ["-l", "-k"], ["-s", "/f"], []):
            r = spt(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "")
            self.assertTrue(r.stderr)

    def test_online_only_commands_offline(self):
        r = spt("--policy", ESXI, "-r")
        self.assertEqual(r.returncode, 1)
        self.assertIn("-r needs a running sptfs", r.stderr)


if __name__ == "__main__":
    unittest.main()
