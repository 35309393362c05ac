"""Every file operation through an sptfs mount, checked against the backing store.

The mount has no policy (nothing mediated): this is the pure passthrough behaviour.
"""
import ctypes
import errno
import fcntl
import mmap
import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import warnings

from sptfs_harness import mount, run

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def renameat2(old, new, flags):
    rc = _libc.renameat2(-100, old.encode(), -100, new.encode(), ctypes.c_uint(flags))
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class OpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)
        cls.work = tempfile.mkdtemp(prefix="sptfs-ops-")
        cls.src = os.path.join(cls.work, "src")
        cls.mnt = os.path.join(cls.work, "mnt")
        os.makedirs(cls.src)
        os.makedirs(cls.mnt)
        os.chmod(cls.work, 0o755)
        os.chmod(cls.src, 0o777)
        cls.ctx = mount(cls.src, cls.mnt)
        cls.m = cls.ctx.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.ctx.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)

    def p(self, *parts):
        return os.path.join(self.mnt, *parts)

    def b(self, *parts):
        return os.path.join(self.src, *parts)

    def test_create_never_follows_a_symlink_planted_behind_a_stale_entry(self):
        # The kernel caches "no such name" and then sends CREATE; if a symlink appeared on
        # the backing store meanwhile, the daemon (not chrooted) must not follow it to a
        # host path: open(O_CREAT) fails, the host file stays untouched. A mount of its
        # own with a long entry timeout, so the negative entry outlives a slow machine.
        work = tempfile.mkdtemp(prefix="sptfs-plant-")
        try:
            src, mnt = os.path.join(work, "src"), os.path.join(work, "mnt")
            os.makedirs(src)
            os.makedirs(mnt)
            host = os.path.join(work, "host-file")
            with open(host, "w") as f:
                f.write("host data")
            with mount(src, mnt, extra_args=["--timeout", "60"]):
                with self.assertRaises(FileNotFoundError):
                    os.stat(os.path.join(mnt, "planted"))  # cached negative entry
                os.symlink(host, os.path.join(src, "planted"))
                err = 0
                try:
                    fd = os.open(os.path.join(mnt, "planted"),
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.write(fd, b"through the mount")
                    os.close(fd)
                except OSError as e:
                    err = e.errno
                with open(host) as f:
                    self.assertEqual(f.read(), "host data")
                self.assertEqual(err, errno.ELOOP)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_create_read_write_truncate_append(self):
        with open(self.p("f1"), "w") as f:
            f.write("hello world")
        with open(self.b("f1")) as f:
            self.assertEqual(f.read(), "hello world")
        with open(self.p("f1"), "a") as f:
            f.write("!")
        with open(self.p("f1"), "r+") as f:
            f.seek(0)
            f.write("J")
        self.assertEqual(open(self.b("f1")).read(), "Jello world!")
        os.truncate(self.p("f1"), 5)
        self.assertEqual(open(self.p("f1")).read(), "Jello")
        self.assertEqual(os.stat(self.b("f1")).st_size, 5)
        with open(self.p("f1"), "w") as f:  # O_TRUNC
            f.write("x")
        self.assertEqual(open(self.b("f1")).read(), "x")

    def test_mkdir_rmdir_readdir(self):
        os.mkdir(self.p("d1"))
        for i in range(50):
            open(self.p("d1", f"e{i}"), "w").close()
        self.assertEqual(sorted(os.listdir(self.p("d1"))), sorted(f"e{i}" for i in range(50)))
        self.assertEqual(sorted(os.listdir(self.b("d1"))), sorted(os.listdir(self.p("d1"))))
        with self.assertRaises(OSError) as cm:
            os.rmdir(self.p("d1"))
        self.assertEqual(cm.exception.errno, errno.ENOTEMPTY)
        for i in range(50):
            os.unlink(self.p("d1", f"e{i}"))
        os.rmdir(self.p("d1"))
        self.assertFalse(os.path.exists(self.b("d1")))
        # readdirplus attributes agree with stat
        os.mkdir(self.p("d2"))
        open(self.p("d2", "x"), "w").write("abc")
        for e in os.scandir(self.p("d2")):
            self.assertEqual(e.stat().st_size, 3)

    def test_rename_plain_noreplace_exchange(self):
        open(self.p("r1"), "w").write("one")
        open(self.p("r2"), "w").write("two")
        os.rename(self.p("r1"), self.p("r3"))
        self.assertFalse(os.path.exists(self.b("r1")))
        self.assertEqual(open(self.b("r3")).read(), "one")
        with self.assertRaises(OSError) as cm:
            renameat2(self.p("r3"), self.p("r2"), RENAME_NOREPLACE)
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        renameat2(self.p("r3"), self.p("r2"), RENAME_EXCHANGE)
        self.assertEqual(open(self.b("r2")).read(), "one")
        self.assertEqual(open(self.b("r3")).read(), "two")
        self.assertEqual(open(self.p("r2")).read(), "one")
        # rename a directory, then use a file under it by its new path
        os.makedirs(self.p("rd", "sub"))
        open(self.p("rd", "sub", "f"), "w").write("deep")
        os.rename(self.p("rd"), self.p("rd2"))
        self.assertEqual(open(self.p("rd2", "sub", "f")).read(), "deep")

    def test_link_counts_are_fresh(self):
        open(self.p("l1"), "w").write("L")
        os.stat(self.p("l1"))
        os.link(self.p("l1"), self.p("l2"))
        self.assertEqual(os.stat(self.p("l1")).st_nlink, 2)
        self.assertEqual(os.stat(self.p("l2")).st_ino, os.stat(self.p("l1")).st_ino)
        os.unlink(self.p("l2"))
        self.assertEqual(os.stat(self.p("l1")).st_nlink, 1)

    def test_symlink_readlink(self):
        os.symlink("target/does/not/exist", self.p("s1"))
        self.assertEqual(os.readlink(self.p("s1")), "target/does/not/exist")
        self.assertEqual(os.readlink(self.b("s1")), "target/does/not/exist")
        self.assertTrue(stat.S_ISLNK(os.lstat(self.p("s1")).st_mode))

    def test_chmod_chown_utimens(self):
        open(self.p("c1"), "w").close()
        os.chmod(self.p("c1"), 0o640)
        self.assertEqual(stat.S_IMODE(os.stat(self.b("c1")).st_mode), 0o640)
        os.chown(self.p("c1"), 1234, 5678)
        st = os.stat(self.b("c1"))
        self.assertEqual((st.st_uid, st.st_gid), (1234, 5678))
        os.utime(self.p("c1"), ns=(1_000_000_000, 2_000_000_000))
        st = os.stat(self.b("c1"))
        self.assertEqual((st.st_atime_ns, st.st_mtime_ns), (1_000_000_000, 2_000_000_000))
        self.assertEqual(os.stat(self.p("c1")).st_mtime_ns, 2_000_000_000)

    def test_files_belong_to_the_caller(self):
        r = run(["setpriv", "--reuid", "4321", "--regid", "4321", "--clear-groups",
                 "sh", "-c", f"echo x > {self.p('owned')} && mkdir {self.p('owned_d')}"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("owned", "owned_d"):
            st = os.stat(self.b(name))
            self.assertEqual((st.st_uid, st.st_gid), (4321, 4321), name)

    def test_statfs_fsync_fallocate(self):
        sv = os.statvfs(self.mnt)
        self.assertEqual(sv.f_blocks, os.statvfs(self.src).f_blocks)
        fd = os.open(self.p("fa"), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            os.posix_fallocate(fd, 0, 1 << 20)
            os.write(fd, b"data")
            os.fsync(fd)
            os.fdatasync(fd)
        finally:
            os.close(fd)
        self.assertEqual(os.stat(self.b("fa")).st_size, 1 << 20)

    def test_flock_and_fcntl_locks(self):
        open(self.p("lk"), "w").close()
        with open(self.p("lk"), "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            r = run(["flock", "-n", self.p("lk"), "true"])
            self.assertNotEqual(r.returncode, 0, "second flock must fail while held")
            fcntl.flock(f, fcntl.LOCK_UN)
            r = run(["flock", "-n", self.p("lk"), "true"])
            self.assertEqual(r.returncode, 0)
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
            code = ("import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n"
                    " fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB, 10, 0)\nexcept OSError:\n"
                    " sys.exit(3)\n")
            r = run(["python3", "-c", code, self.p("lk")])
            self.assertEqual(r.returncode, 3, "posix lock must conflict")

    def test_xattrs(self):
        open(self.p("x1"), "w").close()
        os.setxattr(self.p("x1"), "user.color", b"blue")
        self.assertEqual(os.getxattr(self.b("x1"), "user.color"), b"blue")
        self.assertEqual(os.getxattr(self.p("x1"), "user.color"), b"blue")
        self.assertIn("user.color", os.listxattr(self.p("x1")))
        os.removexattr(self.p("x1"), "user.color")
        self.assertNotIn("user.color", os.listxattr(self.b("x1")))
        with self.assertRaises(OSError) as cm:
            os.getxattr(self.p("x1"), "user.color")
        self.assertEqual(cm.exception.errno, errno.ENODATA)

    def test_mmap_shared_write(self):
        with open(self.p("mm"), "wb") as f:
            f.write(b"\0" * 8192)
        with open(self.p("mm"), "r+b") as f:
            m = mmap.mmap(f.fileno(), 8192)
            m[100:105] = b"MMAPD"
            m.flush()
            m.close()
        with open(self.b("mm"), "rb") as f:
            f.seek(100)
            self.assertEqual(f.read(5), b"MMAPD")

    def test_large_sparse_file(self):
        big = (4 << 30) + 12345
        with open(self.p("big"), "wb") as f:
            f.seek(big)
            f.write(b"END")
        self.assertEqual(os.stat(self.b("big")).st_size, big + 3)
        self.assertLess(os.stat(self.b("big")).st_blocks * 512, 1 << 20)  # still sparse
        with open(self.p("big"), "rb") as f:
            f.seek(big)
            self.assertEqual(f.read(3), b"END")
            f.seek(1 << 32)
            self.assertEqual(f.read(4), b"\0\0\0\0")
            self.assertEqual(os.lseek(f.fileno(), 0, os.SEEK_DATA), (big // 4096) * 4096)
        os.unlink(self.p("big"))

    def test_copy_file_range_and_large_write(self):
        data = os.urandom(3 << 20)
        with open(self.p("src.bin"), "wb") as f:
            f.write(data)
        with open(self.p("src.bin"), "rb") as fi, open(self.p("dst.bin"), "wb") as fo:
            n = 0
            while n < len(data):
                k = os.copy_file_range(fi.fileno(), fo.fileno(), len(data) - n)
                self.assertGreater(k, 0)
                n += k
        self.assertEqual(open(self.b("dst.bin"), "rb").read(), data)

    def test_open_unlinked_file_keeps_working(self):
        with open(self.p("gone"), "w+") as f:
            f.write("still here")
            f.flush()
            os.unlink(self.p("gone"))
            self.assertEqual(os.fstat(f.fileno()).st_size, 10)
            f.seek(0)
            self.assertEqual(f.read(), "still here")
            os.ftruncate(f.fileno(), 5)
            self.assertEqual(os.fstat(f.fileno()).st_size, 5)
        self.assertFalse(os.path.exists(self.b("gone")))

    def test_mknod_fifo(self):
        os.mkfifo(self.p("fifo"))
        self.assertTrue(stat.S_ISFIFO(os.stat(self.b("fifo")).st_mode))

    def test_exec_through_mount(self):
        shutil.copy("/bin/true", self.p("mytrue"))
        os.chmod(self.p("mytrue"), 0o755)
        self.assertEqual(run([self.p("mytrue")]).returncode, 0)

    def test_more_files_than_the_fd_limit(self):
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        n = min(soft, 1 << 16) + 5000  # the daemon's limit is at most ours raised to hard
        d = self.b("many")
        os.mkdir(d)
        for i in range(n):
            os.close(os.open(os.path.join(d, f"f{i}"), os.O_CREAT | os.O_WRONLY, 0o644))
        for i in range(n):
            os.stat(self.p("many", f"f{i}"))
        with open(self.p("many", "f0"), "w") as f:  # still works after all those lookups
            f.write("ok")
        self.assertEqual(open(self.b("many", "f0")).read(), "ok")
        shutil.rmtree(d)

    def test_deep_tree_beyond_path_max(self):
        name = "d" * 200
        path = self.mnt
        depth = 25  # 25 * 201 > 4096
        os.chdir(self.mnt)
        try:
            for _ in range(depth):
                os.mkdir(name)
                os.chdir(name)
            with open("leaf", "w") as f:
                f.write("deep")
            self.assertEqual(open("leaf").read(), "deep")
        finally:
            os.chdir("/")
        shutil.rmtree(os.path.join(self.src, name))


if __name__ == "__main__":
    unittest.main(verbosity=2)
