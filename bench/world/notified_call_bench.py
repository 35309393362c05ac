#!/usr/bin/env python3
"""Cost of a notified socket call in an spt-run world (issue 17 item 4): a loop of TCP
socket + connect to 127.0.0.1:1 (nothing listens), N times, in a world whose domain may
create TCP sockets and connect to loopback, so both calls go to the seccomp supervisor,
are allowed, and the stack refuses the connect. With two spt-run binaries (--spt-run
OLD --spt-run NEW) the worlds are alternated run by run against one daemon: before
(one control connection per supervisor question) and after (a kept session). Native
(no world) for reference. SPT_RUN_STATS=1 tells how many calls were notified.

Usage (root): bench/world/notified_call_bench.py [--build DIR] [--spt-run BIN]...
              [--runs N] [--connects N]
Prints wall µs per loop iteration (two notified calls) for every run, and medians.
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--spt-run", action="append", default=[],
                    help="an spt-run binary to compare (default: the build's)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--connects", type=int, default=2000)
    args = ap.parse_args()
    os.environ["SPTFS_BUILD"] = os.path.abspath(args.build)
    os.environ["SPTFS_SOURCE"] = SOURCE
    from confine import HOST_RULES, Sandbox
    import sptfs_harness as h

    bench = os.path.join(os.path.abspath(args.build), "bench", "landlock_bench")
    loop = [bench, "--plain-connects", str(args.connects)]
    binaries = args.spt_run or [h.tool("spt-run")]
    domains = {"netDom": dict(id=30, rules=HOST_RULES + [
        f"-r {os.path.dirname(bench)} rx", "-c inet_stream_socket_create grant",
        "-p inet_socket_connect loopback grant"])}
    results = {b: [] for b in binaries}
    native = []
    with Sandbox(domains) as sb:
        def world(binary):
            argv = sb.spt_run_args("netDom", loop, root=False)
            argv[0] = binary
            r = h.run(argv, env=dict(os.environ, SPT_RUN_STATS="1"))
            if r.returncode != 0:
                sys.exit(f"world failed ({binary}): {r.stderr}")
            return float(r.stdout.split()[-1]) / 1000, r.stderr.strip().splitlines()[-1:]
        stats = {}
        for i in range(args.runs):
            order = binaries if i % 2 == 0 else list(reversed(binaries))
            for b in order:
                us, stats[b] = world(b)
                results[b].append(us)
            native.append(float(h.run(loop).stdout.split()[-1]) / 1000)
    print(f"TCP socket+connect to 127.0.0.1:1, {args.connects} per run, wall µs per iteration")
    print(f"  native: median {statistics.median(native):.2f}  runs "
          + " ".join(f"{v:.2f}" for v in native))
    for b, runs in results.items():
        print(f"  {b}: median {statistics.median(runs):.2f}  runs "
              + " ".join(f"{v:.2f}" for v in runs) + f"  ({' '.join(stats.get(b, []))})")
    if len(binaries) == 2:
        ratio = [a / b for a, b in zip(results[binaries[1]], results[binaries[0]])]
        print(f"  second / first: median of run ratios {statistics.median(ratio):.3f}x")
    print(f"  load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main()
