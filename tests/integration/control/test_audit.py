"""The audit log under stress on a real mount: a flood of denials is rate limited and the
suppressed count is reported; an audit log on a full disk loses lines but never blocks or
fails a request."""
import errno
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import warnings

from confine import wait_for
from sptfs_harness import is_mounted, mount, read_audit, run, tool, write_policy

DOMAINS = {"boxDom": dict(id=5, rules=["-r /pub r"])}


class AuditTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.work = tempfile.mkdtemp(prefix="sptfs-aud-")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(os.path.join(self.src, "data"))
        os.makedirs(self.mnt)
        with open(os.path.join(self.src, "data", "x"), "w") as f:
            f.write("secret\n")
        self.policy = write_policy(os.path.join(self.work, "policy"), DOMAINS,
                                   default_domain="boxDom")
        self.small = None

    def tearDown(self):
        if self.small and is_mounted(self.small):
            subprocess.run(["umount", "-l", self.small])
        shutil.rmtree(self.work, ignore_errors=True)

    def deny_many(self, n):
        """n opens that the policy denies; returns how long they took."""
        path = os.path.join(self.mnt, "data", "x")
        start = time.monotonic()
        for _ in range(n):
            with self.assertRaises(PermissionError) as cm:
                open(path).close()
            self.assertEqual(cm.exception.errno, errno.EPERM)
        return time.monotonic() - start

    def test_flood_is_rate_limited_and_counted(self):
        # The test process is in boxDom (the default domain): every open of /data/x is denied.
        with mount(self.src, self.mnt, policy=self.policy, default_domain="boxDom") as m:
            self.deny_many(3000)
            # The writer reports suppressed lines about once a second, each with the total
            # so far: wait until the written and the counted lines account for every
            # denial (a report read earlier may not have counted the last ones yet).
            def accounted(records):
                reports = [r for r in records if r.get("type") == "SPT_AUDIT_SUPPRESSED"]
                written = sum(1 for r in records if r.get("type") == "SPT_AVC")
                return reports and written + int(reports[-1]["total_suppressed"]) >= 3000
            wait_for(lambda: accounted(read_audit(m.audit_log)), timeout=10)
            records = read_audit(m.audit_log)
        avc = [r for r in records if r.get("type") == "SPT_AVC"]
        reports = [r for r in records if r.get("type") == "SPT_AUDIT_SUPPRESSED"]
        self.assertTrue(avc)
        self.assertTrue(reports, "no SPT_AUDIT_SUPPRESSED line")
        suppressed = int(reports[-1]["total_suppressed"])
        self.assertGreater(suppressed, 0)
        # Each denial (the kernel may ask more than once per open) is written or counted.
        self.assertGreaterEqual(len(avc) + suppressed, 3000)
        self.assertLess(len(avc), 3000)

    def test_full_disk_loses_audit_lines_but_not_requests(self):
        self.small = os.path.join(self.work, "small")
        os.makedirs(self.small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", self.small], check=True)
        log = os.path.join(self.small, "audit.log")
        open(log, "w").close()
        fd = os.open(os.path.join(self.small, "fill"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        with mount(self.src, self.mnt, policy=self.policy, default_domain="boxDom",
                   audit_log=log) as m:
            took = self.deny_many(300)
            self.assertLess(took, 30)
            self.assertIsNone(m.proc.poll())
            r = run([tool("spt-domain"), "--socket", m.socket, "list"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("boxDom", r.stdout)
        self.assertEqual(os.path.getsize(log), 0)


if __name__ == "__main__":
    unittest.main()
