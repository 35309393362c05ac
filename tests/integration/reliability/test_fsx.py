"""Bounded fsx run through the mount: several seeded random-operation runs on files of
the mount, each checked against its in-memory model (fsx.py). Longer runs:
scripts/soak.sh.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import fsx
from sptfs_harness import mount, write_policy

OPS = int(os.environ.get("SPTFS_FSX_OPS", "10000"))
SEEDS = range(11, 11 + int(os.environ.get("SPTFS_FSX_SEEDS", "2")))


class FsxTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sptfs-fsx-", dir="/var/tmp")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.src)
        os.makedirs(self.mnt)
        self.policy = write_policy(os.path.join(self.work, "policy"), {})

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def test_model_catches_corruption(self):
        """The checker itself: a byte changed behind the model's back is reported."""
        f = fsx.Fsx(os.path.join(self.work, "native"), seed=3, max_size=1 << 16)
        f.op_write()
        os.pwrite(f.fd, bytes([f.model[0] ^ 0xFF]), 0)
        with self.assertRaises(fsx.Mismatch):
            f.rng.random = lambda: 0.0  # pin the range to offset 0
            f.rand_range = lambda limit: (0, 1)
            f.op_read()

    def test_seeded_runs_through_mount(self):
        with mount(self.src, self.mnt, policy=self.policy, default_domain="superDom") as m:
            # Several files at once (one process each) so the daemon serves concurrent I/O.
            procs = [subprocess.Popen([sys.executable, fsx.__file__, m.path(f"f{s}"),
                                       "--ops", str(OPS), "--seed", str(s)],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for s in SEEDS]
            sums = {}
            for s, p in zip(SEEDS, procs):
                out, _ = p.communicate(timeout=max(150, OPS / 50))
                self.assertEqual(p.returncode, 0, out)
                sys.stderr.write(out)
                sums[s] = out.rsplit("sha256=", 1)[1].strip()
            self.assertIsNone(m.proc.poll(), "daemon died")
        for s in SEEDS:  # what the mount wrote is what the backing store holds
            with open(os.path.join(self.src, f"f{s}"), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sums[s], f"f{s}")


if __name__ == "__main__":
    unittest.main()
