#!/usr/bin/env python3
"""What the per-world descriptor budget costs an open (issue 20 item 4).

A confined world (spt-run --root, a placed PID namespace) opens and closes one file
N times through a real mount and reports microseconds per open+close. The same
workload runs against two sptfs binaries, alternated, each round on a fresh mount:
A = the build under test, B = a build given with --baseline (for example one whose
world lookup is a constant). Prints the median of each and the ratio A/B.

Usage: bench/mount/world_open_bench.py --baseline SPTFS [--sptfs SPTFS] [--rounds 5]
                                       [--opens 3000]
Needs root (mounts, spt-run). Environment: SPTFS_BUILD (build dir, default build/).
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))

import sptfs_harness as h  # noqa: E402
from confine import BASE_RULES, Sandbox  # noqa: E402

LOOP = ("import os, time\n"
        "n = %d\n"
        "t = time.perf_counter()\n"
        "for _ in range(n): os.close(os.open('/data/d.txt', os.O_RDONLY))\n"
        "print((time.perf_counter() - t) / n * 1e6)\n")


def one_round(binary, opens):
    h.sptfs_bin = lambda: binary
    with Sandbox({"benchDom": dict(id=10, rules=BASE_RULES + ["-r /data r"])}) as sb:
        r = sb.run("benchDom", "", argv=["python3", "-c", LOOP % opens], timeout=600)
        if r.returncode != 0:
            raise SystemExit(f"{binary}: {r.stderr}")
        return float(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sptfs", default=h.sptfs_bin())
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--opens", type=int, default=3000)
    args = ap.parse_args()
    a, b = [], []
    for i in range(args.rounds):
        for binary, out in ((args.sptfs, a), (args.baseline, b))[:: 1 if i % 2 == 0 else -1]:
            out.append(one_round(binary, args.opens))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"A {args.sptfs}: {ma:.1f} us per open+close (runs: {', '.join(f'{x:.1f}' for x in a)})")
    print(f"B {args.baseline}: {mb:.1f} us (runs: {', '.join(f'{x:.1f}' for x in b)})")
    print(f"A/B = {ma / mb:.3f}")


if __name__ == "__main__":
    main()
