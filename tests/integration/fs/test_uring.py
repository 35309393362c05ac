"""FUSE over io_uring (`--io-uring`, docs/sptfs.md; issue 17).

With the fuse module's enable_uring on, a mount with --io-uring registers an io_uring per
ring worker (two per possible CPU) and serves callers' requests in them: a held lookup is
seen sleeping in a thread named sptfs-ring, and others are served meanwhile. Files,
large writes and reads (buffered and O_DIRECT), directories of many entries, extended
attributes and labels come back as written, through the mount and on the backing store.
A caller killed while its request is in a ring leaves the rings serving. With the
parameter off, or io_uring disabled by sysctl, --io-uring says once that it falls back
and the mount works through /dev/fuse. Every mount ends with the daemon's exit status 0,
except one whose ring worker could not register its entry: that one says so once and
ends the mount (exit status 1) instead of leaving every caller waiting.
"""

import contextlib
import mmap
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
import sptfs_harness as h  # noqa: E402
from test_workers import ClientTree  # noqa: E402

PARAM = "/sys/module/fuse/parameters/enable_uring"
RING_THREAD = "sptfs-ring"


def set_param(value):
    with open(PARAM, "w") as f:
        f.write(value)


def possible_cpus():
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    return max(int(part.split("-")[-1]) for part in text.split(",")) + 1


def uring_fds(pid):
    """How many of process `pid`'s descriptors are io_urings."""
    return h.count_fds(pid, "anon_inode:[io_uring]")


def setUpModule():
    global saved
    if not os.path.exists(PARAM):
        raise unittest.SkipTest("this kernel's fuse module has no io_uring (Linux 6.14+)")
    with open(PARAM) as f:
        saved = f.read().strip()


def tearDownModule():
    set_param(saved)


class Uring(ClientTree):
    def setUp(self):
        set_param("Y")
        super().setUp()
        os.makedirs(os.path.join(self.src, "slow"))

    @contextlib.contextmanager
    def mount(self, env=None):
        """h.mount with --io-uring and `env` in the daemon's environment."""
        saved_env = dict(os.environ)
        os.environ.update(env or {})
        try:
            m = h.mount(self.src, self.mnt, extra_args=["--io-uring"])
            mounted = m.__enter__()
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
        with contextlib.ExitStack() as stack:
            stack.push(m)
            yield mounted

    def assert_clean_exit(self, m):
        self.assertEqual(m.proc.returncode, 0, m.stderr())
        self.assertNotIn("io_uring", m.stderr())

    def hold_lookup(self, m):
        """A caller whose lookup of slow/stall the daemon holds; asserts a ring worker
        holds it."""
        held = subprocess.Popen([sys.executable, "-c", "import os, sys\n"
                                 "print(os.path.exists(sys.argv[1]))",
                                 os.path.join(self.mnt, "slow", "stall")],
                                stdout=subprocess.PIPE, text=True)
        name = h.stalled_thread(m.pid, time.monotonic() + 30)
        self.assertEqual(name, RING_THREAD, "the lookup was not served by a ring worker")
        return held

    def test_requests_are_served_in_the_rings(self):
        with self.mount(env={"SPTFS_TEST_STALL_LOOKUP": "stall"}) as m:
            # The mount shows before the INIT that starts the rings is answered.
            rings = h.wait_for_fds(m.pid, "anon_inode:[io_uring]",
                                   lambda n: n == 2 * possible_cpus(), timeout=15)
            self.assertEqual(rings, 2 * possible_cpus())
            held = self.hold_lookup(m)
            self.clients(4)  # served by the other entries meanwhile
            self.assertIsNone(held.poll(), "the held lookup ended early")
            with open(os.path.join(self.src, "slow", "stall.go"), "w"):
                pass
            self.assertEqual(held.communicate(timeout=60)[0], "False\n")
        self.assert_clean_exit(m)
        with open(os.path.join(self.src, "c3", "f4.r"), "rb") as f:
            self.assertEqual(f.read(), b"client 3 file 4 " * 5)

    def test_large_data_directories_and_xattrs(self):
        data = os.urandom(9 << 20)  # beyond one entry's payload (max_write, 1 MiB)
        with self.mount() as m:
            big = m.path("big")
            with open(big, "wb") as f:
                f.write(data)
            with open(big, "rb") as f:
                self.assertEqual(f.read(), data)
            # O_DIRECT: the data goes to the daemon in requests as the caller gave it.
            block = os.urandom(1 << 20)
            aligned, back = mmap.mmap(-1, len(block)), mmap.mmap(-1, len(block))  # page-aligned
            aligned.write(block)
            fd = os.open(m.path("direct"), os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o644)
            try:
                self.assertEqual(os.pwrite(fd, aligned, 0), len(block))
                self.assertEqual(os.preadv(fd, [back], 0), len(block))
            finally:
                os.close(fd)
            self.assertEqual(bytes(back), block)
            names = {f"entry-{i:05d}-" + "x" * 100 for i in range(3000)}
            os.mkdir(m.path("many"))
            for n in names:
                os.close(os.open(m.path("many", n), os.O_CREAT | os.O_WRONLY, 0o600))
            self.assertEqual(set(os.listdir(m.path("many"))), names)
            value = os.urandom(3000)
            os.setxattr(big, "user.sptfs-test", value)
            self.assertEqual(os.getxattr(big, "user.sptfs-test"), value)
            self.assertIn("user.sptfs-test", os.listxattr(big))
            os.rename(big, m.path("many", "big"))
            self.assertEqual(os.stat(m.path("many", "big")).st_size, len(data))
        self.assert_clean_exit(m)
        with open(os.path.join(self.src, "many", "big"), "rb") as f:
            self.assertEqual(f.read(), data)
        with open(os.path.join(self.src, "direct"), "rb") as f:
            self.assertEqual(f.read(), block)
        self.assertEqual(os.getxattr(os.path.join(self.src, "many", "big"), "user.sptfs-test"),
                         value)

    def test_a_caller_killed_in_a_ring_leaves_it_serving(self):
        with self.mount(env={"SPTFS_TEST_STALL_LOOKUP": "stall"}) as m:
            held = self.hold_lookup(m)
            # The kernel sends an interrupt (through /dev/fuse) and waits for the
            # answer of a request it has handed over, so the caller ends only after it.
            held.kill()
            with open(os.path.join(self.src, "slow", "stall.go"), "w"):
                pass
            held.wait(timeout=60)
            self.clients(2 * possible_cpus() + 1)  # more than there are entries
            self.assertEqual(uring_fds(m.pid), 2 * possible_cpus())
        self.assert_clean_exit(m)

    def test_falls_back_when_the_kernel_does_not_offer_it(self):
        set_param("N")
        with self.mount() as m:
            self.clients(2)
            self.assertEqual(uring_fds(m.pid), 0)
        self.assertEqual(m.proc.returncode, 0, m.stderr())
        self.assertEqual(m.stderr().count("sptfs: warning: --io-uring: the kernel does not "
                                          "offer FUSE over io_uring"), 1, m.stderr())

    def test_a_queue_that_cannot_register_ends_the_mount(self):
        # Once the INIT reply has asked for the rings, the kernel holds every request
        # until each CPU's queue has an entry: a worker that cannot register one must
        # end the mount, or every caller waits forever.
        env = dict(os.environ, SPTFS_TEST_URING_FAIL_QUEUE="0")
        proc = subprocess.Popen(h.sptfs_args(self.src, self.mnt, extra_args=["--io-uring"])
                                + ["-f", "--socket", os.path.join(self.work, "s.sock")],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 15
            while h.mount_fstype(self.mnt) is None and proc.poll() is None:
                self.assertLess(time.monotonic(), deadline, "never mounted")
                time.sleep(0.02)
            # A caller that comes meanwhile is answered (an error or a result), not held.
            caller = subprocess.run(["stat", os.path.join(self.mnt, "shared")],
                                    capture_output=True, timeout=30)
            self.assertIsNotNone(caller.returncode)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 1, err)
        self.assertEqual(err.count("sptfs: io_uring queue 0: no entry registered (Operation "
                                   "not permitted); ending the mount"), 1, err)
        self.assertEqual(err.count("io_uring queue"), 1, err)  # said once
        self.assertIsNone(h.mount_fstype(self.mnt))

    def test_io_uring_disabled_by_sysctl_falls_back(self):
        sysctl = "/proc/sys/kernel/io_uring_disabled"
        if not os.path.exists(sysctl):
            self.skipTest("no kernel.io_uring_disabled (Linux 6.6+)")
        with open(sysctl) as f:
            old = f.read().strip()
        with open(sysctl, "w") as f:
            f.write("2")  # no process may create an io_uring
        try:
            with self.mount() as m:
                self.clients(2)
                self.assertEqual(uring_fds(m.pid), 0)
        finally:
            with open(sysctl, "w") as f:
                f.write(old)
        self.assertEqual(m.proc.returncode, 0, m.stderr())
        self.assertEqual(m.stderr().count("sptfs: warning: --io-uring: io_uring cannot be set "
                                          "up here (Operation not permitted; see "
                                          "/proc/sys/kernel/io_uring_disabled); serving "
                                          "through /dev/fuse"), 1, m.stderr())

    def test_help_names_the_option(self):
        r = h.run([h.tool("sptfs"), "--help"])
        self.assertIn("--io-uring", r.stdout)


if __name__ == "__main__":
    unittest.main()
