"""Stale rules caught the moment a symlink moves (issue 18, docs/productlocker.md).

The daemon watches the links the compiled -r rules went through and writes one
type=SPT_STALE_RULE record per change, whether the link moved through the mount or on
the backing store, and also for the inner link of a chain. Enforcement stays as
compiled (warn), unless the policy says on_stale = "reload". `spt --stale`, `-l`, `-d4`
mark the stale rule; `spt -p --dry-run` shows the move and exits 1, then 0 after `spt -p`.
No fixed sleeps: every wait polls the audit log with a deadline.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # scenario.py
import sptfs_harness as h  # noqa: E402
from scenario import DATASTORE, ISO, LOCKER, UUID, Scenario, missing_programs  # noqa: E402

RULE = "-r /productLocker r"
OTHER = "/vmfs/volumes/other-datastore/productLocker"  # a third place for the link


def stale_records(s):
    return [r for r in h.read_audit(s.mount.audit_log) if r.get("type") == "SPT_STALE_RULE"]


def wait_records(s, count, kind="SPT_STALE_RULE", timeout=1.0, match=None):
    """Polls the audit log until `count` records of `kind` (and `match`) are there; returns
    them and the seconds waited. Fails the caller's test by returning what it has."""
    start = time.monotonic()
    while True:
        recs = [r for r in h.read_audit(s.mount.audit_log)
                if r.get("type") == kind and (match is None or match(r))]
        waited = time.monotonic() - start
        if len(recs) >= count or waited > timeout:
            return recs, waited
        time.sleep(0.01)


def prepend(path, line):
    """Top-level TOML keys go before the first [[table]]."""
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(line + text)


def repoint(path, target):
    """Re-points the link at `path` atomically (a new link renamed over it), as one change."""
    tmp = path + ".new"
    os.symlink(target, tmp)
    os.rename(tmp, path)


class StaleBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (FUSE allow_other, chroot)")
        missing = missing_programs()
        if missing:
            raise AssertionError(f"programs not built: {', '.join(missing)}")

    def up(self, s):
        """The daemon answers (its watch is set before the control socket serves)."""
        s.spt("-l", check=True)
        os.makedirs(s.backing(OTHER + "/vmtools"), exist_ok=True)

    def assertStaleRecord(self, rec, now, compiled=LOCKER):
        self.assertEqual(rec["rule"], RULE, rec["_line"])
        self.assertEqual(rec["compiled"], compiled, rec["_line"])
        self.assertEqual(rec["now"], now, rec["_line"])
        # The sample set has the rule in regularVMDom and globalVMDom: one record, both.
        self.assertEqual(rec["domains"], "regularVMDom(1),globalVMDom(4)", rec["_line"])
        self.assertRegex(rec["where"],
                         r"domains/regularVMDom\.toml:\d+,.*domains/globalVMDom\.toml:\d+$")
        self.assertEqual(rec["fix"], "spt -p")

    def assertOneRecordPerChange(self, s, move):
        """`move(target)` twice: after each, exactly one new record within 1 s."""
        move(DATASTORE)
        recs, waited = wait_records(s, 1)
        self.assertEqual(len(recs), 1, f"no SPT_STALE_RULE record within 1 s: {recs}")
        self.assertLess(waited, 1.0)
        self.assertStaleRecord(recs[0], DATASTORE)
        self.assertEqual(recs[0]["action"], "warn")
        # A second change: the watcher is serial, so once its record is there every record
        # of the first change is too; still one record for the first.
        move(OTHER)
        recs, waited = wait_records(s, 2)
        self.assertEqual(len(recs), 2, recs)
        self.assertLess(waited, 1.0)
        self.assertStaleRecord(recs[1], OTHER)
        self.assertEqual(len([r for r in recs if r["now"] == DATASTORE]), 1, recs)


class StaleWatchTest(StaleBase):
    def test_repoint_through_the_mount(self):
        with Scenario() as s:
            self.up(s)
            self.assertOneRecordPerChange(s, lambda t: repoint(s.tree_path("/productLocker"), t))
            # Enforcement is unchanged (ESXi's behaviour): still denied until spt -p.
            self.assertNotEqual(s.vmx(f"{OTHER}/vmtools/windows.iso").returncode, 0)

    def test_repoint_on_the_backing_store(self):
        with Scenario() as s:
            self.up(s)
            self.assertOneRecordPerChange(s, lambda t: repoint(s.backing("/productLocker"), t))

    def test_inner_link_of_a_chain(self):
        with Scenario() as s:
            self.up(s)
            os.symlink(UUID, s.tree_path("/vmfs/volumes/datastore1"))
            repoint(s.tree_path("/productLocker"), "/vmfs/volumes/datastore1/productLocker")
            wait_records(s, 1)
            s.spt("-p", check=True)  # compiled through the chain now
            before = len(stale_records(s))
            repoint(s.tree_path("/vmfs/volumes/datastore1"), "other-datastore")
            recs, waited = wait_records(s, before + 1)
            self.assertEqual(len(recs), before + 1, recs)
            self.assertLess(waited, 1.0)
            self.assertStaleRecord(recs[-1], OTHER, compiled=DATASTORE)

    def test_tools_mark_and_list_the_stale_rule(self):
        with Scenario() as s:
            self.up(s)
            self.assertIn("no stale rules", s.spt("--stale", check=True).stdout)
            repoint(s.tree_path("/productLocker"), DATASTORE)
            out = s.spt("--stale", check=True).stdout
            self.assertIn(f"globalVMDom(4) {RULE}  [", out)
            self.assertIn(f"compiled to:     {LOCKER}", out)
            self.assertIn(f"now resolves to: {DATASTORE}", out)
            j = json.loads(s.spt("--stale", "--json", check=True).stdout)
            self.assertEqual([(x["domain"], x["rule"], x["compiled"], x["now_resolves_to"])
                              for x in j["stale"]], [("regularVMDom", RULE, LOCKER, DATASTORE),
                                                     ("globalVMDom", RULE, LOCKER, DATASTORE)])
            self.assertIn("4   globalVMDom   (1 stale rule: spt --stale)",
                          s.spt("-l", check=True).stdout)
            d4 = s.spt("-d4", check=True).stdout
            self.assertIn(f"\n-r {LOCKER} r\n  # stale: /productLocker now resolves to {DATASTORE}"
                          " (spt -p)\n", d4)
            s.spt("-p", check=True)
            self.assertIn("no stale rules", s.spt("--stale", check=True).stdout)
            self.assertNotIn("stale", s.spt("-d4", check=True).stdout)


class DryRunTest(StaleBase):
    def test_dry_run_prints_the_move_then_nothing_after_the_reload(self):
        with Scenario() as s:
            self.up(s)
            r = s.spt("-p", "--dry-run")
            self.assertEqual((r.returncode, r.stdout), (0, "no changes\n"), r.stderr)
            repoint(s.tree_path("/productLocker"), DATASTORE)
            r = s.spt("-p", "--dry-run")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(f"globalVMDom (4):\n  {RULE}: {LOCKER} → {DATASTORE}\n", r.stdout)
            self.assertIn("Partially resolved path", r.stderr)  # diagnostics as spt -p shows them
            self.assertIn(f"\n-r {LOCKER} r\n", s.spt("-d4", check=True).stdout)  # nothing loaded
            s.spt("-p", check=True)
            r = s.spt("-p", "--dry-run")
            self.assertEqual((r.returncode, r.stdout), (0, "no changes\n"), r.stderr)

    def test_dry_run_replays_the_audit_log(self):
        with Scenario() as s:
            self.up(s)
            repoint(s.tree_path("/productLocker"), DATASTORE)
            self.assertNotEqual(s.vmx().returncode, 0)  # the denial the log will hold
            iso = f"{DATASTORE}/vmtools/windows.iso"
            recs, _ = wait_records(s, 1, kind="SPT_AVC", timeout=5,
                                   match=lambda r: r.get("path") == iso)
            self.assertTrue(recs, "no denial recorded")
            r = s.spt("-p", "--dry-run", "--log", s.mount.audit_log)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(f"would become allowed: globalVMDom(4) read {iso} (", r.stdout)
            s.spt("-p", check=True)
            r = s.spt("-p", "--dry-run", "--log", s.mount.audit_log)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNotIn("would become", r.stdout)

    def test_dry_run_of_another_directory_and_of_a_broken_one(self):
        policy = tempfile.mkdtemp(prefix="sptfs-pol-")
        shutil.rmtree(policy)
        shutil.copytree(h.sample_policy(), policy)
        try:
            with Scenario() as s:
                self.up(s)
                dom = os.path.join(policy, "domains", "globalVMDom.toml")
                with open(dom) as f:
                    text = f.read()
                with open(dom, "w") as f:
                    f.write(text.replace(f'  "{RULE}",\n', f'  "{RULE}",\n  "-r /tmp/extra rw",\n'))
                r = s.spt("-p", "--dry-run", policy)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("globalVMDom (4):\n  + -r /tmp/extra rw\n", r.stdout)
                prepend(os.path.join(policy, "policy.toml"), 'on_stale = "sometimes"\n')
                r = s.spt("-p", "--dry-run", policy)
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn("policy.toml:", r.stderr)
                self.assertIn('(expected on_stale = "warn" or "reload")', r.stderr)
                self.assertEqual(r.stdout, "")
        finally:
            shutil.rmtree(policy, ignore_errors=True)


class OnStaleReloadTest(StaleBase):
    def test_reload_makes_the_vm_open_succeed(self):
        policy = tempfile.mkdtemp(prefix="sptfs-pol-")
        shutil.rmtree(policy)
        shutil.copytree(h.sample_policy(), policy)
        prepend(os.path.join(policy, "policy.toml"), 'on_stale = "reload"\n')
        try:
            with Scenario(policy=policy) as s:
                self.up(s)
                repoint(s.tree_path("/productLocker"), DATASTORE)
                loads, _ = wait_records(s, 1, kind="SPT_POLICY_LOAD", timeout=10,
                                        match=lambda r: r.get("cause") == "stale_rule")
                self.assertEqual(len(loads), 1, "no reload after the stale rule")
                self.assertIn("result=ok", loads[0]["_line"])
                recs = stale_records(s)
                self.assertEqual(len(recs), 1, recs)
                self.assertEqual(recs[0]["action"], "reload")
                r = s.vmx()
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(f"Opened Tools ISO {DATASTORE}/vmtools/windows.iso", r.stdout)
        finally:
            shutil.rmtree(policy, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
