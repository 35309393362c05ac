#!/usr/bin/env python3
"""What the stale-rule watch costs a request (issue 18): open+read+close through sptfs
with 1,000 watched rule links, against the same policy without links.

Two trees, mounted side by side for the whole run, each with 1,000 directories
/d/dN holding a 100-byte file f, and a confined default domain benchDom (enforcing) of
1,000 -r rules:
  before: "-r /d/dN r"  (no symlink on the way: nothing to watch)
  after:  "-r /links/lN r", /links/lN -> /d/dN  (1,000 recorded links, watched)
Both compile to the same canonical paths, so the decision structures are the same; the
only difference is the watch. The process itself runs in benchDom (the mounts' default
domain), so every open is decided. Runs alternate before/after (ABBA), --repeat rounds;
reported: the median per-operation time of each side, their ratio, and the median of
the per-round ratios (the two runs of a round are neighbours in time, which cancels
most of the load of other processes on a shared machine).

Usage: bench/stale/stale_watch_bench.py [--build DIR] [--ops N] [--repeat N] [--churn]
  --churn: during every run, another process creates and removes unrelated names in
           the tree's /links on the backing store: the after side's watch reads and
           drops those events, the before side has no watch there.
Needs root (FUSE allow_other). Report: docs/PERFORMANCE.md.
"""
import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))
import sptfs_harness as h  # noqa: E402

N_RULES = 1000


def make_policy(dirpath, linked):
    shutil.copytree(h.sample_policy(), dirpath)
    rules = ",\n".join(f'  "-r {"/links/l" if linked else "/d/d"}{i} r"' for i in range(N_RULES))
    with open(os.path.join(dirpath, "domains", "benchDom.toml"), "w") as f:
        f.write(f'name = "benchDom"\nid = 900\nlevel = "enforcing"\nrules = [\n{rules}\n]\n')


def make_tree(root, linked):
    for i in range(N_RULES):
        os.makedirs(f"{root}/d/d{i}")
        with open(f"{root}/d/d{i}/f", "wb") as f:
            f.write(b"x" * 100)
    os.makedirs(f"{root}/links")  # both sides have it (--churn writes there)
    if linked:
        for i in range(N_RULES):
            os.symlink(f"/d/d{i}", f"{root}/links/l{i}")


def workload(mnt, ops):
    paths = [f"{mnt}/d/d{i}/f" for i in range(N_RULES)]
    start = time.perf_counter()
    for k in range(ops):
        fd = os.open(paths[k % N_RULES], os.O_RDONLY)
        os.read(fd, 1)
        os.close(fd)
    return (time.perf_counter() - start) / ops * 1e6


CHURN = """
import os, sys
d = sys.argv[1]
k = 0
while True:
    p = f"{d}/churn{k % 16}"
    try:
        os.symlink("/d/d0", p)
        os.unlink(p)
    except OSError:
        pass
    k += 1
"""


@contextlib.contextmanager
def churn(backing):
    """Another process making and removing unrelated names in backing/links (watched on
    the after side, not on the before side) for as long as the block runs."""
    p = subprocess.Popen([sys.executable, "-c", CHURN, backing + "/links"])
    try:
        yield
    finally:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=h.build_dir())
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--churn", action="store_true")
    a = ap.parse_args()
    os.environ["SPTFS_BUILD"] = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="sptfs-stalebench-")
    try:
        with contextlib.ExitStack() as stack:
            mounts = {}
            for side, linked in (("before", False), ("after", True)):
                base = os.path.join(work, side)
                make_policy(base + "-policy", linked)
                make_tree(base + "-tree", linked)
                os.makedirs(base + "-mnt")
                m = stack.enter_context(h.mount(base + "-tree", base + "-mnt",
                                                policy=base + "-policy",
                                                default_domain="benchDom"))
                mounts[side] = (m, base + "-tree")
            for side, (m, _) in mounts.items():
                workload(m.mountpoint, 2000)  # warm the dentry and inode caches
            times = {"before": [], "after": []}
            for round_ in range(a.repeat):
                # ABBA order, so a load that drifts during the run favours neither side.
                for side in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
                    with churn(mounts[side][1]) if a.churn else contextlib.nullcontext():
                        times[side].append(workload(mounts[side][0].mountpoint, a.ops))
            after_audit = [r for r in h.read_audit(mounts["after"][0].audit_log)
                           if r.get("type") == "SPT_STALE_RULE"]
        b, f = statistics.median(times["before"]), statistics.median(times["after"])
        # Each round's two runs are neighbours in time: their ratio cancels most of the
        # load other processes put on the machine.
        paired = statistics.median(x / y for x, y in zip(times["after"], times["before"]))
        print(f"open+read(1)+close, {N_RULES} -r rules, {a.ops} ops x {a.repeat} alternated runs"
              f"{' (churn in /links during both sides)' if a.churn else ''}")
        print(f"  before (no links):           median {b:7.2f} us/op  runs "
              + " ".join(f"{x:.2f}" for x in times["before"]))
        print(f"  after ({N_RULES} watched links): median {f:7.2f} us/op  runs "
              + " ".join(f"{x:.2f}" for x in times["after"]))
        print(f"  ratio of medians after/before: {f / b:.3f}; median of per-round ratios: "
              f"{paired:.3f}; SPT_STALE_RULE records: {len(after_audit)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
