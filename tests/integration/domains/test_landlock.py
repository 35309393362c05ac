"""Issue 13: spt-run's Landlock layer (docs/spt-run.md, "Host paths: the Landlock
layer"). Without --root, a confined program reaches on the host only what its domain's
-r rules grant read as host paths (and the mount, where sptfs decides); a transition
never gives a host path that no reachable domain grants; a kernel without Landlock
(simulated with the test hook SPT_RUN_TEST_LANDLOCK_ABI=0) makes spt-run refuse unless
--no-landlock, which says loudly that host paths are not confined."""

import os
import unittest

from confine import HOST_RULES, SECRET, Sandbox
import sptfs_harness as h

PERMISSION_DENIED = "Permission denied"  # EACCES: Landlock's answer (sptfs says EPERM)


class LandlockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sb = Sandbox({}, labels=[("toolObj", 3501)],
                     files={"/opt/toolsh": ("/usr/bin/dash", 0o755)},
                     labels_on={"/opt/toolsh": "toolObj"})
        # Host files of the test, outside the tree: what each domain may read.
        cls.host = os.path.join(sb.work, "host")
        os.makedirs(os.path.join(cls.host, "sub"))
        for name in ("granted.txt", "denied.txt", "tool-only.txt", "elsewhere.txt",
                     "sub/deep.txt"):
            with open(os.path.join(cls.host, name), "w") as f:
                f.write(SECRET + " " + name + "\n")
        hp = lambda name: os.path.join(cls.host, name)  # noqa: E731
        sb.domains = {
            "hostDom": dict(id=20, rules=HOST_RULES + [f"-r {hp('granted.txt')} r", "-r /data r"]),
            # -r DIR r with a narrower rule that grants nothing: the file is carved out.
            "carveDom": dict(id=21, rules=HOST_RULES + [f"-r {cls.host} r",
                                                        f"-r {hp('denied.txt')} "]),
            "startDom": dict(id=22, rules=HOST_RULES + [
                "-r /opt rx", "-d toolObj toolDom file_exec grant"]),
            "toolDom": dict(id=23, rules=HOST_RULES + ["-r /opt rx", "-o toolObj rx",
                                                       f"-r {hp('tool-only.txt')} r"]),
            "otherDom": dict(id=24, rules=HOST_RULES + [f"-r {hp('elsewhere.txt')} r"]),
            "plainDom": dict(id=25, rules=HOST_RULES + ["-r /opt rx"]),
        }
        cls.sb = sb.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.sb.__exit__(None, None, None)

    def path(self, name):
        return os.path.join(self.host, name)

    def run_host(self, domain, script, extra=(), env=None, root=False):
        args = self.sb.spt_run_args(domain, ["sh", "-c", script], root=root)
        args[1:1] = list(extra)
        return h.run(args, env=dict(os.environ, **(env or {})))

    def test_granted_host_file_read_ungranted_denied(self):
        r = self.run_host("hostDom", f"cat {self.path('granted.txt')}; cat {self.path('denied.txt')};"
                          " cat /etc/shadow; cat /etc/passwd")
        self.assertIn("granted.txt", r.stdout, r.stderr)
        self.assertNotIn("denied.txt", r.stdout)
        self.assertIn(f"cat: {self.path('denied.txt')}: {PERMISSION_DENIED}", r.stderr)
        self.assertIn(f"cat: /etc/shadow: {PERMISSION_DENIED}", r.stderr)
        self.assertIn(f"cat: /etc/passwd: {PERMISSION_DENIED}", r.stderr)  # no rule covers it

    def test_backing_directory_unreachable_mount_reachable(self):
        self.sb.m  # the mount is up
        backing = self.sb.backing("/data/d.txt")
        r = self.run_host("hostDom", f"cat {backing}; ls {self.sb.tree}")
        self.assertNotIn("DATA", r.stdout)
        self.assertIn(f"cat: {backing}: {PERMISSION_DENIED}", r.stderr)
        self.assertIn(f"cannot open directory '{self.sb.tree}': {PERMISSION_DENIED}", r.stderr)
        # The same file through the mount: sptfs decides there (-r /data r).
        r = self.run_host("hostDom", f"cat {self.sb.path('/data/d.txt')}")
        self.assertEqual(r.stdout, "DATA\n", r.stderr)

    def test_narrower_rule_is_carved_out_of_a_directory(self):
        r = self.run_host("carveDom", f"cat {self.path('granted.txt')} {self.path('sub/deep.txt')};"
                          f" cat {self.path('denied.txt')}; ls {self.host}")
        self.assertIn("granted.txt", r.stdout, r.stderr)
        self.assertIn("sub/deep.txt", r.stdout, r.stderr)
        self.assertIn(f"cat: {self.path('denied.txt')}: {PERMISSION_DENIED}", r.stderr)
        self.assertIn("denied.txt", r.stdout.split())  # listing the directory still works

    def test_transition_never_widens_beyond_reachable_domains(self):
        # startDom -> toolDom by exec of /opt/toolsh: the tool reads what toolDom grants
        # (held from the start, the union), never what only an unreachable domain grants.
        tool = (f"cat {self.path('tool-only.txt')}; cat {self.path('elsewhere.txt')};"
                f" cat {self.path('granted.txt')}")
        r = self.run_host("startDom", f"{self.sb.path('/opt/toolsh')} -c '{tool}'")
        self.assertIn("tool-only.txt", r.stdout, r.stderr)
        self.assertNotIn("elsewhere.txt", r.stdout)
        self.assertNotIn("granted.txt", r.stdout)
        self.assertIn(f"cat: {self.path('elsewhere.txt')}: {PERMISSION_DENIED}", r.stderr)
        # A domain that reaches no toolDom does not get toolDom's host file.
        r = self.run_host("plainDom", f"cat {self.path('tool-only.txt')}")
        self.assertNotIn("tool-only.txt", r.stdout)
        self.assertIn(PERMISSION_DENIED, r.stderr)

    def test_no_landlock_is_loud(self):
        r = self.run_host("hostDom", f"cat {self.path('denied.txt')}", extra=["--no-landlock"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stderr.splitlines() if "not confined" in l]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("--no-landlock", lines[0])

    def test_kernel_without_landlock_refuses_without_root(self):
        marker = os.path.join(self.sb.mnt, "tmp", "ran-without-landlock")
        r = self.run_host("hostDom", f"touch {marker}", env={"SPT_RUN_TEST_LANDLOCK_ABI": "0"})
        self.assertEqual(r.returncode, 125, r.stdout + r.stderr)
        self.assertIn("no Landlock", r.stderr)
        self.assertIn("--no-landlock", r.stderr)
        self.assertFalse(os.path.exists(marker))  # nothing ran
        # --no-landlock runs it, and says so; --root runs it too (the tree confines).
        r = self.run_host("hostDom", "true", extra=["--no-landlock"],
                          env={"SPT_RUN_TEST_LANDLOCK_ABI": "0"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("not confined", r.stderr)
        r = self.sb.run("plainDom", "true", env=dict(os.environ, SPT_RUN_TEST_LANDLOCK_ABI="0"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--root alone", r.stderr)

    # ---- item 4: spt --why --host says which layer decides ------------------------
    def why_host(self, domain, path, access="r"):
        r = self.sb.spt("--why", "--host", domain, path, access)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_why_host_names_landlock_and_the_rule_and_agrees_with_the_world(self):
        rule_at = r"\[[^\]]*hostDom\.toml:\d+\]"
        granted = self.path("granted.txt")
        out = self.why_host("hostDom", granted)
        self.assertTrue(out.startswith(f"allow: hostDom (20, enforcing) r {granted}\n"), out)
        self.assertRegex(out, r"decided by: +Landlock, from rule -r " + granted + " r  " +
                         rule_at + " of hostDom")
        for path in (self.path("denied.txt"), "/etc/shadow", self.sb.backing("/data/d.txt")):
            out = self.why_host("hostDom", path)
            self.assertTrue(out.startswith("deny: "), out)
            self.assertIn(f"decided by:     Landlock: no -r rule covers {path}", out)
            self.assertIn("fails with EACCES", out)
        # The carved-out file names the narrower rule; its directory can still be listed.
        out = self.why_host("carveDom", self.path("denied.txt"))
        self.assertTrue(out.startswith("deny: "), out)
        self.assertRegex(out, "from rule -r " + self.path("denied.txt") + r" \(no access\)")
        self.assertTrue(self.why_host("carveDom", self.host).startswith("allow: "))
        # What --why says is what a world gets (without --root).
        for domain, name in (("hostDom", "granted.txt"), ("hostDom", "denied.txt"),
                             ("carveDom", "sub/deep.txt"), ("carveDom", "denied.txt"),
                             ("startDom", "tool-only.txt"), ("plainDom", "tool-only.txt")):
            said = self.why_host(domain, self.path(name)).split(":")[0]
            r = self.run_host(domain, f"cat {self.path(name)}")
            got = "allow" if SECRET in r.stdout else "deny"
            self.assertEqual(said, got, f"{domain} {name}: --why said {said}, the world got "
                             f"{got}: {r.stderr}")

    def test_why_host_transition_union_and_tree_paths(self):
        # startDom reaches toolDom by -d: the world holds toolDom's host file, from its rule.
        out = self.why_host("startDom", self.path("tool-only.txt"))
        self.assertTrue(out.startswith("allow: "), out)
        self.assertRegex(out, r"from rule -r \S+tool-only.txt r +\[[^\]]*toolDom\.toml:\d+\]"
                         " of toolDom")
        self.assertIn("ruleset of:     startDom, toolDom", out)
        # Under the mount, sptfs decides on the tree path, with labels.
        out = self.why_host("hostDom", self.sb.path("/data/d.txt"))
        self.assertTrue(out.startswith("allow: hostDom (20, enforcing) r /data/d.txt"), out)
        self.assertIn(f"host path:      under the mount {self.sb.mnt}: tree path /data/d.txt",
                      out)
        self.assertIn("decided by:     sptfs (a path in the tree", out)
        out = self.why_host("hostDom", self.sb.path("/secret/s.txt"))
        self.assertTrue(out.startswith("deny: "), out)
        self.assertIn("the request fails with EPERM", out)
        # Without --host the path is a tree path, as before, and says so.
        r = self.sb.spt("--why", "hostDom", "/data/d.txt")
        self.assertTrue(r.stdout.startswith("allow: "), r.stdout + r.stderr)
        self.assertIn("decided by:     sptfs (a path in the tree", r.stdout)
        self.assertNotIn("--why --host", r.stdout)
        # A path the tree does not have is most likely a host path: the answer says so.
        r = self.sb.spt("--why", "hostDom", self.path("denied.txt"))
        self.assertTrue(r.stdout.startswith("deny: "), r.stdout + r.stderr)
        self.assertIn("not in the tree; a world started without --root reaches the host's",
                      r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
