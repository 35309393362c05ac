"""The escape suite: attacks by confined programs (spt-run --root) that must all fail.

Every attack is counted; an attack "escapes" when the confined program gets what its
domain denies (the secret's text, a changed label, a host setting changed) or lands
outside its domain. The closing line states the count: "escape suite: N attacks,
M escapes" (docs/THREAT-MODEL.md reports it). Any escape fails the test that made it.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from confine import (BASE_RULES, EPERM_TEXT, HOST_RULES, PYTHON_RULES, SECRET, Sandbox,
                     SandboxTestCase, kill_world, wait_for, world_env, worlds_in_domain)
import sptfs_harness as h
import confine
import control_attacks

SHELL = "/usr/bin/dash"
DOMAINS = {
    # The attacker: reads /data, writes /tmp and /wonly, nothing else of interest.
    "jailDom": dict(id=10, rules=BASE_RULES + [
        "-r /secret ", "-r /wonly w", "-r /data r", "-r /opt rx", "-o secretObj ",
        "-o toolObj r"]),
    # An attacker whose tool (toolObj) runs in toolDom, which may read /secret.
    # (/j2only: what jail2Dom may read and toolDom may not, to see a fall back.)
    "jail2Dom": dict(id=11, rules=BASE_RULES + [
        "-r /secret ", "-r /opt rx", "-r /j2only r", "-r /toolonly ",
        "-d toolObj toolDom file_exec grant",
        # Its own libraries: without x the loader could not map an LD_PRELOAD library
        # at all (issue 12.6), and 12.1 must test the exec gate, not that.
        "-r /xtmp rwx"]),
    "toolDom": dict(id=12, rules=BASE_RULES + ["-r /secret r", "-r /opt rx", "-o toolObj rx",
                                              "-r /toolonly r", "-r /j2only "]),
    # A victim in another world that may read the secret.
    "otherDom": dict(id=13, rules=BASE_RULES + ["-r /secret r"]),
    # For the reload race: may read /race under policy A; the B policy removes it.
    "raceDom": dict(id=14, rules=BASE_RULES + ["-r /race r"]),
    # A confined program that may make unix sockets (to reach the control socket).
    "callerDom": dict(id=41, rules=BASE_RULES + ["-c unix_socket_create grant"]),
    # Issue 13: an attacker started without --root, whose rules grant on the host only
    # what a shell needs (spt-run's Landlock layer reads -r rules as host paths).
    "hostJailDom": dict(id=113, rules=HOST_RULES + ["-r /secret "]),
    # Issue 21 item 1: globalVMDom's /var/run, writable, with no-access carve-outs.
    "runDom": dict(id=15, rules=BASE_RULES + [
        "-r /vrun rw", "-r /vrun/inetd.conf ", "-r /vrun/ticket ", "-o secretObj "]),
    # Issue 12 item 5: may write /box, but lockedObj files only read.
    "boxDom": dict(id=16, rules=BASE_RULES + ["-r /box rw", "-o lockedObj r"]),
    # Issue 21 item 3: the one domain that may set setuid/setgid bits.
    "setidDom": dict(id=17, rules=BASE_RULES + ["-c file_setid grant"]),
}
LABELS = [("secretObj", 3401), ("toolObj", 3402), ("pubObj", 3403), ("lockedObj", 3404)]
FILES = {
    "/wonly/w.txt": SECRET + "\n",
    "/tmp/lab.txt": SECRET + "\n",
    "/opt/toolsh": (SHELL, 0o755),
    "/race/r.txt": "RACE-OK\n",
    "/opt/bad": "not a program\n",
    "/vrun/inetd.conf": SECRET + "\n",
    "/vrun/ticket/ticket": SECRET + "\n",
    "/vrun/lab/x.txt": SECRET + "\n",
    "/vrun/ok.txt": "OK\n",
    "/tmp/d/old.txt": "OLD\n",
    # Issue 12 items 1-3: an ELF target (a copy of true) and a "#!" script target.
    "/opt/tooltrue": ("/usr/bin/true", 0o755),
    "/opt/toolscript": "#!/bin/sh\nread l < /secret/s.txt && echo script-read-ok\n",
    "/j2only/x.txt": "J2ONLY\n",
    "/toolonly/t.txt": "TOOLONLY\n",
}
LABELS_ON = {"/tmp/lab.txt": "secretObj", "/opt/toolsh": "toolObj", "/opt/bad": "toolObj",
             "/vrun/lab/x.txt": "secretObj", "/opt/tooltrue": "toolObj",
             "/opt/toolscript": "toolObj"}
ESTALE = 116

# Confined Python helpers for the path attacks.
TRYREAD = ("import ctypes, os, sys\n"
           "def tryread(p):\n"
           "    try: print(open(p).read())\n"
           "    except OSError as e: print('read', p, e.errno)\n"
           "libc = ctypes.CDLL(None, use_errno=True)\n"
           "def xchg(a, b):\n"
           "    rc = libc.renameat2(-100, a.encode(), -100, b.encode(), 2)\n"
           "    print('xchg', a, b, 'errno', 0 if rc == 0 else ctypes.get_errno())\n"
           "    return rc == 0\n")


KNOWN_ESCAPES = set()

# Issue 12 item 1: a library whose constructor reads the secret (or says it could not).
EVIL_SO = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void) {
  char buf[256];
  int fd = open("/secret/s.txt", O_RDONLY);
  if (fd < 0) { write(1, "evil-denied\n", 12); return; }
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) write(1, buf, (size_t)n);
  close(fd);
}
unsigned la_version(unsigned v) { return v; }  /* also a valid LD_AUDIT module */
"""

# Issue 20 item 3: a static program whose leader ends (SYS_exit) before any request; its
# other thread then reads the secret as the target domain may.
LEADER_EXITS_C = r"""
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
static void *reader(void *arg) {
  (void)arg;
  usleep(100000);
  int fd = open("/secret/s.txt", O_RDONLY);
  printf(fd >= 0 ? "thread-read-ok\n" : "thread-read-denied\n");
  fflush(stdout);
  syscall(SYS_exit_group, 0);
  return 0;
}
int main(void) {
  pthread_t t;
  pthread_create(&t, 0, reader, 0);
  syscall(SYS_exit, 0);
}
"""

# Issue 20 item 1: a thread that is not the leader execs `argv`; the leader waits.
THREAD_EXEC = ("import os, sys, threading, time\n"
               "def tryread(p):\n"
               "    try: print('read', p, open(p).read().strip(), flush=True)\n"
               "    except OSError as e: print('read', p, 'errno', e.errno, flush=True)\n"
               "for p in sys.argv[2:]: tryread(p)\n"
               "argv = sys.argv[1].split()\n"
               "threading.Thread(target=lambda: os.execv(argv[0], argv)).start()\n"
               "time.sleep(60)\n")


# A thread with a descriptor table of its own (CLONE_THREAD without CLONE_FILES): fd N is
# a unix stream socket in the leader's table and a datagram socket in the thread's; the
# thread binds N. Then the leader's controls: its stream socket, and a datagram socket.
THREAD_FDS_C = r"""
/* A thread with a descriptor table of its own (CLONE_THREAD without CLONE_FILES):
   fd N is a unix stream socket in the leader's table and a unix datagram socket in
   the thread's. The thread binds N: the domain may bind stream sockets only. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int fd;
static const char *path;
static volatile int done = 0, result = -1, err = 0;

static int thread_main(void *arg) {
  (void)arg;
  close(fd);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (d != fd) { result = -2; err = d < 0 ? errno : d; done = 1; syscall(SYS_exit, 0); }
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
  result = bind(fd, (struct sockaddr *)&a, sizeof(a));
  err = errno;
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_exit, 0);
  return 0;
}

int main(int argc, char **argv) {
  path = argv[1];
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) { printf("socket %d\n", errno); return 1; }
  size_t size = 1 << 16;
  char *stack = malloc(size);
  int flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;  /* no CLONE_FILES */
  if (clone(thread_main, stack + size, flags, NULL) < 0) { printf("clone %d\n", errno); return 1; }
  while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) usleep(1000);
  if (result == -2) { printf("setup %d\n", err); return 1; }
  printf(result == 0 ? "dgram bind ok\n" : "dgram bind refused %d\n", err);
  /* The controls, from the leader: its stream socket binds, a datagram socket does not. */
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, argv[2], sizeof(a.sun_path) - 1);
  int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
  printf(rc == 0 ? "stream bind ok\n" : "stream bind refused %d\n", errno);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  strncpy(a.sun_path, argv[3], sizeof(a.sun_path) - 1);
  rc = bind(d, (struct sockaddr *)&a, sizeof(a));
  printf(rc == 0 ? "leader dgram bind ok\n" : "leader dgram bind refused %d\n", errno);
  return 0;
}
"""


def compile_c(source, out, *flags):
    """Compiles C `source` to `out` with the host's cc; False if there is no compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return False
    src = out + ".c"
    with open(src, "w") as f:
        f.write(source)
    r = subprocess.run([cc, "-O1", "-o", out, src] + list(flags), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("cc: " + r.stderr)
    os.chmod(out, 0o755)
    return True


# How every line the daemon writes begins (docs/audit.md).
RECORD_START = re.compile(r"type=[A-Z_]+ msg=audit\(\d+\.\d{3}\):( |$)")


def control_flood_code(count, argv, per_try=""):
    """A program that makes `count` control calls `argv` (Python text, may use i and the
    line `per_try` sets up) on socket argv[1] as fast as it can, importing
    control_attacks from argv[2], then prints 'codes {exit code: count} seconds N'. A
    busy daemon answers 75 and closes before reading: counted as 'reset'."""
    return ("import sys, time\n"
            "sys.path.insert(0, sys.argv[2])\n"
            "import control_attacks\n"
            "t = time.monotonic(); codes = {}\n"
            f"for i in range({count}):\n"
            + per_try +
            "    try:\n"
            f"        c = control_attacks.call(sys.argv[1], {argv})[0]\n"
            "    except OSError:\n"
            "        c = 'reset'\n"
            "    codes[c] = codes.get(c, 0) + 1\n"
            "print('codes', codes, 'seconds', round(time.monotonic() - t + 0.5))\n")


def most_in_a_second(lines):
    """The most audit lines stamped within one second (msg=audit(SECONDS.MS))."""
    per = {}
    for line in lines:
        at = line.find("msg=audit(")
        if at >= 0:
            second = line[at + 10:].split(".", 1)[0]
            per[second] = per.get(second, 0) + 1
    return max(per.values(), default=0)


def escaped_text(r):
    return SECRET in (r.stdout or "") or SECRET in (r.stderr or "")


class Configured(Sandbox):
    """A Sandbox whose mount configuration has more top-level `settings` (TOML lines)."""

    def __init__(self, domains, settings="", **kw):
        super().__init__(domains, **kw)
        self.settings = settings

    def _build(self):
        super()._build()
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:  # top-level keys come before [[map]]
            f.write(self.settings + text)


class EscapeSuite(SandboxTestCase):
    SANDBOX = dict(domains=DOMAINS, labels=LABELS, files=FILES, labels_on=LABELS_ON)
    results = []

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        escapes = [r for r in cls.results if r[1]]
        print("\nattack results:", file=sys.stderr)
        for name, esc, detail in cls.results:
            print(f"  {'ESCAPE' if esc else 'held  '} {name}" + (f": {detail}" if esc else ""),
                  file=sys.stderr)
        line = f"escape suite: {len(cls.results)} attacks, {len(escapes)} escapes"
        known = [r for r in escapes if r[0] in KNOWN_ESCAPES]
        if known:
            line += f" ({len(known)} known, docs/THREAT-MODEL.md)"
        print(line, file=sys.stderr)
        out = os.environ.get("SPTFS_BUILD")
        if out and os.path.isdir(out):
            with open(os.path.join(out, "escape-summary.txt"), "w") as f:
                f.write(line + "\n")

    def attack(self, name, escaped, detail=""):
        type(self).results.append((name, bool(escaped), detail))
        self.assertFalse(escaped, f"ESCAPE by {name}: {detail}")

    def jail(self, script, domain="jailDom", **kw):
        return self.sb.run(domain, script, **kw)

    def py(self, code, domain="jailDom", **kw):
        return self.sb.run(domain, "", argv=["python3", "-c", code], **kw)

    # ---- the file system -------------------------------------------------------------
    def test_hard_link_of_denied_file(self):
        r = self.jail("ln /secret/s.txt /tmp/h1; cat /tmp/h1; ln /tmp/lab.txt /tmp/h2; cat /tmp/h2")
        self.attack("hard link /secret file into /tmp, read it", escaped_text(r), r.stdout)
        self.assertIn(EPERM_TEXT, r.stderr)

    def test_rename_protected_file(self):
        r = self.jail("mv /secret/s.txt /tmp/r1; cat /tmp/r1")
        moved = not os.path.exists(self.sb.backing("/secret/s.txt"))
        self.attack("rename /secret file into /tmp", escaped_text(r) or moved, r.stdout)

    def test_rename_write_only_file(self):
        r = self.jail("mv /wonly/w.txt /tmp/r2; cat /tmp/r2")
        self.attack("rename a write-only file into readable /tmp", escaped_text(r),
                    r.stdout + r.stderr)

    def test_symlink_swap_between_check_and_use(self):
        code = (
            "import os, threading\n"
            "os.symlink('/data/d.txt', '/tmp/lnk')\n"
            "stop = False\n"
            "def flip():\n"
            "    while not stop:\n"
            "        for t in ('/secret/s.txt', '/data/d.txt'):\n"
            "            os.symlink(t, '/tmp/lnk.new'); os.replace('/tmp/lnk.new', '/tmp/lnk')\n"
            "th = threading.Thread(target=flip); th.start()\n"
            "seen = {}\n"
            "for i in range(600):\n"
            "    try:\n"
            "        with open('/tmp/lnk') as f: v = f.read().strip()\n"
            "    except OSError as e: v = 'errno%d' % e.errno\n"
            "    seen[v] = seen.get(v, 0) + 1\n"
            "stop = True; th.join(); print(seen)\n")
        r = self.py(code)
        self.attack("swap a symlink between check and use (600 opens)", escaped_text(r), r.stdout)
        self.assertIn("DATA", r.stdout, r.stderr)  # the race did run

    def test_label_attribute_tampering(self):
        attr = h.label_xattr()
        before = self.sb.get_label("/tmp/lab.txt")
        r = self.jail(f"setfattr -n {attr} -v unlabeled /tmp/lab.txt; cat /tmp/lab.txt")
        self.attack("set the label of a denied file", escaped_text(r)
                    or self.sb.get_label("/tmp/lab.txt") != before, r.stdout)
        r = self.jail(f"setfattr -x {attr} /tmp/lab.txt; cat /tmp/lab.txt")
        self.attack("remove the label of a denied file", escaped_text(r)
                    or self.sb.get_label("/tmp/lab.txt") != before, r.stdout)
        r = self.jail(f"echo mine > /tmp/mine; cp --preserve=xattr /tmp/lab.txt /tmp/cp1; "
                      f"getfattr -n {attr} /tmp/lab.txt; "
                      f"setfattr -n {attr} -v secretObj /tmp/mine; cat /tmp/cp1")
        self.attack("copy a label attribute", escaped_text(r)
                    or self.sb.get_label("/tmp/mine") is not None, r.stdout)
        r = self.py("import os\n"
                    "for n in ('user.spt.label', 'security.spt.label'):\n"
                    "    try: os.setxattr('/tmp/lab.txt', n, b'unlabeled')\n"
                    "    except OSError as e: print(n, e.errno)\n"
                    "print(open('/tmp/lab.txt').read())\n")
        self.attack("label under another attribute namespace", escaped_text(r), r.stdout)

    def test_backing_path(self):
        b = self.sb.backing("/secret/s.txt")
        r = self.jail(f"cat {b}; cat /proc/1/root{b}; cat /proc/self/root{b}; "
                      f"cat /proc/1/cwd{b}; ls {self.sb.tree}")
        self.attack("open the backing path directly (and via /proc/*/root)", escaped_text(r),
                    r.stdout)

    # ---- issue 13: the same attacks without --root (the Landlock layer holds) ---------
    def test_issue13_1_backing_path_without_root(self):
        b = self.sb.backing("/secret/s.txt")
        r = self.jail(f"cat {b}; cat /proc/1/root{b}; cat /proc/self/root{b}; "
                      f"cat /proc/1/cwd{b}; ls {self.sb.tree}", domain="hostJailDom", root=False)
        self.attack("issue 13: open the backing path without --root (and via /proc/*/root)",
                    escaped_text(r), r.stdout)
        self.assertIn(f"cat: {b}: Permission denied", r.stderr)  # EACCES: Landlock's

    def test_issue13_2_dotdot_out_of_the_mount(self):
        rel = os.path.relpath(self.sb.backing("/secret/s.txt"), self.sb.mnt)
        r = self.jail(f"cd {self.sb.mnt} && cat {rel}; cat {self.sb.mnt}/../tree/secret/s.txt",
                      domain="hostJailDom", root=False)
        self.attack("issue 13: `..` out of the mount to the backing store", escaped_text(r),
                    r.stdout)
        self.assertIn("Permission denied", r.stderr)

    def test_issue13_3_chroot_without_root(self):
        b = self.sb.backing("/secret/s.txt")
        r = self.sb.run("hostJailDom", "", root=False, argv=[
            "/usr/bin/python3", "-I", "-c",
            "import os\n"
            "try:\n"
            f"    os.chroot('{self.sb.mnt}/tmp')\n"
            "    for _ in range(20): os.chdir('..')\n"
            "    os.chroot('.')\n"
            "except OSError as e: print('chroot errno', e.errno)\n"
            f"try: print(open('{b}').read())\n"
            "except OSError as e: print('errno', e.errno)\n"])
        self.attack("issue 13: chroot-in-chroot without --root", escaped_text(r), r.stdout)
        self.assertIn("errno 13", r.stdout, r.stdout + r.stderr)  # EACCES: Landlock's

    def test_inherited_descriptor_of_the_host(self):
        # The caller of spt-run left a descriptor of the backing directory open.
        fd = os.open(self.sb.tree, os.O_RDONLY | os.O_DIRECTORY)
        try:
            r = self.jail(f"cat /proc/self/fd/{fd}/secret/s.txt; cd /proc/self/fd/{fd} && "
                          "cat secret/s.txt", pass_fds=(fd,))
            self.attack("use an inherited descriptor of the host", escaped_text(r), r.stdout)
            r = self.py("import os\n"
                        f"try: print(open(os.open('secret/s.txt', os.O_RDONLY, dir_fd={fd})).read())\n"
                        "except OSError as e: print('errno', e.errno)\n", pass_fds=(fd,))
            self.attack("openat on an inherited descriptor of the host", escaped_text(r),
                        r.stdout)
            self.assertIn("errno 9", r.stdout, r.stderr)  # EBADF: spt-run closed it
        finally:
            os.close(fd)

    def test_type_into_the_callers_terminal(self):
        import pty
        import termios
        master, slave = pty.openpty()

        def controlling_tty():
            os.setsid()
            import fcntl
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        try:
            code = ("import fcntl, termios\n"
                    "try: fcntl.ioctl(0, termios.TIOCSTI, b'#'); print('injected')\n"
                    "except OSError as e: print('errno', e.errno)\n")
            r = self.sb.run("jailDom", "", argv=["python3", "-c", code], stdin=slave,
                            preexec_fn=controlling_tty)
            self.attack("TIOCSTI into the caller's terminal", "injected" in r.stdout,
                        r.stdout + r.stderr)
            self.assertIn("errno 1", r.stdout, r.stderr)
        finally:
            os.close(master)
            os.close(slave)

    def test_dotdot_out_of_the_root(self):
        b = self.sb.backing("/secret/s.txt")
        r = self.jail(f"cd /../../..; cat .{b}; cat ../../../..{b}; ls /..")
        self.attack("`..` above the root", escaped_text(r), r.stdout)
        r = self.py("import os\n"
                    "os.makedirs('/tmp/cj', exist_ok=True)\n"
                    "try:\n"
                    "    os.chroot('/tmp/cj')\n"
                    "    for _ in range(20): os.chdir('..')\n"
                    "    os.chroot('.')\n"
                    f"    print(open('{b}').read())\n"
                    "except OSError as e: print('errno', e.errno)\n")
        self.attack("chroot-in-chroot escape", escaped_text(r), r.stdout)

    # ---- processes -------------------------------------------------------------------
    def test_double_fork_and_read_after_parent_exits(self):
        r = self.jail("(sh -c 'sleep 0.5; cat /secret/s.txt; echo grandchild-ran' &); "
                      "sleep 1.5")
        self.attack("double fork, read after the parent exits", escaped_text(r), r.stdout)
        self.assertIn("grandchild-ran", r.stdout)

    def test_kill_spt_run_then_read(self):
        out = "/tmp/after-kill"
        p = self.sb.popen("jailDom", f"sleep 1; cat /secret/s.txt > {out} 2>&1; "
                          f"echo done >> {out}")
        time.sleep(0.4)
        p.kill()
        p.communicate()
        backing = self.sb.backing(out)
        ran = wait_for(lambda: os.path.exists(backing) and "done" in open(backing).read())
        text = open(backing).read() if os.path.exists(backing) else ""
        self.attack("kill spt-run, then read", SECRET in text, text)
        self.assertTrue(ran, "the world did not go on after spt-run died")

    def test_new_namespaces_then_read(self):
        for name, cmd in [
            ("new user namespace", "unshare -U cat /secret/s.txt"),
            ("new user namespace mapped to root", "unshare -U -r cat /secret/s.txt"),
            ("new user + PID namespace", "unshare -U -p -f cat /secret/s.txt"),
            ("new user + PID namespace, nested twice",
             "unshare -U -p -f unshare -U -p -f cat /secret/s.txt"),
            ("new user + PID + mount namespace with /proc",
             "unshare -U -p -m -f --mount-proc cat /secret/s.txt"),
            ("new PID namespace without user namespace", "unshare -p -f cat /secret/s.txt"),
        ]:
            r = self.jail(cmd)
            self.attack(name + ", then read", escaped_text(r), r.stdout)
        # The plain user + PID namespace does get as far as the read (others fail before:
        # mapping root needs CAP_SETFCAP, nesting needs a mapped uid, /proc is locked).
        r = self.jail("unshare -U -p -f cat /secret/s.txt")
        self.assertIn("cat: /secret/s.txt: " + EPERM_TEXT, r.stderr)

    def test_ptrace_process_in_other_domain(self):
        victim = self.sb.popen("otherDom", "sleep 30")
        try:
            self.assertTrue(wait_for(lambda: worlds_in_domain(self.sb, "otherDom")))
            target = max(worlds_in_domain(self.sb, "otherDom"))
            code = ("import ctypes, os\n"
                    "libc = ctypes.CDLL(None, use_errno=True)\n"
                    f"print('attach', libc.ptrace(16, {target}, 0, 0), ctypes.get_errno())\n"
                    "try: print(open('/proc/%d/environ' % " + str(target) + ").read())\n"
                    "except OSError as e: print('proc', e.errno)\n")
            r = self.py(code)
            self.attack("ptrace a process in another world", "attach 0" in r.stdout, r.stdout)
        finally:
            kill_world(victim)
        # Same world: the victim moved to toolDom by an exec transition.
        code = ("import ctypes, os, subprocess, time\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "v = subprocess.Popen(['/opt/toolsh', '-c', 'exec 3</secret/s.txt; sleep 5'])\n"
                "time.sleep(0.5)\n"
                "print('attach', libc.ptrace(16, v.pid, 0, 0), ctypes.get_errno())\n"
                "print('traceme-ok' if False else '')\n"
                "buf = ctypes.create_string_buffer(64)\n"
                "class IOV(ctypes.Structure): _fields_ = [('b', ctypes.c_void_p), ('n', ctypes.c_size_t)]\n"
                "l = IOV(ctypes.cast(buf, ctypes.c_void_p), 64); rm = IOV(0x400000, 64)\n"
                "print('vm_readv', libc.process_vm_readv(v.pid, ctypes.byref(l), 1, ctypes.byref(rm), 1, 0), ctypes.get_errno())\n"
                "try: print(open('/proc/%d/fd/3' % v.pid).read())\n"
                "except OSError as e: print('fd3', e.errno)\n"
                "v.kill()\n")
        r = self.py(code, domain="jail2Dom")
        self.attack("ptrace a transitioned process in the same world",
                    "attach 0" in r.stdout, r.stdout)
        self.attack("process_vm_readv of a transitioned process", "vm_readv 64" in r.stdout,
                    r.stdout)
        self.attack("reopen a transitioned process's fd via /proc", escaped_text(r), r.stdout)
        self.assertIn("fd3 1", r.stdout, r.stdout + r.stderr)

    def test_memory_of_transitioned_process_without_proc(self):
        # With /proc in the world, /proc/PID/mem of a same-uid process is open to a
        # process in the source domain (docs/THREAT-MODEL.md, known gap); --no-proc
        # closes it, and a user namespace cannot mount a /proc of its own either.
        code = ("import subprocess, time, os\n"
                "v = subprocess.Popen(['/opt/toolsh', '-c', 'read l < /secret/s.txt; sleep 3'])\n"
                "time.sleep(0.7)\n"
                "for p in ('/proc/%d/mem' % v.pid, '/proc/self/mem'):\n"
                "    try: open(p, 'rb'); print('opened', p)\n"
                "    except OSError as e: print('errno', e.errno, p)\n"
                "r = subprocess.run(['unshare', '-U', '-p', '-m', '-f', '--mount-proc', 'true'])\n"
                "print('mount-proc rc', r.returncode)\n"
                "v.kill()\n")
        r = self.py(code, domain="jail2Dom", no_proc=True)
        self.attack("read a transitioned process's memory (--no-proc)",
                    "opened /proc/" in r.stdout.replace("opened /proc/self", "")
                    or "mount-proc rc 0" in r.stdout, r.stdout)
        self.assertIn("errno 2 /proc/self/mem", r.stdout, r.stdout + r.stderr)

    def test_failed_exec_of_transition_binary(self):
        # The exec-open of a toolObj file starts the transition; the exec then fails
        # (ENOEXEC). The program that goes on running is still jail2Dom's.
        os.chmod(self.sb.backing("/opt/bad"), 0o755)
        code = ("import os\n"
                "try: os.execv('/opt/bad', ['bad'])\n"
                "except OSError as e: print('exec failed', e.errno)\n"
                "try: print(open('/secret/s.txt').read())\n"
                "except OSError as e: print('read', e.errno)\n")
        r = self.py(code, domain="jail2Dom")
        self.attack("fail an exec that transitions, then read", escaped_text(r), r.stdout)
        self.assertIn("exec failed 8", r.stdout, r.stderr)

    def test_failed_exec_then_other_exec(self):
        os.chmod(self.sb.backing("/opt/bad"), 0o755)
        r = self.py("import os\n"
                    "try: os.execv('/opt/bad', ['bad'])\n"
                    "except OSError as e: pass\n"
                    "os.execv('/bin/cat', ['cat', '/secret/s.txt'])\n", domain="jail2Dom")
        self.attack("fail an exec that transitions, then exec another program",
                    escaped_text(r), r.stdout)

    def test_exec_labelled_binary_without_transition_rule(self):
        r = self.jail("/opt/toolsh -c 'cat /secret/s.txt'; echo rc=$?")
        self.attack("exec a labelled binary without a transition rule", escaped_text(r), r.stdout)
        self.assertIn("rc=126", r.stdout)

    def test_host_privileges(self):
        core = open("/proc/sys/kernel/core_pattern").read()
        r = self.jail("echo '|/tmp/x' > /proc/sys/kernel/core_pattern; "
                      "mknod /tmp/disk b 8 0 && cat /tmp/disk | head -c 1; "
                      "mount -t tmpfs none /tmp; mount -o remount,rw /proc/sys; "
                      f"cat {self.sb.backing('/secret/s.txt')}")
        self.attack("write a host sysctl (core_pattern)",
                    open("/proc/sys/kernel/core_pattern").read() != core, r.stderr)
        self.attack("mknod a disk, mount, remount", escaped_text(r)
                    or os.path.exists(self.sb.backing("/tmp/disk")), r.stderr)

    # ---- exec transitions (issue 12 items 1-3, issue 20 item 3) -------------------------
    VARIANTS = ((False, None), (True, None), (False, "1000"), (True, "1000"))

    def variant(self, no_proc, user):
        return ("--no-proc" if no_proc else "with /proc") + ", " + (
            "--user " + user if user else "root")

    def evil_so(self):
        os.makedirs(self.sb.backing("/xtmp"), exist_ok=True)
        out = self.sb.backing("/xtmp/evil.so")
        if not os.path.exists(out) and not compile_c(EVIL_SO, out, "-shared", "-fPIC"):
            self.skipTest("no C compiler")
        os.chmod(out, 0o755)
        return "/xtmp/evil.so"

    def test_issue12_1_loader_environment_into_a_transitioning_exec(self):
        so = self.evil_so()
        os.chmod(self.sb.backing("/opt/toolscript"), 0o755)
        script = (f"LD_PRELOAD={so} /opt/tooltrue; echo rc=$?; "
                  f"LD_AUDIT={so} /opt/tooltrue; "
                  f"LD_PRELOAD={so} /opt/toolscript")
        for no_proc, user in self.VARIANTS:
            r = self.jail(script, domain="jail2Dom", no_proc=no_proc, user=user)
            self.attack("issue 12.1: LD_PRELOAD/LD_AUDIT into a transitioning exec (ELF and "
                        f"script target, {self.variant(no_proc, user)})", escaped_text(r),
                        r.stdout + r.stderr)
            self.assertIn("evil-denied", r.stdout, r.stderr)  # it ran, in the old domain
            self.assertIn("rc=0", r.stdout, r.stderr)
        refused = [a for a in self.sb.audit() if a.get("type") == "SPT_TRANSITION"
                   and "its environment sets LD_PRELOAD" in a["_line"]]
        self.assertTrue(refused, "the refusal is recorded with its reason")
        # Without the variables the same programs do transition.
        r = self.jail("/opt/toolscript", domain="jail2Dom")
        self.assertIn("script-read-ok", r.stdout, r.stderr)

    FAILED_EXEC = ("import ctypes, os, sys\n"
                   "libc = ctypes.CDLL(None, use_errno=True)\n"
                   # argv at address 8: the exec-open happens, then EFAULT.
                   "rc = libc.execve(sys.argv[1].encode(), ctypes.c_void_p(8), None)\n"
                   "print('execve', rc, ctypes.get_errno(), flush=True)\n"
                   "os.execv(sys.argv[2], sys.argv[2:])\n")

    def failed_exec_then(self, target, argv, **kw):
        return self.sb.run("jail2Dom", "", argv=["python3", "-c", self.FAILED_EXEC, target] + argv,
                           **kw)

    def test_issue12_2_failed_exec_then_another_program(self):
        os.chmod(self.sb.backing("/opt/toolscript"), 0o755)
        for target in ("/opt/tooltrue", "/opt/toolscript"):
            for no_proc, user in self.VARIANTS:
                r = self.failed_exec_then(target, ["/bin/cat", "/secret/s.txt"],
                                          no_proc=no_proc, user=user)
                self.attack(f"issue 12.2: exec {target} fails after its open (EFAULT), then "
                            f"exec cat ({self.variant(no_proc, user)})", escaped_text(r),
                            r.stdout + r.stderr)
                self.assertIn("execve -1 14", r.stdout, r.stderr)

    def test_issue12_3_failed_script_exec_then_its_interpreter(self):
        # The script's interpreter is /bin/sh: exec'ed directly after the failed exec,
        # it must not count as the script's.
        os.chmod(self.sb.backing("/opt/toolscript"), 0o755)
        for no_proc, user in self.VARIANTS:
            r = self.failed_exec_then("/opt/toolscript",
                                      ["/bin/sh", "-c", "cat /secret/s.txt"],
                                      no_proc=no_proc, user=user)
            self.attack("issue 12.3: exec a script target fails (EFAULT), then exec its "
                        f"interpreter ({self.variant(no_proc, user)})", escaped_text(r),
                        r.stdout + r.stderr)
            self.assertIn("execve -1 14", r.stdout, r.stderr)
        # The script itself does transition, and only onto its interpreter.
        r = self.jail("/opt/toolscript", domain="jail2Dom")
        self.assertIn("script-read-ok", r.stdout, r.stderr)

    def test_issue20_3_leader_exits_before_its_first_request(self):
        # Defined: the transition settles when the exec ends, before the new program runs,
        # so a program whose leader ends at once still runs in the target domain.
        out = self.sb.backing("/opt/leaderexits")
        if not compile_c(LEADER_EXITS_C, out, "-static", "-pthread"):
            self.skipTest("no C compiler")
        self.sb.set_label("/opt/leaderexits", "toolObj")
        for no_proc, user in ((False, None), (True, "1000")):
            r = self.jail("/opt/leaderexits", domain="jail2Dom", no_proc=no_proc, user=user)
            self.assertIn("thread-read-ok", r.stdout, r.stderr)

    # ---- who is calling (issue 20 items 1-2) ---------------------------------------------
    def placed_plain(self, code, args, user=None):
        """A host process (no world) placed in jailDom before it runs `code`."""
        pre = None
        if user:
            os.chmod(self.sb.work, 0o711)
            self.addCleanup(os.chmod, self.sb.work, 0o700)
            pre = lambda: (os.setgid(int(user)), os.setuid(int(user)))
        p = subprocess.Popen(["sh", "-c", 'read _; exec "$@"', "sh", "/usr/bin/python3", "-c", code]
                             + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=pre,
                             env=dict(os.environ, PYTHONPATH=""))
        code_, _, err = control_attacks.call(self.sb.socket, ["place", str(p.pid), "jailDom"])
        self.assertEqual(code_, 0, err)
        p.stdin.write("go\n")
        p.stdin.flush()
        return p

    def test_issue17_4_confined_program_opens_no_session(self):
        # A session is a kept connection outside the admission slots: a confined program
        # that could open one could hold daemon threads without limit, or speak as a
        # supervisor (record, exec). It gets 77 and a closed connection.
        code = (
            "import socket, struct, sys\n"
            "def frame(argv):\n"
            "    p = b'SPT1' + struct.pack('>I', len(argv))\n"
            "    for a in argv: p += struct.pack('>I', len(a)) + a.encode()\n"
            "    return struct.pack('>I', len(p)) + p\n"
            "s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])\n"
            "s.sendall(frame(['sandbox', 'session']))\n"
            "head = s.recv(4, socket.MSG_WAITALL)\n"
            "body = s.recv(struct.unpack('>I', head)[0], socket.MSG_WAITALL)\n"
            "print('code', struct.unpack('>i', body[4:8])[0])\n"
            "try:\n"
            "    s.sendall(frame(['sandbox', 'domains'])); more = s.recv(4)\n"
            "except OSError: more = b''\n"
            "print('more', len(more))\n")
        # Placed in jailDom on the host: in a world the filter would refuse the socket
        # itself, and this is about what the daemon allows.
        p = self.placed_plain(code, [self.sb.socket])
        out, err = p.communicate(timeout=30)
        self.attack("issue 17.4: a confined program opens a supervisor session",
                    "code 0" in out or "more 4" in out, out + err)
        self.assertIn("code 77", out, err)

    def test_issue20_1_thread_exec_of_a_placed_plain_process(self):
        secret = self.sb.path("/secret/s.txt")
        for user in (None, "1000"):
            p = self.placed_plain(THREAD_EXEC, ["/bin/cat " + secret, secret], user=user)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            self.attack(f"issue 20.1: a placed process's non-leader thread execs a reader "
                        f"(as {user or 'root'})", SECRET in out, out + err)
            self.assertIn("errno 1", out, err)  # the leader itself was denied

    def test_issue20_1_thread_exec_inside_a_world_after_a_transition(self):
        # In toolDom (by the exec of /opt/toolsh), python's second thread execs cat: it must
        # stay in toolDom, never fall back to the launcher's jail2Dom.
        with open(self.sb.backing("/tmp/threadexec.py"), "w") as f:
            f.write(THREAD_EXEC)
        for no_proc, user in self.VARIANTS:
            r = self.jail("exec /opt/toolsh -c 'exec python3 /tmp/threadexec.py "
                          "\"/bin/cat /j2only/x.txt /toolonly/t.txt\" /j2only/x.txt'",
                          domain="jail2Dom", no_proc=no_proc, user=user, timeout=90)
            self.attack("issue 20.1: a non-leader thread execs after a transition "
                        f"({self.variant(no_proc, user)})", "J2ONLY" in r.stdout,
                        r.stdout + r.stderr)
            self.assertIn("read /j2only/x.txt errno 1", r.stdout, r.stderr)
            self.assertIn("TOOLONLY", r.stdout, r.stderr)  # cat still ran in toolDom

    def fork_reader_on_pid(self, pid, out, tries=300):
        """Runs an unconfined shell on `pid` (ns_last_pid) whose child cats the secret into
        `out`; its pid, or None if other programs kept taking the number first."""
        for _ in range(tries):
            if os.path.exists(f"/proc/{pid}"):
                return None  # taken by someone else
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(pid - 1))
            child = os.fork()
            if child == 0:
                try:
                    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(fd, 1)
                    os.dup2(fd, 2)
                    os.execv("/bin/sh", ["sh", "-c", 'cat "$0"; echo done',
                                         self.sb.path("/secret/s.txt")])
                finally:
                    os._exit(127)
            if child == pid:
                os.waitpid(child, 0)
                return child
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        return None

    def test_issue20_2_pid_of_a_leader_that_exited_first_is_reused(self):
        # A placed process makes a request, starts a thread and ends its leader with
        # SYS_exit; the thread ends later. An unconfined host shell then gets the pid
        # (ns_last_pid) and its child reads the secret: it must not inherit jailDom.
        code = ("import ctypes, os, sys, threading, time\n"
                "open(sys.argv[1]).read(); print('ready', flush=True)\n"
                "def last():\n"
                "    st = '/proc/%d/stat' % os.getpid()\n"
                "    while open(st).read().rsplit(')', 1)[1].split()[0] != 'Z': time.sleep(0.01)\n"
                # A request while the leader is a zombie: the daemon reads its exit now.
                "    open(sys.argv[1]).read(); print('zombie', flush=True)\n"
                "    sys.stdin.readline()\n"
                "    ctypes.CDLL(None).syscall(60, 0)\n"  # SYS_exit of this thread
                "threading.Thread(target=last).start()\n"
                "ctypes.CDLL(None).syscall(60, 0)\n")
        out = os.path.join(self.sb.work, "reuse.out")
        reused = None
        # On a busy host another program may take the pid first: then start over.
        for _ in range(5):
            p = self.placed_plain(code, [self.sb.path("/data/d.txt")])
            self.assertEqual(p.stdout.readline().strip(), "ready")
            self.assertEqual(p.stdout.readline().strip(), "zombie")
            p.stdin.write("end\n")
            p.stdin.close()
            p.wait(timeout=30)
            p.stdout.close()
            p.stderr.close()
            reused = self.fork_reader_on_pid(p.pid, out)
            if reused:
                break
        self.assertTrue(reused, "no process could be put on the old pid")
        text = open(out).read()
        self.assertIn("done", text)
        self.attack("issue 20.2: the pid of a process whose leader exited first is reused by "
                    "an unconfined process; its child is confined by mistake",
                    SECRET not in text, text)

    # ---- path decisions (issue 21, issue 12 item 5) -------------------------------------
    def restore_vrun(self):
        """Puts /vrun back in the backing store if an attack moved it."""
        for moved in ("/tmp/r", "/tmp/x"):
            b = self.sb.backing(moved)
            if os.path.exists(os.path.join(b, "inetd.conf")):
                shutil.rmtree(self.sb.backing("/vrun"), ignore_errors=True)
                os.rename(b, self.sb.backing("/vrun"))
        if os.path.exists(self.sb.backing("/tmp/lab2")):
            os.rename(self.sb.backing("/tmp/lab2"), self.sb.backing("/vrun/lab"))

    def test_issue21_1_rename_writable_parent_exposes_denied_children(self):
        self.addCleanup(self.restore_vrun)
        r = self.py(TRYREAD +
                    "try: os.rename('/vrun', '/tmp/r'); print('renamed')\n"
                    "except OSError as e: print('rename errno', e.errno)\n"
                    "tryread('/tmp/r/inetd.conf'); tryread('/tmp/r/ticket/ticket')\n"
                    "try: os.rename('/tmp/r', '/vrun')\n"
                    "except OSError: pass\n", domain="runDom")
        self.attack("issue 21.1: rename a writable parent, read its denied children",
                    escaped_text(r), r.stdout + r.stderr)
        self.assertIn("rename errno 1", r.stdout, r.stderr)
        audit = [a for a in self.sb.audit() if "rename of a directory would grant" in a["_line"]]
        self.assertTrue(audit, "the refusal is recorded with its reason")

    def test_issue21_1_rename_exchange_exposes_denied_children(self):
        # Both directions: the denied subtree is the moving object, then the other one.
        self.addCleanup(self.restore_vrun)
        r = self.py(TRYREAD +
                    "os.makedirs('/tmp/x', exist_ok=True)\n"
                    "for a, b in (('/vrun', '/tmp/x'), ('/tmp/x', '/vrun')):\n"
                    "    if xchg(a, b):\n"
                    "        tryread('/tmp/x/inetd.conf'); tryread('/tmp/x/ticket/ticket')\n"
                    "        xchg('/tmp/x', '/vrun')\n", domain="runDom")
        self.attack("issue 21.1: RENAME_EXCHANGE a writable parent (both directions), read "
                    "its denied children", escaped_text(r), r.stdout + r.stderr)
        self.assertIn("xchg /vrun /tmp/x errno 1", r.stdout, r.stderr)
        self.assertIn("xchg /tmp/x /vrun errno 1", r.stdout, r.stderr)

    def test_issue21_1_labelled_file_stays_protected_in_a_moved_directory(self):
        # The move is allowed (nothing below /vrun/lab is narrower than /tmp); the label
        # still denies the file at its new path.
        self.addCleanup(self.restore_vrun)
        r = self.py(TRYREAD +
                    "os.rename('/vrun/lab', '/tmp/lab2'); print('renamed')\n"
                    "tryread('/tmp/lab2/x.txt')\n"
                    "os.rename('/tmp/lab2', '/vrun/lab')\n", domain="runDom")
        self.attack("issue 21.1: move a directory, read its labelled file", escaped_text(r),
                    r.stdout + r.stderr)
        self.assertIn("renamed", r.stdout, r.stderr)
        self.assertIn("read /tmp/lab2/x.txt 1", r.stdout, r.stderr)

    def test_issue21_2_directory_moved_behind_the_mount_keeps_its_old_path(self):
        # The world sits in /tmp/d; the host moves it into /secret (no access) and writes
        # there. Reads relative to the cwd must not be judged as /tmp/d/...
        moved = self.sb.backing("/secret/d")
        self.addCleanup(shutil.rmtree, moved, True)
        code = ("import os, sys\n"
                "os.chdir('/tmp/d'); print(open('old.txt').read().strip())\n"
                "print('ready', flush=True); sys.stdin.readline()\n"
                "for n in ('new.txt', 'old.txt'):\n"
                "    try: print(open(n).read())\n"
                "    except OSError as e: print('read', n, e.errno)\n")
        p = self.sb.popen("jailDom", "", argv=["python3", "-c", code], stdin=subprocess.PIPE)
        self.assertEqual(p.stdout.readline().strip(), "OLD")
        self.assertEqual(p.stdout.readline().strip(), "ready")
        os.rename(self.sb.backing("/tmp/d"), moved)
        with open(os.path.join(moved, "new.txt"), "w") as f:
            f.write(SECRET + "\n")
        out, err = p.communicate("go\n", timeout=60)
        self.attack("issue 21.2: read through a cwd the host moved into a denied directory",
                    SECRET in out, out + err)
        self.assertIn(f"read new.txt {ESTALE}", out, err)

    def setid_attempts(self, prefix):
        return ("import os\n"
                "def t(what, f):\n"
                "    try: f(); print(what, 'ok')\n"
                "    except OSError as e: print(what, 'errno', e.errno)\n"
                f"p = '/tmp/{prefix}'\n"
                "t('create', lambda: os.close(os.open(p + '1', os.O_CREAT | os.O_WRONLY, 0o755)))\n"
                "t('chmod u+s', lambda: os.chmod(p + '1', 0o4755))\n"
                "t('chmod g+s', lambda: os.chmod(p + '1', 0o2755))\n"
                "t('create u+s', lambda: os.close(os.open(p + '2', os.O_CREAT | os.O_WRONLY, 0o4755)))\n"
                "t('mknod u+s', lambda: os.mknod(p + '3', 0o100000 | 0o6755))\n"
                "t('mkdir g+s', lambda: os.mkdir(p + '4', 0o2755))\n")

    def setid_planted(self, prefix):
        import stat
        found = []
        for i in range(1, 5):
            b = self.sb.backing(f"/tmp/{prefix}{i}")
            if os.path.lexists(b) and os.lstat(b).st_mode & (stat.S_ISUID | stat.S_ISGID):
                found.append(f"{b} {oct(os.lstat(b).st_mode)} uid {os.lstat(b).st_uid}")
        return found

    def test_issue21_3_confined_root_plants_a_setuid_file(self):
        for user, prefix in ((None, "suidroot"), ("65534", "suidnobody")):
            r = self.py(self.setid_attempts(prefix), user=user)
            planted = self.setid_planted(prefix)
            self.attack(f"issue 21.3: plant a setuid/setgid file (as {user or 'root'})",
                        planted, "; ".join(planted) + " " + r.stdout + r.stderr)
            self.assertIn("create ok", r.stdout, r.stderr)
            self.assertIn("chmod u+s errno 1", r.stdout, r.stderr)
        # The capability is what allows it (and the bits arrive in the backing store).
        r = self.py(self.setid_attempts("suidgrant"), domain="setidDom")
        self.assertIn("chmod u+s ok", r.stdout, r.stderr)
        self.assertTrue(self.setid_planted("suidgrant"), r.stdout + r.stderr)

    # Issue 17 item 2: sptfs takes FUSE_CAP_HANDLE_KILLPRIV, so the kernel leaves the
    # clearing of set-id bits on write, truncate and chown to the daemon, which writes as
    # root (the backing store would keep them for it). A victim: a world-writable
    # setuid-root (or setgid) program, or one with a file capability; whoever changes its
    # content or owner through the mount must leave it without them on the backing store.
    def killpriv_victims(self, prefix, names, mode, cap=False):
        import struct
        for n in names:
            b = self.sb.backing(f"/tmp/{prefix}{n}")
            with open(b, "wb") as f:
                f.write(b"#!/bin/sh\necho victim\n")
            os.chown(b, 0, 0)
            os.chmod(b, mode)
            if cap:  # VFS_CAP_REVISION_2 | effective, cap_net_bind_service permitted
                os.setxattr(b, "security.capability", struct.pack("<5I", 0x02000001, 1 << 10,
                                                                  0, 0, 0))

    def killpriv_left(self, prefix, names):
        """What each victim kept on the backing store: set-id bits, a file capability."""
        import stat
        kept = []
        for n in names:
            b = self.sb.backing(f"/tmp/{prefix}{n}")
            st = os.lstat(b)
            if st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                kept.append(f"{n}: {oct(st.st_mode)}")
            try:
                os.getxattr(b, "security.capability")
                kept.append(f"{n}: security.capability")
            except OSError:
                pass
        return kept

    KILLPRIV_CHANGES = ("import os, sys\n"
                        "def t(what, f):\n"
                        "    try: f(); print(what, 'ok')\n"
                        "    except OSError as e: print(what, 'errno', e.errno)\n"
                        "def wr(p):\n"
                        "    fd = os.open(p, os.O_WRONLY)\n"
                        "    os.write(fd, b'#!/bin/sh\\nid\\n'); os.close(fd)\n"
                        "def ftr(p):\n"
                        "    fd = os.open(p, os.O_WRONLY); os.ftruncate(fd, 3); os.close(fd)\n"
                        "def fal(p):\n"
                        "    fd = os.open(p, os.O_WRONLY); os.posix_fallocate(fd, 0, 8192)\n"
                        "    os.close(fd)\n"
                        "p = '/tmp/' + sys.argv[1]\n"
                        "t('write', lambda: wr(p + 'w'))\n"
                        "t('truncate', lambda: os.truncate(p + 't', 2))\n"
                        "t('ftruncate', lambda: ftr(p + 'f'))\n"
                        "t('fallocate', lambda: fal(p + 'a'))\n")
    KILLPRIV_WRITES = ("w", "t", "f", "a")

    def test_issue17_2_write_keeps_setid_bits_or_capability(self):
        cases = ((0o4777, False, "suid"), (0o2777, False, "sgid"), (0o6777, True, "cap"))
        for mode, cap, what in cases:
            prefix = f"kp{what}"
            self.killpriv_victims(prefix, self.KILLPRIV_WRITES, mode, cap)
            r = self.sb.run("jailDom", "", argv=["python3", "-c", self.KILLPRIV_CHANGES, prefix],
                            user="65534")
            kept = self.killpriv_left(prefix, self.KILLPRIV_WRITES)
            self.attack(f"issue 17.2: write/truncate/fallocate a {what} file as 65534 "
                        "keeps its privilege", kept, "; ".join(kept) + " " + r.stdout + r.stderr)
            for op in ("write", "truncate", "ftruncate", "fallocate"):
                self.assertIn(f"{op} ok", r.stdout, r.stderr)
        # A file capability goes on any write, by root too (the kernel's rule); set-id
        # bits stay for a writer with CAP_FSETID (a confined root keeps it), as natively.
        self.killpriv_victims("kproot", self.KILLPRIV_WRITES, 0o6777, cap=True)
        r = self.sb.run("jailDom", "", argv=["python3", "-c", self.KILLPRIV_CHANGES, "kproot"])
        kept = self.killpriv_left("kproot", self.KILLPRIV_WRITES)
        self.attack("issue 17.2: write/truncate/fallocate a file with a capability as root "
                    "keeps it", [k for k in kept if "capability" in k], " ".join(kept) + r.stderr)
        self.assertEqual(sorted(kept), sorted(f"{n}: 0o106777" for n in self.KILLPRIV_WRITES),
                         r.stdout + r.stderr)

    def test_issue17_2_chown_keeps_setid_bits_or_capability(self):
        names = ("u", "g", "s")
        self.killpriv_victims("kpchown", names, 0o6755, cap=True)
        code = ("import os\n"
                "for n, ids in (('u', (65534, -1)), ('g', (-1, 65534)), ('s', (0, 0))):\n"
                "    try: os.chown('/tmp/kpchown' + n, *ids); print(n, 'ok')\n"
                "    except OSError as e: print(n, 'errno', e.errno)\n")
        r = self.py(code)  # a confined root: CAP_CHOWN
        kept = self.killpriv_left("kpchown", names)
        self.attack("issue 17.2: chown of a setuid/setgid file with a capability keeps them",
                    kept, "; ".join(kept) + " " + r.stdout + r.stderr)
        for n in names:
            self.assertIn(f"{n} ok", r.stdout, r.stderr)

    # A uid-0 caller without CAP_FSETID in the initial user namespace: one that dropped
    # it (capset), then also in a user namespace of its own (still uid 0 to the kernel,
    # no map needed; its status shows every capability, of that namespace only). The kernel clears for both (capable()
    # asks the initial namespace); so must the daemon, on write and on an O_TRUNC open
    # (of an existing file, with or without O_CREAT).
    KILLPRIV_ROOT = ("import ctypes, os, sys\n"
                     "libc = ctypes.CDLL(None, use_errno=True)\n"
                     "def t(what, f):\n"
                     "    try: f(); print(what, 'ok')\n"
                     "    except OSError as e: print(what, 'errno', e.errno)\n"
                     "hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)\n"
                     "data = (ctypes.c_uint32 * 6)()\n"
                     "assert libc.capget(hdr, data) == 0\n"
                     "for i in (0, 1, 2): data[i] &= ~(1 << 4)\n"  # CAP_FSETID
                     "assert libc.capset(hdr, data) == 0, ctypes.get_errno()\n"
                     "if sys.argv[1] == 'userns' and libc.unshare(0x10000000) != 0:\n"
                     "    sys.exit('unshare %d' % ctypes.get_errno())\n"
                     "print('ready', flush=True)\n"
                     "def wr(p, fl=0):\n"
                     "    fd = os.open(p, os.O_WRONLY | fl, 0o644)\n"
                     "    if not fl: os.write(fd, b'#!/bin/sh\\nid\\n')\n"
                     "    os.close(fd)\n"
                     "p = '/tmp/' + sys.argv[2]\n"
                     "t('write', lambda: wr(p + 'w'))\n"
                     "t('truncate', lambda: os.truncate(p + 't', 2))\n"
                     "t('open O_TRUNC', lambda: wr(p + 'o', os.O_TRUNC))\n"
                     "t('open O_CREAT|O_TRUNC', lambda: wr(p + 'c', os.O_CREAT | os.O_TRUNC))\n")
    KILLPRIV_ROOT_OPS = ("w", "t", "o", "c")

    def test_issue17_2_root_without_fsetid_keeps_setid_bits(self):
        for how in ("capset", "userns"):
            prefix = f"kpr{how}"
            self.killpriv_victims(prefix, self.KILLPRIV_ROOT_OPS, 0o6777)
            r = self.py(self.KILLPRIV_ROOT.replace("sys.argv[1]", repr(how))
                        .replace("sys.argv[2]", repr(prefix)))
            kept = self.killpriv_left(prefix, self.KILLPRIV_ROOT_OPS)
            self.attack(f"issue 17.2: a uid-0 caller without CAP_FSETID ({how}) writes or "
                        "O_TRUNC-opens a setuid-root file, which keeps its bits",
                        kept, "; ".join(kept) + " " + r.stdout + r.stderr)
            self.assertIn("ready", r.stdout, r.stderr)
            for op in ("write", "truncate", "open O_TRUNC", "open O_CREAT|O_TRUNC"):
                self.assertIn(f"{op} ok", r.stdout, r.stderr)

    # The other ways data changes: a shared mapping's write-back, pwritev2(RWF_APPEND),
    # copy_file_range, sendfile, fallocate's hole punching and zeroing, a truncate to the
    # same size; as 65534 and as a uid-0 caller that dropped CAP_FSETID.
    KILLPRIV_OTHER = ("import ctypes, mmap, os, sys\n"
                      "libc = ctypes.CDLL(None, use_errno=True)\n"
                      "def t(what, f):\n"
                      "    try: f(); print(what, 'ok')\n"
                      "    except OSError as e: print(what, 'errno', e.errno)\n"
                      "if os.getuid() == 0:\n"
                      "    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)\n"
                      "    data = (ctypes.c_uint32 * 6)()\n"
                      "    assert libc.capget(hdr, data) == 0\n"
                      "    for i in (0, 1, 2): data[i] &= ~(1 << 4)\n"
                      "    assert libc.capset(hdr, data) == 0, ctypes.get_errno()\n"
                      "p = '/tmp/' + sys.argv[1]\n"
                      "def mm(p):\n"
                      "    fd = os.open(p, os.O_RDWR); m = mmap.mmap(fd, 8)\n"
                      "    m[0:8] = b'#!/bin/x'; m.flush(); m.close(); os.close(fd)\n"
                      "def app(p):\n"
                      "    fd = os.open(p, os.O_WRONLY); os.pwritev(fd, [b'id\\n'], 0, 0x10)\n"
                      "    os.close(fd)\n"
                      "def cfr(p):\n"
                      "    fd = os.open(p, os.O_WRONLY); src = os.open(p[:-1] + 'e', os.O_RDONLY)\n"
                      "    os.copy_file_range(src, fd, 4, 0, 0); os.close(src); os.close(fd)\n"
                      "def sf(p):\n"
                      "    fd = os.open(p, os.O_WRONLY); src = os.open(p[:-1] + 'e', os.O_RDONLY)\n"
                      "    os.sendfile(fd, src, 0, 4); os.close(src); os.close(fd)\n"
                      "def fa(p, mode):\n"
                      "    fd = os.open(p, os.O_WRONLY)\n"
                      "    if libc.fallocate(fd, mode, ctypes.c_long(0), ctypes.c_long(4096)):\n"
                      "        raise OSError(ctypes.get_errno(), 'fallocate')\n"
                      "    os.close(fd)\n"
                      "t('mmap', lambda: mm(p + 'm'))\n"
                      "t('append', lambda: app(p + 'a'))\n"
                      "t('copy_file_range', lambda: cfr(p + 'c'))\n"
                      "t('sendfile', lambda: sf(p + 's'))\n"
                      "t('punch', lambda: fa(p + 'p', 3))\n"  # KEEP_SIZE | PUNCH_HOLE
                      "t('zero', lambda: fa(p + 'z', 0x10))\n"  # ZERO_RANGE
                      "t('same size', lambda: os.truncate(p + 'e', os.stat(p + 'e').st_size))\n")
    KILLPRIV_OTHER_OPS = ("m", "a", "c", "s", "p", "z", "e")

    def test_issue17_2_other_writes_keep_setid_bits(self):
        for user in ("65534", None):
            prefix = f"kpo{user or 'root'}"
            self.killpriv_victims(prefix, self.KILLPRIV_OTHER_OPS, 0o6777)
            r = self.sb.run("jailDom", "", argv=["python3", "-c", self.KILLPRIV_OTHER, prefix],
                            user=user)
            kept = self.killpriv_left(prefix, self.KILLPRIV_OTHER_OPS)
            self.attack(f"issue 17.2: mmap, RWF_APPEND, copy_file_range, sendfile, punch, "
                        f"zero, same-size truncate of a setuid-root file as {user or 'root'} "
                        "without CAP_FSETID keeps its bits",
                        kept, "; ".join(kept) + " " + r.stdout + r.stderr)
            for op in ("mmap", "append", "copy_file_range", "sendfile", "same size"):
                self.assertIn(f"{op} ok", r.stdout, r.stderr)

    def test_issue17_2_writeback_cache_keeps_setid_bits(self):
        # With `writeback = true` the kernel writes a file's pages back later without the
        # writer's identity (or, under HANDLE_KILLPRIV_V2, writes through when the caller
        # would clear): the same attacks must leave the bits gone.
        sb = Configured(DOMAINS, settings="writeback = true\n", labels=LABELS, files=FILES,
                        labels_on=LABELS_ON)
        with sb:
            saved, self.sb = self.sb, sb
            try:
                runs = [("65534", "kpwbu", self.KILLPRIV_WRITES, self.KILLPRIV_CHANGES, []),
                        ("65534", "kpwbo", self.KILLPRIV_OTHER_OPS, self.KILLPRIV_OTHER, []),
                        (None, "kpwbr", self.KILLPRIV_ROOT_OPS, self.KILLPRIV_ROOT, ["capset"]),
                        (None, "kpwbn", self.KILLPRIV_ROOT_OPS, self.KILLPRIV_ROOT, ["userns"])]
                for user, prefix, ops, code, args in runs:
                    self.killpriv_victims(prefix, ops, 0o6777)
                    r = sb.run("jailDom", "", argv=["python3", "-c", code] + args + [prefix],
                               user=user)
                    kept = self.killpriv_left(prefix, ops)
                    self.attack(f"issue 17.2: writeback cache: {prefix} changes a setuid-root "
                                "file, which keeps its bits",
                                kept, "; ".join(kept) + " " + r.stdout + r.stderr)
                    self.assertNotIn("errno", r.stdout.replace("errno 95", ""), r.stderr)
            finally:
                self.sb = saved

    def test_issue17_2_setgid_without_group_exec_keeps_its_bit(self):
        # Setgid without group-execute (02766, group root): a write by a caller outside
        # the file's group clears it (the kernel's rule), though no exec would use it.
        self.killpriv_victims("kpsg", self.KILLPRIV_WRITES, 0o2766)
        r = self.sb.run("jailDom", "", argv=["python3", "-c", self.KILLPRIV_CHANGES, "kpsg"],
                        user="65534")
        kept = self.killpriv_left("kpsg", self.KILLPRIV_WRITES)
        self.attack("issue 17.2: a write by a caller outside its group keeps a setgid bit "
                    "without group-execute", kept, "; ".join(kept) + " " + r.stdout + r.stderr)
        for op in ("write", "truncate", "ftruncate", "fallocate"):
            self.assertIn(f"{op} ok", r.stdout, r.stderr)

    def test_issue12_6_loader_maps_a_file_without_x(self):
        # /tmp is rw without x: exec of a copy of echo is refused, and so must be its
        # mapping as code by the dynamic loader (mmap PROT_EXEC of a read-only open).
        loader = "/lib64/ld-linux-x86-64.so.2"
        for no_proc, user in ((False, None), (True, None), (False, "65534")):
            r = self.jail(f"cp /bin/echo /tmp/e{user or ''} && "
                          f"{loader} /tmp/e{user or ''} ESCAPED-LOADER; "
                          f"{loader} /bin/echo control-ok", no_proc=no_proc, user=user)
            self.attack("issue 12.6: run a file without x through the dynamic loader"
                        + (" (--no-proc)" if no_proc else "") + (" (--user)" if user else ""),
                        "ESCAPED-LOADER" in r.stdout, r.stdout + r.stderr)
            self.assertIn("control-ok", r.stdout, r.stderr)  # x on /bin: the loader works
        # The same with mmap(PROT_READ) and then mprotect(PROT_EXEC).
        r = self.py("import ctypes, mmap, os\n"
                    "libc = ctypes.CDLL(None, use_errno=True)\n"
                    "libc.mmap.restype = ctypes.c_void_p\n"
                    "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,"
                    " ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
                    "libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]\n"
                    "fd = os.open('/tmp/e', os.O_RDONLY)\n"
                    "a = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_PRIVATE, fd, 0)\n"
                    "rc = libc.mprotect(a, 4096, mmap.PROT_READ | mmap.PROT_EXEC)\n"
                    "print('mprotect', 'ESCAPED-MPROTECT' if rc == 0 else ctypes.get_errno())\n"
                    "b = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_EXEC,"
                    " mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)\n"
                    "print('anonymous exec', 'ok' if b not in (None, 2**64 - 1) else 'failed')\n")
        self.attack("issue 12.6: mprotect(PROT_EXEC) of a file without x",
                    "ESCAPED-MPROTECT" in r.stdout, r.stdout + r.stderr)
        self.assertIn("mprotect 1", r.stdout, r.stderr)  # EPERM
        self.assertIn("anonymous exec ok", r.stdout, r.stderr)  # JITs keep working

    def test_issue12_harden_host_sysv_shm_of_another_user(self):
        # A host process of uid 1000 keeps the secret in a System V shared memory segment
        # (mode 0600). A confined root with CAP_IPC_OWNER in the host's IPC namespace
        # would attach it; a world has its own IPC namespace and keeps no CAP_IPC_OWNER.
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        key, size = 0x5e7f5, 4096
        shmid = libc.shmget(key, size, 0o1000 | 0o2000 | 0o600)  # IPC_CREAT | IPC_EXCL
        self.assertGreaterEqual(shmid, 0, os.strerror(ctypes.get_errno()))
        try:
            addr = libc.shmat(shmid, None, 0)
            ctypes.memmove(addr, SECRET.encode(), len(SECRET))
            libc.shmdt(ctypes.c_void_p(addr))
            # struct shmid64_ds on x86_64: ipc64_perm first (key, uid, gid, cuid, cgid, mode)
            buf = ctypes.create_string_buffer(256)
            self.assertEqual(libc.shmctl(shmid, 2, buf), 0)  # IPC_STAT
            ctypes.c_uint32.from_buffer(buf, 4).value = 1000  # uid
            ctypes.c_uint32.from_buffer(buf, 8).value = 1000  # gid
            self.assertEqual(libc.shmctl(shmid, 1, buf), 0)  # IPC_SET
            r = self.py("import ctypes, os\n"
                        "libc = ctypes.CDLL(None, use_errno=True)\n"
                        "libc.shmat.restype = ctypes.c_void_p\n"
                        f"for shmid in (libc.shmget({key}, 0, 0), {shmid}):\n"
                        "    a = libc.shmat(shmid, None, 0o10000)\n"  # SHM_RDONLY
                        "    if a in (None, ctypes.c_void_p(-1).value):\n"
                        "        print('shmat', shmid, os.strerror(ctypes.get_errno()))\n"
                        "    else:\n"
                        "        print(ctypes.string_at(a, 32).split(b'\\0')[0].decode())\n")
            self.attack("attach a host user's SysV shared memory (CAP_IPC_OWNER)",
                        escaped_text(r), r.stdout + r.stderr)
            self.assertIn("shmat", r.stdout, r.stderr)
        finally:
            libc.shmctl(shmid, 0, None)  # IPC_RMID

    def test_issue12_5_open_trunc_of_a_file_renamed_behind_the_mount(self):
        # The node of /box/a is looked up again without an fd (caches dropped) while its
        # label is still cached; the host renames b (lockedObj: read only) over a; the
        # world opens a O_WRONLY|O_TRUNC. Whatever the answer, b's data must stay.
        os.makedirs(self.sb.backing("/box"), exist_ok=True)
        a, b = self.sb.backing("/box/a"), self.sb.backing("/box/b")
        for path, text in ((a, "A-DATA\n"), (b, SECRET + "\n")):
            with open(path, "w") as f:
                f.write(text)
        self.sb.set_label("/box/b", "lockedObj")
        r = self.sb.run("boxDom", "cat /box/a")
        self.assertIn("A-DATA", r.stdout, r.stderr)
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        code = ("import os, sys\n"
                "os.stat('/box/a'); print('ready', flush=True); sys.stdin.readline()\n"
                "try: os.close(os.open('/box/a', os.O_WRONLY | os.O_TRUNC)); print('opened')\n"
                "except OSError as e: print('open errno', e.errno)\n")
        p = self.sb.popen("boxDom", "", argv=["python3", "-c", code], stdin=subprocess.PIPE)
        self.assertEqual(p.stdout.readline().strip(), "ready")
        os.rename(b, a)
        out, err = p.communicate("go\n", timeout=60)
        with open(a) as f:
            left = f.read()
        self.attack("issue 12.5: open(O_TRUNC) of a read-only file renamed behind the mount",
                    left != SECRET + "\n", f"left {left!r}: {out} {err}")

    # ---- policy reload -----------------------------------------------------------------
    def test_reads_racing_a_policy_reload(self):
        # Policy B: raceDom loses /race. Answers must be the content or EPERM, nothing
        # else, and once B is loaded (and acknowledged), only EPERM.
        dom_b = dict(DOMAINS)
        dom_b["raceDom"] = dict(id=14, rules=BASE_RULES + ["-r /race "])
        pol_b = h.write_policy(os.path.join(self.sb.work, "policy-b"), dom_b, labels=LABELS)
        pol_a = self.sb.policy
        code = ("import sys\n"
                "out = []\n"
                "for i in range(1000):\n"
                "    try:\n"
                "        with open('/race/r.txt') as f: v = f.read()\n"
                "        out.append('R' if v == 'RACE-OK\\n' else 'X')\n"
                "    except OSError as e: out.append('E%d' % e.errno)\n"
                "print(''.join(o[0] if o in ('R', 'E1') else '[' + o + ']' for o in out))\n")
        p = self.sb.popen("raceDom", "", argv=["python3", "-c", code])
        loads = 0
        while p.poll() is None and loads < 40:
            r = self.sb.spt("-p", pol_b if loads % 2 == 0 else pol_a)
            self.assertEqual(r.returncode, 0, r.stderr)
            loads += 1
        out, err = p.communicate(timeout=60)
        answers = out.strip()
        print(f"\nreload race: {loads} reloads, {answers.count('R')} reads allowed, "
              f"{answers.count('E')} denied", file=sys.stderr)
        bad = [c for c in answers if c not in "RE"]
        self.attack("1,000 reads racing policy reloads", bool(bad) or len(answers) != 1000,
                    f"{len(answers)} answers, odd: {answers[:200]}")
        self.assertEqual(self.sb.spt("-p", pol_b).returncode, 0)
        r = self.sb.run("raceDom", "cat /race/r.txt")
        self.attack("read after the reload that denies it", "RACE-OK" in r.stdout, r.stdout)
        self.assertEqual(self.sb.spt("-p", pol_a).returncode, 0)

    # ---- the control socket (issue 12 item 4, issue 15 item 1) -------------------------
    def test_issue12_4_control_connection_handed_on_then_pid_reused(self):
        # A confined process connects, hands the connection to its child and exits; an
        # unconfined process (ours) is put on its pid through ns_last_pid; the child then
        # asks to disable enforcement. The daemon must not take the impostor for the caller.
        before = control_attacks.level_of(self.sb.socket, "jailDom")
        reply, reused = control_attacks.pid_reuse_handoff(
            self.sb.socket, "jailDom", ["domain", "set", "-n", "jailDom", "-l", "disabled"])
        after = control_attacks.level_of(self.sb.socket, "jailDom")
        if after != before:
            self.sb.spt("-p", self.sb.policy)  # undo, for the attacks that follow
        self.assertTrue(reused, "no process could be put on the old pid")
        self.attack("control socket: hand the connection on, pid reused by an unconfined "
                    "process", after != before or reply.startswith("reply 0"), reply)
        self.assertTrue(reply.startswith("reply 77"), reply)
        self.assertIn("cannot be identified", reply)

    def test_issue15_1_control_socket_slots_held_by_a_world_and_a_user(self):
        # A confined world holds connections from 8 PID namespaces of its own, and an
        # unprivileged local user holds more, all trickling; then an administrator's
        # `spt -l` and a new spt-run must still work.
        holder = control_attacks.write_holder(self.sb.work)
        os.chmod(self.sb.work, 0o711)  # let the unprivileged user reach the socket
        # /usr/bin/python3, not "python3" from PATH: the holder starts copies of itself
        # (sys.executable) from inside the world, where only the system's is executable.
        world = self.sb.popen("callerDom", "", root=False, stderr=subprocess.DEVNULL,
                              argv=["/usr/bin/python3", holder, self.sb.socket, "6", "8"])
        user = control_attacks.unprivileged_holder(self.sb.socket, holder, 6)
        try:
            self.assertTrue(control_attacks.wait_for_lines(world, "ready", 8),
                            "the world's holders did not start")
            self.assertTrue(control_attacks.wait_for_lines(user, "ready", 1),
                            "the unprivileged holder did not start")
            r = self.sb.spt("-l")
            self.attack("control socket: slots held by a world and a local user, then spt -l",
                        r.returncode != 0, r.stderr)
            r = self.sb.run("jailDom", "echo started-ok")
            self.attack("control socket: slots held by a world and a local user, then spt-run",
                        "started-ok" not in r.stdout, r.stderr)
        finally:
            os.chmod(self.sb.work, 0o700)
            user.kill()
            user.communicate()
            kill_world(world)


    # ---- today's mechanisms, attacked from outside their authors' assumptions ---------
    def test_issue17_4_epoch_page_cannot_be_written_by_its_holder(self):
        # The page reaches every supervisor read-only, but its descriptor names a memfd
        # (mode 0777): reopened through /proc/self/fd it would be writable, and whoever
        # holds one (any session opener) could hold the counter still for every world's
        # supervisor, which would keep answers across a reload. The seal refuses writes.
        s, fd, code = control_attacks.open_session(self.sb.socket)
        try:
            self.assertEqual(code, 0)
            self.assertIsNotNone(fd, "no epoch page came with the session")
            ways = control_attacks.write_epoch_page(fd)
            self.attack("issue 17.4: the holder of the epoch page writes the counter", ways,
                        " and ".join(ways))
        finally:
            if fd is not None:
                os.close(fd)
            s.close()


    def test_issue17_4_kept_answers_outlive_a_daemon_restart(self):
        # The supervisor keeps answers while the epoch page stands still: a daemon that
        # ends leaves its page mapped and still, so without a check of the session a
        # world would keep the old daemon's socket rules under a restarted daemon whose
        # policy takes them away (the world stays placed: the state file).
        loop = dict(id=31, rules=BASE_RULES + PYTHON_RULES + [
            "-c inet_stream_socket_create grant", "-p inet_socket_connect loopback grant"])
        with Sandbox({"loopDom": loop}, shared_parent=True) as sb:
            p, attempt = confine.connector(sb, "loopDom")
            self.assertEqual(attempt(), "ECONNREFUSED")
            self.assertEqual(attempt(), "ECONNREFUSED")  # a kept answer
            sb.unmount()
            narrowed = dict(loop, rules=[r for r in loop["rules"] if "connect" not in r])
            h.write_policy(sb.policy, {"loopDom": narrowed}, default_domain=sb.default_domain)
            sb.mount()
            got = attempt()
            self.attack("issue 17.4: a kept answer outlives a daemon restart with a new policy",
                        got == "ECONNREFUSED", got)
            self.assertEqual(got, "EPERM")
            p.stdin.close()
            self.assertEqual(p.wait(timeout=30), 0, p.stderr.read())


    def test_issue17_4_thread_exec_into_a_narrower_domain_keeps_no_answer(self):
        # The leader keeps asking (its answer kept at the newest epoch) while another
        # thread execs a program whose exec transition enters a domain without sockets:
        # the exec'ing thread takes the leader's id, and the leader's pidfd then names a
        # live thread again, so only the transition's epoch bump (before the gate lets the
        # new program run) keeps its first connect from the leader's kept answer.
        connect = ("import errno, socket\n"
                   "def conn():\n"
                   "    try: socket.socket().connect(('127.0.0.1', 9)); return 'ok'\n"
                   "    except OSError as e: return errno.errorcode[e.errno]\n")
        # The copy finds its prefix beside itself (the mount): give it the host's modules.
        child = (f"import sys; sys.path[:0] = {[d for d in sys.path if 'dynload' in d]!r}\n"
                 + connect + "import os\nprint('after', os.getpid(), conn(), flush=True)\n")
        parent = connect + (
            "import os, sys, threading\n"
            "print('before', os.getpid(), conn(), flush=True)\n"
            "argv = [sys.argv[1], '-I', '-c', sys.argv[2]]\n"
            "threading.Thread(target=lambda: os.execv(argv[0], argv)).start()\n"
            "while True: conn()\n")
        domains = {
            "netSrcDom": dict(id=51, rules=BASE_RULES + PYTHON_RULES + [
                "-r /opt rx", "-c inet_stream_socket_create grant",
                "-p inet_socket_connect loopback grant",
                "-d toolObj noNetDom file_exec grant"]),
            "noNetDom": dict(id=52, rules=BASE_RULES + PYTHON_RULES + [
                "-r /opt rx", "-o toolObj rx", "genericSys grant"]),
        }
        python = os.path.realpath(sys.executable)
        with Sandbox(domains, labels=[("toolObj", 3402)],
                     files={"/opt/toolpy": (python, 0o755)},
                     labels_on={"/opt/toolpy": "toolObj"}) as sb:
            for _ in range(3):
                r = h.run(["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"',
                           "sh"] + sb.spt_run_args(
                               "netSrcDom", [python, "-I", "-c", parent,
                                             sb.path("/opt/toolpy"), child], root=False),
                          timeout=60, env=world_env())
                lines = dict((l.split()[0], l.split()[1:]) for l in r.stdout.splitlines()
                             if len(l.split()) == 3)
                self.assertEqual(lines.get("before", [None, None])[1], "ECONNREFUSED",
                                 r.stdout + r.stderr)
                self.assertIn("after", lines, r.stdout + r.stderr)
                self.assertEqual(lines["after"][0], lines["before"][0])  # the leader's id
                got = lines["after"][1]
                self.attack("issue 17.4: a thread's exec into a narrower domain, the leader's "
                            "kept answer", got in ("ok", "ECONNREFUSED"), got)
                self.assertEqual(got, "EPERM")


    def test_issue17_4_sessions_exhausted_then_new_worlds(self):
        # Every session is held (256, by a supervisor-capable caller): a new world's
        # supervisor is refused one (exit 75) and must ask per call, deciding as before:
        # not fail open, not fail to start.
        held = []
        try:
            for _ in range(300):
                s, fd, code = control_attacks.open_session(self.sb.socket)
                if fd is not None:
                    os.close(fd)
                held.append(s)
                if code != 0:
                    break
            self.assertEqual(code, 75, f"{len(held)} sessions opened")
            make = "import socket\ntry: socket.socket(socket.AF_UNIX); print('made')\n" \
                   "except OSError as e: print('refused', e.errno)\n"
            r = self.py(make)
            self.attack("issue 17.4: sessions exhausted, a new world's socket rules",
                        "made" in r.stdout, r.stdout + r.stderr)
            self.assertIn("refused 1", r.stdout, r.stderr)
            r = self.py(make, domain="callerDom")
            self.assertIn("made", r.stdout, r.stderr)
        finally:
            for s in held:
                s.close()


    def test_audit_mark_forges_no_record_and_no_caller(self):
        # `spt --audit-mark` may come from any domain (docs/spt.md): a confined root
        # program writes marks meant to pass for something else: a line break and a
        # forged SPT_AVC record, quotes, and a trailing backslash (which a quote-aware
        # reader takes as escaping the closing quote, so the mark's own pid, uid and
        # caller_domain would read as part of the text and the forged ones in it win).
        tag = "forge-" + str(os.getpid())
        texts = [tag + "\ntype=SPT_AVC msg=audit(1.0): denied { read } path=\"/secret/s.txt\"",
                 tag + " caller_domain=superDom(1) uid=0 pid=1 \\",
                 tag + " \\\" caller_domain=superDom(1) \\"]
        code = ("import json, sys\n"
                "sys.path.insert(0, sys.argv[2])\n"
                "import control_attacks\n"
                "import time\n"
                "for t in json.loads(sys.argv[3]):\n"
                "    for _ in range(100):  # 75: over the rate limit; the next second admits\n"
                "        c = control_attacks.call(sys.argv[1], ['spt', '--audit-mark', t])[0]\n"
                "        if c != 75: break\n"
                "        time.sleep(0.1)\n"
                "    print(c)\n")
        p = self.placed_plain(code, [self.sb.socket, os.path.dirname(os.path.abspath(__file__)),
                                     json.dumps(texts)])
        out, err = p.communicate(timeout=30)
        self.assertEqual(out.split(), ["0"] * len(texts), err)
        self.sb.audit()  # every mark is written
        with open(os.path.join(self.sb.work, "audit.log"), errors="replace") as f:
            hexed = tag.encode().hex().upper()
            lines = [l for l in f.read().splitlines() if tag in l or hexed in l]
        forged = [l for l in lines if not l.startswith("type=SPT_USER ")]
        self.attack("audit mark: a line break starts a forged record", forged, forged)
        self.assertEqual(len(lines), len(texts), lines)
        for line in lines:
            try:  # quote-aware, as spt --suggest reads (a backslash escapes)
                fields = dict(w.split("=", 1) for w in shlex.split(line) if "=" in w)
            except ValueError:  # the line does not parse: its caller is hidden
                fields = {}
            self.attack("audit mark: the text hides or forges the caller's fields",
                        fields.get("caller_domain", "").split("(")[0] != "jailDom", line)


    def test_audit_record_hidden_from_suggest_by_a_backslash(self):
        # A confined program names itself (comm) with a trailing backslash, then is
        # denied: if the writer left the backslash as it is, readers that honour escapes
        # in quoted values (spt --suggest's) would take the comm's closing quote as
        # escaped, the record would not parse, and the denial would vanish from the
        # analysis (and the same for a mark's caller fields).
        path = f"/secret/hide-{os.getpid()}.txt"
        with open(self.sb.backing(path), "w") as f:
            f.write(SECRET + "\n")
        code = ("import ctypes\n"
                "ctypes.CDLL(None).prctl(15, b'hide\\\\', 0, 0, 0)\n"
                f"try: open({path!r})\n"
                "except OSError as e: print('denied', e.errno)\n")
        r = self.py(code)
        self.assertIn("denied 1", r.stdout, r.stderr)
        recs = self.sb.audit(lambda rs: any(path in x["_line"] for x in rs))
        self.assertTrue(any(path in x["_line"] for x in recs), recs[-3:])
        r = h.run([h.tool("spt"), "--suggest", os.path.join(self.sb.work, "audit.log")])
        self.attack("audit record: a trailing backslash in comm hides a denial from "
                    "spt --suggest", path not in r.stdout + r.stderr, r.stdout + r.stderr)


    def test_last_denial_of_an_ended_world_through_its_reused_namespace(self):
        # A world ends; the kernel gives its PID namespace's inode number to the next
        # namespace made (the lowest free one). An unconfined host process in a new PID
        # namespace of that number must be in no world: neither read the ended world's
        # last denial (its paths) nor be decided as the ended world's domain.
        path = f"/secret/leak-{os.getpid()}.txt"
        with open(self.sb.backing(path), "w") as f:
            f.write(SECRET + "\n")
        p = self.sb.popen("jailDom", f"cat {path}; exec sleep 60")
        self.assertTrue(wait_for(lambda: confine.world_of(p.pid) is not None))
        world = confine.world_of(p.pid)
        ns = os.stat(f"/proc/{world}/ns/pid").st_ino
        self.assertTrue(wait_for(lambda: any(path in x["_line"] for x in self.sb.audit())))
        kill_world(p)
        self.assertTrue(wait_for(lambda: not os.path.exists(f"/proc/{world}")))
        probe = ("import os, sys\n"
                 f"sys.path.insert(0, {os.path.join(h.source_dir(), 'tests', 'lib')!r})\n"
                 "import control_client\n"
                 "print('ns', os.stat('/proc/self/ns/pid').st_ino, flush=True)\n"
                 "sys.stdin.readline()\n"
                 "print('reply', control_client.call(sys.argv[1], ['last-denial']))\n"
                 "try: open(sys.argv[2]).read(); print('read ok')\n"
                 "except OSError as e: print('read errno', e.errno)\n")
        # Namespaces made meanwhile may hold lower numbers: each probe holds its own
        # until one gets the ended world's.
        holders, out = [], None
        try:
            for _ in range(30):
                q = subprocess.Popen(["unshare", "-pf", sys.executable, "-c", probe,
                                      self.sb.socket, self.sb.path("/secret/s.txt")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=world_env())
                holders.append(q)
                got = q.stdout.readline().split()
                if got == ["ns", str(ns)]:
                    out, _ = q.communicate("go\n", timeout=30)
                    break
        finally:
            for q in holders:
                q.kill()
                q.communicate()
        if out is None:
            self.skipTest(f"no new PID namespace got the ended world's inode {ns}")
        self.attack("last-denial: an ended world's denial through its reused PID namespace",
                    path in out, out)
        self.attack("an unconfined process in an ended world's reused PID namespace is "
                    "decided as that world's domain", "read ok" not in out, out)
        self.assertIn("in no confined world", out)


    def test_read_only_map_file_escapes_its_computed_label(self):
        # A read-only map's file without a label attribute carries its default label
        # (docs/sptfs.md), but a writable map's file without one is unlabeled: a caller
        # that may write /tmp links, renames or relabels the protected file so that a
        # writable path reaches it (both maps' sources on one host file system).
        work = tempfile.mkdtemp(prefix="sptfs-roesc-")
        self.addCleanup(shutil.rmtree, work, True)
        for rel in ("root/tmp/.keep", "etc/shadow"):
            os.makedirs(os.path.dirname(os.path.join(work, rel)), exist_ok=True)
            with open(os.path.join(work, rel), "w") as f:
                f.write(SECRET + "\n" if rel == "etc/shadow" else "")
        os.chmod(os.path.join(work, "root/tmp"), 0o1777)
        domains = {"roDom": dict(id=5, rules=["-r / r", "-r /tmp rw", "-o passwdObj r"])}
        policy = h.write_policy(os.path.join(work, "policy"), domains,
                                [("shadowObj", 3300), ("passwdObj", 3301)],
                                [("/etc/shadow", "shadowObj")])
        cfg = os.path.join(work, "mount.toml")
        with open(cfg, "w") as f:
            f.write(f'policy = "{policy}"\ndefault_domain = "roDom"\n'
                    '[[map]]\nat = "/"\nsource = "root"\n\n'
                    '[[map]]\nat = "/etc"\nsource = "etc"\nread_only = true\n')
        mnt = os.path.join(work, "mnt")
        os.makedirs(mnt)
        shadow, tmp = os.path.join(mnt, "etc/shadow"), os.path.join(mnt, "tmp")
        # The test process is the caller: nobody placed it, so it is in roDom.
        with h.mount(config=cfg, mountpoint=mnt):
            def attempt(what, fn):
                try:
                    fn()
                except OSError as e:
                    return f"{what}: errno {e.errno}"
                for p in (os.path.join(tmp, "l"), os.path.join(tmp, "r"), shadow):
                    try:
                        if SECRET in open(p).read():
                            return f"{what}: read {p}"
                    except OSError:
                        pass
                return f"{what}: done, nothing read"
            with self.assertRaises(OSError):
                open(shadow).read()
            for what, fn in [
                    ("link", lambda: os.link(shadow, os.path.join(tmp, "l"))),
                    ("symlink", lambda: os.symlink(shadow, os.path.join(tmp, "s"))),
                    ("rename", lambda: os.rename(shadow, os.path.join(tmp, "r"))),
                    ("setxattr", lambda: os.setxattr(shadow, h.label_xattr(), b"passwdObj")),
                    ("removexattr", lambda: os.removexattr(shadow, h.label_xattr()))]:
                got = attempt(what, fn)
                self.attack(f"read-only map: {what} takes a file out of its computed label",
                            "read" in got and "nothing" not in got, got)
            self.assertIsNone(h.get_label(os.path.join(work, "etc/shadow")))


    def test_issue17_4_world_reaches_the_supervisors_session_or_epoch_page(self):
        # spt-run holds a privileged session (records, exec decisions in its name) and
        # the epoch page: the world must hold neither (inherited across its fork and
        # exec) nor reach them through /proc/SPT_RUN_PID/fd or map_files.
        script = ("ls -l /proc/self/fd/ /proc/$SPT/fd/ /proc/$SPT/map_files/ 2>&1; "
                  "cat /proc/self/maps")
        for domain, root in (("hostJailDom", False), ("callerDom", True)):
            argv = self.sb.spt_run_args(domain, ["sh", "-c", script], root=root)
            # The outer shell's $$ is spt-run's pid once it execs it.
            r = h.run(["sh", "-c", 'exec env SPT=$$ "$@"', "sh"] + argv, env=world_env())
            out = r.stdout + r.stderr
            self.assertIn("/proc/self/fd/", out)
            held = [l for l in out.splitlines() if "sptfs-sandbox-epoch" in l
                    or ("socket:" in l and "->" in l)]
            self.attack(f"issue 17.4: a world ({'--root' if root else 'host'}) holds or "
                        "reaches spt-run's session or epoch page", held, "\n".join(held))
        # The detector sees them from the host: a world that made a notified call has a
        # supervisor with a session and the page mapped.
        p = self.sb.popen("callerDom", "", argv=[
            "python3", "-c", "import socket, sys; socket.socket(socket.AF_UNIX); "
            "print('made', flush=True); sys.stdin.read()"], stdin=subprocess.PIPE)
        self.assertEqual(p.stdout.readline().strip(), "made")
        maps = open(f"/proc/{p.pid}/maps").read()
        self.assertIn("sptfs-sandbox-epoch", maps)
        kill_world(p)

    # ---- audit records with caller-chosen text, reached another way than --audit-mark --
    def audit_lines_since(self, start):
        """Lines the daemon wrote after byte `start` of the audit log (up to a mark)."""
        self.sb.audit()
        with open(os.path.join(self.sb.work, "audit.log"), "rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace").splitlines()

    def audit_size(self):
        self.sb.audit()
        return os.path.getsize(os.path.join(self.sb.work, "audit.log"))

    @staticmethod
    def decoded(value):
        try:  # a value that needs it is upper-case hex (docs/audit.md)
            return bytes.fromhex(value).decode(errors="replace")
        except ValueError:
            return value

    def test_audit_transition_refusal_names_a_forged_variable(self):
        # A refused exec transition names the variable that refused it, and the caller
        # chooses its name: everything but '=' and NUL (execve checks neither), so a line
        # break, a quote, a terminal escape or a trailing backslash (which makes readers
        # that honour escapes take the closing quote as escaped and the record as broken).
        tag = "tv" + str(os.getpid())
        code = ("import os, sys\n"
                "name = 'LD_' + sys.argv[1] + '\\x1b[2J\\nforged ' + sys.argv[1] + ' \"\\\\'\n"
                "os.execve('/opt/tooltrue', ['tooltrue'], {name: '1'})\n")
        start = self.audit_size()
        r = self.sb.run("jail2Dom", "", argv=["python3", "-c", code, tag])
        self.assertEqual(r.returncode, 0, r.stderr)  # it ran, untransitioned
        lines = self.audit_lines_since(start)
        broken = [l for l in lines if not RECORD_START.match(l)]
        self.attack("audit: a refused transition's variable name breaks the record's line",
                    broken, broken)
        refused = []
        for l in lines:
            if not l.startswith("type=SPT_TRANSITION ") or "refused" not in l:
                continue
            try:
                fields = dict(w.split("=", 1) for w in shlex.split(l) if "=" in w)
            except ValueError:  # does not parse: the refusal is hidden from readers
                fields = {}
            refused.append((self.decoded(fields.get("reason", "")), l))
        named = [reason for reason, _ in refused if tag in reason]
        self.attack("audit: a refused transition's variable name hides its reason",
                    not named, refused)
        self.assertIn("its environment sets LD_" + tag, named[0])

    def test_audit_fd_budget_record_forged_by_comm(self):
        # The first EMFILE of a world over its descriptor budget is recorded with the
        # caller's comm, which the program names itself (PR_SET_NAME: 15 bytes, any but
        # NUL): a quote and a line break would end the record there and start a line
        # of the program's choosing.
        code = ("import ctypes, os\n"
                "ctypes.CDLL(None).prctl(15, b'a\"\\ntype=SPT_AVC', 0, 0, 0)\n"
                "fds = []\n"
                "try:\n"
                "    while len(fds) < 500: fds.append(os.open('/data/d.txt', os.O_RDONLY))\n"
                "except OSError as e: print('stopped', len(fds), e.errno)\n")
        with Configured({"hogDom": dict(id=10, rules=BASE_RULES + ["-r /data r"])},
                        settings="fd_budget = 64\n") as sb:
            r = sb.run("hogDom", "", argv=["python3", "-c", code])
            self.assertIn("stopped", r.stdout, r.stderr)
            self.assertIn(" 24", r.stdout, r.stderr)  # EMFILE: its budget
            sb.audit()
            with open(os.path.join(sb.work, "audit.log"), errors="replace") as f:
                lines = f.read().splitlines()
        forged = [l for l in lines if not RECORD_START.match(l)]
        self.attack("audit: a comm forges a line in the descriptor budget record", forged,
                    forged)
        budget = [l for l in lines if l.startswith("type=SPT_FD_BUDGET ")]
        self.assertEqual(len(budget), 1, lines)
        fields = dict(w.split("=", 1) for w in shlex.split(budget[0]) if "=" in w)
        self.assertEqual(fields.get("result"), "EMFILE", budget)

    def test_audit_flood_by_executable_mappings(self):
        # Every refused mmap(PROT_EXEC) of a mount file is recorded by the daemon for the
        # world's supervisor (`sandbox exec`); the program chooses how often. File denials
        # and socket records are rate limited (audit_rate, 200/s here): a mapping loop
        # must not write more, or a confined program fills the disk.
        tag = f"/tmp/xflood{os.getpid()}"
        code = ("import ctypes, mmap, os, sys, time\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "libc.mmap.restype = ctypes.c_void_p\n"
                "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,"
                " ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
                "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
                "t, refused = time.monotonic(), 0\n"
                "for i in range(3000):\n"
                "    a = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_EXEC,"
                " mmap.MAP_PRIVATE, fd, 0)\n"
                "    refused += a in (None, 2**64 - 1)\n"
                "print('refused', refused, 'seconds', round(time.monotonic() - t, 2))\n")
        r = self.sb.run("jailDom", "", argv=["sh", "-c", f'cp /bin/echo {tag} && '
                                             'exec python3 -c "$0" ' + tag, code])
        self.assertIn("refused 3000", r.stdout, r.stderr)
        seconds = float(r.stdout.split()[-1])
        lines = [x["_line"] for x in self.sb.audit() if tag in x["_line"]]
        self.attack("audit: executable mappings flood the log past its rate limit",
                    most_in_a_second(lines) > 300,
                    f"{most_in_a_second(lines)} records in a second, {len(lines)} in "
                    f"{seconds} s")
        self.assertTrue(lines, "the refusals are still recorded")

    def test_audit_flood_by_refused_control_commands(self):
        # Every refused control command is recorded with the command's text, and the
        # caller chooses both how often and the text (spt -N NAME takes any name up to
        # the 64 KiB request). Any local user may connect (the socket is 0666); here a
        # confined uid 65534. The records must count against the rate limit (audit_rate,
        # 200/s here), and a line must stay short.
        code = control_flood_code(2000, "['spt', '-N', name]",
                                  "    name = sys.argv[3] * (4000 if i < 10 else 1) + str(i)\n")
        tag = "Rf" + str(os.getpid())
        start = self.audit_size()
        p = self.placed_plain(code, [self.sb.socket, os.path.dirname(os.path.abspath(__file__)),
                                     tag], user="65534")
        out, err = p.communicate(timeout=120)
        self.assertIn("codes", out, err)
        lines = [l for l in self.audit_lines_since(start) if tag in l]
        longest = max((len(l) for l in lines), default=0)
        self.attack("audit: refused control commands flood the log past its rate limit",
                    most_in_a_second(lines) > 300 or longest > 4096,
                    f"{most_in_a_second(lines)} records in a second, {len(lines)} in all, "
                    f"longest {longest} bytes; {out}")
        self.assertTrue(lines, "the refusals are still recorded")

    def test_issue17_4_session_outlives_its_openers_domain(self):
        # A session is opened by a caller that may (domain_transition), and then serves
        # sandbox requests one after another. If its opener is moved into a domain that
        # may not (placed, or by an exec transition, keeping the descriptor), the session
        # must not keep speaking with the right it had: a fresh connection is refused
        # (77), and so must be the next request on the session.
        code = ("import os, socket, struct, sys\n"
                "sys.path.insert(0, sys.argv[2])\n"
                "import control_attacks\n"
                "sys.stdin.readline()\n"
                "s, fd, c = control_attacks.open_session(sys.argv[1])\n"
                "print('opened', c, flush=True)\n"
                "sys.stdin.readline()\n"
                "argv = ['sandbox', 'record', str(os.getpid()), '10', 'denied', 'connect',"
                " 'forged-' + sys.argv[3], 'x']\n"
                "print('fresh', control_attacks.call(sys.argv[1], argv)[0], flush=True)\n"
                "s.sendall(control_attacks.frame(argv))\n"
                "head = s.recv(4, socket.MSG_WAITALL)\n"
                "body = s.recv(struct.unpack('>I', head)[0], socket.MSG_WAITALL) if head else b''\n"
                "print('session', struct.unpack('>i', body[4:8])[0] if body else None)\n")
        domains = {"launchDom": dict(id=7, rules=BASE_RULES + ["-c domain_transition grant"]),
                   "jailDom": dict(id=10, rules=BASE_RULES)}
        tag = str(os.getpid())
        with Sandbox(domains) as sb:
            p = subprocess.Popen([sys.executable, "-c", code, sb.socket,
                                  os.path.dirname(os.path.abspath(__file__)), tag],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=world_env())
            self.addCleanup(p.kill)
            for domain in ("launchDom", "jailDom"):
                c, _, err = control_attacks.call(sb.socket, ["place", str(p.pid), domain])
                self.assertEqual(c, 0, err)
                p.stdin.write("go\n")
                p.stdin.flush()
                if domain == "launchDom":
                    self.assertEqual(p.stdout.readline().split(), ["opened", "0"])
            out, err = p.communicate(timeout=30)
            self.assertIn("fresh 77", out, err)
            self.attack("issue 17.4: a session keeps its opener's right after the opener is "
                        "moved to a domain without it", "session 0" in out, out + err)

    def test_issue17_4_thread_with_its_own_descriptor_table(self):
        # The supervisor reads the socket behind a notified call's descriptor number
        # through a pidfd (TargetSocket): a thread made without CLONE_FILES has a table
        # of its own, so a pidfd of its thread group would show the leader's socket
        # under that number (a stream socket the domain may bind), not the thread's
        # (a datagram socket it may not).
        domains = {"bindDom": dict(id=18, rules=BASE_RULES + [
            "-r /opt rx", "-c unix_socket_create grant", "-c unix_stream_socket_bind grant"])}
        with Sandbox(domains) as sb:
            if not compile_c(THREAD_FDS_C, sb.backing("/opt/threadfds")):
                self.skipTest("no C compiler")
            r = sb.run("bindDom", "/opt/threadfds /tmp/t.sock /tmp/s.sock /tmp/d.sock")
            self.attack("issue 17.4: a thread with its own descriptor table binds a datagram "
                        "socket under a stream socket's number",
                        "dgram bind ok" in r.stdout.splitlines(), r.stdout + r.stderr)
            self.assertEqual(r.stdout.splitlines(), ["dgram bind refused 1", "stream bind ok",
                                                     "leader dgram bind refused 1"], r.stderr)

    def test_audit_flood_by_flipping_a_rule_link(self):
        # A domain that may write the directory of a symlink a -r rule goes through
        # (docs/productlocker.md) re-points it again and again, between two targets of
        # its choosing (2 KB names): each move is one SPT_STALE_RULE record, written by
        # the daemon's watch. It must count against the rate limit (20/s here, so that a
        # loaded machine's flips outrun it).
        domains = {"flipDom": dict(id=19, rules=BASE_RULES + ["-r /tmp/pl r"])}
        with Configured(domains, settings="audit_rate = 20\n",
                        files={"/data/x/f": "X\n"}) as sb:
            os.symlink("/data/x", sb.backing("/tmp/pl"))
            self.assertEqual(sb.spt("-p").returncode, 0)  # the rule goes through the link
            code = ("import os, time\n"
                    "t, n = time.monotonic(), 0\n"
                    "while time.monotonic() - t < 3:\n"
                    "    for end in ('A', 'B'):\n"
                    "        os.symlink('/data/' + end * 2000, '/tmp/pl.new')\n"
                    "        os.rename('/tmp/pl.new', '/tmp/pl'); n += 1\n"
                    "print('flips', n)\n")
            r = sb.run("flipDom", "", argv=["python3", "-c", code])
            self.assertIn("flips", r.stdout, r.stderr)
            lines = [x["_line"] for x in sb.audit() if x.get("type") == "SPT_STALE_RULE"]
        self.attack("audit: flipping a rule's link floods the log past its rate limit",
                    most_in_a_second(lines) > 30,
                    f"{most_in_a_second(lines)} records in a second, {len(lines)} in all; "
                    f"{r.stdout.strip()}")
        self.assertTrue(lines, "the moves are still recorded")

    def test_audit_flood_by_refused_transitions(self):
        # A refused exec transition is recorded with the variable that refused it, and
        # the caller chooses the variable's name (up to 128 KiB, an argument string's
        # limit) and how often it execs: each refusal must stay a short line and count
        # against the rate limit (20/s here, so that a loaded machine's execs outrun it).
        domains = {"srcDom": dict(id=20, rules=BASE_RULES + [
            "-r /opt rx", "-d toolObj toolDom file_exec grant"]),
            "toolDom": dict(id=12, rules=BASE_RULES + ["-r /opt rx", "-o toolObj rx"])}
        code = ("import subprocess, time\n"
                "t, n = time.monotonic(), 0\n"
                "while time.monotonic() - t < 3:\n"
                "    subprocess.run(['/opt/tooltrue'], env={'LD_' + 'V' * 30000: '1'})\n"
                "    n += 1\n"
                "print('execs', n)\n")
        with Configured(domains, settings="audit_rate = 20\n", labels=[("toolObj", 3402)],
                        files={"/opt/tooltrue": ("/usr/bin/true", 0o755)},
                        labels_on={"/opt/tooltrue": "toolObj"}) as sb:
            r = sb.run("srcDom", "", argv=["python3", "-c", code])
            self.assertIn("execs", r.stdout, r.stderr)
            lines = [x["_line"] for x in sb.audit() if x.get("type") == "SPT_TRANSITION"
                     and "refused" in x["_line"]]
        longest = max((len(l) for l in lines), default=0)
        self.attack("audit: refused exec transitions flood the log (rate, or a 30 KB name)",
                    most_in_a_second(lines) > 30 or longest > 4096,
                    f"{most_in_a_second(lines)} records in a second, {len(lines)} in all, "
                    f"longest {longest} bytes; {r.stdout.strip()}")
        self.assertTrue(lines, "the refusals are still recorded")


class EscapeAtLowAuditRate(SandboxTestCase):
    """Floods the audit rate limit must bound, at audit_rate = 20: a bounded log and an
    unbounded one then differ widely even on a slow, loaded machine, where a flood may
    not reach the default 200 lines a second. (Sorts before EscapeSuite, whose summary
    counts these attacks too.)"""
    SANDBOX = dict(EscapeSuite.SANDBOX, audit_rate=20)
    placed_plain = EscapeSuite.placed_plain
    attack = EscapeSuite.attack
    results = EscapeSuite.results

    def test_audit_mark_flood_by_a_confined_caller(self):
        # Marks are events, and events were never rate limited: a confined root program
        # writing 1 KiB marks as fast as it can filled the disk at ~8 MB/s. Its marks now
        # count against the access records' rate (audit_rate, 20/s here): over it, exit 75.
        tag = "flood-" + str(os.getpid())
        code = control_flood_code(3000, "['spt', '--audit-mark', sys.argv[3] + 'x' * 900]")
        p = self.placed_plain(code, [self.sb.socket, os.path.dirname(os.path.abspath(__file__)),
                                     tag])
        out, err = p.communicate(timeout=120)
        self.sb.audit()
        with open(os.path.join(self.sb.work, "audit.log"), errors="replace") as f:
            written = sum(1 for l in f if tag in l)
        seconds = int(out.split()[-1]) if out.strip() else 0
        self.attack("audit mark: a confined caller floods the log", written > 20 * (seconds + 2),
                    f"{written} marks written; {out.strip()} {err[-300:]}")
        self.assertIn("75:", out, err)

    def test_refused_command_flood_by_a_confined_caller(self):
        # Every refused control command wrote an SPT_CONTROL_DENIED event, and events
        # were not rate limited: a confined program asking for what it may not have, as
        # fast as it can, wrote a line per try. Refusals now count against the access
        # records' rate (audit_rate, 20/s here), like a confined caller's marks; the
        # answer (77) is the same either way.
        # At least 3,000 tries over more than 2 s: the flood then has a second of its own
        # (the class's other flood may have used up the rate of the second it starts in).
        code = control_flood_code(100000, "['domain', 'set', '-n', 'jailDom', '-l', 'disabled']",
                                  "    if i >= 3000 and time.monotonic() - t > 2.2: break\n")
        p = self.placed_plain(code, [self.sb.socket, os.path.dirname(os.path.abspath(__file__))])
        out, err = p.communicate(timeout=120)
        self.assertIn("77:", out, err)
        self.assertNotIn(" 0:", out.replace("{0:", " 0:"), err)  # none let through
        self.sb.audit()
        with open(os.path.join(self.sb.work, "audit.log"), errors="replace") as f:
            written = sum(1 for l in f if "SPT_CONTROL_DENIED" in l and f" pid={p.pid} " in l)
        seconds = int(out.split()[-1])
        self.attack("control: a confined caller floods the log with refused commands",
                    written > 20 * (seconds + 2), f"{written} refusals written; {out.strip()}")
        self.assertGreater(written, 0)  # refusals are still recorded, up to the rate


if __name__ == "__main__":
    unittest.main(verbosity=2)
