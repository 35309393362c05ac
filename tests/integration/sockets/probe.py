"""Runs inside a confined world: tries each operation named on the command line and
prints "OP ok" or "OP ERRNAME" (e.g. "create:inet:stream EPERM"). Only loopback or
addresses inside the test's own network namespace are ever used."""

import errno
import os
import socket
import struct
import sys
import time

FAMILIES = {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "unix": socket.AF_UNIX,
            "vsock": getattr(socket, "AF_VSOCK", 40), "netlink": socket.AF_NETLINK,
            "packet": getattr(socket, "AF_PACKET", 17)}
TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM, "raw": socket.SOCK_RAW}


def create(fam, typ):
    s = socket.socket(FAMILIES[fam], TYPES[typ])
    s.close()


def bind_inet(addr):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))


def bind_unix(typ):
    with socket.socket(socket.AF_UNIX, TYPES[typ]) as s:
        s.bind("\0sptfs-sockets-test-%d-%s" % (os.getpid(), typ))


def connect(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect((addr, int(port)))


def sendto(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", (addr, int(port)))


def sendmsg(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendmsg([b"x"], [], 0, (addr, int(port)))


def listen_connect():
    """A server and a client on loopback, both in this process: a real connection."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        with socket.create_connection(srv.getsockname()) as c:
            conn, _ = srv.accept()
            c.sendall(b"ping")
            assert conn.recv(4) == b"ping"
            conn.close()


def chatter(rounds):
    """One loopback connection, then `rounds` of setsockopt, getsockopt, send and recv
    on it: calls of socketSys that are no socket creation, bind or connect."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        with socket.create_connection(srv.getsockname()) as c:
            conn, _ = srv.accept()
            for _ in range(int(rounds)):
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                c.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
                c.send(b"p")
                conn.recv(1)
            conn.close()


def listen_unbound():
    """listen() without bind: the kernel binds the socket to every address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.listen(1)


def vsock(op, typ):
    s = socket.socket(FAMILIES["vsock"], TYPES[typ])
    try:
        if op == "bind":
            s.bind((0xFFFFFFFF, 0xFFFFFFFF))  # VMADDR_CID_ANY, VMADDR_PORT_ANY
        else:
            s.connect((1, 9999))  # VMADDR_CID_LOCAL: never leaves the host
    finally:
        s.close()


def kill_init():
    os.kill(1, 0)


def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def flood(count):
    """`count` denied calls as fast as possible, then one more a second later."""
    for _ in range(int(count)):
        try:
            socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM)
        except OSError:
            pass
    time.sleep(1.1)
    socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM)


def forge(path):
    """Asks the daemon to write a made-up record (docs/control-protocol.md framing)."""
    argv = [b"sandbox", b"record", b"1", b"32", b"denied", b"socket", b"forged", b"forged"]
    body = b"SPT1" + struct.pack(">I", len(argv))
    for a in argv:
        body += struct.pack(">I", len(a)) + a
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(struct.pack(">I", len(body)) + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    code = struct.unpack(">i", data[8:12])[0]
    if code != 0:
        raise OSError(errno.EPERM, "exit %d" % code)


def wait():
    """Blocks until the test writes a line (it kills spt-run meanwhile)."""
    sys.stdin.readline()


def run(op):
    parts = op.split(":")
    kind, args = parts[0], parts[1:]
    table = {"create": create, "bind": bind_inet, "bindunix": bind_unix, "connect": connect,
             "sendto": sendto, "sendmsg": sendmsg, "listenconnect": listen_connect, "listenunbound": listen_unbound, "chatter": chatter,
             "vsock": vsock, "kill": kill_init, "fork": fork, "wait": wait, "flood": flood, "forge": forge,
             "pair": lambda t: socket.socketpair(socket.AF_UNIX, TYPES[t])}
    try:
        table[kind](*args)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


if __name__ == "__main__":
    for op in sys.argv[1:]:
        print(op, run(op), flush=True)
