"""Helpers for confinement tests: a small tree with a policy, mounted by sptfs, and
programs run in it with spt-run.

    from confine import Sandbox, BASE_RULES
    with Sandbox({"jailDom": dict(id=10, rules=BASE_RULES + ["-r /secret "])}) as sb:
        r = sb.run("jailDom", "cat /secret/s.txt")      # spt-run --root, sh -c
        assert "Operation not permitted" in r.stderr

The tree (backing directory sb.tree) holds /bin (links to every host /usr/bin program),
/tmp (1777), /proc, /dev, /etc, /secret/s.txt ("SECRET"), /data/d.txt ("DATA"); host
/lib, /lib64 and /usr are mapped read-only at the same places (and `host_maps`, e.g.
("/etc",), too). `files` adds more
({"/x/y": "text"}), `labels_on` labels backing files ({"/x/y": "someObj"}).
The mount is always unmounted (harness.mount), and every world started with popen()
is killed on exit.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import sptfs_harness as h

# What a confined shell needs to run at all, and a writable /tmp.
BASE_RULES = ["-r / r", "-r /bin rx", "-r /usr rx", "-r /lib rx", "-r /lib64 rx",
              "-r /tmp rw", "-r /proc rw", "-r /dev rw"]
# Without --root, spt-run's Landlock layer reads every -r rule as a host path too
# (docs/spt-run.md, "Host paths"): a domain that runs the host's python (sys.executable)
# outside the tree needs its installation, and its own host libraries.
PYTHON_RULES = [f"-r {os.path.realpath(sys.base_prefix)} rx"]
# What a confined shell needs on the host without --root, and nothing more: no "/"
# (which would reach the backing store) and no /tmp (where the test trees live).
HOST_RULES = ["-r /bin rx", "-r /usr rx", "-r /lib rx", "-r /lib64 rx", "-r /etc/ld.so.cache r",
              "-r /proc rw", "-r /dev rw"]
SECRET = "SECRET-6f1c"  # what no confined program may ever print
EPERM_TEXT = "Operation not permitted"


def world_env():
    """The environment confined programs get: the test's own, without PYTHONPATH (which
    the test runner sets for tests/lib, and which an exec transition refuses to carry
    into the target domain: docs/THREAT-MODEL.md)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


class SandboxTestCase(unittest.TestCase):
    """Tests that share one Sandbox, self.sb: made from SANDBOX (Sandbox's keyword
    arguments) before the class's first test, taken down after its last."""
    SANDBOX = {}

    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox(**cls.SANDBOX).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.sb.__exit__(None, None, None)


def spt_run_bin():
    return h.tool("spt-run")


class Sandbox:
    def __init__(self, domains, labels=(), files=None, labels_on=None,
                 default_domain="superDom", shared_parent=False, host_maps=(), audit_rate=None):
        self.domains = domains
        self.audit_rate = audit_rate  # the mount's audit_rate; None: the daemon's default
        # More host directories mapped read-only at the same place (e.g. "/etc"); a map
        # point hides what the tree has there.
        self.host_maps = tuple(host_maps)
        self.labels = list(labels)
        self.files = dict(files or {})
        self.labels_on = dict(labels_on or {})
        self.default_domain = default_domain
        self.work = tempfile.mkdtemp(prefix="sptfs-confine-")
        self.tree = os.path.join(self.work, "tree")
        # shared_parent: the mount point sits in a shared bind mount of its own, so mounts
        # made there later (a restarted daemon) reach worlds started before (they are
        # slaves of the host's mounts; on hosts without systemd "/" is not shared).
        self.shared = os.path.join(self.work, "shared") if shared_parent else None
        self.mnt = os.path.join(self.shared or self.work, "mnt")
        self.socket = os.path.join(self.work, "control.sock")
        self._mount_cm = None
        self.m = None
        self._procs = []

    # ---- building -------------------------------------------------------------------
    def backing(self, path):
        return os.path.join(self.tree, path.lstrip("/"))

    def _build(self):
        for d in ("bin", "tmp", "proc", "dev", "etc", "secret", "data", "opt"):
            os.makedirs(self.backing(d), exist_ok=True)
        os.chmod(self.backing("tmp"), 0o1777)
        for name in os.listdir("/usr/bin"):
            os.symlink("/usr/bin/" + name, os.path.join(self.backing("bin"), name))
        base = {"/secret/s.txt": SECRET + "\n", "/data/d.txt": "DATA\n",
                "/etc/passwd": "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"}
        base.update(self.files)
        for path, text in base.items():
            p = self.backing(path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if isinstance(text, tuple):  # (host file to copy, mode)
                shutil.copy(text[0], p)
                os.chmod(p, text[1])
            else:
                with open(p, "w") as f:
                    f.write(text)
        for path, label in self.labels_on.items():
            self.set_label(path, label)
        self.policy = h.write_policy(os.path.join(self.work, "policy"), self.domains,
                                     labels=self.labels, default_domain=self.default_domain)
        maps = f'[[map]]\nat = "/"\nsource = "{self.tree}"\n'
        for m in ("/lib", "/lib64", "/usr") + self.host_maps:
            if os.path.islink(m):  # merged /usr: the tree links the same way
                os.symlink(os.readlink(m), self.backing(m))
            elif os.path.isdir(m):
                maps += f'\n[[map]]\nat = "{m}"\nsource = "{m}"\nread_only = true\n'
        self.config = os.path.join(self.work, "sptfs.toml")
        with open(self.config, "w") as f:
            rate = f"audit_rate = {self.audit_rate}\n" if self.audit_rate else ""
            f.write(f'policy = "{self.policy}"\n' + rate + maps)
        if self.shared:
            os.makedirs(self.shared)
            subprocess.run(["mount", "--bind", self.shared, self.shared], check=True)
            subprocess.run(["mount", "--make-shared", self.shared], check=True)
        os.makedirs(self.mnt, exist_ok=True)

    def set_label(self, path, label):
        os.setxattr(self.backing(path), h.label_xattr(), label.encode(), follow_symlinks=False)

    def get_label(self, path):
        return h.get_label(self.backing(path))

    # ---- mounting -------------------------------------------------------------------
    def mount(self):
        self._mount_cm = h.mount(config=self.config, mountpoint=self.mnt, socket=self.socket,
                                 audit_log=os.path.join(self.work, "audit.log"))
        self.m = self._mount_cm.__enter__()
        return self.m

    def unmount(self):
        if self._mount_cm is not None:
            cm, self._mount_cm = self._mount_cm, None
            cm.__exit__(None, None, None)

    def __enter__(self):
        try:
            self._build()
            self.mount()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for p in self._procs:
            kill_world(p)
        self.unmount()
        if self.shared and h.is_mounted(self.shared):
            subprocess.run(["umount", "-l", self.shared])
        shutil.rmtree(self.work, ignore_errors=True)
        return False

    # ---- running --------------------------------------------------------------------
    def spt_run_args(self, domain, argv, root=True, user=None, cwd=None, no_proc=False,
                     options=()):
        args = [spt_run_bin(), "-D", domain, "--socket", self.socket, "--mount", self.mnt]
        args += list(options)
        if root:
            args.append("--root")
        if no_proc:
            args.append("--no-proc")
        if user:
            args += ["--user", user]
        if cwd:
            args += ["--cwd", cwd]
        return args + ["--"] + list(argv)

    def run(self, domain, script, root=True, user=None, cwd=None, timeout=60, argv=None,
            no_proc=False, **kw):
        """spt-run ... -- sh -c SCRIPT (or argv); CompletedProcess with text output.
        Other keyword arguments go to subprocess.run (pass_fds, stdin, ...)."""
        argv = argv or ["sh", "-c", script]
        kw.setdefault("env", world_env())
        return h.run(self.spt_run_args(domain, argv, root, user, cwd, no_proc), timeout=timeout,
                     **kw)

    def popen(self, domain, script, root=True, argv=None, options=(), **kw):
        argv = argv or ["sh", "-c", script]
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("env", world_env())
        p = subprocess.Popen(self.spt_run_args(domain, argv, root, options=options), text=True,
                             **kw)
        self._procs.append(p)
        return p

    def spt(self, *args):
        return h.run([h.tool("spt"), "--socket", self.socket] + list(args))

    def audit(self, until=None, timeout=10.0):
        return self.m.audit(until, timeout)

    def path(self, p):
        """Where tree path `p` is on the host (through the mount)."""
        return os.path.join(self.mnt, p.lstrip("/"))


def world_of(spt_run_pid):
    """The world's first process (the child of spt-run), or None."""
    try:
        with open(f"/proc/{spt_run_pid}/task/{spt_run_pid}/children") as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except OSError:
        return None


def kill_world(p):
    """Kills spt-run `p` and its world (the world's first process takes the rest)."""
    world = world_of(p.pid)
    for pid in (world, p.pid):
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        p.communicate(timeout=10)
    except Exception:
        pass


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def pid_ns(pid):
    return os.readlink(f"/proc/{pid}/ns/pid")


def worlds_in_domain(sb, domain):
    """Pids `spt --ps` lists in `domain`."""
    r = sb.spt("--ps")
    out = []
    for line in r.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].split("(")[0] == domain:
            out.append(int(parts[0]))
    return out


def start_reader(sb, domain, paths, interval):
    """A confined shell in `domain` that keeps appending each tree path's contents (or
    cat's error) to a log; returns (process, read_log), read_log() giving the log so far.
    For tests that watch a world's answers across a daemon stop and restart."""
    log = os.path.join(sb.work, "reads.log")
    reads = "; ".join(f"cat {sb.path(p)} >> {log} 2>&1" for p in paths)
    proc = sb.popen(domain, f"while :; do {reads}; sleep {interval}; done", root=False)

    def read_log():
        if not os.path.exists(log):
            return ""
        with open(log) as f:
            return f.read()
    return proc, read_log


def connector(sb, domain):
    """A world in `domain` (in a network namespace of its own) that tries a TCP connect
    to 127.0.0.1:9 per line read; returns (process, attempt()), attempt() giving
    "ECONNREFUSED" (allowed: nothing listens) or the errno name of the refusal."""
    code = ("import errno, socket, sys\n"
            "for line in sys.stdin:\n"
            "    try:\n"
            "        s = socket.socket(); s.connect(('127.0.0.1', 9)); r = 'ok'\n"
            "    except OSError as e:\n"
            "        r = errno.errorcode[e.errno]\n"
            "    print(r, flush=True)\n")
    p = subprocess.Popen(
        ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
        + sb.spt_run_args(domain, [sys.executable, "-I", "-c", code], root=False),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=world_env())
    sb._procs.append(p)

    def attempt():
        p.stdin.write("go\n")
        p.stdin.flush()
        return p.stdout.readline().strip()
    return p, attempt
