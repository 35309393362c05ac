"""Sequences of system calls for the conformance suite (test_posix.py).

Each sequence is a function seq(r, root) that performs calls under directory `root`
through r.call(label, fn, *args); the Recorder keeps, per call, either a normalised
result or the errno's name. The suite runs every sequence once on a native directory
and once through the mount, then compares the two records entry by entry.
"""
import ctypes
import errno
import fcntl
import hashlib
import json
import mmap
import os
import stat

_libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def renameat2(old, new, flags):
    if _libc.renameat2(-100, old.encode(), -100, new.encode(), ctypes.c_uint(flags)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def norm_stat(st):
    """The stat fields that must match between two filesystems (not ino/dev/times)."""
    return dict(mode=oct(st.st_mode), nlink=st.st_nlink, uid=st.st_uid, gid=st.st_gid,
                size=st.st_size if not stat.S_ISDIR(st.st_mode) else "dir")


class Recorder:
    def __init__(self, root):
        self.root = root
        self.log = []

    def p(self, *parts):
        return os.path.join(self.root, *parts)

    def call(self, label, fn, *args, **kw):
        try:
            value = fn(*args, **kw)
        except OSError as e:
            self.log.append((label, "errno:" + errno.errorcode.get(e.errno, str(e.errno))))
            return None
        self.log.append((label, self.normalise(value)))
        return value

    def note(self, label, value):
        self.log.append((label, self.normalise(value)))

    def normalise(self, v):
        if isinstance(v, os.stat_result):
            return norm_stat(v)
        if isinstance(v, (str, bytes)) and self.root in (v if isinstance(v, str) else v.decode(errors="replace")):
            return "<root>" + (v if isinstance(v, str) else v.decode(errors="replace"))[len(self.root):]
        if isinstance(v, int) and v > 2 and v < 100000:  # fds differ; their existence does not
            return "int"
        return repr(v)


def write_file(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode=0o644):
    fd = os.open(path, flags, mode)
    try:
        return os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path, flags=os.O_RDONLY):
    fd = os.open(path, flags)
    try:
        return os.read(fd, 1 << 20)
    finally:
        os.close(fd)


def close_quiet(fd):
    if fd is not None:
        os.close(fd)


def seq_lifecycle(r, root):
    c, p = r.call, r.p
    c("create", write_file, p("f"), b"hello")
    c("read", read_file, p("f"))
    c("stat", os.stat, p("f"))
    c("mkdir", os.mkdir, p("d"), 0o755)
    c("mkdir again", os.mkdir, p("d"))
    c("mkdir sub", os.mkdir, p("d", "sub"))
    c("stat dir nlink", lambda: os.stat(p("d")).st_nlink)
    c("create in d", write_file, p("d", "x"), b"1")
    c("rmdir nonempty", os.rmdir, p("d"))
    c("unlink dir", os.unlink, p("d"))
    c("rmdir file", os.rmdir, p("f"))
    c("open missing", os.open, p("nope"), os.O_RDONLY)
    c("open dir for write", os.open, p("d"), os.O_WRONLY)
    c("open file as dir", os.open, p("f"), os.O_RDONLY | os.O_DIRECTORY)
    c("create under file", os.open, p("f", "x"), os.O_CREAT | os.O_WRONLY, 0o644)
    c("mkfifo", os.mkfifo, p("fifo"), 0o600)
    c("stat fifo", os.stat, p("fifo"))
    c("mknod reg", os.mknod, p("node"), stat.S_IFREG | 0o640)
    c("stat node", os.stat, p("node"))
    c("listdir", lambda: sorted(os.listdir(p())))
    c("unlink", os.unlink, p("d", "x"))
    c("rmdir sub", os.rmdir, p("d", "sub"))
    c("rmdir", os.rmdir, p("d"))
    c("unlink missing", os.unlink, p("d"))
    c("long name", write_file, p("n" * 255), b"")
    c("too long name", write_file, p("n" * 256), b"")
    c("listdir end", lambda: sorted(x[:8] for x in os.listdir(p())))
    c("chmod", os.chmod, p("f"), 0o600)
    c("stat chmod", os.stat, p("f"))
    c("chown", os.chown, p("f"), 1234, 4321)
    c("stat chown", os.stat, p("f"))


def seq_rename(r, root):
    c, p = r.call, r.p
    write_file(p("a"), b"A")
    write_file(p("b"), b"B")
    os.mkdir(p("d1"))
    os.mkdir(p("d2"))
    os.mkdir(p("full"))
    write_file(p("full", "x"), b"")
    c("file over file", os.rename, p("a"), p("b"))
    c("old gone", os.stat, p("a"))
    c("new content", read_file, p("b"))
    c("dir over empty dir", os.rename, p("d1"), p("d2"))
    c("dir over nonempty", os.rename, p("d2"), p("full"))
    c("file over dir", os.rename, p("b"), p("full"))
    c("dir over file", os.rename, p("full"), p("b"))
    c("dir into itself", os.rename, p("full"), p("full", "in"))
    c("rename to self", os.rename, p("b"), p("b"))
    c("missing source", os.rename, p("zz"), p("yy"))
    c("missing target dir", os.rename, p("b"), p("nodir", "b"))
    os.link(p("b"), p("b2"))
    c("rename between hard links", os.rename, p("b"), p("b2"))
    c("both links stay", lambda: (os.path.exists(p("b")), os.path.exists(p("b2"))))
    write_file(p("c"), b"C")
    c("noreplace existing", renameat2, p("c"), p("b"), RENAME_NOREPLACE)
    c("noreplace new", renameat2, p("c"), p("c2"), RENAME_NOREPLACE)
    c("exchange", renameat2, p("c2"), p("full"), RENAME_EXCHANGE)
    c("after exchange", lambda: (stat.S_ISDIR(os.lstat(p("c2")).st_mode), read_file(p("full"))))
    c("exchange missing", renameat2, p("c2"), p("nothere"), RENAME_EXCHANGE)
    c("dir across dirs", os.rename, p("c2"), p("d2", "moved"))
    c("moved content", lambda: sorted(os.listdir(p("d2", "moved"))))
    c("nlink d2", lambda: os.stat(p("d2")).st_nlink)
    c("listdir", lambda: sorted(os.listdir(p())))


def seq_links(r, root):
    c, p = r.call, r.p
    write_file(p("f"), b"data")
    os.mkdir(p("d"))
    c("link", os.link, p("f"), p("g"))
    c("nlink 2", lambda: (os.stat(p("f")).st_nlink, os.stat(p("g")).st_nlink))
    c("same inode", lambda: os.stat(p("f")).st_ino == os.stat(p("g")).st_ino)
    c("link to existing", os.link, p("f"), p("g"))
    c("link dir", os.link, p("d"), p("d2"))
    c("link missing", os.link, p("nope"), p("n2"))
    c("link into dir", os.link, p("f"), p("d", "h"))
    c("nlink 3", lambda: os.stat(p("g")).st_nlink)
    c("write via link", write_file, p("d", "h"), b"changed")
    c("read other", read_file, p("f"))
    c("unlink first", os.unlink, p("f"))
    c("nlink after unlink", lambda: os.stat(p("g")).st_nlink)
    c("symlink", os.symlink, "g", p("s"))
    c("readlink", os.readlink, p("s"))
    c("lstat", lambda: stat.S_ISLNK(os.lstat(p("s")).st_mode))
    c("stat through", os.stat, p("s"))
    c("read through", read_file, p("s"))
    c("symlink exists", os.symlink, "x", p("s"))
    c("dangling", os.symlink, "missing", p("dang"))
    c("open dangling", read_file, p("dang"))
    c("create through dangling", write_file, p("dang"), b"new", os.O_WRONLY | os.O_CREAT)
    c("dangling now", read_file, p("missing"))
    c("nofollow", os.open, p("s"), os.O_RDONLY | os.O_NOFOLLOW)
    c("loop", os.symlink, "loop", p("loop"))
    c("open loop", os.open, p("loop"), os.O_RDONLY)
    c("dir symlink", os.symlink, "d", p("ds"))
    c("list via dir symlink", lambda: sorted(os.listdir(p("ds"))))
    c("abs symlink", os.symlink, "/etc/hostname", p("abs"))
    c("readlink abs", os.readlink, p("abs"))
    c("link to symlink", os.link, p("s"), p("s_hard"))
    c("hard link is symlink", lambda: os.readlink(p("s_hard")))
    c("unlink symlink keeps target", lambda: (os.unlink(p("s")), os.path.exists(p("g"))))


def seq_truncate_append_excl(r, root):
    c, p = r.call, r.p
    write_file(p("t"), b"0123456789")
    c("truncate down", os.truncate, p("t"), 4)
    c("read down", read_file, p("t"))
    c("truncate up", os.truncate, p("t"), 8)
    c("read up", read_file, p("t"))
    fd = os.open(p("t"), os.O_RDWR)
    c("ftruncate", os.ftruncate, fd, 2)
    c("pwrite past end", os.pwrite, fd, b"Z", 6)
    c("read hole", os.pread, fd, 100, 0)
    c("fstat", os.fstat, fd)
    os.close(fd)
    c("truncate missing", os.truncate, p("none"), 0)
    c("truncate dir", os.truncate, p(), 0)
    c("O_TRUNC", write_file, p("t"), b"", os.O_WRONLY | os.O_TRUNC)
    c("size 0", lambda: os.stat(p("t")).st_size)
    a1 = os.open(p("ap"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    a2 = os.open(p("ap"), os.O_WRONLY | os.O_APPEND)
    c("append 1", os.write, a1, b"one,")
    c("append 2", os.write, a2, b"two,")
    c("append pwrite", os.pwrite, a1, b"three", 0)
    c("append result", read_file, p("ap"))
    c("append offset", os.lseek, a2, 0, os.SEEK_CUR)
    os.close(a1)
    os.close(a2)
    ex = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    c("excl new", lambda: close_quiet(os.open(p("ex"), ex, 0o600)))
    c("excl existing", os.open, p("ex"), ex, 0o600)
    os.symlink("ex-target", p("exl"))
    c("excl on dangling symlink", os.open, p("exl"), ex, 0o600)
    c("excl target untouched", os.path.exists, p("ex-target"))
    c("excl dir", os.open, p(), ex, 0o600)
    c("excl mode", lambda: oct(os.stat(p("ex")).st_mode))
    c("umask create", lambda: (os.umask(0o027), close_quiet(os.open(p("um"), ex, 0o777)),
                              os.umask(0o022), oct(os.stat(p("um")).st_mode))[3])


def seq_times(r, root):
    c, p = r.call, r.p
    write_file(p("f"), b"x")
    ns = (1_600_000_000_123_456_789, 1_700_000_000_987_654_321)
    c("utime ns", os.utime, p("f"), ns=ns)
    c("read ns", lambda: (os.stat(p("f")).st_atime_ns, os.stat(p("f")).st_mtime_ns))
    c("utime s", os.utime, p("f"), (1_000_000_000, 1_100_000_000))
    c("read s", lambda: (os.stat(p("f")).st_atime_ns, os.stat(p("f")).st_mtime_ns))
    c("mtime only (omit atime)", lambda: _utimens_omit_atime(p("f"), 1_234_567_890_000_000_001))
    c("read omit", lambda: (os.stat(p("f")).st_atime_ns, os.stat(p("f")).st_mtime_ns))
    fd = os.open(p("f"), os.O_RDWR)
    c("futimens", os.utime, fd, ns=(5, 6))
    c("read f", lambda: (os.fstat(fd).st_atime_ns, os.fstat(fd).st_mtime_ns))
    os.close(fd)
    os.symlink("f", p("l"))
    c("lutimes", os.utime, p("l"), ns=(7, 8), follow_symlinks=False)
    c("read l", lambda: os.lstat(p("l")).st_mtime_ns)
    c("target unchanged", lambda: os.stat(p("f")).st_mtime_ns)
    before = os.stat(p("f")).st_mtime_ns
    write_file(p("f"), b"y", os.O_WRONLY)
    c("write moves mtime", lambda: os.stat(p("f")).st_mtime_ns > before)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _utimens_omit_atime(path, mtime_ns):
    utime_omit = (1 << 30) - 2
    ts = (_Timespec * 2)(_Timespec(0, utime_omit),
                         _Timespec(mtime_ns // 10**9, mtime_ns % 10**9))
    if _libc.utimensat(-100, path.encode(), ts, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def seq_xattrs(r, root):
    c, p = r.call, r.p
    write_file(p("f"), b"")
    users = lambda path: sorted(x for x in os.listxattr(path) if x.startswith("user."))
    c("get absent", os.getxattr, p("f"), "user.a")
    c("set", os.setxattr, p("f"), "user.a", b"1")
    c("get", os.getxattr, p("f"), "user.a")
    c("create existing", os.setxattr, p("f"), "user.a", b"2", os.XATTR_CREATE)
    c("replace absent", os.setxattr, p("f"), "user.b", b"2", os.XATTR_REPLACE)
    c("replace", os.setxattr, p("f"), "user.a", b"3", os.XATTR_REPLACE)
    c("empty value", os.setxattr, p("f"), "user.empty", b"")
    c("get empty", os.getxattr, p("f"), "user.empty")
    c("big value", os.setxattr, p("f"), "user.big", b"v" * 1500)
    c("get big", lambda: len(os.getxattr(p("f"), "user.big")))
    c("binary", os.setxattr, p("f"), "user.bin", bytes(range(256)))
    c("get binary", os.getxattr, p("f"), "user.bin")
    c("list", users, p("f"))
    c("remove", os.removexattr, p("f"), "user.a")
    c("remove absent", os.removexattr, p("f"), "user.a")
    c("list after", users, p("f"))
    c("bad namespace", os.setxattr, p("f"), "bogus.x", b"1")
    c("too long name", os.setxattr, p("f"), "user." + "n" * 300, b"1")
    os.mkdir(p("d"))
    c("dir xattr", os.setxattr, p("d"), "user.d", b"dir")
    c("dir get", os.getxattr, p("d"), "user.d")
    os.symlink("f", p("l"))
    c("symlink user xattr", os.setxattr, p("l"), "user.l", b"1", follow_symlinks=False)
    c("via symlink follows", os.getxattr, p("l"), "user.bin")


def seq_mmap(r, root):
    c, p = r.call, r.p
    write_file(p("m"), b"\0" * 8192)
    fd = os.open(p("m"), os.O_RDWR)
    mm = mmap.mmap(fd, 8192)
    mm[0:5] = b"MMAP!"
    mm.flush()
    c("read after mmap write", lambda: read_file(p("m"))[:5])
    os.pwrite(fd, b"WRITE", 4096)
    c("mmap sees write", lambda: mm[4096:4101])
    fd2 = os.open(p("m"), os.O_RDWR)
    os.pwrite(fd2, b"OTHER", 100)
    c("mmap sees other fd", lambda: mm[100:105])
    mm2 = mmap.mmap(fd2, 8192)
    mm2[200:203] = b"two"
    c("maps coherent", lambda: mm[200:203])
    mm2.close()
    os.close(fd2)
    mm.close()
    os.close(fd)
    fd = os.open(p("m"), os.O_RDONLY)
    c("private map", lambda: mmap.mmap(fd, 8192, mmap.MAP_PRIVATE, mmap.PROT_READ)[0:5])
    os.close(fd)
    c("final content", lambda: read_file(p("m"))[:8].hex())


def seq_readdir_changes(r, root):
    """POSIX leaves added/removed entries unspecified; the others appear exactly once."""
    c, p = r.call, r.p
    os.mkdir(p("d"))
    for i in range(300):
        write_file(p("d", f"keep{i:03}"), b"")
        write_file(p("d", f"gone{i:03}"), b"")
    seen = []
    with os.scandir(p("d")) as it:
        for n, e in enumerate(it):
            seen.append(e.name)
            if n == 50:
                for i in range(300):
                    os.unlink(p("d", f"gone{i:03}"))
                    write_file(p("d", f"new{i:03}"), b"")
    keep = [x for x in seen if x.startswith("keep")]
    r.note("every kept entry once", sorted(keep) == [f"keep{i:03}" for i in range(300)])
    r.note("nothing unknown", all(x[:3] in ("kee", "gon", "new") for x in seen))
    c("listing after", lambda: len(os.listdir(p("d"))))
    c("rewind sees new", lambda: sum(x.startswith("new") for x in os.listdir(p("d"))))


def seq_large_sparse(r, root):
    c, p = r.call, r.p
    big = 5 * 1024**3 + 123
    fd = os.open(p("big"), os.O_RDWR | os.O_CREAT, 0o644)
    c("write past 4G", os.pwrite, fd, b"tail", big)
    c("size", lambda: os.fstat(fd).st_size)
    c("read back", os.pread, fd, 4, big)
    c("read hole at 4G", lambda: os.pread(fd, 4096, 4 * 1024**3) == b"\0" * 4096)
    c("sparse", lambda: os.fstat(fd).st_blocks < 1024)
    c("seek data", os.lseek, fd, 0, os.SEEK_DATA)
    c("seek end", os.lseek, fd, 0, os.SEEK_END)
    c("truncate to 4G+1", os.ftruncate, fd, 4 * 1024**3 + 1)
    c("read at end", os.pread, fd, 10, 4 * 1024**3)
    os.close(fd)
    c("stat", os.stat, p("big"))
    c("unlink", os.unlink, p("big"))


def _lock_child(path, kind, out_w):
    try:
        fd = os.open(path, os.O_RDWR)
        try:
            if kind == "posix":
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
            elif kind == "posix-other-range":
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 100)
            else:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            res = "locked"
        except OSError as e:
            res = "errno:" + errno.errorcode[e.errno]
        os.write(out_w, res.encode())
    finally:
        os._exit(0)


def seq_locks(r, root):
    c, p = r.call, r.p
    write_file(p("lk"), b"x" * 200)
    fd = os.open(p("lk"), os.O_RDWR)
    c("lockf", fcntl.lockf, fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
    for kind in ("posix", "posix-other-range", "flock"):
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rd)
            _lock_child(p("lk"), kind, wr)
        os.close(wr)
        os.waitpid(pid, 0)
        r.note("child " + kind, os.read(rd, 100).decode())
        os.close(rd)
    c("flock", fcntl.flock, fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    c("unlock", fcntl.lockf, fd, fcntl.LOCK_UN, 10, 0)
    os.close(fd)


def _as_user(uid, gid, fn):
    """Runs fn() in a forked child as uid/gid; returns its JSON-able result."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rd)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            out = fn()
        except BaseException as e:  # reported to the parent, never raised in the child
            out = "child failed: " + repr(e)
        os.write(wr, json.dumps(out).encode())
        os._exit(0)
    os.close(wr)
    data = b""
    while chunk := os.read(rd, 65536):
        data += chunk
    os.close(rd)
    os.waitpid(pid, 0)
    return json.loads(data)


def seq_permissions(r, root):
    p = r.p
    write_file(p("private"), b"secret", mode=0o600)
    os.chmod(p("private"), 0o600)
    write_file(p("shared"), b"rw", mode=0o666)
    os.chmod(p("shared"), 0o666)
    os.mkdir(p("closed"), 0o700)
    os.mkdir(p("sticky"))
    os.chmod(p("sticky"), 0o1777)
    os.mkdir(p("ro"))
    os.chmod(p("ro"), 0o555)
    write_file(p("sticky", "roots"), b"")
    os.mkdir(p("grp"))
    os.chown(p("grp"), 0, 2000)
    os.chmod(p("grp"), 0o770)
    write_file(p("exe"), b"#!/bin/sh\nexit 0\n", mode=0o700)
    os.chmod(p("exe"), 0o700)

    def as_user():
        out = []
        rec = Recorder(root)
        rec.call("read private", read_file, p("private"))
        rec.call("read shared", read_file, p("shared"))
        rec.call("write shared", write_file, p("shared"), b"u", os.O_WRONLY)
        rec.call("list closed", os.listdir, p("closed"))
        rec.call("stat in closed", os.stat, p("closed", "x"))
        rec.call("create in ro", write_file, p("ro", "x"), b"")
        rec.call("mkdir in ro", os.mkdir, p("ro", "d"))
        rec.call("create in sticky", write_file, p("sticky", "mine"), b"")
        rec.call("owner of mine", lambda: os.stat(p("sticky", "mine")).st_uid)
        rec.call("unlink roots in sticky", os.unlink, p("sticky", "roots"))
        rec.call("rename roots in sticky", os.rename, p("sticky", "roots"), p("sticky", "r2"))
        rec.call("unlink mine", os.unlink, p("sticky", "mine"))
        rec.call("chmod not owner", os.chmod, p("shared"), 0o777)
        rec.call("chown not owner", os.chown, p("shared"), 1000, 1000)
        rec.call("utime not owner", os.utime, p("shared"), (1, 1))
        rec.call("utime now not owner (writable)", os.utime, p("shared"), None)
        rec.call("access R private", os.access, p("private"), os.R_OK)
        rec.call("access W shared", os.access, p("shared"), os.W_OK)
        rec.call("group dir", os.listdir, p("grp"))
        rec.call("exec denied", read_file, p("exe"))
        rec.call("truncate shared", os.truncate, p("shared"), 1)
        rec.call("truncate private", os.truncate, p("private"), 1)
        out.extend(rec.log)
        return out

    def as_group_member():
        rec = Recorder(root)
        rec.call("group dir as member", lambda: sorted(os.listdir(p("grp"))))
        rec.call("create in group dir", write_file, p("grp", "g"), b"")
        rec.call("gid of new", lambda: os.stat(p("grp", "g")).st_gid)
        return rec.log

    # Values come back already normalised by the child's Recorder.
    r.log.extend(("uid1000 " + k, v) for k, v in _as_user(1000, 1000, as_user))
    r.log.extend(("gid2000 " + k, v) for k, v in _as_user(1001, 2000, as_group_member))
    r.call("private untouched", read_file, p("private"))
    r.call("shared after", read_file, p("shared"))


def _mode(path):
    return oct(os.lstat(path).st_mode)


def _modes_here(r, p, tag):
    """Creates every kind of object with modes that umask, set-id and sticky rules
    touch, and records the mode each one got (issue 16 items 1 and 3)."""
    c = r.call
    for m in (0o777, 0o666, 0o640, 0o4777, 0o2777, 0o6755, 0o1777, 0o7777):
        c(f"{tag} create {m:o}",
          lambda: close_quiet(os.open(p(f"f{m:o}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, m)))
        c(f"{tag} mode f{m:o}", _mode, p(f"f{m:o}"))
        c(f"{tag} mkdir {m:o}", os.mkdir, p(f"d{m:o}"), m)
        c(f"{tag} mode d{m:o}", _mode, p(f"d{m:o}"))
        c(f"{tag} mkfifo {m:o}", os.mkfifo, p(f"p{m:o}"), m)
        c(f"{tag} mode p{m:o}", _mode, p(f"p{m:o}"))
        c(f"{tag} mknod reg {m:o}", os.mknod, p(f"n{m:o}"), stat.S_IFREG | m)
        c(f"{tag} mode n{m:o}", _mode, p(f"n{m:o}"))
    c(f"{tag} chmod own 4755", os.chmod, p("f777"), 0o4755)
    c(f"{tag} mode after chmod", _mode, p("f777"))
    c(f"{tag} chmod own 6777", os.chmod, p("f666"), 0o6777)
    c(f"{tag} mode after chmod 6777", _mode, p("f666"))
    long = "n" * 255
    c(f"{tag} create NAME_MAX 4777",
      lambda: close_quiet(os.open(p(long), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o4777)))
    c(f"{tag} mode NAME_MAX", _mode, p(long))
    c(f"{tag} mkdir NAME_MAX", os.mkdir, p("d" * 255), 0o777)
    c(f"{tag} mode dir NAME_MAX", _mode, p("d" * 255))
    c(f"{tag} NAME_MAX+1", os.mkdir, p("d" * 256), 0o777)


def seq_modes(r, root):
    """As root, and as uid 1000 in a directory it owns (group 1000, setgid dir too)."""
    p = r.p
    os.mkdir(p("root"))
    _modes_here(r, lambda *a: p("root", *a), "root")
    for d in ("user", "user_sgid"):
        os.mkdir(p(d))
        os.chown(p(d), 1000, 1000)
    os.chown(p("user_sgid"), 1000, 2000)
    os.chmod(p("user_sgid"), 0o2775)
    for d in ("user", "user_sgid"):
        r.log.extend(_as_user(1000, 1000,
                              lambda: _child_log(root, lambda rr: _modes_here(
                                  rr, lambda *a: p(d, *a), d))))


def _child_log(root, fn):
    rec = Recorder(root)
    fn(rec)
    return rec.log


def seq_path_max(r, root):
    """Names at NAME_MAX and paths at PATH_MAX, relative to a directory fd (the two
    trees' own paths differ in length)."""
    c = r.call
    dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        rel = ""
        for i in range(16):  # 16 components of 254 bytes and a "/": 4080 bytes
            rel += f"{i:x}" + "c" * 253 + "/"
            os.mkdir(rel, dir_fd=dfd)
        name = rel + "f" * (4095 - len(rel))  # 4095 bytes: PATH_MAX with its NUL
        c("create at PATH_MAX", lambda: close_quiet(
            os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o4777, dir_fd=dfd)))
        c("mode at PATH_MAX", lambda: oct(os.stat(name, dir_fd=dfd).st_mode))
        c("write at PATH_MAX", lambda: write_file(f"/proc/self/fd/{dfd}/{rel}" + "f" * 15, b"x",
                                                  os.O_WRONLY))
        c("PATH_MAX+1", os.open, name + "g", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=dfd)
        c("mkdir at PATH_MAX", os.mkdir, rel + "d" * 15, 0o777, dir_fd=dfd)
        c("mode dir at PATH_MAX", lambda: oct(os.stat(rel + "d" * 15, dir_fd=dfd).st_mode))
        c("rename at PATH_MAX", os.rename, name, rel + "e" * 15, src_dir_fd=dfd,
          dst_dir_fd=dfd)
        c("unlink at PATH_MAX", os.unlink, rel + "e" * 15, dir_fd=dfd)
        c("symlink target 4095", os.symlink, "t" * 4095, "ls", dir_fd=dfd)
        c("readlink 4095", lambda: len(os.readlink("ls", dir_fd=dfd)))
        c("symlink target 4096", os.symlink, "t" * 4096, "ls2", dir_fd=dfd)
    finally:
        os.close(dfd)


def seq_setid_and_sticky(r, root):
    """Set-id bits cleared by writes, truncates and chmod; rename and unlink in
    world-writable and sticky directories; as an unprivileged owner and as root."""
    p = r.p
    for d, m in (("ww", 0o777), ("st", 0o1777)):
        os.mkdir(p(d))
        os.chmod(p(d), m)
        write_file(p(d, "rootf"), b"r")
        write_file(p(d, "rootf2"), b"r")
    write_file(p("rsuid"), b"0123456789")
    write_file(p("ww", "foreign"), b"f")
    os.chown(p("ww", "foreign"), 1000, 2000)
    os.chmod(p("rsuid"), 0o6777)
    r.log.extend(_as_user(1001, 1001, lambda: _child_log(root, lambda rr: [
        write_file(p(d, "otherf"), b"o") for d in ("ww", "st")])))

    def as_owner(rr):
        c = rr.call
        c("create suid", write_file, p("ww", "mine"), b"abc", mode=0o755)
        c("chmod own 6755", os.chmod, p("ww", "mine"), 0o6755)
        c("mode 6755", _mode, p("ww", "mine"))
        c("write own suid", write_file, p("ww", "mine"), b"x", os.O_WRONLY)
        c("mode after write", _mode, p("ww", "mine"))
        c("chmod own 6755 again", os.chmod, p("ww", "mine"), 0o6755)
        c("truncate own suid", os.truncate, p("ww", "mine"), 1)
        c("mode after truncate", _mode, p("ww", "mine"))
        os.chmod(p("ww", "mine"), 0o2745)
        c("ftruncate own sgid", lambda: _ftruncate(p("ww", "mine"), 0))
        c("mode after ftruncate", _mode, p("ww", "mine"))
        os.chmod(p("ww", "mine"), 0o2755)
        c("O_TRUNC own sgid", write_file, p("ww", "mine"), b"", os.O_WRONLY | os.O_TRUNC)
        c("mode after O_TRUNC", _mode, p("ww", "mine"))
        c("chmod sgid, group not mine", os.chmod, p("ww", "foreign"), 0o2755)
        c("mode sgid not mine", _mode, p("ww", "foreign"))
        c("chmod suid, owner", os.chmod, p("ww", "foreign"), 0o4755)
        c("mode suid owner", _mode, p("ww", "foreign"))
        c("write root suid", write_file, p("rsuid"), b"u", os.O_WRONLY)
        c("mode root suid after write", _mode, p("rsuid"))
        c("chmod root file", os.chmod, p("rsuid"), 0o6777)
        c("truncate root file", os.truncate, p("rsuid"), 3)
        c("mode root after truncate", _mode, p("rsuid"))
        c("rename root's in ww", os.rename, p("ww", "rootf"), p("ww", "moved"))
        c("unlink other's in ww", os.unlink, p("ww", "otherf"))
        c("rename root's in sticky", os.rename, p("st", "rootf"), p("st", "moved"))
        c("unlink other's in sticky", os.unlink, p("st", "otherf"))
        c("rename own over root's in sticky", lambda: (write_file(p("st", "m"), b"m"),
                                                     os.rename(p("st", "m"),
                                                               p("st", "rootf2")))[1])
        c("unlink own in sticky", os.unlink, p("st", "m"))
        c("chmod sticky dir not owner", os.chmod, p("st"), 0o777)
        c("listing ww", lambda: sorted(os.listdir(p("ww"))))
        c("listing st", lambda: sorted(os.listdir(p("st"))))

    r.log.extend(_as_user(1000, 1000, lambda: _child_log(root, as_owner)))
    c = r.call
    c("root chmod 6755 user's file", os.chmod, p("ww", "mine"), 0o6755)
    c("root writes user's suid", write_file, p("ww", "mine"), b"root", os.O_WRONLY)
    c("mode after root write", _mode, p("ww", "mine"))
    c("root truncates user's suid", os.truncate, p("ww", "mine"), 1)
    c("mode after root truncate", _mode, p("ww", "mine"))
    c("root chown clears suid", os.chown, p("ww", "mine"), 1001, -1)
    c("mode after chown", _mode, p("ww", "mine"))


def _ftruncate(path, size):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def _acl(entries):
    """A system.posix_acl_* value: version 2, then (tag, perm, id) per entry."""
    import struct
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, pm, i) for t, pm, i in entries)


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER = 1, 2, 4, 0x10, 0x20
ACL_UNDEFINED_ID = 0xFFFFFFFF


def seq_acl_default(r, root):
    """A default ACL replaces the umask for what is made under it (POSIX.1e)."""
    c, p = r.call, r.p
    os.mkdir(p("open"))
    os.mkdir(p("masked"))
    u = ACL_UNDEFINED_ID
    c("set default rwx", os.setxattr, p("open"), "system.posix_acl_default",
      _acl([(ACL_USER_OBJ, 7, u), (ACL_GROUP_OBJ, 7, u), (ACL_OTHER, 7, u)]))
    c("set default masked", os.setxattr, p("masked"), "system.posix_acl_default",
      _acl([(ACL_USER_OBJ, 7, u), (ACL_USER, 7, 1000), (ACL_GROUP_OBJ, 5, u), (ACL_MASK, 5, u),
            (ACL_OTHER, 0, u)]))
    for d in ("open", "masked"):
        c(f"{d} create", lambda: close_quiet(os.open(p(d, "f"), os.O_CREAT | os.O_WRONLY, 0o666)))
        c(f"{d} mode f", _mode, p(d, "f"))
        c(f"{d} mkdir", os.mkdir, p(d, "d"), 0o777)
        c(f"{d} mode d", _mode, p(d, "d"))
        c(f"{d} inherits default", lambda: os.getxattr(p(d, "d"), "system.posix_acl_default"))
        c(f"{d} mkfifo", os.mkfifo, p(d, "p"), 0o666)
        c(f"{d} mode p", _mode, p(d, "p"))
        c(f"{d} access acl", lambda: os.getxattr(p(d, "f"), "system.posix_acl_access"))


def _aligned(n):
    m = mmap.mmap(-1, max(n, 1) + 8192)
    return m, memoryview(m)


def seq_direct_io(r, root):
    """O_DIRECT reads and writes, aligned and not, with sizes around the block size.
    Buffers are always page aligned: a misaligned buffer is EINVAL on the backing store
    but works through the mount, whose kernel copies the data (docs/RELIABILITY.md)."""
    c, p = r.call, r.p
    bs = os.statvfs(root).f_bsize
    src, srcv = _aligned(1 << 21)
    src[:] = bytes((i * 7 + 3) % 251 for i in range(256)) * (len(src) // 256)
    fd = os.open(p("d"), os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
    try:
        for off in (0, 512, bs, 1, bs - 1, 3 * bs):
            for n in (1, 511, 512, 513, bs - 1, bs, bs + 1, 2 * bs, 1 << 20, (1 << 20) + bs):
                c(f"pwrite {off}+{n}", os.pwrite, fd, srcv[:n], off)
                dst, dstv = _aligned(n)
                c(f"preadv {off}+{n}", os.preadv, fd, [dstv[:n]], off)
                got = os.preadv(fd, [dstv[:n]], off) if off % 512 == 0 and n % 512 == 0 else 0
                r.note(f"data {off}+{n}", bytes(dst[:got]) == bytes(src[:got]))
                dstv.release()
                dst.close()
        c("fstat", lambda: os.fstat(fd).st_size)
        c("fdatasync", os.fdatasync, fd)
        c("mmap of direct fd", lambda: _map_write(fd))
        c("clear O_DIRECT", lambda: fcntl.fcntl(fd, fcntl.F_SETFL,
                                                fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_DIRECT))
        c("buffered pwrite 1+3", os.pwrite, fd, b"abc", 1)
        c("set O_DIRECT", lambda: fcntl.fcntl(fd, fcntl.F_SETFL,
                                              fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_DIRECT))
        c("direct pwrite again", os.pwrite, fd, srcv[:bs], bs)
        c("direct unaligned again", os.pwrite, fd, srcv[:100], 0)
    finally:
        os.close(fd)
        srcv.release()
        src.close()
    with open(p("d"), "rb") as f:
        r.note("content", hashlib.sha256(f.read()).hexdigest())


def _map_write(fd):
    with mmap.mmap(fd, 4096) as m:
        m[10:14] = b"MMAP"
        m.flush()
        return m[8:16]


SEQUENCES = [seq_lifecycle, seq_rename, seq_links, seq_truncate_append_excl, seq_times,
             seq_xattrs, seq_mmap, seq_readdir_changes, seq_large_sparse, seq_locks,
             seq_permissions, seq_modes, seq_path_max, seq_setid_and_sticky, seq_acl_default,
             seq_direct_io]
