#!/usr/bin/env python3
"""Cost per exec of a dynamically linked program (/bin/true: the loader maps libc
executable) in a confined world (spt-run --root), with the executable-mapping check of
issue 12.6 and without it (test hook SPT_RUN_TEST_NO_EXEC_MAPS=1), alternated.

Usage (root): bench/world/exec_bench.py [--build DIR] [--rounds N] [--execs N]
Prints microseconds per exec (median of the rounds) and the supervisor's notified calls.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--execs", type=int, default=200)
    args = ap.parse_args()
    os.environ["SPTFS_BUILD"] = os.path.abspath(args.build)
    os.environ["SPTFS_SOURCE"] = SOURCE
    from confine import BASE_RULES, Sandbox
    loop = f"i=0; while [ $i -lt {args.execs} ]; do /bin/true; i=$((i+1)); done"
    modes = {"exec maps decided": {}, "not decided (hook)": {"SPT_RUN_TEST_NO_EXEC_MAPS": "1"}}
    times, notified = {}, {}
    with Sandbox({"execDom": dict(id=30, rules=BASE_RULES)}) as sb:
        for _ in range(args.rounds):
            for mode, extra in modes.items():
                env = dict(os.environ, SPT_RUN_STATS="1", **extra)
                t0 = time.perf_counter()
                r = subprocess.run(sb.spt_run_args("execDom", ["sh", "-c", loop]),
                                   capture_output=True, text=True, env=env)
                took = time.perf_counter() - t0
                if r.returncode != 0:
                    raise RuntimeError(f"{mode}: {r.stderr}")
                times.setdefault(mode, []).append(took / args.execs * 1e6)
                m = re.search(r"notified=(\d+)", r.stderr)
                notified[mode] = int(m.group(1)) if m else -1
    print(f"| mode | µs per exec (median of {args.rounds}) | notified calls per exec |")
    print("| --- | --- | --- |")
    for mode, v in times.items():
        print(f"| {mode} | {statistics.median(v):,.0f} | {notified[mode] / args.execs:.1f} |")
    print("rounds:", {m: [round(x) for x in v] for m, v in times.items()})


if __name__ == "__main__":
    main()
