"""Cost of an exec transition (docs/PERFORMANCE.md, "Exec transitions"): inside one world,
posix_spawn+waitpid of a copy of /bin/true that transitions (the exec gate holds it at the
end of its exec, checks its program and environment, settles) against the same copy with
a label that only needs x. Rounds alternate the two; the result is the median per exec.

    sudo SPTFS_BUILD=build PYTHONPATH=tests/lib python3 bench/exec/exec_transition_bench.py [N] [ROUNDS]
"""

import os
import statistics
import sys

from confine import BASE_RULES, Sandbox

DOMAINS = {
    "srcDom": dict(id=20, rules=BASE_RULES + ["-r /opt rx", "-d toolObj toolDom file_exec grant",
                                              "-o plainObj rx"]),
    "toolDom": dict(id=21, rules=BASE_RULES + ["-r /opt rx", "-o toolObj rx"]),
}
LOOP = ("import os, sys, time\n"
        "n = int(sys.argv[1])\n"
        "for prog in sys.argv[2:]:\n"
        "    t = time.perf_counter()\n"
        "    for _ in range(n):\n"
        "        os.waitpid(os.posix_spawn(prog, [prog], {}), 0)\n"
        "    print(prog, (time.perf_counter() - t) / n * 1e6)\n")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    files = {"/opt/tooltrue": ("/usr/bin/true", 0o755), "/opt/plaintrue": ("/usr/bin/true", 0o755)}
    labels = {"/opt/tooltrue": "toolObj", "/opt/plaintrue": "plainObj"}
    times = {"/opt/tooltrue": [], "/opt/plaintrue": []}
    with Sandbox(DOMAINS, [("toolObj", 3301), ("plainObj", 3302)], files, labels) as sb:
        for i in range(rounds):
            order = ["/opt/plaintrue", "/opt/tooltrue"][::1 if i % 2 else -1]
            r = sb.run("srcDom", "", argv=["python3", "-c", LOOP, str(n)] + order, timeout=600)
            for line in r.stdout.splitlines():
                prog, us = line.split()
                times[prog].append(float(us))
    plain = statistics.median(times["/opt/plaintrue"])
    tool = statistics.median(times["/opt/tooltrue"])
    print(f"exec without transition: {plain:.0f} us; with transition: {tool:.0f} us; "
          f"ratio {tool / plain:.2f} (+{tool - plain:.0f} us), median of {rounds} rounds of {n}")


if __name__ == "__main__":
    main()
