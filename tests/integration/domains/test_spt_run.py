"""spt-run against a real sptfs mount: placement, --root, --user, --cwd, exit status,
signals, failures that run nothing, spt --ps / WorldRefCount, a daemon restart."""

import os
import re
import signal
import socket
import struct
import sys
import time
import unittest

from confine import (BASE_RULES, PYTHON_RULES, EPERM_TEXT, SECRET, Sandbox, SandboxTestCase, kill_world,
                     start_reader, wait_for, worlds_in_domain)
import sptfs_harness as h

DOMAINS = {
    # unix_socket_create: test_confined_caller_may_not_place talks to the daemon.
    "jailDom": dict(id=10, rules=BASE_RULES + PYTHON_RULES +
                    ["-r /secret ", "-c unix_socket_create grant"]),
    "otherDom": dict(id=11, rules=BASE_RULES + ["-r /data "]),
    "bindDom": dict(id=12, rules=BASE_RULES + ["-p inet_socket_bind loopback grant"]),
}
CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_IPC_OWNER, CAP_SYS_ADMIN = 10, 13, 15, 21
# What every world keeps (docs/spt-run.md): chown, dac_override, fowner, fsetid, kill,
# setgid, setuid.
BASE_CAPS = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7)


def cap_sets(r):
    fields = dict(l.split(":", 1) for l in r.stdout.splitlines() if l.startswith("Cap"))
    return {k: int(v.strip(), 16) for k, v in fields.items()}


def call_daemon(sock_path, argv):
    """The control protocol (docs/control-protocol.md) by hand: (exit code, out, err)."""
    body = b"SPT1" + struct.pack(">I", len(argv))
    for a in argv:
        a = a.encode()
        body += struct.pack(">I", len(a)) + a
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock_path)
        s.sendall(struct.pack(">I", len(body)) + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    payload = data[4:]
    assert payload[:4] == b"SPR1", payload[:16]
    code = struct.unpack(">i", payload[4:8])[0]
    n = struct.unpack(">I", payload[8:12])[0]
    out = payload[12:12 + n]
    m = struct.unpack(">I", payload[12 + n:16 + n])[0]
    err = payload[16 + n:16 + n + m]
    return code, out.decode(), err.decode()


class SptRunTest(SandboxTestCase):
    SANDBOX = dict(domains=DOMAINS)

    def test_reads_follow_the_domain(self):
        r = self.sb.run("jailDom", "cat /data/d.txt; cat /secret/s.txt; echo rc=$?")
        self.assertIn("DATA", r.stdout)
        self.assertNotIn(SECRET, r.stdout)
        self.assertIn(EPERM_TEXT, r.stderr)
        self.assertIn("rc=1", r.stdout)
        denials = [a for a in self.sb.audit() if a.get("path") == "/secret/s.txt"]
        self.assertTrue(any(a.get("domain") == "jailDom(10)" for a in denials), denials)
        r = self.sb.run("otherDom", "cat /secret/s.txt; cat /data/d.txt")
        self.assertIn(SECRET, r.stdout)
        self.assertIn(EPERM_TEXT, r.stderr)

    def test_root_shows_only_the_tree(self):
        r = self.sb.run("jailDom", f"ls /; cat {self.sb.tree}/data/d.txt; echo pid=$$")
        names = set(r.stdout.split())
        self.assertTrue({"bin", "data", "secret", "tmp", "usr"} <= names, r.stdout)
        self.assertNotIn("DATA", r.stdout)  # the backing path does not exist in there
        self.assertIn("No such file", r.stderr)
        self.assertIn("pid=2", r.stdout)  # pid 1 is the world's first process

    def test_world_privileges(self):
        r = self.sb.run("jailDom", "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
                        "ls /dev; cat /proc/1/status | grep -E '^(Name|NSpid)'")
        fields = dict(l.split(":", 1) for l in r.stdout.splitlines() if ":" in l)
        for name in ("CapEff", "CapBnd"):
            caps = int(fields[name].strip(), 16)
            for bit in (21, 18, 19, 27, 2):  # SYS_ADMIN, SYS_CHROOT, SYS_PTRACE, MKNOD, DAC_READ_SEARCH
                self.assertFalse(caps & (1 << bit), f"{name} keeps capability {bit}")
            self.assertTrue(caps & (1 << 1), name)  # DAC_OVERRIDE stays
        self.assertEqual(fields["NoNewPrivs"].strip(), "1")
        self.assertEqual(fields["Seccomp"].strip(), "2")
        self.assertEqual(set(r.stdout.split()) & {"sda", "vda", "mem", "kmsg"}, set())
        self.assertIn("urandom", r.stdout.split())
        self.assertEqual(fields["NSpid"].split(), ["1"])  # a fresh /proc: pid 1 is ours

    # ---- issue 12, "Also harden" -----------------------------------------------------
    def test_world_keeps_only_the_capabilities_its_domains_need(self):
        show = "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status"
        caps = cap_sets(self.sb.run("jailDom", show))
        for name in ("CapPrm", "CapEff", "CapBnd"):
            self.assertEqual(caps[name], BASE_CAPS, f"{name} {caps[name]:x}")
        self.assertEqual(caps["CapInh"], 0)
        self.assertEqual(caps["CapAmb"], 0)
        # -p inet_socket_bind: a root program may bind ports below 1024.
        caps = cap_sets(self.sb.run("bindDom", show))
        self.assertEqual(caps["CapBnd"], BASE_CAPS | (1 << CAP_NET_BIND_SERVICE))
        # An unconfined domain: still none of what undoes the world.
        caps = cap_sets(self.sb.run("superDom", show))
        self.assertEqual(caps["CapBnd"],
                         BASE_CAPS | (1 << CAP_NET_BIND_SERVICE) | (1 << CAP_NET_RAW))
        # With --user nothing is left.
        caps = cap_sets(self.sb.run("jailDom", show, user="65534"))
        self.assertEqual(caps["CapEff"], 0)
        self.assertEqual(caps["CapPrm"], 0)

    def test_world_has_its_own_ipc_namespace(self):
        made = h.run(["ipcmk", "-M", "4096"], check=True)
        shmid = re.search(r"(\d+)\s*$", made.stdout.strip()).group(1)
        try:
            r = self.sb.run("jailDom", "readlink /proc/self/ns/ipc; ipcs -m")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotEqual(r.stdout.split()[0], os.readlink("/proc/self/ns/ipc"))
            self.assertNotIn(shmid, r.stdout.split()[1:], r.stdout)
            host = h.run(["ipcs", "-m"]).stdout.split()
            self.assertIn(shmid, host)  # the segment is there, only not in the world
        finally:
            h.run(["ipcrm", "-m", shmid])

    def test_supervisor_that_cannot_start_runs_nothing(self):
        marker = self.sb.backing("/tmp/ran-despite-supervisor")
        r = self.sb.run("jailDom", "touch /tmp/ran-despite-supervisor",
                        env=dict(os.environ, SPT_RUN_TEST_SUPERVISOR="fail-start"))
        self.assertEqual(r.returncode, 125, r.stderr)
        self.assertIn("spt-run: cannot start the socket and syscall supervisor", r.stderr)
        self.assertFalse(os.path.exists(marker))

    def test_supervisor_that_stops_fails_calls_closed(self):
        # The program's socket() is a notified call; with no supervisor serving, it must
        # fail (ENOSYS) at once, not wait for an answer forever. So are the loader's
        # executable mappings of the program's libraries (issue 12.6): those fail first.
        code = ("import errno, socket\n"
                "try:\n    socket.socket(socket.AF_UNIX)\n    print('created')\n"
                "except OSError as e:\n    print(errno.errorcode[e.errno])\n")
        r = h.run(self.sb.spt_run_args("jailDom", [sys.executable, "-I", "-c", code], root=False),
                  env=dict(os.environ, SPT_RUN_TEST_SUPERVISOR="fail-serve"), timeout=30)
        self.assertIn("supervisor stopped", r.stderr)
        if "failed to map segment" in r.stderr:  # the loader's mmap(PROT_EXEC): ENOSYS
            self.assertEqual(r.returncode, 127, r.stderr)
        else:
            self.assertEqual(r.stdout.strip(), "ENOSYS", r.stdout + r.stderr)

    def test_exit_status(self):
        self.assertEqual(self.sb.run("jailDom", "exit 7").returncode, 7)
        self.assertEqual(self.sb.run("jailDom", "kill -TERM $$; sleep 5").returncode, 128 + 15)
        r = self.sb.run("jailDom", "", argv=["/no/such/program"])
        self.assertEqual(r.returncode, 127, r.stderr)

    def test_forwards_signals(self):
        p = self.sb.popen("jailDom", "", argv=["sleep", "30"])
        self.assertTrue(wait_for(lambda: len(worlds_in_domain(self.sb, "jailDom")) >= 2))
        os.kill(p.pid, signal.SIGTERM)
        p.communicate(timeout=10)
        self.assertEqual(p.returncode, 128 + 15)

    # A program that ignores the stop signal it is passed (issue 19 item 8): it prints a
    # line for each TERM it gets and goes on.
    STUBBORN = "trap 'echo got-term' TERM; echo ready; while :; do sleep 0.05; done"

    def stubborn(self, *spt_run_opts):
        p = self.sb.popen("jailDom", self.STUBBORN, options=spt_run_opts)
        self.assertEqual(p.stdout.readline(), "ready\n")
        return p

    def test_second_stop_signal_kills_the_world(self):
        p = self.stubborn("--kill-after", "0")
        os.kill(p.pid, signal.SIGTERM)
        self.assertEqual(p.stdout.readline(), "got-term\n")  # passed on, and ignored
        os.kill(p.pid, signal.SIGTERM)
        _, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 128 + signal.SIGKILL, err)
        self.assertIn("second stop signal", err)

    def test_kill_after_a_timeout(self):
        p = self.stubborn("--kill-after", "1")
        start = time.monotonic()
        os.kill(p.pid, signal.SIGTERM)
        self.assertEqual(p.stdout.readline(), "got-term\n")
        _, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 128 + signal.SIGKILL, err)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        self.assertIn("did not stop 1 s after the signal", err)

    def test_without_daemon_runs_nothing(self):
        marker = os.path.join(self.sb.work, "marker-nodaemon")
        r = h.run([h.tool("spt-run"), "-D", "jailDom", "--socket",
                   os.path.join(self.sb.work, "nothing.sock"), "--", "touch", marker])
        self.assertEqual(r.returncode, 125)
        self.assertIn("cannot reach the sptfs daemon", r.stderr)
        self.assertFalse(os.path.exists(marker))

    def test_unknown_domain_runs_nothing(self):
        marker = os.path.join(self.sb.work, "marker-unknown")
        r = h.run(self.sb.spt_run_args("noSuchDom", ["touch", marker], root=False))
        self.assertEqual(r.returncode, 125)
        self.assertIn("unknown domain", r.stderr)
        self.assertFalse(os.path.exists(marker))

    def test_bad_usage(self):
        r = h.run([h.tool("spt-run"), "--socket", self.sb.socket, "--", "true"])
        self.assertEqual(r.returncode, 125)
        self.assertIn("expected -D DOMAIN", r.stderr)

    def test_confined_caller_may_not_place(self):
        # A jailDom program (no domain_transition) asks the daemon to move itself out.
        script = (
            "import sys, os; sys.path[:0] = sys.argv[1:2]\n"
            "from test_spt_run import call_daemon\n"
            "print(call_daemon(sys.argv[2], ['place', str(os.getpid()), 'superDom']))\n"
            "try:\n    open(sys.argv[3]).read(); print('READ')\n"
            "except OSError as e:\n    print('errno', e.errno)\n")
        here = os.path.dirname(os.path.abspath(__file__))
        r = self.sb.run("jailDom", "", root=False,
                        argv=[sys.executable, "-c", script, here, self.sb.socket,
                              self.sb.path("/secret/s.txt")], env=os.environ)
        self.assertNotIn("READ", r.stdout, r.stdout + r.stderr)
        self.assertIn("errno 1", r.stdout, r.stdout + r.stderr)
        self.assertIn("domain_transition", r.stdout, r.stdout)
        self.assertNotIn("(0, ", r.stdout)

    def test_user_and_cwd(self):
        r = self.sb.run("jailDom", "id -u; id -g; pwd; cat d.txt; touch /tmp/by-nobody",
                        user="nobody", cwd="/data")
        self.assertEqual(r.stdout.split()[:4], ["65534", "65534", "/data", "DATA"], r.stderr)
        st = os.stat(self.sb.backing("/tmp/by-nobody"))
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))

    def test_ps_and_world_ref_count(self):
        p = self.sb.popen("otherDom", "sleep 30 & sleep 30")
        try:
            self.assertTrue(wait_for(lambda: len(worlds_in_domain(self.sb, "otherDom")) >= 4),
                            self.sb.spt("--ps").stdout)
            d = self.sb.spt("-d").stdout
            m = re.search(r"Domain Name: otherDom Domain ID :11 .*\n.*WorldRefCount: (\d+)", d)
            self.assertIsNotNone(m, d)
            self.assertGreaterEqual(int(m.group(1)), 4)
        finally:
            kill_world(p)
        self.assertTrue(wait_for(lambda: not worlds_in_domain(self.sb, "otherDom")))


class RestartTest(unittest.TestCase):
    def test_daemon_restart_keeps_the_world_confined(self):
        with Sandbox(DOMAINS, shared_parent=True) as sb:
            p, read_log = start_reader(sb, "jailDom", ["/secret/s.txt", "/data/d.txt"], 0.1)
            self.assertTrue(wait_for(lambda: "DATA" in read_log()), read_log())
            sb.unmount()
            state = open(sb.socket + ".state").read()
            self.assertIn("world ", state)
            time.sleep(0.3)
            before = len(read_log())
            sb.mount()  # a new daemon, the same state file
            self.assertTrue(wait_for(lambda: "DATA" in read_log()[before:], timeout=15),
                            read_log()[before:])
            after = read_log()[before:]
            self.assertNotIn(SECRET, read_log())
            self.assertIn(EPERM_TEXT, after)
            kill_world(p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
