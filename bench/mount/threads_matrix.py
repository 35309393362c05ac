#!/usr/bin/env python3
"""sptfs worker settings against concurrent clients (issue 17 item 3).

Mounts one sptfs per configuration (--workers, each with --clone-fd and --no-clone-fd
except 1, libfuse's single-threaded loop), each over its own ext4 image, all with
mount_bench's mediated policy (benchDom, 1,000 rules), and runs a few workloads with
1 and with 8 concurrent clients (mount_bench.run_clients). The total work of a run is
the same whatever the client count: each of N clients does 1/N of it. Runs alternate
configurations (a shuffled order each round), so load from other work hits them alike.

Usage: bench/mount/threads_matrix.py [--build DIR] [--repeat 5] [--workers 1,2,4,8]
                                     [--clients 1,8] [--workloads orc,csu,tar,stat]
                                     [--scale 1.0] [--extra-args "--max-idle-threads 2"]
                                     [--clone off,on] [--idle ,0,1] [--poll ,0]
                                     [--pin none|same|cross]
Prints every run (µs per operation, the daemon's CPU time and run-queue wait per
operation, load average), then per workload and client count tables of medians with
the spread (min-max) of the runs: wall-clock time, and the daemon's CPU time (which
other work on the machine disturbs less). Needs root.
"""
import argparse
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mount_bench as mb  # noqa: E402


def configs(workers, extra, clones=(False, True), idles=(None,), polls=(None,)):
    """(name, sptfs arguments) per configuration: w2+clone is --threads 2 --clone-fd,
    w2-clone --no-clone-fd, w2+clone.idle0 also --max-idle-threads 0, w2+clone.poll0
    --poll-us 0."""
    out = []
    for w in workers:
        for clone in ((None,) if w == 1 else clones):
            for idle in ((None,) if w == 1 else idles):
                for poll in polls:
                    name = f"w{w}" + ("" if clone is None else ("+clone" if clone else "-clone"))
                    args = ["--threads", str(w)] + extra
                    if clone is not None:
                        args.append("--clone-fd" if clone else "--no-clone-fd")
                    if idle is not None:
                        name += f".idle{idle}"
                        args += ["--max-idle-threads", str(idle)]
                    if poll is not None:
                        name += f".poll{poll}"
                        args += ["--poll-us", str(poll)]
                    out.append((name, args))
    return out


def sptfs_cmd(sptfs, policy, work, name, args):
    return lambda b, m: [sptfs, b, m, "-f", "--policy", policy, "--default-domain", "benchDom",
                         "--audit-log", os.path.join(work, f"audit-{name}.log"),
                         "--socket", os.path.join(work, f"sptfs-{name}.sock")] + args


def workloads(scale, tarball, tar_files):
    """(key, label, unit, fn(root, backing, clients)); sizes are totals over clients."""
    n = lambda base, c: max(1, int(base * scale) // c)
    return [
        ("orc", "open+read(1)+close", "op",
         lambda r, b, c: mb.w_open_read_close(r, n(20000, c))),
        ("csu", "create+stat+unlink", "file",
         lambda r, b, c: mb.w_create_stat_unlink(r, n(2000, c))),
        # one tarball per client: 8 clients extract 8 copies (tar_files files each)
        ("tar", f"tar x {tar_files} files", "file",
         lambda r, b, c: mb.w_tar_x(r, tarball[c], tar_files // c)),
        ("stat", "stat distinct files", "file",
         lambda r, b, c: mb.w_lookup_many(r, b, n(20000, c))),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(mb.SOURCE, "build"))
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workers", default="1,2,4,8")
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--workloads", default="orc,csu,tar,stat")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every size")
    ap.add_argument("--extra-args", default="", help="more sptfs arguments for every mount")
    ap.add_argument("--clone", default="off,on", help="clone_fd settings to compare")
    ap.add_argument("--idle", default="",
                    help="--max-idle-threads values to compare, e.g. ',0,1' ('' = libfuse's "
                         "default, no limit)")
    ap.add_argument("--poll", default="",
                    help="--poll-us values to compare, e.g. ',0' ('' = sptfs's default)")
    ap.add_argument("--pin", choices=("none", "same", "cross"), default="none",
                    help="same: every daemon thread and client on CPU 0; cross: daemons on "
                         "CPU 1, clients on CPU 0 (where the worker runs against the client)")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]
    work = tempfile.mkdtemp(prefix="sptfs-threads-", dir=args.dir)
    sptfs = os.path.join(args.build, "tools", "sptfs", "sptfs")
    policy = mb.bench_policy(os.path.join(work, "policy"))
    tar_files = max(8, int(1000 * args.scale))
    # A tarball per client count, so 8 clients together extract tar_files files.
    tarball = {}
    for c in client_counts:
        os.makedirs(os.path.join(work, f"t{c}"))
        tarball[c] = mb.make_tarball(os.path.join(work, f"t{c}"), tar_files // c)
    wl = [w for w in workloads(args.scale, tarball, tar_files)
          if w[0] in args.workloads.split(",")]
    clones = [c == "on" for c in args.clone.split(",")]
    idles = [int(i) if i else None for i in args.idle.split(",")]
    polls = [int(p) if p else None for p in args.poll.split(",")]
    cfgs = configs(workers, args.extra_args.split(), clones, idles, polls)
    medians, cpu_runs = {}, {}
    with contextlib.ExitStack() as stack:
        targets = []
        for name, a in cfgs:
            t = mb.Target(name, work, sptfs_cmd(sptfs, policy, work, name, a), image=True)
            stack.enter_context(t)
            targets.append(t)
            if args.pin != "none":
                pin_daemon(t.proc.pid, 0 if args.pin == "same" else 1)
        if args.pin != "none":
            os.sched_setaffinity(0, {0})  # the clients (forked from here) inherit it
        for clients in client_counts:
            for key, label, unit, fn in wl:
                runs, cpu = run_matrix_cell(targets, fn, clients, args.repeat, label, unit)
                for name, r in runs.items():
                    medians[(clients, key, name)] = r
                    cpu_runs[(clients, key, name)] = cpu[name]
    shutil.rmtree(work, ignore_errors=True)
    print("Wall-clock µs per operation, median of the runs (min-max):")
    print_tables(cfgs, wl, client_counts, medians)
    print("\nDaemon CPU µs per operation (all its threads), median (min-max):")
    print_tables(cfgs, wl, client_counts, cpu_runs)


def pin_daemon(pid, cpu):
    """Pins every thread of `pid` to `cpu`; workers libfuse starts later inherit it from
    the worker that starts them."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {cpu})


def daemon_ns(pid):
    """(CPU time, run-queue wait) in ns summed over the daemon's live threads: less
    sensitive to other work on the machine than wall-clock time. Threads that ended
    (an idle limit) take theirs with them."""
    cpu = wait = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run_ns, wait_ns, _ = f.read().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        cpu += int(run_ns)
        wait += int(wait_ns)
    return cpu, wait


def run_matrix_cell(targets, fn, clients, repeat, label, unit):
    """Runs `fn` `repeat` times on every target, interleaved; prints every run. Returns
    {name: [wall µs per op]} and {name: [daemon CPU µs per op]}."""
    order = random.Random(clients * 7919 + len(label))
    runs = {t.name: [] for t in targets}
    cpu = {t.name: [] for t in targets}
    for rnd in range(repeat):
        for t in order.sample(targets, len(targets)):
            mb.reset(t.root, t.backing)
            c0, w0 = daemon_ns(t.proc.pid)
            ops, secs = mb.run_clients(lambda r, b: fn(r, b, clients), t.root, t.backing,
                                       clients)
            c1, w1 = daemon_ns(t.proc.pid)
            us = secs / ops * 1e6
            runs[t.name].append(us)
            cpu[t.name].append((c1 - c0) / ops / 1e3)
            load = open("/proc/loadavg").read().split()[0]
            print(f"run {rnd} clients={clients} {t.name:9s} {label:22s} {us:9.2f} us/{unit}"
                  f"  daemon cpu {(c1 - c0) / ops / 1e3:7.2f} runq-wait {(w1 - w0) / ops / 1e3:7.2f}"
                  f"  load {load}", file=sys.stderr, flush=True)
    return runs, cpu


def print_tables(cfgs, wl, client_counts, runs):
    """A Markdown table: a row per workload and client count, a column per config."""
    names = [n for n, _ in cfgs]
    print("| workload | clients | " + " | ".join(names) + " |")
    print("|" + " --- |" * 2 + " ---: |" * len(names))
    for clients in client_counts:
        for key, label, unit, _ in wl:
            cells = []
            for n in names:
                r = runs[(clients, key, n)]
                cells.append(f"{statistics.median(r):.1f} ({min(r):.0f}-{max(r):.0f})")
            print(f"| {label} (µs/{unit}) | {clients} | " + " | ".join(cells) + " |")
    print(f"\nload average at the end: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
