"""Mounting: in-place mounts, multi-map configs (EXDEV across maps, EROFS on read-only
maps, virtual directories), daemon mode (ready when it returns, unmounts on SIGTERM),
the control socket name, and every error that must leave nothing mounted.
"""
import errno
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import warnings

from confine import wait_for
from sptfs_harness import (is_mounted, mount, mount_fstype, run, sptfs_bin, unmount,
                           write_policy)


class MountTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)
        self.work = tempfile.mkdtemp(prefix="sptfs-mnt-")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.mnt)

    def tearDown(self):
        unmount(self.mnt)
        shutil.rmtree(self.work, ignore_errors=True)

    def mkdirs(self, *paths):
        for p in paths:
            os.makedirs(os.path.join(self.work, p), exist_ok=True)

    def write(self, rel, text):
        path = os.path.join(self.work, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def sptfs(self, *args, timeout=20):
        return run([sptfs_bin(), *args], timeout=timeout)

    def assertNotMounted(self):
        self.assertFalse((mount_fstype(self.mnt) or "").startswith("fuse"))

    def test_in_place_mount(self):
        tree = os.path.join(self.work, "tree")
        self.write("tree/file", "backing")
        with mount(tree, tree) as m:
            self.assertEqual(open(os.path.join(tree, "file")).read(), "backing")
            with open(os.path.join(tree, "new"), "w") as f:
                f.write("through the mount")
            self.assertTrue(mount_fstype(tree).startswith("fuse"))
        self.assertFalse((mount_fstype(tree) or "").startswith("fuse"))
        self.assertEqual(open(os.path.join(tree, "new")).read(), "through the mount")

    def multi_map_config(self):
        self.write("root/etc/hosts", "127.0.0.1 localhost\n")
        self.write("lib/libc.so", "ELF")
        self.write("vol/vm/disk.vmdk", "disk")
        cfg = self.write("mount.toml", f"""
# a tree made of three host directories
[[map]]
at = "/"
source = "root"

[[map]]
at = "/lib"
source = "{self.work}/lib"
read_only = true

[[map]]
at = "/vmfs/volumes/ds1"
source = "vol"
""")
        return cfg

    def test_multi_map_config(self):
        with mount(config=self.multi_map_config(), mountpoint=self.mnt) as m:
            p = lambda *a: os.path.join(self.mnt, *a)
            self.assertEqual(sorted(os.listdir(self.mnt)), ["etc", "lib", "vmfs"])
            self.assertEqual(open(p("lib", "libc.so")).read(), "ELF")
            self.assertEqual(open(p("vmfs", "volumes", "ds1", "vm", "disk.vmdk")).read(), "disk")
            self.assertEqual(os.listdir(p("vmfs", "volumes")), ["ds1"])
            # read-only map
            for fn, args in ((open, (p("lib", "new"), "w")), (open, (p("lib", "libc.so"), "a")),
                             (os.unlink, (p("lib", "libc.so"),)), (os.mkdir, (p("lib", "d"),)),
                             (os.chmod, (p("lib", "libc.so"), 0o600))):
                with self.assertRaises(OSError) as cm:
                    fn(*args)
                self.assertEqual(cm.exception.errno, errno.EROFS, fn.__name__)
            # virtual directories are read-only too
            with self.assertRaises(OSError) as cm:
                os.mkdir(p("vmfs", "x"))
            self.assertEqual(cm.exception.errno, errno.EROFS)
            # across maps: EXDEV for rename and link (mv falls back to copy+delete)
            with self.assertRaises(OSError) as cm:
                os.rename(p("etc", "hosts"), p("vmfs", "volumes", "ds1", "hosts"))
            self.assertEqual(cm.exception.errno, errno.EXDEV)
            with self.assertRaises(OSError) as cm:
                os.link(p("etc", "hosts"), p("vmfs", "volumes", "ds1", "hosts"))
            self.assertEqual(cm.exception.errno, errno.EXDEV)
            r = run(["mv", p("etc", "hosts"), p("vmfs", "volumes", "ds1", "hosts")])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.exists(os.path.join(self.work, "vol", "hosts")))
            # within a map, rename works
            os.rename(p("vmfs", "volumes", "ds1", "hosts"), p("vmfs", "volumes", "ds1", "h2"))
            # a map point cannot be removed or replaced
            with self.assertRaises(OSError):
                os.rmdir(p("lib"))
            # virtual directories have inode numbers of their own, which no backing file
            # has (find and du tell files apart by them), and listings agree with stat
            virtual = [p("vmfs"), p("vmfs", "volumes")]
            inos = [os.lstat(v).st_ino for v in virtual]
            self.assertEqual(len(set(inos)), len(inos), inos)
            backing = {os.lstat(os.path.join(dirpath, n)).st_ino
                       for dirpath, dirs, files in os.walk(self.mnt) for n in dirs + files}
            self.assertFalse(set(inos) & (backing - set(inos)), "a virtual inode is a backing one")
            self.assertTrue(all(i > 1 << 32 for i in inos), inos)
            listed = {e.name: e.inode() for e in os.scandir(p("vmfs"))}
            self.assertEqual(listed["volumes"], os.lstat(p("vmfs", "volumes")).st_ino)
            # statfs of a virtual directory is that of a backing file system, not zeros
            self.assertGreater(os.statvfs(p("vmfs")).f_blocks, 0)

    def test_policy_paths_follow_the_maps(self):
        pol = write_policy(os.path.join(self.work, "pol"), {
            "vmDom": dict(id=4, rules=["-r / r", "-r /vmfs/volumes/ds1 rw"])})
        with mount(config=self.multi_map_config(), mountpoint=self.mnt, policy=pol,
                   default_domain="vmDom") as m:
            vm = os.path.join(self.mnt, "vmfs", "volumes", "ds1", "vm")
            with open(os.path.join(vm, "disk.vmdk"), "a") as f:
                f.write("+")
            with self.assertRaises(PermissionError):
                open(os.path.join(self.mnt, "etc", "hosts"), "a")

    def test_daemon_mode_ready_on_return_and_sigterm_unmounts(self):
        self.write("src/hello", "hi")
        audit = os.path.join(self.work, "audit.log")
        sock = os.path.join(self.work, "ctl.sock")
        pol = write_policy(os.path.join(self.work, "pol"), {})
        r = self.sptfs(os.path.join(self.work, "src"), self.mnt, "--policy", pol,
                       "--audit-log", audit, "--socket", sock)
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            # usable at once, no waiting
            self.assertEqual(open(os.path.join(self.mnt, "hello")).read(), "hi")
            self.assertEqual(os.getxattr(self.mnt, "user.sptfs.socket").decode(), sock)
            pid = int(run(["pgrep", "-f", f"^{sptfs_bin()} .*{self.mnt}"]).stdout.split()[0])
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 10
            while is_mounted(self.mnt) and time.time() < deadline:
                time.sleep(0.05)
            self.assertNotMounted()
            self.assertIn("SPT_MOUNT", open(audit).read())
        finally:
            unmount(self.mnt)

    def test_missing_source(self):
        r = self.sptfs(os.path.join(self.work, "nope"), self.mnt)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope: No such file or directory", r.stderr)
        self.assertNotMounted()

    def test_busy_mountpoint(self):
        self.mkdirs("a", "b")
        with mount(os.path.join(self.work, "a"), self.mnt):
            r = self.sptfs(os.path.join(self.work, "b"), self.mnt)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("busy", r.stderr)

    def test_bad_config(self):
        cfg = self.write("bad.toml", '[[map]]\nat = "/"\nsource = "x"\nread_only = "yes"\n')
        r = self.sptfs("--config", cfg, self.mnt)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.toml:4: read_only must be true or false", r.stderr)
        cfg = self.write("bad2.toml", '[[map]]\nat = "/"\nsource = "x"\n\nmystery = 1\n')
        r = self.sptfs("--config", cfg, self.mnt)
        self.assertIn("bad2.toml:5: unknown key 'mystery'", r.stderr)
        cfg = self.write("bad3.toml", '[[map]\nat = "/"\n')
        r = self.sptfs("--config", cfg, self.mnt)
        self.assertIn("bad3.toml:1:", r.stderr)
        self.assertNotMounted()

    def test_bad_policy_mounts_nothing(self):
        self.mkdirs("src")
        pol = write_policy(os.path.join(self.work, "pol"), {
            "badDom": dict(id=9, rules=["-r /tmp rwz"])})
        r = self.sptfs(os.path.join(self.work, "src"), self.mnt, "--policy", pol)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("badDom.toml:", r.stderr)
        self.assertNotMounted()
        pol2 = write_policy(os.path.join(self.work, "pol2"), {})
        r = self.sptfs(os.path.join(self.work, "src"), self.mnt, "--policy", pol2,
                       "--default-domain", "noSuchDom")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("noSuchDom", r.stderr)
        self.assertNotMounted()

    def test_backing_store_out_of_space(self):
        small = os.path.join(self.work, "small")
        os.makedirs(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small], check=True)
        try:
            with mount(small, self.mnt) as m:
                keep = os.path.join(self.mnt, "keep")
                with open(keep, "w") as f:
                    f.write("precious")
                with self.assertRaises(OSError) as cm:
                    with open(os.path.join(self.mnt, "huge"), "wb") as f:
                        for _ in range(8):
                            f.write(b"x" * (1 << 20))
                        os.fsync(f.fileno())
                self.assertEqual(cm.exception.errno, errno.ENOSPC)
                self.assertEqual(open(keep).read(), "precious")
                os.unlink(os.path.join(self.mnt, "huge"))
                # The kernel sends RELEASE and FORGET for the unlinked file
                # asynchronously; its blocks come back once the daemon drops its
                # handles, as they would on ext4 after the last close.
                def space_back():
                    st = os.statvfs(small)
                    return st.f_bavail * st.f_frsize >= (1 << 20)
                self.assertTrue(wait_for(space_back, timeout=10),
                                "the daemon kept the unlinked file's blocks")
                with open(os.path.join(self.mnt, "after"), "w") as f:  # still serving
                    f.write("ok")
                self.assertEqual(open(os.path.join(small, "after")).read(), "ok")
        finally:
            subprocess.run(["umount", "-l", small])

    def test_reload_changes_the_answer_without_remounting(self):
        spt = os.path.join(os.path.dirname(os.path.dirname(sptfs_bin())), "spt", "spt")
        if not os.path.exists(spt):
            self.skipTest("spt is not built")
        self.write("src/f", "data")
        admin = "-c policy_admin grant"  # so this (confined) test process may reload
        pol = write_policy(os.path.join(self.work, "pol"),
                           {"tDom": dict(id=5, rules=["-r / r", admin])})
        sock = os.path.join(self.work, "ctl.sock")
        with mount(os.path.join(self.work, "src"), self.mnt, policy=pol, default_domain="tDom",
                   socket=sock) as m:
            f = os.path.join(self.mnt, "f")
            with self.assertRaises(PermissionError):
                open(f, "a")
            write_policy(pol, {"tDom": dict(id=5, rules=["-r / rw", admin])})
            r = run([spt, "--socket", sock, f"--load-policy={pol}"])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(f, "a") as fh:  # same mount, new answer
                fh.write("+")
            bad = write_policy(os.path.join(self.work, "bad"),
                               {"tDom": dict(id=5, rules=["-r / rq", admin])})
            r = run([spt, "--socket", sock, f"--load-policy={bad}"])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("tDom.toml", r.stderr + r.stdout)
            with open(f, "a") as fh:  # a failed reload changed nothing
                fh.write("+")

    def test_usage_errors(self):
        r = self.sptfs("only-one-arg")
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected SOURCE and MOUNTPOINT", r.stderr)
        self.assertIn("Try 'sptfs -h' for help.", r.stderr)
        r = self.sptfs("a", "b", "--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option --bogus", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
