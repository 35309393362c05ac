"""Load: parallel clients in two domains (load_worker.py, placed by spt-run) do mixed
I/O through the mount for a bounded time while the policy is reloaded many times per
second, alternating between two policy sets, and domA's level flips between enforcing
and warning. Asserts: no wrong answer (workers + audit generations), no lost write, the
daemon alive, peak RSS bounded, no fd leak. Figures go to stdout and, if
SPTFS_LOAD_REPORT names a file, there as JSON.

Environment: SPTFS_LOAD_SECONDS (default 20), SPTFS_LOAD_CLIENTS (default 6).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from confine import HOST_RULES, PYTHON_RULES
import sptfs_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = float(os.environ.get("SPTFS_LOAD_SECONDS", "20"))
CLIENTS = int(os.environ.get("SPTFS_LOAD_CLIENTS", "6"))
MAX_RSS_KB = int(os.environ.get("SPTFS_LOAD_MAX_RSS_KB", str(256 * 1024)))

COMMON = ["-r /common r"]
POLICY_SETS = {  # domA may write /flip in set 1 only; domB never changes
    "p1": {"domA": dict(id=10, rules=["-r /a rw", "-r /flip rw"] + COMMON),
           "domB": dict(id=11, rules=["-r /b rw", "-r /secret "] + COMMON)},
    "p2": {"domA": dict(id=10, rules=["-r /a rw", "-r /flip r"] + COMMON),
           "domB": dict(id=11, rules=["-r /b rw", "-r /secret "] + COMMON)},
}


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def open_fds(pid):
    """What the process's open fds point to (sorted), for counting and for messages."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return sorted(out)


def generation_states(records, dirs):
    """generation -> (policy set name, domA level), from the load and level records."""
    states = {}
    current = [None, "enforcing"]
    for r in records:
        if "generation" not in r:
            continue
        line = r["_line"]
        if line.startswith("type=SPT_POLICY_LOAD") and r.get("result") == "ok":
            current = [dirs.get(r.get("dir")), "enforcing"]
        elif line.startswith("type=SPT_LEVEL") and r.get("domain") == "domA(10)":
            current[1] = r.get("new")
        else:
            continue
        states[int(r["generation"])] = tuple(current)
    return states


def state_at(states, gen):
    known = [g for g in states if g <= gen]
    return states[max(known)] if known else None


class LoadTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sptfs-load-", dir="/var/tmp")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        for d in ("a", "b", "flip", "common", "secret"):
            os.makedirs(os.path.join(self.src, d))
        os.makedirs(self.mnt)
        with open(os.path.join(self.src, "common", "c.txt"), "w") as f:
            f.write("COMMON\n")
        with open(os.path.join(self.src, "secret", "s.txt"), "w") as f:
            f.write("SECRET\n")
        self.names = [f"{'ab'[i % 2]}{i}" for i in range(CLIENTS)]
        for n in self.names:
            os.makedirs(os.path.join(self.src, n[0], n))
        # Workers run the host's python outside the tree and write their results to
        # self.out: spt-run's Landlock layer reads -r rules as host paths.
        self.out = os.path.join(self.work, "out")
        os.makedirs(self.out)
        host = HOST_RULES + PYTHON_RULES + [f"-r {HERE} r", f"-r {self.out} rw"]
        self.dirs = {}
        for key, domains in POLICY_SETS.items():
            domains = {n: dict(d, rules=d["rules"] + host) for n, d in domains.items()}
            d = h.write_policy(os.path.join(self.work, key), domains)
            self.dirs[d] = key
        self.p1 = os.path.join(self.work, "p1")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def churn(self, m, stop, stats):
        """Reloads alternately p1/p2 as fast as the daemon answers; flips domA's level."""
        spt, dom = h.tool("spt"), h.tool("spt-domain")
        i = 0
        while not stop.is_set():
            i += 1
            d = os.path.join(self.work, "p1" if i % 2 else "p2")
            r = h.run([spt, "--socket", m.socket, "-p" + d])
            stats["reloads" if r.returncode == 0 else "reload_failures"] += 1
            if r.returncode != 0:
                stats.setdefault("reload_errors", []).append(r.stderr[-300:])
            if i % 3 == 0:
                level = "warning" if i % 2 else "enforcing"
                r = h.run([dom, "--socket", m.socket, "set", "-n", "domA", "-l", level])
                stats["level_changes" if r.returncode == 0 else "level_failures"] += 1

    def test_load_with_reloads_and_level_changes(self):
        stats = {"reloads": 0, "reload_failures": 0, "level_changes": 0, "level_failures": 0}
        with h.mount(self.src, self.mnt, policy=self.p1, default_domain="superDom") as m:
            # Warm up once (inode table, threads) so the fd baseline is a steady state.
            os.listdir(self.mnt)
            fds_before = open_fds(m.pid)
            stop = threading.Event()
            churner = threading.Thread(target=self.churn, args=(m, stop, stats))
            churner.start()
            workers = []
            for n in self.names:
                out = os.path.join(self.out, n + ".json")
                argv = [h.tool("spt-run"), "-D", "domA" if n[0] == "a" else "domB",
                        "--socket", m.socket, "--mount", self.mnt, "--",
                        sys.executable, os.path.join(HERE, "load_worker.py"), self.mnt, n[0],
                        n, str(SECONDS), out]
                workers.append((n, out, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                                         stderr=subprocess.STDOUT, text=True)))
            outputs = {}
            try:
                for n, out, p in workers:
                    text, _ = p.communicate(timeout=SECONDS + 60)
                    self.assertEqual(p.returncode, 0, f"worker {n}: {text}")
                    with open(out) as f:
                        outputs[n] = json.load(f)
            finally:
                stop.set()
                churner.join()
                for _, _, p in workers:
                    if p.poll() is None:
                        p.kill()
            self.assertIsNone(m.proc.poll(), "daemon died under load: " + m.stderr()[-2000:])
            # Every file a worker last saw written is there, whole (nothing lost).
            lost = []
            for n, o in outputs.items():
                for fname, content in o["files"].items():
                    path = os.path.join(self.src, n[0], n, fname)
                    try:
                        with open(path) as f:
                            ok = f.read() == content
                    except OSError:
                        ok = False
                    if not ok:
                        lost.append(f"{n}/{fname}")
                    os.unlink(path) if os.path.exists(path) else None
            subprocess.run(["sh", "-c", "echo 2 > /proc/sys/vm/drop_caches"])
            time.sleep(1.0)
            fds_after = open_fds(m.pid)
            hwm = proc_status(m.pid, "VmHWM")
            threads = proc_status(m.pid, "Threads")
            records = m.audit()
        self.judge(outputs, stats, lost, records, fds_before, fds_after, hwm, threads)

    def judge(self, outputs, stats, lost, records, fds_before, fds_after, hwm, threads):
        wrong = [w for o in outputs.values() for w in o["wrong"]]
        states = generation_states(records, self.dirs)
        bad_audit = []
        for r in records:
            if not r["_line"].startswith("type=SPT_AVC"):
                continue
            path, dom = r.get("path", ""), r.get("domain")
            state = state_at(states, int(r.get("generation", -1)))
            if dom == "domA(10)" and path.startswith("/flip/"):
                want = ("p2", "warning" if " warning " in r["_line"] else "enforcing")
                if state != want:
                    bad_audit.append(f"{r['_line']} (generation state {state}, expected {want})")
            elif dom == "domA(10)" and not path.startswith("/b"):
                bad_audit.append(r["_line"])
            elif dom == "domB(11)" and not (path.startswith("/secret") or path.startswith("/a")):
                bad_audit.append(r["_line"])
        total = {k: sum(o["counts"][k] for o in outputs.values())
                 for k in next(iter(outputs.values()))["counts"]}
        figures = dict(clients=CLIENTS, seconds=SECONDS, **total, **{
            k: v for k, v in stats.items() if k != "reload_errors"},
            wrong_answers=sum(o["wrong_total"] for o in outputs.values()),
            audit_mismatches=len(bad_audit), lost_writes=len(lost), fds_before=len(fds_before),
            fds_after=len(fds_after), vm_hwm_kb=hwm, daemon_threads=threads, avc_records=sum(
                r["_line"].startswith("type=SPT_AVC") for r in records))
        print("load figures:", json.dumps(figures), file=sys.stderr)
        if os.environ.get("SPTFS_LOAD_REPORT"):
            with open(os.environ["SPTFS_LOAD_REPORT"], "w") as f:
                json.dump(figures, f, indent=1)
        self.assertFalse(wrong, "wrong answers:\n" + "\n".join(wrong[:20]))
        self.assertFalse(bad_audit, "decisions that no generation in force allows:\n" +
                         "\n".join(bad_audit[:20]))
        self.assertFalse(lost, f"lost writes: {lost[:20]}")
        self.assertGreater(stats["reloads"], SECONDS, "fewer than one reload per second")
        self.assertEqual(stats["reload_failures"], 0, stats.get("reload_errors"))
        self.assertGreater(total["writes"], 100)
        self.assertGreater(total["forbidden_eperm"], 0)
        # libfuse keeps one splice pipe (2 fds) per worker thread: bounded by the threads.
        files_before = [f for f in fds_before if not f.startswith("pipe:")]
        files_after = [f for f in fds_after if not f.startswith("pipe:")]
        extra = [f for f in files_after if f not in files_before]
        self.assertLessEqual(len(files_after), len(files_before) + 2, f"fd leak: {extra}")
        pipes = len(fds_after) - len(files_after)
        self.assertLessEqual(pipes, 2 * threads, f"{pipes} pipe fds for {threads} threads")
        self.assertLess(hwm, MAX_RSS_KB, "peak RSS")


if __name__ == "__main__":
    unittest.main()
