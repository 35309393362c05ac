"""The escape suite: attacks by confined programs (spt-run --root) that must all fail.

Every attack is counted; an attack "escapes" when the confined program gets what its
domain denies (the secret's text, a changed label, a host setting changed) or lands
outside its domain. The closing line states the count: "escape suite: N attacks,
M escapes" (docs/THREAT-MODEL.md reports it). Any escape fails the test that made it.
"""

import os
import shutil
import subprocess
import sys
import time
import unittest

from confine import (BASE_RULES, EPERM_TEXT, HOST_RULES, SECRET, SandboxTestCase, kill_world,
                     wait_for, worlds_in_domain)
import sptfs_harness as h
import control_attacks

SHELL = "/usr/bin/dash"
DOMAINS = {
    # The attacker: reads /data, writes /tmp and /wonly, nothing else of interest.
    "jailDom": dict(id=10, rules=BASE_RULES + [
        "-r /secret ", "-r /wonly w", "-r /data r", "-r /opt rx", "-o secretObj ",
        "-o toolObj r"]),
    # An attacker whose tool (toolObj) runs in toolDom, which may read /secret.
    "jail2Dom": dict(id=11, rules=BASE_RULES + [
        "-r /secret ", "-r /opt rx", "-d toolObj toolDom file_exec grant"]),
    "toolDom": dict(id=12, rules=BASE_RULES + ["-r /secret r", "-r /opt rx", "-o toolObj rx"]),
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
}
LABELS_ON = {"/tmp/lab.txt": "secretObj", "/opt/toolsh": "toolObj", "/opt/bad": "toolObj",
             "/vrun/lab/x.txt": "secretObj"}
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


KNOWN_ESCAPES = {"fail an exec that transitions, then exec another program"}


def escaped_text(r):
    return SECRET in (r.stdout or "") or SECRET in (r.stderr or "")


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
