"""POSIX conformance of the mount: each sequence of posix_ops.py runs on a native
directory and through sptfs (unconfined domain, default_permissions) and the results,
errno included, must be the same call by call. Each sequence runs under the caller
umasks 0 and 022, and the whole suite runs against a daemon started under umask 022
and one started under umask 0 (issue 16: the daemon's own umask must never apply).
"""
import os
import shutil
import tempfile
import unittest
import warnings

import posix_ops
from sptfs_harness import mount, write_policy


CALLER_UMASKS = (0o000, 0o022)


class PosixConformanceTest(unittest.TestCase):
    DAEMON_UMASK = 0o022  # what a daemon started from a login shell inherits

    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        # Native and backing directories on the same filesystem, so limits match.
        cls.work = tempfile.mkdtemp(prefix="sptfs-posix-", dir="/var/tmp")
        os.chmod(cls.work, 0o755)
        cls.native = os.path.join(cls.work, "native")
        cls.src = os.path.join(cls.work, "src")
        cls.mnt = os.path.join(cls.work, "mnt")
        for d in (cls.native, cls.src, cls.mnt):
            os.makedirs(d)
            os.chmod(d, 0o755)
        policy = write_policy(os.path.join(cls.work, "policy"), {})
        old = os.umask(cls.DAEMON_UMASK)  # the daemon inherits it
        try:
            cls.ctx = mount(cls.src, cls.mnt, policy=policy, default_domain="superDom")
            cls.m = cls.ctx.__enter__()
        finally:
            os.umask(old)
        with open(f"/proc/{cls.m.pid}/status") as f:
            cls.daemon_umask = int(f.read().split("Umask:")[1].split()[0], 8)

    @classmethod
    def tearDownClass(cls):
        cls.ctx.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)

    def run_both(self, seq):
        self.assertEqual(self.daemon_umask, self.DAEMON_UMASK)
        for umask in CALLER_UMASKS:
            with self.subTest(umask=oct(umask)):
                self.run_both_under(seq, umask)

    def run_both_under(self, seq, umask):
        logs = []
        for base in (self.native, self.mnt):
            root = os.path.join(base, f"{seq.__name__}-{umask:o}")
            os.mkdir(root)
            os.chmod(root, 0o755)
            rec = posix_ops.Recorder(root)
            old = os.umask(umask)
            try:
                seq(rec, root)
            finally:
                os.umask(old)
            logs.append(rec.log)
        native, mounted = logs
        self.assertGreater(len(native), 3)
        diffs = [f"  {n[0]}: native {n[1]} / mount {m[1]}"
                 for n, m in zip(native, mounted) if n != m]
        if len(native) != len(mounted):
            diffs.append(f"  call count: native {len(native)} / mount {len(mounted)}")
        self.assertFalse(diffs, f"{seq.__name__} differs:\n" + "\n".join(diffs))
        self.assertIsNone(self.m.proc.poll(), "daemon died")


class PosixConformanceDaemonUmask0Test(PosixConformanceTest):
    DAEMON_UMASK = 0o000


for _seq in posix_ops.SEQUENCES:
    setattr(PosixConformanceTest, "test_" + _seq.__name__[4:],
            lambda self, s=_seq: self.run_both(s))

if __name__ == "__main__":
    unittest.main()
