"""Shared helpers for integration tests: mount sptfs for real and always unmount.

Usage:
    from sptfs_harness import mount, run, read_audit, sptfs_bin
    with mount("/tmp/src", "/tmp/mnt", policy=pol, default_domain="globalVMDom") as m:
        run(["cat", m.path("file")])
        records = m.audit()         # list of dicts, one per key=value line

The daemon runs in the foreground (-f) as a child of the test, so its stderr is kept
(m.stderr() after exit) and it is stopped with SIGTERM; if the mount is still there
after that, it is lazily unmounted. Environment: SPTFS_BUILD (build dir).
"""

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import time


def build_dir():
    return os.environ.get("SPTFS_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def source_dir():
    return os.environ.get("SPTFS_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))


def tool(name):
    """Path of a built program (tools/<name>/<name>)."""
    return os.path.join(build_dir(), "tools", name, name)


def sptfs_bin():
    return tool("sptfs")


def sample_policy():
    return os.path.join(source_dir(), "policies", "esxi")


def is_mounted(mountpoint):
    """True if `mountpoint` is a mount point in this mount namespace (per /proc)."""
    target = os.path.realpath(mountpoint)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4].encode().decode("unicode_escape") == target:
                return True
    return False


def mount_fstype(mountpoint):
    """File system type of the topmost mount at `mountpoint`, or None."""
    target = os.path.realpath(mountpoint)
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            if left.split()[4] == target:
                found = right.split()[0]
    return found


def unmount(mountpoint):
    """Unmounts (lazily if busy); never raises."""
    for cmd in (["fusermount3", "-u", "-q", mountpoint], ["umount", "-l", mountpoint]):
        if not is_mounted(mountpoint):
            return
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def count_fds(pid, target):
    """How many of process `pid`'s descriptors link to `target` ("/dev/fuse",
    "anon_inode:[io_uring]", ...)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}") == target
        except FileNotFoundError:
            pass  # closed meanwhile
    return n


def wait_for_fds(pid, target, want, timeout=10.0):
    """Polls until `want(count_fds(pid, target))` holds or `timeout` seconds pass;
    returns the last count."""
    deadline = time.monotonic() + timeout
    while True:
        n = count_fds(pid, target)
        if want(n) or time.monotonic() > deadline:
            return n
        time.sleep(0.02)


def stalled_thread(pid, deadline):
    """The name of daemon `pid`'s thread that sleeps in a lookup the
    SPTFS_TEST_STALL_LOOKUP hook holds (its clock_nanosleep, x86-64 syscall 230), once
    there is one; None at `deadline` (time.monotonic())."""
    while time.monotonic() < deadline:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                    if f.read().split()[0] != "230":
                        continue
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    return f.read().strip()
            except (FileNotFoundError, IndexError):
                pass
        time.sleep(0.01)
    return None


def run(cmd, check=False, input=None, timeout=60, **kw):
    """Runs `cmd` (list or shell string); returns CompletedProcess with text output."""
    if isinstance(cmd, str):
        kw.setdefault("shell", True)
    return subprocess.run(cmd, capture_output=True, text=True, check=check, input=input,
                          timeout=timeout, **kw)


def parse_kv_line(line):
    """'a=1 b="x y" c=z' -> {'a': '1', 'b': 'x y', 'c': 'z'} (shell-like quoting)."""
    out = {}
    try:
        parts = shlex.split(line)
    except ValueError:
        parts = line.split()
    for p in parts:
        if "=" in p:
            k, v = p.split("=", 1)
            out[k] = v
    return out


def read_audit(path):
    """Audit log lines as dicts (key=value); each dict also has '_line' (raw text)."""
    if not path or not os.path.exists(path):
        return []
    records = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                d = parse_kv_line(line)
                d["_line"] = line
                records.append(d)
    return records


MARK_PREFIX = "sptfs-harness-mark-"


def _without_marks(records):
    return [r for r in records
            if not (r.get("type") == "SPT_USER" and r.get("text", "").startswith(MARK_PREFIX))]


class Mount:
    """A live sptfs mount (returned by mount())."""

    _marks = 0

    def __init__(self, mountpoint, proc, audit_log, socket, stderr_file):
        self.mountpoint = mountpoint
        self.proc = proc
        self.audit_log = audit_log
        self.socket = socket
        self._stderr_file = stderr_file

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)

    def audit(self, until=None, timeout=10.0):
        """Audit records so far (without the harness's own marks). The log is written by
        a thread of the daemon, so a record may still be on its way:
        - with `until` (a function of the records), the log is read again until it holds
          or `timeout` seconds pass, and the records are returned either way for the
          caller's assertion;
        - without it, the harness writes a mark (`spt --audit-mark`, docs/spt.md) and
          waits for it: the daemon's writer keeps the order it was given, so every record
          queued before the call is in what comes back. A check that a record is absent
          therefore fails when the record was made, however late it is written.
        A daemon that has exited has written all it will: its log is read as it is."""
        if until is None:
            return self._audit_to_mark(timeout)
        deadline = time.monotonic() + timeout
        while True:
            records = _without_marks(read_audit(self.audit_log))
            if until(records) or time.monotonic() > deadline:
                return records
            time.sleep(0.01)

    def _audit_to_mark(self, timeout):
        if self.proc.poll() is not None:
            return _without_marks(read_audit(self.audit_log))
        Mount._marks += 1
        token = f"{MARK_PREFIX}{os.getpid()}-{Mount._marks}"
        deadline = time.monotonic() + timeout
        while True:  # 75: a confined default domain's marks are rate limited; retry
            r = run([tool("spt"), "--socket", self.socket, "--audit-mark", token],
                    timeout=timeout)
            if r.returncode != 75 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if r.returncode != 0:
            raise AssertionError(f"spt --audit-mark failed ({r.returncode}): {r.stderr}")
        deadline = time.monotonic() + timeout
        while True:
            records = read_audit(self.audit_log)
            for i, rec in enumerate(records):
                if rec.get("type") == "SPT_USER" and rec.get("text") == token:
                    return _without_marks(records[:i])
            if time.monotonic() > deadline:
                raise AssertionError(f"the audit mark {token} was not written in {timeout}s")
            time.sleep(0.01)

    def stderr(self):
        with open(self._stderr_file, errors="replace") as f:
            return f.read()

    @property
    def pid(self):
        return self.proc.pid


class MountError(Exception):
    pass


def sptfs_args(source=None, mountpoint=None, config=None, policy=None, default_domain=None,
               audit_log=None, socket=None, label_xattr=None, extra_args=()):
    args = [sptfs_bin()]
    if config:
        args += ["--config", config, mountpoint]
    else:
        args += [source, mountpoint]
    if policy:
        args += ["--policy", policy]
    if default_domain:
        args += ["--default-domain", default_domain]
    if audit_log:
        args += ["--audit-log", audit_log]
    if socket:
        args += ["--socket", socket]
    if label_xattr:
        args += ["--label-xattr", label_xattr]
    if os.environ.get("SPTFS_TEST_IO_URING") == "1":
        args += ["--io-uring"]  # the whole suite on the rings (docs/CONTRIBUTING.md)
    return args + list(extra_args)


@contextlib.contextmanager
def mount(source=None, mountpoint=None, config=None, policy=None, default_domain=None,
          audit_log=None, socket=None, label_xattr=None, extra_args=(), timeout=15):
    """Mounts sptfs in the foreground as a child; yields a Mount; always unmounts.

    `audit_log`/`socket` default to files in a fresh temp dir (so tests can read them).
    Raises MountError (with the daemon's stderr) if the mount does not appear in time.
    """
    work = tempfile.mkdtemp(prefix="sptfs-h-")
    if audit_log is None:
        audit_log = os.path.join(work, "audit.log")
    if socket is None:
        socket = os.path.join(work, "control.sock")
    stderr_file = os.path.join(work, "stderr")
    args = sptfs_args(source, mountpoint, config, policy, default_domain, audit_log, socket,
                      label_xattr, extra_args) + ["-f"]
    with open(stderr_file, "w") as err:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    m = Mount(mountpoint, proc, audit_log, socket, stderr_file)
    try:
        deadline = time.monotonic() + timeout
        while not (mount_fstype(mountpoint) or "").startswith("fuse"):
            if proc.poll() is not None:
                raise MountError(f"sptfs exited with {proc.returncode}: {m.stderr()}")
            if time.monotonic() > deadline:
                raise MountError(f"sptfs did not mount {mountpoint} in {timeout}s: {m.stderr()}")
            time.sleep(0.02)
        yield m
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        unmount(mountpoint)


def write_policy(dir, domains, labels=(), defaults=(), default_domain="superDom"):
    """Writes a policy set (format: docs/policy-language.md) into `dir`; returns `dir`.

    domains: {name: dict(id=N, level="enforcing", unconfined=False, rules=[...])}
    labels: [(name, id)] besides "unlabeled" 0; defaults: [(path, label)].
    A "superDom" (id 0, unconfined, file_relabel) is added unless given.
    """
    os.makedirs(os.path.join(dir, "domains"), exist_ok=True)
    q = lambda v: '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    with open(os.path.join(dir, "policy.toml"), "w") as f:
        f.write(f"default_domain = {q(default_domain)}\n")
        for name, ident in [("unlabeled", 0)] + list(labels):
            f.write(f"\n[[label]]\nname = {q(name)}\nid = {ident}\n")
    with open(os.path.join(dir, "default-labels.toml"), "w") as f:
        f.write("# default labels\n")
        for path, label in defaults:
            f.write(f"\n[[default]]\npath = {q(path)}\nlabel = {q(label)}\n")
    doms = dict(domains)
    doms.setdefault("superDom", dict(id=0, unconfined=True, rules=["-c file_relabel grant"]))
    for name, d in doms.items():
        with open(os.path.join(dir, "domains", name + ".toml"), "w") as f:
            f.write(f"name = {q(name)}\nid = {d['id']}\nlevel = {q(d.get('level', 'enforcing'))}\n")
            if d.get("unconfined"):
                f.write("unconfined = true\n")
            f.write("rules = [\n" + "".join(f"  {q(r)},\n" for r in d.get("rules", [])) + "]\n")
    return dir


def label_xattr():
    return "trusted.spt.label" if os.geteuid() == 0 else "user.spt.label"


def get_label(path, attr=None):
    """The raw label attribute of a backing file (str), or None if it has none."""
    try:
        return os.getxattr(path, attr or label_xattr(), follow_symlinks=False).decode(errors="replace")
    except OSError:
        return None
