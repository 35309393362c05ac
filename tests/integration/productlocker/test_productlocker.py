"""The productLocker scenario end to end, and its variations (docs/productlocker.md).

Each test makes a fresh sample tree, mounts it with the sample policy, runs the vmx
stand-in in globalVMDom under `spt-run --root` and checks every step: the open works,
the link moves, the open fails with EPERM (FileIOResult=2) and an audit record, `spt -d4`
shows the stale compiled path, and after `spt -p` (or a rule added by hand) the open
works again. OnlineWhyTest asks the running daemon `spt --why` at those moments.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # scenario.py
import sptfs_harness as h  # noqa: E402
from scenario import DATASTORE, ISO, LOCKER, UUID, Scenario, missing_programs  # noqa: E402

DENIED_LOG = f"Failed to open Tools ISO {DATASTORE}/vmtools/windows.iso (FileIOResult=2)."


def literal_target_policy():
    """A copy of the sample policy whose globalVMDom names the locker's target literally
    (as the old relocation procedure left it) instead of -r /productLocker r."""
    policy = tempfile.mkdtemp(prefix="sptfs-pol-")
    shutil.rmtree(policy)
    shutil.copytree(h.sample_policy(), policy)
    dom = os.path.join(policy, "domains", "globalVMDom.toml")
    with open(dom) as f:
        text = f.read()
    assert '  "-r /productLocker r",\n' in text
    with open(dom, "w") as f:
        f.write(text.replace('  "-r /productLocker r",\n', f'  "-r {LOCKER} r",\n'))
    return policy, dom


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (FUSE allow_other, chroot)")
        missing = missing_programs()
        if missing:
            raise AssertionError(f"programs not built: {', '.join(missing)}")

    def assertOpens(self, s, path=ISO, where=LOCKER):
        r = s.vmx(path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"Opened Tools ISO {where}/vmtools/windows.iso", r.stdout)
        return r

    def assertDenied(self, s, path=ISO, log=DENIED_LOG):
        r = s.vmx(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(log, r.stdout)
        self.assertIn("Cannot open ISO image with upgrader binaries.", r.stdout)
        self.assertIn("TOOLS INSTALL entering IDLE state.", r.stdout)
        self.assertIn("Operation not permitted", r.stderr)  # EPERM, as ESXi
        return r


class ProductLockerTest(Base):
    def test_failure_and_fix(self):
        with Scenario() as s:
            self.assertOpens(s)
            s.relink("/productLocker", DATASTORE)
            self.assertDenied(s)
            recs = s.denials(f"{DATASTORE}/vmtools/windows.iso")
            self.assertTrue(recs, "no audit record for the denial")
            self.assertIn("denied { read }", recs[-1]["_line"])
            self.assertEqual(recs[-1]["domain"], "globalVMDom(4)")
            self.assertEqual(recs[-1]["op"], "open")
            self.assertEqual(recs[-1]["rule"], "no rule")
            d4 = s.spt("-d4", check=True).stdout
            self.assertIn(f"\n-r {LOCKER} r\n", d4)
            self.assertNotIn(f"-r {DATASTORE} r", d4)
            s.spt("-p", check=True)
            d4 = s.spt("-d4", check=True).stdout
            self.assertIn(f"\n-r {DATASTORE} r\n", d4)
            self.assertOpens(s, where=DATASTORE)
            with open(s.backing(DATASTORE + "/vmtools/windows.iso")) as f:
                self.assertIn("(datastore)", f.readline())

    def test_relative_symlink(self):
        with Scenario() as s:
            s.relink("/productLocker", DATASTORE.lstrip("/"))  # "vmfs/volumes/<uuid>/..."
            self.assertDenied(s)
            s.spt("-p", check=True)
            self.assertOpens(s, where=DATASTORE)

    def test_two_levels_of_links(self):
        # ESXi names datastores by links to their uuid: /vmfs/volumes/datastore1 -> <uuid>.
        with Scenario() as s:
            os.symlink(UUID, s.tree_path("/vmfs/volumes/datastore1"))
            s.relink("/productLocker", "/vmfs/volumes/datastore1/productLocker")
            self.assertDenied(s)
            s.spt("-p", check=True)
            self.assertIn(f"\n-r {DATASTORE} r\n", s.spt("-d4", check=True).stdout)
            self.assertOpens(s, path="/vmfs/volumes/datastore1/productLocker/vmtools/windows.iso",
                             where=DATASTORE)
            self.assertOpens(s, where=DATASTORE)

    def test_link_repointed_back(self):
        with Scenario() as s:
            s.relink("/productLocker", DATASTORE)
            self.assertDenied(s)
            s.relink("/productLocker", LOCKER)  # back where the policy was compiled
            self.assertOpens(s)
            # Reload while on the datastore, then move back: stale the other way round.
            s.relink("/productLocker", DATASTORE)
            s.spt("-p", check=True)
            self.assertOpens(s, where=DATASTORE)
            s.relink("/productLocker", LOCKER)
            self.assertDenied(s, log=f"Failed to open Tools ISO {LOCKER}/vmtools/windows.iso "
                                      "(FileIOResult=2).")
            s.spt("-p", check=True)
            self.assertOpens(s)

    def test_reload_while_vm_keeps_file_open(self):
        with Scenario() as s:
            vm = subprocess.Popen(s.vmx_args(extra=["--hold"]), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertIn("Opened Tools ISO", vm.stdout.readline())
                self.assertEqual(vm.stdout.readline().strip(), "holding")
                s.relink("/productLocker", DATASTORE)
                s.spt("-p", check=True)
                # New opens of the old target are now denied ...
                old = s.vmx(f"{LOCKER}/vmtools/windows.iso")
                self.assertEqual(old.returncode, 1, old.stdout)
                # ... but the descriptor opened before the reload keeps reading.
                out, err = vm.communicate("go\n", timeout=60)
            finally:
                if vm.poll() is None:
                    vm.kill()
                    vm.wait()
            self.assertEqual(vm.returncode, 0, out + err)
            size = os.path.getsize(s.backing(LOCKER + "/vmtools/windows.iso"))
            self.assertIn(f"Read {size} bytes from Tools ISO", out)
            self.assertOpens(s, where=DATASTORE)

    def test_rule_added_by_hand_instead_of_reload(self):
        # The policy names the locker's target literally: a reload alone cannot help; the
        # rule `spt --suggest` gives for the recorded denial is added by hand and loaded.
        policy, dom = literal_target_policy()
        try:
            with Scenario(policy=policy) as s:
                self.assertOpens(s)
                s.relink("/productLocker", DATASTORE)
                self.assertDenied(s)
                s.spt("-p", check=True)
                self.assertDenied(s)
                sug = h.run([h.tool("spt"), "--suggest", s.mount.audit_log])
                self.assertEqual(sug.returncode, 0, sug.stderr)
                rules = [line for line in sug.stdout.splitlines() if line.startswith("-r ")]
                self.assertEqual(rules, [f"-r {DATASTORE}/vmtools/windows.iso r"], sug.stdout)
                with open(dom) as f:
                    text = f.read()
                with open(dom, "w") as f:
                    f.write(text.replace(f'  "-r {LOCKER} r",\n',
                                         f'  "-r {LOCKER} r",\n  "{rules[0]}",\n'))
                s.spt("-p", check=True)
                self.assertOpens(s, where=DATASTORE)
                # Exactly that file: its signature beside it stays denied.
                sig = s.vmx(ISO + ".sig")
                self.assertEqual(sig.returncode, 1, sig.stdout)
        finally:
            shutil.rmtree(policy, ignore_errors=True)


class OnlineWhyTest(Base):
    """`spt --mount M --why` answered by the daemon over its live (stale) policy."""

    def why(self, s, *args):
        r = s.spt("--why", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_stale_rule_explained_then_fixed(self):
        with Scenario() as s:
            why = self.why(s, "--domain", "globalVMDom", ISO, "r")
            self.assertTrue(why.startswith(f"allow: globalVMDom (4, enforcing) r {ISO}\n"), why)
            self.assertIn(f"-r /productLocker r, compiled to {LOCKER}", why)
            s.relink("/productLocker", DATASTORE)
            why = self.why(s, "--domain", "globalVMDom", ISO, "r")
            self.assertTrue(why.startswith(f"deny: globalVMDom (4, enforcing) r {ISO}\n"), why)
            self.assertIn(f"canonical path: {DATASTORE}/vmtools/windows.iso", why)
            self.assertIn("deciding rule:  none: no -r rule covers the canonical path", why)
            self.assertIn(f"/productLocker now resolves to {DATASTORE}", why)
            self.assertIn("after spt -p:   allow (`spt -p` would change the answer)", why)
            self.assertDenied(s)  # the explanation matches what really happens
            s.spt("-p", check=True)
            why = self.why(s, "globalVMDom", ISO)
            self.assertTrue(why.startswith("allow: "), why)
            self.assertNotIn("stale", why)
            self.assertOpens(s, where=DATASTORE)

    def test_two_levels_and_relative(self):
        with Scenario() as s:
            os.symlink(UUID, s.tree_path("/vmfs/volumes/datastore1"))
            s.relink("/productLocker", "vmfs/volumes/datastore1/productLocker")
            why = self.why(s, "4", ISO)
            self.assertIn(f"/productLocker now resolves to {DATASTORE}", why)
            self.assertIn("would change the answer", why)

    def test_repointed_back_after_reload(self):
        with Scenario() as s:
            s.relink("/productLocker", DATASTORE)
            s.spt("-p", check=True)
            s.relink("/productLocker", LOCKER)
            why = self.why(s, "globalVMDom", ISO)
            self.assertTrue(why.startswith("deny: "), why)
            self.assertIn(f"/productLocker now resolves to {LOCKER}", why)
            # The datastore copy is still readable, until the reload that fixes the link.
            why = self.why(s, "globalVMDom", DATASTORE + "/vmtools/windows.iso")
            self.assertTrue(why.startswith("allow: "), why)
            self.assertIn("after spt -p:   deny (`spt -p` would change the answer)", why)

    def test_literal_target_reload_would_not_help(self):
        policy, _ = literal_target_policy()
        try:
            with Scenario(policy=policy) as s:
                s.relink("/productLocker", DATASTORE)
                why = self.why(s, "globalVMDom", ISO)
                self.assertTrue(why.startswith("deny: "), why)
                self.assertNotIn("spt -p", why)
        finally:
            shutil.rmtree(policy, ignore_errors=True)

    def test_label_read_from_the_object(self):
        with Scenario() as s:
            why = self.why(s, "globalVMDom", "/etc/shadow", "r")
            self.assertTrue(why.startswith("deny: "), why)
            self.assertIn("object label:   authObj (3119)", why)
            self.assertIn("no -o authObj rule", why)

    def test_why_by_pid(self):
        with Scenario() as s:
            with open(s.tree_path("/tmp/held"), "w") as f:
                f.write("held by the vm\n")
            s.relink("/productLocker", DATASTORE)
            vm = subprocess.Popen(s.vmx_args(path="/tmp/held", extra=["--hold"]),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                self.assertIn("Opened Tools ISO /tmp/held", vm.stdout.readline())
                self.assertEqual(vm.stdout.readline().strip(), "holding")
                pid = descendant_named(vm.pid, "vmx")
                why = self.why(s, "--pid", str(pid), ISO, "r")
                self.assertTrue(why.startswith("deny: globalVMDom (4, enforcing)"), why)
                self.assertIn(f"process:        {pid}", why)
                # The administrator's own shell is in the unconfined default domain.
                why = self.why(s, "--pid", str(os.getpid()), ISO, "r")
                self.assertTrue(why.startswith("allow: superDom (0, unconfined)"), why)
            finally:
                vm.communicate("go\n", timeout=60)

    def test_denial_record_carries_stale_hint(self):
        with Scenario() as s:
            s.relink("/productLocker", DATASTORE)
            self.assertDenied(s)
            rec = s.denials(f"{DATASTORE}/vmtools/windows.iso")[-1]
            self.assertIn("hint", rec)
            self.assertIn(f"/productLocker now resolves to {DATASTORE}", rec["hint"])
            self.assertIn("spt -p would allow this", rec["hint"])


def descendant_named(root_pid, comm, timeout=10.0):
    """Pid of the first descendant of `root_pid` whose comm is `comm` (waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        todo = [root_pid]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if pid != root_pid and f.read().strip() == comm:
                        return pid
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"no process {comm} under {root_pid}")


if __name__ == "__main__":
    unittest.main()
