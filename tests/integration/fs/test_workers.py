"""FUSE worker options (issue 17 item 3): --threads, --clone-fd, --max-idle-threads.

Bad values are usage mistakes (exit 2, said once, no mount). A real mount with
--clone-fd and 4 workers serves 8 concurrent client processes correctly, and its
workers read from descriptors of their own: the daemon holds more than one /dev/fuse
descriptor (libfuse clones one per worker it starts), as by default, where
--no-clone-fd keeps exactly one. --max-idle-threads 0 ends workers once they are idle, down to one (and its clone).
One worker at a time reads the device and polls it before it sleeps (--poll-us): while
it handles a request that takes long, another worker takes over, so other callers are
served meanwhile, with polling on and off.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
import sptfs_harness as h  # noqa: E402

SPTFS = h.tool("sptfs")

# One client: its own directory of files written, read back, renamed and removed, and
# a shared file read; prints "ok" only if every byte came back as written.
CLIENT = r"""
import os, sys
root, k = sys.argv[1], int(sys.argv[2])
d = os.path.join(root, f"c{k}")
os.mkdir(d)
for i in range(60):
    p = os.path.join(d, f"f{i}")
    data = f"client {k} file {i} ".encode() * (i + 1)
    with open(p, "wb") as f:
        f.write(data)
    with open(p, "rb") as f:
        assert f.read() == data, p
    os.rename(p, p + ".r")
    assert os.stat(p + ".r").st_size == len(data)
    with open(os.path.join(root, "shared"), "rb") as f:
        assert f.read() == b"shared\n" * 1000
    if i % 2:
        os.unlink(p + ".r")
assert sorted(os.listdir(d)) == sorted(f"f{i}.r" for i in range(0, 60, 2)), os.listdir(d)
print("ok")
"""


def fuse_fds(pid):
    """How many of process `pid`'s descriptors are /dev/fuse."""
    return h.count_fds(pid, "/dev/fuse")


class ClientTree(unittest.TestCase):
    """A backing tree with a shared file, a mountpoint, and CLIENT processes to run on
    it (also used by test_uring.py)."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sptfs-workers-")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.src)
        os.makedirs(self.mnt)
        with open(os.path.join(self.src, "shared"), "wb") as f:
            f.write(b"shared\n" * 1000)

    def tearDown(self):
        h.unmount(self.mnt)
        shutil.rmtree(self.work, ignore_errors=True)

    def clients(self, n):
        procs = [subprocess.Popen([sys.executable, "-c", CLIENT, self.mnt, str(k)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for k in range(n)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual((p.returncode, out), (0, "ok\n"), err)
        # What the clients left is on the backing store too, byte for byte.
        for k in range(n):
            with open(os.path.join(self.src, f"c{k}", "f4.r"), "rb") as f:
                self.assertEqual(f.read(), f"client {k} file 4 ".encode() * 5)


class Workers(ClientTree):
    def test_bad_values_are_usage_mistakes(self):
        cases = [
            (["--max-idle-threads", "abc"], "--max-idle-threads abc: not a thread count (expected 0..1024)"),
            (["--max-idle-threads=-1"], "--max-idle-threads -1: not a thread count (expected 0..1024)"),
            (["--max-idle-threads", "1025"], "--max-idle-threads 1025: not a thread count"),
            (["--max-idle-threads"], "--max-idle-threads needs a value"),
            (["--threads", "0", "--clone-fd"], "--threads 0: not a thread count (expected 1..1024)"),
            (["--clone-fd=yes"], "unknown option --clone-fd=yes"),
            (["--poll-us", "-1"], "--poll-us -1: not a time (expected microseconds 0..10000)"),
            (["--poll-us=10001"], "--poll-us 10001: not a time (expected microseconds 0..10000)"),
            (["--poll-us", "5ms"], "--poll-us 5ms: not a time"),
        ]
        for extra, text in cases:
            with self.subTest(extra=extra):
                try:
                    r = h.run([SPTFS, self.src, self.mnt, "-f"] + extra, timeout=30)
                except subprocess.TimeoutExpired:
                    self.fail(f"{extra}: accepted (sptfs mounted and kept serving)")
                finally:
                    mounted = h.mount_fstype(self.mnt)
                    h.unmount(self.mnt)  # the next case needs the mountpoint free
                self.assertIsNone(mounted)
                self.assertEqual(r.returncode, 2, r)
                self.assertEqual(r.stderr.count(text), 1, r.stderr)
                self.assertEqual(r.stderr.count("sptfs:"), 1, r.stderr)  # said once
                self.assertNotIn("Usage:", r.stderr)

    def test_help_names_the_options(self):
        r = h.run([SPTFS, "--help"])
        for opt in ("--clone-fd", "--no-clone-fd", "--max-idle-threads N", "--threads N",
                    "--poll-us N"):
            self.assertIn(opt, r.stdout)

    def test_clone_fd_workers_serve_concurrent_clients(self):
        with h.mount(self.src, self.mnt, extra_args=["--threads", "4", "--clone-fd"]) as m:
            self.clients(8)
            # Workers are kept (no idle limit): 8 clients at once made libfuse start more
            # than one, each with its own clone, beside the session's own descriptor.
            n = fuse_fds(m.pid)
            self.assertGreaterEqual(n, 3, "expected a /dev/fuse clone per worker")
            self.assertLessEqual(n, 5, "more clones than --threads 4 workers")

    def test_default_clones_a_descriptor_per_worker(self):
        with h.mount(self.src, self.mnt, extra_args=["--threads", "4"]) as m:
            self.clients(8)
            self.assertGreaterEqual(fuse_fds(m.pid), 3, "expected --clone-fd by default")

    def test_no_clone_fd_shares_one_descriptor(self):
        with h.mount(self.src, self.mnt, extra_args=["--threads", "4", "--no-clone-fd"]) as m:
            self.clients(8)
            self.assertEqual(fuse_fds(m.pid), 1)

    def test_idle_limit_ends_idle_workers(self):
        with h.mount(self.src, self.mnt,
                     extra_args=["--threads", "4", "--clone-fd", "--max-idle-threads", "0"]) as m:
            self.clients(8)
            # With no idle worker allowed, each ends after its request, down to one
            # worker: its clone plus the session's descriptor.
            n = h.wait_for_fds(m.pid, "/dev/fuse", lambda n: n == 2)
            self.assertEqual(n, 2)

    def test_a_long_request_does_not_hold_up_the_others(self):
        for extra in (["--threads", "2"], ["--threads", "4", "--poll-us", "0"],
                      ["--threads", "2", "--no-clone-fd", "--poll-us", "200"]):
            with self.subTest(extra=extra):
                # In a directory of its own: the kernel holds a directory's lock shared
                # for a lookup in it, and the clients' mkdir in the root takes it whole.
                slow = os.path.join(self.src, "slow")
                os.makedirs(slow, exist_ok=True)
                go = os.path.join(slow, "stall.go")
                if os.path.exists(go):
                    os.unlink(go)
                os.environ["SPTFS_TEST_STALL_LOOKUP"] = "stall"
                try:
                    mounted = h.mount(self.src, self.mnt, extra_args=extra)
                    m = mounted.__enter__()
                finally:
                    del os.environ["SPTFS_TEST_STALL_LOOKUP"]
                try:
                    # A caller whose lookup the daemon holds (until stall.go exists).
                    held = subprocess.Popen([sys.executable, "-c", "import os, sys\n"
                                             "print(os.path.exists(sys.argv[1]))",
                                             os.path.join(self.mnt, "slow", "stall")],
                                            stdout=subprocess.PIPE, text=True)
                    self.assertIsNotNone(h.stalled_thread(m.pid, time.monotonic() + 30))
                    # Others are served meanwhile: two clients' files, end to end.
                    self.clients(2)
                    self.assertIsNone(held.poll(), "the held lookup ended early")
                    with open(go, "w"):
                        pass
                    self.assertEqual(held.communicate(timeout=60)[0], "False\n")
                finally:
                    mounted.__exit__(None, None, None)
                    for k in range(2):  # the next case's clients start afresh
                        shutil.rmtree(os.path.join(self.src, f"c{k}"), ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
