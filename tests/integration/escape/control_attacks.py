"""Attacks on the control socket for the escape suite (test_escape.py): a connection
handed to a child whose parent's pid is then reused (issue 12 item 4), and callers that
hold the socket's slots (slowloris, issue 15 item 1). Each helper does the attack and
returns what the test needs to decide whether it escaped."""

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time


def frame(argv):
    p = b"SPT1" + struct.pack(">I", len(argv))
    for a in argv:
        p += struct.pack(">I", len(a.encode())) + a.encode()
    return struct.pack(">I", len(p)) + p


def call(sock_path, argv, timeout=20):
    """(exit code, stdout, stderr) of one request; exit code None if no reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(frame(argv))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if len(data) < 16:
        return None, "", ""
    p = data[4:]
    code, n = struct.unpack(">iI", p[4:12])
    (m,) = struct.unpack(">I", p[12 + n:16 + n])
    return code, p[12:12 + n].decode(), p[16 + n:16 + n + m].decode()


def level_of(sock_path, domain):
    code, out, _ = call(sock_path, ["domain", "list"])
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == domain:
            return parts[1]
    return None


# ---- issue 12 item 4: the connection outlives its maker, whose pid is reused ---------

# Runs placed in a confined domain: connects, forks a child that keeps the connection,
# exits. The child waits for a line on stdin, then sends argv[2:] and prints the reply.
HANDOFF = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
if os.fork() == 0:
    sys.stdin.readline()
    import struct
    argv = sys.argv[2:]
    p = b"SPT1" + struct.pack(">I", len(argv))
    for a in argv:
        p += struct.pack(">I", len(a)) + a.encode()
    s.sendall(struct.pack(">I", len(p)) + p)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    code = struct.unpack(">i", data[8:12])[0] if len(data) >= 12 else None
    print("reply", code, data[16:].decode(errors="replace").replace("\n", " "), flush=True)
    os._exit(0)
print("handed-off", os.getpid(), flush=True)
os._exit(0)
"""


def fork_on_pid(pid, tries=500):
    """A child of ours (unconfined: the mount's default domain) on pid `pid`, made by
    setting ns_last_pid just before each fork (other programs on the host may take the
    number first: then retry). Returns its pid, or None."""
    for _ in range(tries):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            try:
                os.execv("/bin/sleep", ["sleep", "120"])
            finally:
                os._exit(127)
        if child == pid:
            return child
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    return None


def pid_reuse_handoff(sock_path, domain, request):
    """The attack: a process placed in `domain` connects and hands the connection to a
    child, then exits; an unconfined process takes its pid; the child sends `request`.
    Returns (reply line of the child, whether the pid was reused)."""
    proc = subprocess.Popen(["sh", "-c", 'read _; exec "$@"', "sh", sys.executable, "-c",
                             HANDOFF, sock_path] + list(request),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    impostor = None
    try:
        code, _, err = call(sock_path, ["place", str(proc.pid), domain])
        if code != 0:
            raise AssertionError(f"place {domain}: {code} {err}")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        first = proc.stdout.readline()  # "handed-off PID": the child has the connection
        proc.wait(timeout=30)           # reaped: its pid is free
        if not first.startswith("handed-off"):
            raise AssertionError(f"the confined process did not hand off: {first!r}")
        impostor = fork_on_pid(proc.pid)
        proc.stdin.write("send\n")
        proc.stdin.close()
        reply = proc.stdout.readline().strip()
        return reply, impostor is not None
    finally:
        if impostor:
            os.kill(impostor, signal.SIGKILL)
            os.waitpid(impostor, 0)
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


# ---- issue 15 item 1: holding the slots ------------------------------------------------

# holder.py SOCK N [NAMESPACES]: holds N connections (announces 65,536 bytes, then
# trickles one byte a second: never 5 s of silence), and opens a new one whenever one is
# answered or cut. "ready" means its first round of connects is done (some may have
# failed: see opened()). With NAMESPACES > 0 it starts that many copies of itself, each in a
# new user + PID namespace (a new "world" key for the daemon), and holds nothing itself.
# Prints "ready" once its connections are open, "busy" for each "busy" reply.
# Each line is one write(2) of its own: the copies share one pipe, and print() (its
# text and its newline written apart when Python runs unbuffered, as under the test
# runner) let lines of two copies interleave ("busyready"): a lost "ready" made the
# slot-holding test fail about one run in three.
HOLDER = r"""
import os, select, socket, struct, sys, time
def say(word):
    os.write(1, word.encode() + b"\n")
sock, n = sys.argv[1], int(sys.argv[2])
ns = int(sys.argv[3]) if len(sys.argv) > 3 else 0
if ns:
    kids = [os.spawnvp(os.P_NOWAIT, "unshare", ["unshare", "-U", "-p", "-f", sys.executable,
                                                  sys.argv[0], sock, str(n)])
            for _ in range(ns)]
    for k in kids:
        os.waitpid(k, 0)
    sys.exit(0)
def opened():
    # A new held connection, or None: the world's socket() is refused when its
    # supervisor cannot reach the daemon (the attack working on an old daemon).
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        s.connect(sock)
        s.sendall(struct.pack(">I", 65536) + b"S")
    except OSError:  # refused ("busy") and closed already: seen in the loop
        pass
    return s
conns = [c for c in (opened() for _ in range(n)) if c]
say("ready")
while True:
    readable, _, _ = select.select(conns, [], [], 1.0)
    for s in readable:
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        say("busy" if len(data) >= 12 and struct.unpack(">i", data[8:12])[0] == 75 else "cut")
        conns.remove(s)
        s.close()
    if len(conns) < n:
        time.sleep(0.2)
        conns += [c for c in (opened() for _ in range(n - len(conns))) if c]
    for s in conns:
        try:
            s.send(b"S")
        except OSError:
            pass
"""


def write_holder(work):
    path = os.path.join(work, "holder.py")
    with open(path, "w") as f:
        f.write(HOLDER)
    return path


def wait_for_lines(proc, word, count, timeout=30):
    """Reads `proc`'s stdout until `count` lines equal `word`; True if they came."""
    deadline = time.monotonic() + timeout
    seen = 0
    buf = ""
    fd = proc.stdout.fileno()
    while seen < count and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 4096).decode()
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split("\n")
        seen += sum(1 for line in lines if line.strip() == word)
    return seen >= count


def unprivileged_holder(sock_path, holder, n, uid=65534):
    """holder.py as an unprivileged local user."""
    def drop():
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return subprocess.Popen(["/usr/bin/python3", holder, sock_path, str(n)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, preexec_fn=drop)


# ---- issue 17.4: the supervisor's session and its epoch page -------------------------

def open_session(sock_path, timeout=20):
    """(connection, epoch page descriptor or None, exit code) of `sandbox session`, as
    spt-run's supervisor opens it (docs/control-protocol.md): the reply, then one byte
    that carries the page (SCM_RIGHTS)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(frame(["sandbox", "session"]))
    (n,) = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))
    body = s.recv(n, socket.MSG_WAITALL)
    code = struct.unpack(">i", body[4:8])[0]
    if code != 0:
        return s, None, code
    _, fds, _, _ = socket.recv_fds(s, 1, 1)
    return s, (fds[0] if fds else None), code


def write_epoch_page(fd):
    """What a holder of the read-only page descriptor can do to the shared counter: a
    list of the ways that changed it (reopen read-write, write(2), a writable mapping)."""
    import mmap
    ways = []
    try:
        rw = os.open(f"/proc/self/fd/{fd}", os.O_RDWR)
    except OSError:
        return ways
    try:
        before = os.pread(rw, 8, 0)
        try:
            if os.pwrite(rw, b"\xff" * 8, 0) == 8 and os.pread(rw, 8, 0) != before:
                ways.append("write")
                os.pwrite(rw, before, 0)
        except OSError:
            pass
        try:
            m = mmap.mmap(rw, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            ways.append("mmap")
            m.close()
        except OSError:
            pass
    finally:
        os.close(rw)
    return ways
