#!/usr/bin/env python3
"""Whole-mount workloads on native ext4, libfuse's passthrough_ll, bindfs and sptfs.

One run measures every file system on the same machine, one after the other, each on a
fresh backing directory under --dir. sptfs runs with the sample policy (policies/esxi)
plus a generated confined domain of 1,000 rules that the benchmark process runs in
(--default-domain), so every open is mediated. passthrough_ll is compiled from the
example Debian's libfuse3-dev ships (into --build/bench-mount/, not committed).

Usage: bench/mount/mount_bench.py [--build DIR] [--dir DIR] [--quick] [--only a,b]
                                  [--workloads tar,random] [--repeat N] [--cpu N]
                                  [--stat best|median] [--clients N]
Prints every run, then a Markdown table (per-operation microseconds: the fastest run,
or the median with --stat median; ratios to native and to the best of
passthrough_ll/bindfs) and the daemons' peak RSS. Needs root (drop_caches, mounts).
--clients N runs each workload in N processes at once, each in its own subdirectory
(run_clients); bench/mount/threads_matrix.py uses that to compare worker settings.
"""
import argparse
import contextlib
import itertools
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = "/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c"


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def fuse_mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(l.split()[4] == path and " - fuse" in l for l in f)


def wait_mounted(path, proc, timeout=15):
    deadline = time.time() + timeout
    while not fuse_mounted(path):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"mount of {path} failed (exit {proc.poll()})")
        time.sleep(0.02)


def build_passthrough_ll(build):
    out_dir = os.path.join(build, "bench-mount")
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, "passthrough_ll")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"], capture_output=True,
                           text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-Wall", "-D_FILE_OFFSET_BITS=64",
                    "-I", os.path.dirname(EXAMPLE), EXAMPLE, "-o", exe] + flags, check=True)
    return exe


def build_passthrough_hp(build, source):
    """libfuse's passthrough_hp.cc, which Debian's binary packages do not ship: from a
    fuse-3.14.0 source tree (`apt-get source fuse3` with a deb-src entry)."""
    example = os.path.join(source, "example", "passthrough_hp.cc")
    if not os.path.exists(example):
        raise SystemExit(f"--hp-source {source}: no example/passthrough_hp.cc there "
                         "(expected a fuse-3.14.0 source tree)")
    out_dir = os.path.join(build, "bench-mount")
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, "passthrough_hp")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"], capture_output=True,
                           text=True, check=True).stdout.split()
    subprocess.run(["c++", "-std=c++17", "-O2", "-DHAVE_UTIMENSAT", "-DHAVE_POSIX_FALLOCATE",
                    "-DHAVE_SETXATTR", "-I", os.path.dirname(example), example, "-o", exe,
                    "-lpthread"] + flags, check=True)
    return exe


def bench_policy(dir):
    """The sample policy plus benchDom: 1,000 -r rules, confined, enforcing."""
    shutil.copytree(os.path.join(SOURCE, "policies", "esxi"), dir)
    rules = ["-r / rwx"] + [f"-r /bench/area{i:03d}/sub rw" for i in range(998)] + ["-r /tmp rw"]
    with open(os.path.join(dir, "domains", "benchDom.toml"), "w") as f:
        f.write('name = "benchDom"\nid = 900\nlevel = "enforcing"\nrules = [\n')
        f.write("".join(f'  "{r}",\n' for r in rules))
        f.write("]\n")
    return dir


class BackingImage:
    """A fresh ext4 file system (with a journal, as mkfs.ext4 makes it) on a loop device.

    Each target gets its own, so no target creates files in block groups another
    target has just emptied: on ext4 without a journal (some VM root disks) inode
    allocation then scans recently deleted inodes, which made create-heavy workloads
    depend on the order the targets ran in rather than on the file system under test.
    """

    def __init__(self, path, mountpoint, size="4G"):
        self.path = path
        self.mountpoint = mountpoint
        self.device = None
        subprocess.run(["truncate", "-s", size, path], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", path], check=True)
        try:
            self.device = subprocess.run(["losetup", "-f", "--show", "--direct-io=on", path],
                                         capture_output=True, text=True,
                                         check=True).stdout.strip()
            subprocess.run(["mount", self.device, mountpoint], check=True)
        except (OSError, subprocess.CalledProcessError):
            self.close()
            raise

    def close(self):
        subprocess.run(["umount", self.mountpoint], check=False, stderr=subprocess.DEVNULL)
        if self.device:
            subprocess.run(["losetup", "-d", self.device], check=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class Target:
    """One file system under test: mounts it and reports where to work."""

    def __init__(self, name, work, cmd_fn, image=False):
        self.name = name
        self.backing = os.path.join(work, name, "backing")
        self.mnt = os.path.join(work, name, "mnt")
        os.makedirs(self.backing)
        os.makedirs(self.mnt)
        self.image = (BackingImage(os.path.join(work, name + ".img"), self.backing)
                      if image else None)
        self.cmd_fn = cmd_fn
        self.proc = None

    @property
    def root(self):
        return self.mnt if self.cmd_fn else self.backing

    def __enter__(self):
        if self.cmd_fn:
            self.proc = subprocess.Popen(self.cmd_fn(self.backing, self.mnt),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_mounted(self.mnt, self.proc)
            except RuntimeError:
                self.__exit__(None, None, None)
                raise
        return self

    def peak_rss_kib(self):
        if not self.proc:
            return None
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None

    def __exit__(self, *exc):
        if self.proc:
            subprocess.run(["fusermount3", "-u", "-z", self.mnt], stderr=subprocess.DEVNULL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.image:
            self.image.close()
        shutil.rmtree(os.path.dirname(self.backing), ignore_errors=True)


# Workloads: each returns (operations, seconds).
def w_create_stat_unlink(root, n):
    d = os.path.join(root, "csu")
    os.mkdir(d)
    names = [os.path.join(d, f"f{i}") for i in range(n)]
    t = time.perf_counter()
    for p in names:
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
    for p in names:
        os.stat(p)
    for p in names:
        os.unlink(p)
    return n, time.perf_counter() - t


def w_open_read_close(root, n):
    p = os.path.join(root, "one")
    with open(p, "w") as f:
        f.write("x" * 100)
    t = time.perf_counter()
    for _ in range(n):
        fd = os.open(p, os.O_RDONLY)
        os.read(fd, 1)
        os.close(fd)
    return n, time.perf_counter() - t


def w_seq_write(root, mib):
    p = os.path.join(root, "big")
    block = os.urandom(1 << 20)
    t = time.perf_counter()
    fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    for _ in range(mib):
        os.write(fd, block)
    os.fsync(fd)
    os.close(fd)
    return mib, time.perf_counter() - t


def w_seq_read(root, mib):
    p = os.path.join(root, "big")
    drop_caches()
    t = time.perf_counter()
    fd = os.open(p, os.O_RDONLY)
    while os.read(fd, 1 << 20):
        pass
    os.close(fd)
    return mib, time.perf_counter() - t


def w_random_read(root, n):
    p = os.path.join(root, "big")
    blocks = os.stat(p).st_size // 4096
    rng = random.Random(42)
    offsets = [rng.randrange(blocks) * 4096 for _ in range(n)]
    drop_caches()
    fd = os.open(p, os.O_RDONLY)
    t = time.perf_counter()
    for off in offsets:
        os.pread(fd, 4096, off)
    elapsed = time.perf_counter() - t
    os.close(fd)
    return n, elapsed


def w_tar_x(root, tarball, nfiles):
    d = os.path.join(root, "untar")
    os.mkdir(d)
    t = time.perf_counter()
    subprocess.run(["tar", "xf", tarball, "-C", d], check=True)
    os.sync()
    return nfiles, time.perf_counter() - t


def w_exec(root, n):
    exe = os.path.join(root, "tiny")
    shutil.copy("/bin/true", exe)
    os.chmod(exe, 0o755)
    t = time.perf_counter()
    for _ in range(n):
        pid = os.posix_spawn(exe, [exe], {})
        os.waitpid(pid, 0)
    return n, time.perf_counter() - t


def w_lookup_many(root, backing, n):
    """Looks up `n` distinct files (made natively on the backing store); then peak RSS."""
    d = os.path.join(backing, "many")
    os.mkdir(d)
    for i in range(n):
        os.close(os.open(os.path.join(d, f"f{i}"), os.O_CREAT | os.O_WRONLY, 0o644))
    md = os.path.join(root, "many")
    t = time.perf_counter()
    for i in range(n):
        os.stat(os.path.join(md, f"f{i}"))
    return n, time.perf_counter() - t


def w_cold_lookup(root, backing, batches, per):
    """`batches` batches of `per` distinct files (made natively): before each batch the
    kernel drops its caches (so it also FORGETs the previous batch's inodes), then each
    file of the batch is stat'ed; only the stats are timed (issue 17 item 1)."""
    d = os.path.join(backing, "cold")
    os.mkdir(d)
    for b in range(batches):
        os.mkdir(os.path.join(d, f"b{b}"))
        for i in range(per):
            os.close(os.open(os.path.join(d, f"b{b}", f"f{i}"), os.O_CREAT | os.O_WRONLY, 0o644))
    secs = 0.0
    for b in range(batches):
        drop_caches()
        bd = os.path.join(root, "cold", f"b{b}")
        t = time.perf_counter()
        for i in range(per):
            os.stat(os.path.join(bd, f"f{i}"))
        secs += time.perf_counter() - t
    return batches * per, secs


RENAME_RUNS = itertools.count()


def w_rename_file(root, backing, n):
    """Renames one file to a sibling name and back, `n` times each way: the same
    mediation as a directory's rename (the link subset rule at both ends) without the
    subtree check."""
    drop_caches()
    run = f"rn{next(RENAME_RUNS)}"
    os.makedirs(os.path.join(backing, run))
    os.close(os.open(os.path.join(backing, run, "a"), os.O_CREAT | os.O_WRONLY, 0o644))
    a, b = os.path.join(root, run, "a"), os.path.join(root, run, "b")
    os.stat(a)
    t = time.perf_counter()
    for _ in range(n):
        os.rename(a, b)
        os.rename(b, a)
    elapsed = time.perf_counter() - t
    os.stat(a)
    return 2 * n, elapsed


def w_rename_dir(root, backing, nfiles, n):
    """Renames a directory with `nfiles` files below it (100 per subdirectory, made
    natively on the backing store, then each stat'ed through the mount so the daemon
    knows them all) to a sibling name and back, `n` times each way. sptfs judges a
    directory's rename for its whole subtree (docs/THREAT-MODEL.md, issue 21.1)."""
    # The kernel forgets the last run's inodes (passthrough_ll holds an fd for each one
    # it knows), and a new name each run: it may still hold a dentry for a removed one.
    drop_caches()
    run = f"rn{next(RENAME_RUNS)}"
    top = os.path.join(backing, run, "a")
    os.makedirs(top)
    for i in range(nfiles):
        sub = os.path.join(top, f"s{i // 100:03d}")
        if i % 100 == 0:
            os.mkdir(sub)
        os.close(os.open(os.path.join(sub, f"f{i}"), os.O_CREAT | os.O_WRONLY, 0o644))
    a, b = os.path.join(root, run, "a"), os.path.join(root, run, "b")
    for i in range(nfiles):
        os.stat(os.path.join(a, f"s{i // 100:03d}", f"f{i}"))
    t = time.perf_counter()
    for _ in range(n):
        os.rename(a, b)
        os.rename(b, a)
    elapsed = time.perf_counter() - t
    os.stat(os.path.join(a, "s000", "f0") if nfiles else a)  # back under its old name
    return 2 * n, elapsed


def reset(root, backing):
    """Removes what a previous run of a workload left (on the backing store: fast)."""
    for name in ("csu", "untar", "many", "cold") + tuple(n for n in os.listdir(backing)
                                                 if n.startswith(("rn", "client"))):
        shutil.rmtree(os.path.join(backing, name), ignore_errors=True)


CLIENT_RUNS = itertools.count()


def run_clients(fn, root, backing, clients):
    """Runs workload `fn` in `clients` processes at once, client k in root/client{R}-{k}
    (R: a new number each run, since the kernel may still hold a dentry for the last
    run's directory, which reset() removed on the backing store: ESTALE); returns
    (total operations, seconds).

    The seconds are wall-clock ones, from the earliest start of a client's timed part to
    the latest end of one, so per-operation time is wall / total operations: what the
    file system delivers to all clients together. Each client's timed part is the last
    thing its workload does (its end is when it returns), so its start is end - secs; all
    start together after a pipe barrier, each having made its subdirectory. One client
    (clients=1) runs in this process, exactly as before.
    """
    if clients == 1:
        return fn(root, backing)
    go_r, go_w = os.pipe()
    pids, readers = [], []
    run = next(CLIENT_RUNS)
    for k in range(clients):
        sub = f"client{run}-{k}"
        os.makedirs(os.path.join(backing, sub), exist_ok=True)
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the client: wait for the barrier, run, report, exit
            code = 0
            try:
                os.close(go_w)
                os.close(res_r)
                os.read(go_r, 1)
                ops, secs = fn(os.path.join(root, sub), os.path.join(backing, sub))
                end = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
                os.write(res_w, f"{ops} {end - secs!r} {end!r}".encode())
            except BaseException as e:  # noqa: BLE001 - told to the parent, which raises
                os.write(res_w, f"error {e!r}".encode())
                code = 1
            finally:
                os._exit(code)
        os.close(res_w)
        pids.append(pid)
        readers.append(res_r)
    os.close(go_r)
    os.close(go_w)  # EOF on every client's barrier read: all start
    results = []
    for r in readers:
        with os.fdopen(r) as f:
            results.append(f.read())
    for pid in pids:
        os.waitpid(pid, 0)
    bad = [r for r in results if not r or r.startswith("error")]
    if bad:
        raise RuntimeError(f"{len(bad)} of {clients} clients failed: {bad[0]}")
    fields = [r.split() for r in results]
    ops = sum(int(f[0]) for f in fields)
    return ops, max(float(f[2]) for f in fields) - min(float(f[1]) for f in fields)


def make_tarball(work, nfiles):
    src = os.path.join(work, "tarsrc")
    rng = random.Random(7)
    for i in range(nfiles):
        d = os.path.join(src, f"dir{i % 40:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"file{i}.txt"), "wb") as f:
            f.write(rng.randbytes(rng.randrange(200, 6000)))
    tarball = os.path.join(work, "small.tar")
    with tarfile.open(tarball, "w") as t:
        t.add(src, arcname="tree")
    shutil.rmtree(src)
    return tarball


URING_PARAM = "/sys/module/fuse/parameters/enable_uring"


@contextlib.contextmanager
def fuse_uring_enabled():
    """The fuse module offers io_uring only while its enable_uring parameter is Y:
    sets it for the run and puts the old value back."""
    with open(URING_PARAM) as f:
        old = f.read().strip()
    with open(URING_PARAM, "w") as f:
        f.write("Y")
    try:
        yield
    finally:
        with open(URING_PARAM, "w") as f:
            f.write(old)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--only", default="native,passthrough_ll-xattr-dp,bindfs,sptfs,sptfs-nopolicy")
    ap.add_argument("--workloads", default="",
                    help="comma-separated substrings: run only workloads whose name has one")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per workload; the fastest counts (VM wake-up noise is large)")
    ap.add_argument("--stat", choices=("best", "median"), default="best",
                    help="which run of each workload the table shows")
    ap.add_argument("--backing", choices=("image", "dir"), default="image",
                    help="image: each file system on its own fresh ext4 loop image (default); "
                         "dir: plain directories under --dir")
    ap.add_argument("--sptfs-old", default=None,
                    help="another sptfs binary (an older build), run as target sptfs-old")
    ap.add_argument("--hp-source", default=None,
                    help="a fuse-3.14.0 source tree: adds target passthrough_hp (built from "
                         "its example/passthrough_hp.cc; informative, not a like-for-like peer)")
    ap.add_argument("--clients", type=int, default=1,
                    help="processes running each workload at once, each the whole workload "
                         "in its own subdirectory; per-operation time is wall / all their "
                         "operations (run_clients)")
    ap.add_argument("--cpu", type=int, default=None,
                    help="pin the benchmark and every daemon to this CPU")
    args = ap.parse_args()
    q = args.quick
    sizes = dict(csu=1000 if q else 10000, orc=5000 if q else 100000, mib=64 if q else 1024,
                 rnd=2000 if q else 20000, tar=500 if q else 3000, exe=200 if q else 2000,
                 many=5000 if q else 100000, rnf=1000 if q else 10000, rn=200 if q else 2000,
                 cold=3 if q else 10, per=1000 if q else 10000)
    # passthrough_ll holds an fd per looked-up inode: give every daemon the highest
    # limit this process may set (raising the hard limit needs CAP_SYS_RESOURCE).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})  # daemons inherit it
    work = tempfile.mkdtemp(prefix="sptfs-bench-", dir=args.dir)
    sptfs = os.path.join(args.build, "tools", "sptfs", "sptfs")
    pll = build_passthrough_ll(args.build)
    php = build_passthrough_hp(args.build, args.hp_source) if args.hp_source else None
    if php and "passthrough_hp" not in args.only.split(","):
        args.only += ",passthrough_hp"
    policy = bench_policy(os.path.join(work, "policy"))
    tarball = make_tarball(work, sizes["tar"])
    cmds = {
        "native": None,
        "passthrough_ll": lambda b, m: [pll, "-f", "-o", f"source={b}", m],
        # passthrough_ll with the kernel permission checks sptfs must have (informative:
        # not a peer for the targets; it shows what default_permissions itself costs)
        "passthrough_ll-dp": lambda b, m: [pll, "-f", "-o", f"source={b},default_permissions", m],
        # ... and with xattrs on as well, as sptfs has them: like for like
        "passthrough_ll-xattr-dp": lambda b, m: [pll, "-f", "-o",
                                                 f"source={b},xattr,default_permissions", m],
        "bindfs": lambda b, m: ["bindfs", "-f", b, m],
        # bindfs is single-threaded by default; this is its multithreaded mode
        "bindfs-mt": lambda b, m: ["bindfs", "-f", "--multithreaded", b, m],
        # libfuse's fastest example (86400 s timeouts, writeback cache, splice,
        # default_permissions, xattrs): it assumes nothing changes the backing store
        # behind it, which sptfs cannot (it overlays host paths), so it is shown but is
        # not one of the like-for-like peers the ratios are taken against.
        "passthrough_hp": lambda b, m: [php, "--foreground", b, m],
        "sptfs": lambda b, m: [sptfs, b, m, "-f", "--policy", policy, "--default-domain",
                               "benchDom", "--audit-log", os.path.join(work, "audit.log"),
                               "--socket", os.path.join(work, "sptfs.sock")],
        # the same, single-threaded (fastest for one sequential client on few CPUs)
        "sptfs-1thread": lambda b, m: [sptfs, b, m, "-f", "--threads", "1", "--policy", policy,
                                       "--default-domain", "benchDom", "--audit-log",
                                       os.path.join(work, "audit3.log"),
                                       "--socket", os.path.join(work, "sptfs3.sock")],
        # the same with every worker waiting in read() on the device (no polling reader)
        "sptfs-nopoll": lambda b, m: [sptfs, b, m, "-f", "--poll-us", "0", "--policy", policy,
                                      "--default-domain", "benchDom", "--audit-log",
                                      os.path.join(work, "audit6.log"),
                                      "--socket", os.path.join(work, "sptfs6.sock")],
        # the same with every worker on the session's one /dev/fuse descriptor
        "sptfs-noclone": lambda b, m: [sptfs, b, m, "-f", "--no-clone-fd", "--policy", policy,
                                       "--default-domain", "benchDom", "--audit-log",
                                       os.path.join(work, "audit5.log"),
                                       "--socket", os.path.join(work, "sptfs5.sock")],
        # an older build with the same arguments (before/after in one run)
        "sptfs-old": lambda b, m: [args.sptfs_old, b, m, "-f", "--policy", policy,
                                   "--default-domain", "benchDom", "--audit-log",
                                   os.path.join(work, "audit4.log"),
                                   "--socket", os.path.join(work, "sptfs4.sock")],
        # the same with requests and replies on io_uring rings (FUSE over io_uring;
        # main() turns the fuse module's enable_uring on for the run and back after)
        "sptfs-uring": lambda b, m: [sptfs, b, m, "-f", "--io-uring", "--policy", policy,
                                     "--default-domain", "benchDom", "--audit-log",
                                     os.path.join(work, "audit7.log"),
                                     "--socket", os.path.join(work, "sptfs7.sock")],
        # the same daemon without a policy: what mediation itself costs
        "sptfs-nopolicy": lambda b, m: [sptfs, b, m, "-f", "--socket",
                                        os.path.join(work, "sptfs2.sock")],
    }
    workloads = [
        ("create+stat+unlink", "file", lambda r, b: w_create_stat_unlink(r, sizes["csu"])),
        ("open+read(1)+close", "op", lambda r, b: w_open_read_close(r, sizes["orc"])),
        (f"seq write {sizes['mib']} MiB", "MiB", lambda r, b: w_seq_write(r, sizes["mib"])),
        (f"seq read {sizes['mib']} MiB (cold)", "MiB", lambda r, b: w_seq_read(r, sizes["mib"])),
        ("4 KiB random read (cold)", "read", lambda r, b: w_random_read(r, sizes["rnd"])),
        (f"tar x {sizes['tar']} files", "file", lambda r, b: w_tar_x(r, tarball, sizes["tar"])),
        ("exec /bin/true copy", "exec", lambda r, b: w_exec(r, sizes["exe"])),
        (f"stat {sizes['many']} distinct files", "file", lambda r, b: w_lookup_many(r, b, sizes["many"])),
        (f"lookup after drop, {sizes['cold']}x{sizes['per']} files", "file",
         lambda r, b: w_cold_lookup(r, b, sizes["cold"], sizes["per"])),
        (f"rename dir, {sizes['rnf']} files below", "rename",
         lambda r, b: w_rename_dir(r, b, sizes["rnf"], sizes["rn"])),
        ("rename dir, empty", "rename", lambda r, b: w_rename_dir(r, b, 0, sizes["rn"])),
        ("rename file", "rename", lambda r, b: w_rename_file(r, b, sizes["rn"])),
    ]
    if args.workloads:
        wanted = args.workloads.split(",")
        workloads = [w for w in workloads if any(k in w[0] for k in wanted)]
    names = [n for n in args.only.split(",") if n in cmds]
    results = {}  # (fs, workload) -> best us per op
    rss = {}
    # Every file system is mounted for the whole run, each over its own backing store.
    targets = []
    with contextlib.ExitStack() as stack:
        if "sptfs-uring" in names:
            stack.enter_context(fuse_uring_enabled())
        for fs in names:
            targets.append(Target(fs, work, cmds[fs], image=args.backing == "image"))
            stack.enter_context(targets[-1])
        run_workloads(targets, workloads, args.repeat, results, args.stat, args.clients)
        for t in targets:
            rss[t.name] = t.peak_rss_kib()
    shutil.rmtree(work, ignore_errors=True)
    print_table(names, workloads, results, rss)


def run_workloads(targets, workloads, repeat, results, stat="best", clients=1):
    """Fills results[(fs, workload)] with the best (or median) microseconds per
    operation; prints every run."""
    # The runs of one workload are interleaved (fs1, fs2, ..., then again in another
    # order): load from other work on a shared machine, and the backing disk still
    # busy with what the previous run wrote, then hit all of them alike instead of
    # whichever ran at a bad moment or always after the same neighbour.
    order = random.Random(1)
    for label, unit, fn in workloads:
        runs = {t.name: [] for t in targets}
        for _ in range(repeat):
            for t in order.sample(targets, len(targets)):
                if isinstance(results.get((t.name, label)), str):
                    continue  # failed before: it will fail again
                reset(t.root, t.backing)
                try:
                    ops, secs = run_clients(fn, t.root, t.backing, clients)
                except OSError as e:  # e.g. EMFILE: the file system cannot do it
                    results[(t.name, label)] = f"fails: {os.strerror(e.errno)}"
                    continue
                per_op = secs / ops * 1e6
                runs[t.name].append(per_op)
                results[(t.name, label)] = min(results.get((t.name, label), per_op), per_op)
        for t in targets:
            if stat == "median" and runs[t.name] and isinstance(results[(t.name, label)], float):
                results[(t.name, label)] = statistics.median(runs[t.name])
            v = results[(t.name, label)]
            shown = f"{v:10.2f}" if isinstance(v, float) else v
            spread = " ".join(f"{r:.1f}" for r in runs[t.name])
            print(f"{t.name:17s} {label:32s} {shown} us/{unit}  (runs: {spread})", file=sys.stderr)


def print_table(names, workloads, results, rss):
    # Like for like (issue 17): kernel permission checks and xattrs on, as sptfs has them.
    peers = [n for n in ("passthrough_ll-xattr-dp", "bindfs") if n in names]
    head = "| workload | unit | " + " | ".join(f"{n} µs" for n in names)
    hp = "passthrough_hp" in names
    if "sptfs" in names:
        head += " | sptfs/native | sptfs/best peer" + (" | sptfs/hp" if hp else "")
    print(head + " |")
    print("|" + " --- |" * (head.count("|")))
    for label, unit, _ in workloads:
        num = lambda v: isinstance(v, float)
        cell = lambda v: f"{v:.2f}" if num(v) else str(v)
        row = f"| {label} | {unit} | " + " | ".join(cell(results[(n, label)]) for n in names)
        if "sptfs" in names:
            s = results[("sptfs", label)]
            nat = results.get(("native", label))
            best = min((results[(p, label)] for p in peers if num(results[(p, label)])),
                       default=None)
            row += f" | {s / nat:.2f}x" if num(s) and num(nat) else " | -"
            row += f" | {s / best:.2f}x" if num(s) and best else " | -"
            if hp:
                h = results.get(("passthrough_hp", label))
                row += f" | {s / h:.2f}x" if num(s) and num(h) else " | -"
        print(row + " |")
    print()
    print("Peak RSS (VmHWM) of each daemon after all workloads: " +
          ", ".join(f"{n} {rss[n] / 1024:.1f} MiB" for n in names if rss.get(n)))


if __name__ == "__main__":
    main()
