#!/usr/bin/env python3
"""Memory per inode of the sptfs daemon (issue 17 item 6): N files made natively on a
backing directory (in directories of 10,000), then looked up through the mount one by
one (os.stat); the daemon's VmRSS is read before, at each checkpoint, and after the
kernel is asked to forget them (echo 2 > /proc/sys/vm/drop_caches: FORGETs for every
inode no longer cached). Prints KiB and bytes per inode.

Usage (root): bench/mount/inode_memory.py [--build DIR] [--dir /var/tmp]
              [--files 1000000] [--checkpoints 100000,1000000]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))

PER_DIR = 10000


def rss_kib(pid, key="VmRSS:"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def kernel_fuse_inodes():
    """FUSE inodes the kernel holds now (all FUSE mounts), from /proc/slabinfo: how many
    of the looked-up inodes are still live (the kernel may have evicted some already
    under memory pressure and sent their FORGETs); None if unreadable."""
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith("fuse_inode "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def settled_rss(pid, timeout=60):
    """VmRSS once it has not changed for 3 s (FORGETs come in batches; the daemon gives
    freed memory back once a second)."""
    last, since = rss_kib(pid), time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = rss_kib(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 3.0:
            break
    return last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--files", type=int, default=1000000)
    ap.add_argument("--checkpoints", default="100000,1000000")
    args = ap.parse_args()
    os.environ["SPTFS_BUILD"] = os.path.abspath(args.build)
    import sptfs_harness as h
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    work = tempfile.mkdtemp(prefix="sptfs-mem-", dir=args.dir)
    try:
        src, mnt = os.path.join(work, "src"), os.path.join(work, "mnt")
        os.makedirs(mnt)
        for d in range((args.files + PER_DIR - 1) // PER_DIR):
            os.makedirs(os.path.join(src, f"d{d}"))
            for i in range(min(PER_DIR, args.files - d * PER_DIR)):
                os.close(os.open(os.path.join(src, f"d{d}", f"f{i}"), os.O_CREAT | os.O_WRONLY, 0o644))
        pol = h.write_policy(os.path.join(work, "pol"), {})
        with h.mount(src, mnt, policy=pol) as m:
            base = settled_rss(m.pid, timeout=5)
            print(f"files {args.files}; daemon VmRSS after mount: {base} KiB")
            done = 0
            t0 = time.perf_counter()
            for cp in checkpoints:
                while done < cp:
                    d, i = divmod(done, PER_DIR)
                    os.stat(os.path.join(mnt, f"d{d}", f"f{i}"))
                    done += 1
                now = rss_kib(m.pid)
                print(f"  after {done} lookups: VmRSS {now} KiB ({(now - base) * 1024 / done:.0f} B "
                      f"per inode over the mount's), {time.perf_counter() - t0:.1f} s; "
                      f"FUSE inodes the kernel holds: {kernel_fuse_inodes()}")
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2\n")
            after = settled_rss(m.pid)
            print(f"  after drop_caches (the kernel forgets): VmRSS {after} KiB; "
                  f"peak (VmHWM) {rss_kib(m.pid, 'VmHWM:')} KiB; FUSE inodes the kernel "
                  f"holds: {kernel_fuse_inodes()}")
            print(f"  load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
