"""Bounded fsx run through the mount: several seeded random-operation runs on files of
the mount, each checked against its in-memory model (fsx.py). Longer runs:
scripts/soak.sh.

The O_DIRECT variant (fsx.py --direct) runs as a confined, enforcing domain's program
(spt-run) on a real mount; the same seeds also run on the backing ext4 directory
itself, and the two must end alike: the same unaligned-request outcomes, the same
content, and no page of the backing file in the page cache.
"""
import ctypes
import hashlib
import mmap
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import fsx
from confine import HOST_RULES, PYTHON_RULES
from sptfs_harness import mount, tool, write_policy

OPS = int(os.environ.get("SPTFS_FSX_OPS", "10000"))
SEEDS = range(11, 11 + int(os.environ.get("SPTFS_FSX_SEEDS", "2")))
DIRECT_OPS = int(os.environ.get("SPTFS_FSX_DIRECT_OPS", "3000"))
DIRECT_SEEDS = range(21, 21 + int(os.environ.get("SPTFS_FSX_DIRECT_SEEDS", "2")))
HERE = os.path.dirname(os.path.abspath(__file__))


def cached_bytes(path):
    """How much of `path` is in the page cache (mincore over a private map of it)."""
    size = os.path.getsize(path)
    if size == 0:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    pages = -(-size // mmap.PAGESIZE)
    vec = (ctypes.c_ubyte * pages)()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) as m:
        start = ctypes.c_char.from_buffer(m)  # mapping only: no page is touched
        rc = libc.mincore(ctypes.c_void_p(ctypes.addressof(start)), ctypes.c_size_t(size), vec)
        err = ctypes.get_errno()
        del start
    if rc != 0:
        raise OSError(err, os.strerror(err), path)
    return sum(mmap.PAGESIZE for v in vec if v & 1)


def fsx_result(out):
    """(unaligned digest, sha256) from fsx --direct's last line."""
    last = out.strip().splitlines()[-1]
    return last.split("unaligned=", 1)[1].split()[0], last.rsplit("sha256=", 1)[1].strip()


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


class FsxDirectTest(unittest.TestCase):
    """fsx --direct through the mount, run by a confined domain at enforcing level."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sptfs-fsxd-", dir="/var/tmp")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        self.native = os.path.join(self.work, "native")
        for d in (os.path.join(self.src, "d", "secret"), self.mnt, self.native):
            os.makedirs(d)
        with open(os.path.join(self.src, "d", "secret", "s.txt"), "w") as f:
            f.write("SECRET\n")
        # Without --root spt-run's Landlock layer reads the rules as host paths too: the
        # host's python and this directory (fsx.py) are granted there.
        rules = ["-r /d rw", "-r /d/secret "] + HOST_RULES + PYTHON_RULES + [f"-r {HERE} r"]
        self.policy = write_policy(os.path.join(self.work, "policy"),
                                   {"fsxDom": dict(id=10, level="enforcing", rules=rules)})
        self.block = os.statvfs(self.src).f_bsize

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def fsx_argv(self, path, seed, denied=None):
        argv = [sys.executable, fsx.__file__, path, "--direct", "--ops", str(DIRECT_OPS),
                "--seed", str(seed), "--block-size", str(self.block)]
        return argv + (["--denied", denied] if denied else [])

    def finish(self, procs, where):
        """Waits for every run (all of them, also after a failure); their results."""
        outs = {s: p.communicate(timeout=max(150, DIRECT_OPS / 20))[0]
                for s, p in procs.items()}
        for s, out in outs.items():
            sys.stderr.write(f"{where}: {out}")
            self.assertEqual(procs[s].returncode, 0, f"{where}, seed {s}:\n{out}")
        return {s: fsx_result(out) for s, out in outs.items()}

    def test_direct_io_confined_matches_ext4(self):
        # The same seeds on the backing file system itself: what "as on ext4" means.
        native = self.finish({s: subprocess.Popen(
            self.fsx_argv(os.path.join(self.native, f"f{s}"), s), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True) for s in DIRECT_SEEDS}, "native")
        with mount(self.src, self.mnt, policy=self.policy, default_domain="superDom") as m:
            procs = {s: subprocess.Popen(
                [tool("spt-run"), "-D", "fsxDom", "--socket", m.socket, "--mount", self.mnt,
                 "--"] + self.fsx_argv(os.path.join(self.mnt, "d", f"f{s}"), s,
                                       denied=os.path.join(self.mnt, "d", "secret", "s.txt")),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for s in DIRECT_SEEDS}
            mounted = self.finish(procs, "confined, through the mount")
            self.assertIsNone(m.proc.poll(), "daemon died")
        for s in DIRECT_SEEDS:
            backing = os.path.join(self.src, "d", f"f{s}")
            self.assertEqual(mounted[s][0], native[s][0],
                             f"seed {s}: unaligned requests ended otherwise than on ext4")
            self.assertEqual(mounted[s][1], native[s][1], f"seed {s}: content differs")
            # O_DIRECT's promise kept on the backing store: nothing of it was cached.
            self.assertEqual(cached_bytes(backing), 0, f"{backing} has cached pages")
            self.assertEqual(cached_bytes(os.path.join(self.native, f"f{s}")), 0)
            with open(backing, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), mounted[s][1], backing)


if __name__ == "__main__":
    unittest.main()
