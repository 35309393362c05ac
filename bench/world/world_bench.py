#!/usr/bin/env python3
"""An accept/recv server (accept_bench serve) measured in one run: native, exec'd from
the sptfs mount unconfined, and confined with spt-run (a confined domain, and superDom),
alternated round by round; the client (accept_bench load, native) opens one connection
per request. Everything runs in a network namespace of its own (loopback only).

The policy mimics issue 19: serverDom has the socket rules the server needs and no
syscall rules; two unrelated domains (sqliteDom, buildDom) have syscall-class rules
without socketSys, which before the fix made every world's socket calls go to the
supervisor.

Usage (root): bench/world/world_bench.py [--build DIR] [--rounds N] [--seconds S]
Prints requests/s per mode (median of the rounds) and the ratios.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))


def in_own_netns():
    if os.environ.get("WORLD_BENCH_NETNS") == "1":
        return
    os.environ["WORLD_BENCH_NETNS"] = "1"
    cmd = ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
           sys.executable] + sys.argv
    os.execvp(cmd[0], cmd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    in_own_netns()
    os.environ["SPTFS_BUILD"] = os.path.abspath(args.build)
    os.environ["SPTFS_SOURCE"] = SOURCE
    from confine import HOST_RULES, Sandbox  # tests/lib: a tree, a policy, a mount
    server = os.path.join(args.build, "bench", "accept_bench")
    net = ["-c inet_stream_socket_create grant", "-p inet_socket_bind loopback grant"]
    domains = {
        "serverDom": dict(id=20, rules=HOST_RULES + ["-r /opt rx"] + net),
        "sqliteDom": dict(id=21, rules=HOST_RULES + ["genericSys grant", "openSys grant"]),
        "buildDom": dict(id=22, rules=HOST_RULES + ["genericSys grant", "forkExecSys grant"]),
        # What every world paid before the fix: serverDom's rules, but an exec transition
        # can take it to sqliteDom, so its socketSys calls all go to the supervisor.
        "relayDom": dict(id=23, rules=HOST_RULES + ["-r /opt rx"] + net +
                         ["-d relayObj sqliteDom file_exec grant"]),
    }
    files = {"/opt/accept_bench": (server, 0o755)}
    results = {}
    with Sandbox(domains, labels=[("relayObj", 3900)], files=files) as sb:
        on_mount = sb.path("/opt/accept_bench")
        modes = {
            "native": [server],
            "mount": [on_mount],
            "confined serverDom": sb.spt_run_args("serverDom", [on_mount], root=False),
            "confined superDom": sb.spt_run_args("superDom", [on_mount], root=False),
            "confined relayDom (all socket calls notified)":
                sb.spt_run_args("relayDom", [on_mount], root=False),
        }
        port = 18080
        for rnd in range(args.rounds):
            for mode, argv in modes.items():
                port += 1
                p = subprocess.Popen(argv + ["serve", str(port)], stdout=subprocess.PIPE,
                                     text=True, env=dict(os.environ, SPT_RUN_STATS="1"),
                                     stderr=subprocess.PIPE)
                try:
                    if p.stdout.readline().strip() != "ready":
                        raise RuntimeError(f"{mode}: server did not start: {p.stderr.read()}")
                    out = subprocess.run([server, "load", str(port), str(args.seconds)],
                                         capture_output=True, text=True, check=True).stdout
                    results.setdefault(mode, []).append(float(out.split()[1]))
                finally:
                    p.terminate()
                    p.wait(timeout=10)
    med = {m: statistics.median(v) for m, v in results.items()}
    print(f"| mode | requests/s (median of {args.rounds}) | vs mount | vs native |")
    print("| --- | --- | --- | --- |")
    for m, v in med.items():
        print(f"| {m} | {v:,.0f} | {v / med['mount']:.2f}x | {v / med['native']:.2f}x |")
    print("rounds:", {m: [round(x) for x in v] for m, v in results.items()})


if __name__ == "__main__":
    main()
