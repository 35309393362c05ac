#!/usr/bin/env python3
"""Cost of a notified socket call in an spt-run world, with and without the Landlock
layer (issue 13, docs/PERFORMANCE.md "Host paths under Landlock"): a denied TCP connect
to 127.0.0.1:1, N times, in a world of a domain that may create TCP sockets but has no
-p rule (so the seccomp supervisor denies it, and the Landlock ruleset would too).
"Landlock" worlds are started as spt-run starts them by default; "before" worlds with
--no-landlock (the supervisor alone, as before issue 13). Alternated, median of runs.
Native (no world) for reference.

Usage: bench/landlock_connect.py [--build DIR] [--runs N] [--connects N]
Needs root (a FUSE mount, spt-run).
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--connects", type=int, default=2000)
    args = ap.parse_args()
    os.environ["SPTFS_BUILD"] = os.path.abspath(args.build)
    os.environ["SPTFS_SOURCE"] = SOURCE
    from confine import HOST_RULES, Sandbox
    import sptfs_harness as h

    bench = os.path.join(os.path.abspath(args.build), "bench", "landlock_bench")
    loop = [bench, "--plain-connects", str(args.connects)]
    domains = {"netDom": dict(id=30, rules=HOST_RULES + [
        f"-r {os.path.dirname(bench)} rx", "-c inet_stream_socket_create grant"])}
    results = {"native": [], "before (--no-landlock)": [], "Landlock": []}
    with Sandbox(domains) as sb:
        def world(extra):
            argv = sb.spt_run_args("netDom", loop, root=False)
            argv[1:1] = extra
            r = h.run(argv)
            if r.returncode != 0:
                sys.exit(f"world failed: {r.stderr}")
            return float(r.stdout.split()[-1])
        for i in range(args.runs):
            order = [("Landlock", []), ("before (--no-landlock)", ["--no-landlock"])]
            if i % 2:
                order.reverse()
            for name, extra in order:
                results[name].append(world(extra))
            results["native"].append(float(h.run(loop).stdout.split()[-1]))
    print(f"denied TCP connect, {args.connects} per run, wall ns per call")
    for name, runs in results.items():
        print(f"  {name}: median {statistics.median(runs):.0f}  runs "
              + " ".join(f"{v:.0f}" for v in runs))
    ratio = [a / b for a, b in zip(results["Landlock"], results["before (--no-landlock)"])]
    print(f"  Landlock / before: median of run ratios {statistics.median(ratio):.3f}x")


if __name__ == "__main__":
    main()
