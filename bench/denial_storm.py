#!/usr/bin/env python3
"""Denial storm (issue 15 item 4): one confined program makes N denied opens as fast as
it can while another, in the same confined domain, times allowed opens of one file.

The domain has --rules -r rules, some through symlinks, as a real policy has: on the old
code every denial resolved all of them on disk for the stale-rule hint, before the audit
rate limit (200 records a second by default) dropped the record; now only written records
compute it, from stale rules cached per policy snapshot. Reports, per sptfs binary, the
storm's rate and the allowed open's median and p99 latency during the storm, from
alternated runs (A B A B ...), and the median over runs.

Usage: bench/denial_storm.py --sptfs BIN [--sptfs BIN2 ...] [--denials 100000]
                             [--rules 60] [--runs 3] [--dir DIR]
Needs root (FUSE mounts with allow_other and default_permissions as the daemon sets them).
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

STORM = r"""
import os, sys, time
paths = [sys.argv[1] + "/d%d" % i for i in range(100)]
n = int(sys.argv[2])
sys.stdout.write("go\n"); sys.stdout.flush()
t = time.perf_counter()
denied = 0
for i in range(n):
    try:
        os.close(os.open(paths[i % 100], os.O_RDONLY))
    except PermissionError:
        denied += 1
print(denied, time.perf_counter() - t)
"""

PROBE = r"""
import os, sys, time
path = sys.argv[1]
lat = []
sys.stdout.write("go\n"); sys.stdout.flush()
while True:
    t = time.perf_counter_ns()
    os.close(os.open(path, os.O_RDONLY))
    lat.append(time.perf_counter_ns() - t)
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.0005)  # a program that opens now and then, not a second storm
lat.sort()
print(len(lat), lat[len(lat) // 2], lat[min(len(lat) - 1, len(lat) * 99 // 100)])
"""


def q(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_tree(base, rules):
    src = os.path.join(base, "src")
    for d in ("allowed", "denied", "locker/packages/tools", "vmfs/volumes/ds1/tools"):
        os.makedirs(os.path.join(src, d), exist_ok=True)
    with open(os.path.join(src, "allowed", "f"), "w") as f:
        f.write("allowed\n")
    for i in range(100):
        open(os.path.join(src, "denied", "d%d" % i), "w").close()
    # A moved link, as in the productLocker incident: the -r rule on it is stale.
    os.symlink("/vmfs/volumes/ds1", os.path.join(src, "productLocker"))
    rule_list = ["-r /allowed r", "-r /productLocker/tools r"]
    for i in range(rules - len(rule_list)):
        d = "svc%d/etc/conf" % i
        os.makedirs(os.path.join(src, d), exist_ok=True)
        if i % 3 == 0:  # rules through links: every resolution reads them
            os.symlink("svc%d/etc" % i, os.path.join(src, "link%d" % i))
            rule_list.append("-r /link%d/conf r" % i)
        else:
            rule_list.append("-r /%s r" % d)
    pol = os.path.join(base, "policy")
    os.makedirs(os.path.join(pol, "domains"))
    with open(os.path.join(pol, "policy.toml"), "w") as f:
        f.write('default_domain = "superDom"\n\n[[label]]\nname = "unlabeled"\nid = 0\n')
    open(os.path.join(pol, "default-labels.toml"), "w").close()
    with open(os.path.join(pol, "domains", "superDom.toml"), "w") as f:
        f.write('name = "superDom"\nid = 0\nlevel = "enforcing"\nunconfined = true\nrules = []\n')
    with open(os.path.join(pol, "domains", "stormDom.toml"), "w") as f:
        f.write('name = "stormDom"\nid = 7\nlevel = "enforcing"\nrules = [\n' +
                "".join("  %s,\n" % q(r) for r in rule_list) + "]\n")
    # The link moves after the policy is compiled (in run()), so the hint has work.
    return src, pol


def fuse_mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(l.split()[4] == path and " - fuse" in l for l in f)


def run(binary, base, src, pol, denials):
    mnt = os.path.join(base, "mnt")
    os.makedirs(mnt, exist_ok=True)
    log = os.path.join(base, "audit.log")
    err = open(os.path.join(base, "stderr"), "w")
    daemon = subprocess.Popen([binary, src, mnt, "--policy", pol, "--default-domain", "stormDom",
                               "--audit-log", log, "--socket", os.path.join(base, "ctl.sock"),
                               "-f"], stdout=err, stderr=err)
    try:
        deadline = time.monotonic() + 20
        while not fuse_mounted(mnt):
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sptfs did not mount: " + open(err.name).read())
            time.sleep(0.02)
        # productLocker moves after the load: the compiled rule is now stale.
        link = os.path.join(src, "productLocker")
        os.unlink(link)
        os.symlink("/locker/packages", link)
        stop = os.path.join(base, "stop")
        if os.path.exists(stop):
            os.unlink(stop)
        probe = subprocess.Popen([sys.executable, "-c", PROBE, os.path.join(mnt, "allowed/f"),
                                  stop], stdout=subprocess.PIPE, text=True)
        probe.stdout.readline()
        storm = subprocess.Popen([sys.executable, "-c", STORM, os.path.join(mnt, "denied"),
                                  str(denials)], stdout=subprocess.PIPE, text=True)
        storm.stdout.readline()
        denied, secs = storm.communicate(timeout=600)[0].split()
        open(stop, "w").close()
        n, median, p99 = map(int, probe.communicate(timeout=60)[0].split())
        os.symlink("/vmfs/volumes/ds1", link + ".new")
        os.rename(link + ".new", link)
        return dict(denied=int(denied), rate=int(denied) / float(secs), probes=n,
                    median_us=median / 1000, p99_us=p99 / 1000)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        if fuse_mounted(mnt):
            subprocess.run(["fusermount3", "-uz", mnt])
        err.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sptfs", action="append", required=True)
    ap.add_argument("--denials", type=int, default=100000)
    ap.add_argument("--rules", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="sptfs-storm-", dir=a.dir)
    try:
        src, pol = make_tree(base, a.rules)
        results = {b: [] for b in a.sptfs}
        for r in range(a.runs):
            for b in a.sptfs:
                res = run(b, base, src, pol, a.denials)
                results[b].append(res)
                print(f"run {r + 1} {b}: {res}", file=sys.stderr)
        print("| sptfs | denials/s | allowed open median (us) | allowed open p99 (us) | probes |")
        print("| --- | --- | --- | --- | --- |")
        for b, rs in results.items():
            med = lambda k: statistics.median(x[k] for x in rs)
            print(f"| {b} | {med('rate'):.0f} | {med('median_us'):.1f} | {med('p99_us'):.1f} "
                  f"| {med('probes'):.0f} |")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
