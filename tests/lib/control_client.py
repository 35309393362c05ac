"""A second, independent implementation of the control protocol (docs/control-protocol.md)
for tests: raw frames, so tests can also send what no tool would."""

import socket
import struct


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def request_payload(argv):
    out = b"SPT1" + struct.pack(">I", len(argv))
    for a in argv:
        b = a.encode()
        out += struct.pack(">I", len(b)) + b
    return out


def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_reply(s):
    """(exit_code, out, err) of one reply frame on socket `s`."""
    (length,) = struct.unpack(">I", recv_exact(s, 4))
    p = recv_exact(s, length)
    assert p[:4] == b"SPR1", p[:4]
    code, out_len = struct.unpack(">iI", p[4:12])
    out = p[12:12 + out_len]
    (err_len,) = struct.unpack(">I", p[12 + out_len:16 + out_len])
    err = p[16 + out_len:16 + out_len + err_len]
    assert len(p) == 16 + out_len + err_len
    return code, out.decode(), err.decode()


def send_raw(path, data):
    """Sends raw bytes, returns the reply tuple (or None if the daemon just closed)."""
    with connect(path) as s:
        s.sendall(data)
        try:
            return read_reply(s)
        except (EOFError, ConnectionResetError):
            return None


def call(path, argv):
    return send_raw(path, frame(request_payload(argv)))
