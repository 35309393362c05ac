"""The control socket and the online tools against a real mount: reload, failed reload,
levels, runtime domains, bad control messages, authorisation, labels, audit events.

The test process runs in the mount's default domain (superDom, unconfined). A confined
caller is a child that waits on stdin until the daemon has placed it in a domain (the
`place` control command), then execs the command under test.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import warnings

from control_client import call, connect, frame, request_payload, send_raw
from sptfs_harness import get_label, label_xattr, mount, run, tool, write_policy

DOMAINS = {
    "boxDom": dict(id=5, rules=["-r /pub r"]),
    "adminDom": dict(id=6, rules=["-r / r", "-c policy_admin grant"]),
    "launchDom": dict(id=7, rules=["-r / r", "-c domain_transition grant"]),
}

# Run by a process in launchDom: what it may place where (one exit code per line).
LAUNCHER = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from control_client import call
sock = sys.argv[2]
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
for pid, dom in ((child, "boxDom"), (child, "superDom"), (os.getpid(), "boxDom"),
                 (os.getppid(), "boxDom")):
    print(call(sock, ["place", str(pid), dom])[0])
os.kill(child, 9)
"""
LABELS = [("appObj", 3117), ("certObj", 3120)]
DEFAULTS = [("/pub/auto", "certObj")]


class Placed:
    """A child placed in `domain` before it execs `cmd` (its whole tree stays there)."""

    def __init__(self, sock, domain, cmd):
        self.proc = subprocess.Popen(["sh", "-c", 'read _; exec "$@"', "sh"] + list(cmd),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        reply = call(sock, ["place", str(self.proc.pid), domain])
        if reply[0] != 0:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"place {domain} failed: {reply}")

    def finish(self, timeout=30):
        out, err = self.proc.communicate("go\n", timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


class ControlTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.work = tempfile.mkdtemp(prefix="sptfs-ctl-")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        for d in ("pub/auto", "data"):
            os.makedirs(os.path.join(self.src, d))
        os.makedirs(self.mnt)
        for f, text in (("pub/f", "public\n"), ("pub/auto/a", "a\n"), ("data/x", "secret\n")):
            with open(os.path.join(self.src, f), "w") as fh:
                fh.write(text)
        self.policy = self.write_policy("policy", DOMAINS)
        self.ctx = mount(self.src, self.mnt, policy=self.policy, default_domain="superDom")
        self.m = self.ctx.__enter__()
        self.sock = self.m.socket

    def tearDown(self):
        self.ctx.__exit__(None, None, None)
        shutil.rmtree(self.work, ignore_errors=True)

    # helpers
    def write_policy(self, name, domains):
        return write_policy(os.path.join(self.work, name), domains, LABELS, DEFAULTS)

    def spt(self, *args):
        return run([tool("spt"), "--socket", self.sock] + list(args))

    def domain(self, *args):
        return run([tool("spt-domain"), "--socket", self.sock] + list(args))

    def label(self, *args):
        return run([tool("spt-label")] + list(args))

    def cat_as(self, domain, rel):
        return Placed(self.sock, domain, ["cat", os.path.join(self.mnt, rel)]).finish()

    def generation(self):
        code, out, _ = call(self.sock, ["info"])
        self.assertEqual(code, 0)
        return int(re.search(r"^generation=(\d+)$", out, re.M).group(1))

    def events(self, type_):
        return [r for r in self.m.audit() if r.get("type") == type_]

    def level_of(self, name):
        out = self.domain("list").stdout
        m = re.search(rf"^{name}\s+(\S+)$", out, re.M)
        self.assertIsNotNone(m, out)
        return m.group(1)

    def test_domain_list_json_matches_the_table(self):
        import json
        table = self.domain("list").stdout.splitlines()[2:]
        r = self.domain("list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        self.assertEqual([(d["name"], d["level"]) for d in rows],
                         [tuple(line.split()) for line in table])
        self.assertTrue(all(isinstance(d["id"], int) for d in rows))

    def assert_serving(self):
        self.assertIsNone(self.m.proc.poll(), "daemon exited")
        r = self.domain("list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("boxDom", r.stdout)

    # tests
    def test_reload_changes_the_answer_without_remount(self):
        code, _, err = self.cat_as("boxDom", "data/x")
        self.assertNotEqual(code, 0)
        self.assertIn("Operation not permitted", err)
        self.write_policy("policy", {**DOMAINS, "boxDom": dict(id=5, rules=["-r /pub r",
                                                                            "-r /data r"])})
        r = self.spt("-p", self.policy)
        self.assertEqual(r.returncode, 0, r.stderr)
        code, out, err = self.cat_as("boxDom", "data/x")
        self.assertEqual((code, out), (0, "secret\n"), err)
        loads = self.events("SPT_POLICY_LOAD")
        self.assertTrue(any(e.get("result") == "ok" for e in loads), loads)

    def test_failed_reload_changes_nothing_and_says_where(self):
        gen = self.generation()
        broken = self.write_policy("broken", {**DOMAINS, "boxDom": dict(
            id=5, rules=["-r /pub r", "-r /data rwq"])})
        r = self.spt("-p", broken)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"boxDom\.toml:\d+: ")
        self.assertIn("the old one stays in force", r.stderr)
        self.assertEqual(self.generation(), gen)
        code, _, _ = self.cat_as("boxDom", "data/x")
        self.assertNotEqual(code, 0)
        self.assertTrue(any(e.get("result") == "failed" for e in self.events("SPT_POLICY_LOAD")))
        self.assert_serving()

    def test_policy_dir_that_vanishes_before_reload(self):
        gone = os.path.join(self.work, "gone")
        shutil.copytree(self.policy, gone)
        shutil.rmtree(gone)
        gen = self.generation()
        r = self.spt("-p", gone)
        self.assertEqual(r.returncode, 1)
        self.assertIn(gone, r.stderr)
        self.assertEqual(self.generation(), gen)
        self.assert_serving()

    def test_levels_warning_allows_and_records_disabled_is_silent(self):
        code, _, _ = self.cat_as("boxDom", "data/x")
        self.assertNotEqual(code, 0)
        denials = [r for r in self.m.audit() if "denied" in r["_line"] and
                   r.get("type") == "SPT_AVC" and r.get("path") == "/data/x"]
        self.assertTrue(denials)
        self.assertEqual(denials[-1].get("domain"), "boxDom(5)")

        self.assertEqual(self.domain("set", "-n", "boxDom", "-l", "warning").returncode, 0)
        self.assertEqual(self.level_of("boxDom"), "warning")
        code, out, err = self.cat_as("boxDom", "data/x")
        self.assertEqual((code, out), (0, "secret\n"), err)
        warned = [r for r in self.m.audit() if r.get("type") == "SPT_AVC" and
                  " warning " in r["_line"] and r.get("path") == "/data/x"]
        self.assertTrue(warned)

        self.assertEqual(self.domain("set", "-n", "boxDom", "-l", "disabled").returncode, 0)
        before = len([r for r in self.m.audit() if r.get("type") == "SPT_AVC"])
        code, out, _ = self.cat_as("boxDom", "data/x")
        self.assertEqual((code, out), (0, "secret\n"))
        after = len([r for r in self.m.audit() if r.get("type") == "SPT_AVC"])
        self.assertEqual(before, after)

    def test_every_level_change_is_audited(self):
        names = [l.split()[0] for l in self.domain("list").stdout.splitlines()[2:]]
        self.assertEqual(self.domain("set", "-n", "boxDom", "-l", "warning").returncode, 0)
        r = self.domain("set", "--all", "-l", "disabled")
        self.assertEqual(r.returncode, 0, r.stderr)
        for n in names:
            self.assertEqual(self.level_of(n), "disabled")
        levels = self.events("SPT_LEVEL")
        changed = {(e["domain"].split("(")[0], e["old"], e["new"]) for e in levels}
        self.assertIn(("boxDom", "enforcing", "warning"), changed)
        for n in names:
            old = "warning" if n == "boxDom" else "enforcing"
            self.assertIn((n, old, "disabled"), changed)

    def test_runtime_domains_new_delete_and_refusal(self):
        r = self.spt("-N", "vmDom9")
        self.assertEqual(r.returncode, 0, r.stderr)
        ident = re.search(r"created with ID (\d+)", r.stdout).group(1)
        self.assertRegex(self.spt("-l").stdout, rf"(?m)^{ident}\s+vmDom9$")
        self.assertEqual(self.spt("-N", "vmDom9").returncode, 1)
        held = Placed(self.sock, "vmDom9", ["true"])
        try:
            self.assertIn("WorldRefCount: 1", self.spt("-d", ident).stdout)
            r = self.spt("-C", "vmDom9")
            self.assertEqual(r.returncode, 1)
            self.assertIn("still run", r.stderr)
            r = self.spt("-p")  # a load would drop the domain from under its process
            self.assertEqual(r.returncode, 1)
            self.assertIn("runtime domain vmDom9 has 1 live process", r.stderr)
        finally:
            held.finish()
        deadline = time.monotonic() + 5
        while "WorldRefCount: 0" not in self.spt("-d", ident).stdout:
            self.assertLess(time.monotonic(), deadline, "process still counted")
            time.sleep(0.1)
        r = self.spt("-C", "vmDom9")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("vmDom9", self.spt("-l").stdout)
        self.assertTrue(self.events("SPT_DOMAIN_NEW"))
        self.assertTrue(self.events("SPT_DOMAIN_DEL"))
        r = self.spt("-C", "boxDom")
        self.assertEqual(r.returncode, 1)
        self.assertIn("defined by the policy set", r.stderr)

    def test_reset_returns_to_the_files(self):
        gen = self.generation()
        self.assertEqual(self.domain("set", "-n", "boxDom", "-l", "disabled").returncode, 0)
        self.assertEqual(self.spt("-N", "tmpDom").returncode, 0)
        self.assertEqual(self.spt("-T", "svc", "-L", "tmpDom").returncode, 0)
        r = self.spt("-r")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.level_of("boxDom"), "enforcing")
        self.assertNotIn("tmpDom", self.spt("-l").stdout)
        self.assertNotIn("svc", self.domain("tags").stdout)
        self.assertGreater(self.generation(), gen)
        resets = self.events("SPT_POLICY_RESET")
        self.assertEqual([e.get("result") for e in resets], ["ok"])

    def test_vmci_tag_is_recorded_and_shown(self):
        self.assertEqual(self.spt("-N", "pvmDom").returncode, 0)
        r = self.spt("-T", "vmci.svc.1", "-L", "pvmDom")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(self.domain("tags").stdout, r"(?m)^vmci\.svc\.1\s+pvmDom$")
        self.assertTrue(self.events("SPT_VMCI_TAG"))

    def test_bad_control_messages_get_errors_and_the_daemon_keeps_serving(self):
        r = send_raw(self.sock, frame(b"GET / HTTP/1.0\r\n\r\n"))
        self.assertEqual(r[0], 2)
        self.assertIn("magic", r[2])
        r = send_raw(self.sock, (1 << 20).to_bytes(4, "big"))
        self.assertEqual(r[0], 2)
        self.assertIn("too large", r[2])
        r = send_raw(self.sock, b"\0\0\0\0")
        self.assertIn("empty frame", r[2])
        r = send_raw(self.sock, frame(request_payload(["spt", "-l"])[:-2]))
        self.assertIn("truncated", r[2])
        with connect(self.sock) as s:  # disconnect mid-request
            s.sendall(frame(request_payload(["domain", "list"]))[:9])
        stalled = connect(self.sock)  # a client that sends nothing blocks nobody
        try:
            self.assert_serving()
        finally:
            stalled.close()
        r = self.domain("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assert_serving()

    def test_unknown_domain_and_label_names(self):
        r = self.domain("set", "-n", "nosuchDom", "-l", "warning")
        self.assertEqual(r.returncode, 1)
        self.assertIn('unknown domain "nosuchDom"', r.stderr)
        r = self.domain("set", "-n", "boxDom", "-l", "loud")
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected enforcing, warning or disabled", r.stderr)
        self.assertEqual(self.spt("-C", "nosuchDom").returncode, 1)
        self.assertEqual(self.spt("-T", "t1", "-L", "nosuchDom").returncode, 1)
        code, _, err = call(self.sock, ["place", str(os.getpid()), "nosuchDom"])
        self.assertEqual(code, 1)
        self.assertIn("unknown domain", err)
        r = self.label("-s", os.path.join(self.mnt, "pub/f"), "-L", "nosuchObj")
        self.assertEqual(r.returncode, 1)
        self.assertIn('unknown label "nosuchObj"', r.stderr)
        self.assertIsNone(get_label(os.path.join(self.src, "pub/f")))
        self.assert_serving()

    def test_mutations_refused_for_confined_caller_without_policy_admin(self):
        spt_domain = [tool("spt-domain"), "--socket", self.sock]
        code, _, err = Placed(self.sock, "boxDom",
                              spt_domain + ["set", "-n", "boxDom", "-l", "disabled"]).finish()
        self.assertEqual(code, 77, err)
        self.assertIn("permission denied", err)
        code, _, err = Placed(self.sock, "boxDom",
                              [tool("spt"), "--socket", self.sock, "-p"]).finish()
        self.assertEqual(code, 77, err)
        self.assertEqual(self.level_of("boxDom"), "enforcing")
        self.assertTrue(self.events("SPT_CONTROL_DENIED"))
        # A confined domain with policy_admin may.
        code, _, err = Placed(self.sock, "adminDom",
                              spt_domain + ["set", "-n", "boxDom", "-l", "warning"]).finish()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.level_of("boxDom"), "warning")
        # Queries stay open to everyone.
        code, out, _ = Placed(self.sock, "boxDom", spt_domain + ["list"]).finish()
        self.assertEqual(code, 0)
        self.assertIn("boxDom", out)

    def test_confined_launcher_places_only_its_children_in_confined_domains(self):
        here = os.path.dirname(os.path.abspath(__file__))
        code, out, err = Placed(self.sock, "launchDom",
                                ["python3", "-c", LAUNCHER, here, self.sock]).finish()
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split(), ["0", "77", "77", "77"])
        reasons = [e.get("reason", "") for e in self.events("SPT_CONTROL_DENIED")]
        self.assertTrue(any("unconfined domain superDom" in r for r in reasons), reasons)
        self.assertTrue(any("not a descendant" in r for r in reasons), reasons)
        # Without domain_transition nothing may be placed.
        code, out, err = Placed(self.sock, "adminDom",
                                ["python3", "-c", LAUNCHER, here, self.sock]).finish()
        self.assertEqual(out.split(), ["77"] * 4, err)

    def test_labels_on_mount_and_backing_paths(self):
        on_mnt, on_src = os.path.join(self.mnt, "pub/f"), os.path.join(self.src, "pub/f")
        self.assertEqual(self.label("-g", on_mnt).stdout, "unlabeled\n")
        r = self.label("-s", on_mnt, "-L", "appObj")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(get_label(on_src), "appObj")
        self.assertEqual(self.label("-g", on_src).stdout, "appObj\n")
        self.assertEqual(self.spt("-g", on_mnt).stdout, "appObj\n")
        # Backing path: needs the policy to check the label.
        r = self.label("-s", on_src, "-L", "certObj")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--policy", r.stderr)
        r = self.label("--policy", self.policy, "-s", on_src, "-L", "certObj")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.label("-g", on_mnt).stdout, "certObj\n")
        # Garbage is the error label, never unlabeled.
        os.setxattr(on_src, label_xattr(), b"\xff\x01junk")
        r = self.label("-g", on_src)
        self.assertEqual((r.returncode, r.stdout), (1, "invalid\n"))
        # A confined caller without file_relabel cannot relabel through the mount.
        code, _, err = Placed(self.sock, "boxDom",
                              [tool("spt-label"), "-s", on_mnt, "-L", "appObj"]).finish()
        self.assertEqual(code, 1)
        self.assertIn("file_relabel", err)
        # Recursive restore through the mount sets the default labels by path.
        r = self.label("--restore", "-R", os.path.join(self.mnt, "pub"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(get_label(os.path.join(self.src, "pub/auto/a")), "certObj")
        self.assertIsNone(get_label(on_src))
        r = self.label("-R", "-g", os.path.join(self.mnt, "pub"))
        self.assertIn(os.path.join(self.mnt, "pub/auto/a") + ": certObj\n", r.stdout)
        self.assertEqual(r.stderr, "")  # no progress into a pipe
        r = self.label("--json", "-R", "-g", os.path.join(self.mnt, "pub"))
        import json
        labels = {e["path"]: e["label"] for e in json.loads(r.stdout)}
        self.assertEqual(labels[os.path.join(self.mnt, "pub/auto/a")], "certObj")
        self.assertEqual(labels[on_mnt], "unlabeled")

    def test_tools_find_the_daemon_by_mount(self):
        r = run([tool("spt-domain"), "--mount", self.mnt, "list"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("boxDom", r.stdout)
        r = run([tool("spt"), "--mount", self.mnt, "-d", "5"])
        self.assertIn("Domain Name: boxDom Domain ID :5", r.stdout)
        r = run([tool("spt-domain"), "--mount", os.path.join(self.work, "nothere"), "list"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no sptfs daemon", r.stderr)


if __name__ == "__main__":
    unittest.main()
