"""What spt-run says when CMD cannot be executed (issue 19 item 6), and who may read a
world's last denial (`last-denial`, docs/control-protocol.md), against a real mount."""

import os
import shutil
import struct
import sys
import unittest

from confine import (BASE_RULES, PYTHON_RULES, EPERM_TEXT, SandboxTestCase, world_of)
import sptfs_harness as h


def elf_interpreter(path):
    """The PT_INTERP of a 64-bit little-endian ELF file (its loader)."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", data, off)[0] == 3:  # PT_INTERP
            start, size = struct.unpack_from("<Q", data, off + 8)[0], struct.unpack_from("<Q", data, off + 32)[0]
            return data[start:start + size].rstrip(b"\0").decode()
    raise AssertionError(f"{path} has no PT_INTERP")


# The loader as the daemon names it: the tree maps the host's /usr and links /lib64 the
# same way, so its canonical tree path is the host's real path.
LOADER = os.path.realpath(elf_interpreter("/usr/bin/true"))
SH = shutil.which("sh")

# The control protocol by hand, as the confined program below runs it (no PYTHONPATH
# into the world: the code travels in -c).
CALL_DAEMON = r'''
import socket, struct
def call(path, argv):
    body = b"SPT1" + struct.pack(">I", len(argv))
    for a in argv:
        body += struct.pack(">I", len(a.encode())) + a.encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(struct.pack(">I", len(body)) + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    p = data[4:]
    code, n = struct.unpack(">iI", p[4:12])
    (m,) = struct.unpack(">I", p[12 + n:16 + n])
    return code, p[12:12 + n].decode(), p[16 + n:16 + n + m].decode()
'''
namespace = {}
exec(CALL_DAEMON, namespace)
call_daemon = namespace["call"]

DOMAINS = {
    # May execute every program under /usr, but not the loader they all need.
    "noLoaderDom": dict(id=20, rules=BASE_RULES + [f"-r {LOADER} r"]),
    # The same, with the loader's denial kept out of the audit log.
    "quietLoaderDom": dict(id=25, rules=BASE_RULES + [f"-r {LOADER} r", f"-r {LOADER} x dontaudit"]),
    # May execute scripts under /opt, but not their interpreter /opt/sh.
    "noInterpDom": dict(id=24, rules=BASE_RULES + ["-r /opt rx", "-r /opt/sh r"]),
    # May read /opt/prog but not execute it.
    "noExecDom": dict(id=21, rules=BASE_RULES + ["-r /opt r"]),
    # A confined program that talks to the daemon (not a supervisor: no domain_transition).
    "askDom": dict(id=22, rules=BASE_RULES + PYTHON_RULES +
                   ["-r /data ", "-c unix_socket_create grant"]),
    "jailDom": dict(id=23, rules=BASE_RULES + ["-r /secret "]),
}


class ExecDenialMessageTest(SandboxTestCase):
    SANDBOX = dict(domains=DOMAINS, files={"/opt/prog": ("/usr/bin/true", 0o755),
                                            "/opt/sh": (os.path.realpath(SH), 0o755)})

    def test_names_the_loader_when_the_program_may_run(self):
        r = self.sb.run("noLoaderDom", "", argv=["/bin/true"])
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assertEqual(
            r.stderr.strip(),
            f"spt-run: /bin/true: {EPERM_TEXT}: its loader or interpreter {LOADER} was denied "
            f"(x, label unlabeled, domain noLoaderDom, rule -r {LOADER} r)")

    def test_names_the_loader_whose_denial_the_log_leaves_out(self):
        r = self.sb.run("quietLoaderDom", "", argv=["/bin/true"])
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assertIn(f"its loader or interpreter {LOADER} was denied (x, label unlabeled, "
                      "domain quietLoaderDom", r.stderr)
        # The log is written in order: once a later denial is there, the loader's would be.
        secret = lambda rs: [x for x in rs if x.get("type") == "SPT_AVC" and
                             x.get("domain") == "jailDom(23)" and x.get("path") == "/secret/s.txt"]
        before = len(secret(h.read_audit(self.sb.m.audit_log)))
        self.sb.run("jailDom", "cat /secret/s.txt")
        records = self.sb.m.audit(until=lambda rs: len(secret(rs)) > before)
        self.assertGreater(len(secret(records)), before)
        self.assertFalse([x for x in records if x.get("type") == "SPT_AVC" and
                          x.get("domain") == "quietLoaderDom(25)"], records)

    def test_names_a_script_s_interpreter_without_root(self):
        # Without --root the world sees the tree under the mount: so does the line. (The
        # loader of a program in the tree is then the host's, which Landlock decides.)
        mnt = os.path.realpath(self.sb.mnt)
        script = self.sb.backing("/opt/run.sh")
        with open(script, "w") as f:
            f.write(f"#!{mnt}/opt/sh\necho ran\n")
        os.chmod(script, 0o755)
        r = self.sb.run("noInterpDom", "", root=False, argv=[self.sb.path("/opt/run.sh")])
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assertEqual(
            r.stderr.strip(),
            f"spt-run: {self.sb.path('/opt/run.sh')}: {EPERM_TEXT}: its loader or interpreter "
            f"{mnt}/opt/sh was denied (x, label unlabeled, domain noInterpDom, rule -r /opt/sh r)")
        self.assertNotIn("ran", r.stdout)

    def test_program_itself_denied_keeps_the_plain_line(self):
        r = self.sb.run("noExecDom", "", argv=["/opt/prog"])
        self.assertEqual(r.returncode, 126, r.stderr)
        self.assertEqual(r.stderr, f"spt-run: /opt/prog: {EPERM_TEXT}\n")

    def test_supervisor_and_administrator_read_a_world_s_last_denial(self):
        p = self.sb.popen("jailDom", "cat /secret/s.txt; echo ready; exec sleep 30")
        self.assertEqual(p.stdout.readline(), "ready\n")
        world = world_of(p.pid)
        code, out, err = call_daemon(self.sb.socket, ["last-denial", str(world)])
        self.assertEqual(code, 0, err)
        fields = dict(l.split("=", 1) for l in out.splitlines())
        self.assertEqual(fields["path"], "/secret/s.txt", out)
        self.assertEqual(fields["requested"], "r", out)
        self.assertEqual(fields["domain"], "jailDom(23)", out)

    def test_confined_program_reads_only_its_own_world(self):
        other = self.sb.popen("jailDom", "cat /secret/s.txt; echo ready; exec sleep 30")
        self.assertEqual(other.stdout.readline(), "ready\n")
        other_world = world_of(other.pid)
        script = CALL_DAEMON + (
            "import sys\n"
            "try:\n    open(sys.argv[2]).read()\n"
            "except OSError as e:\n    print('own denial errno', e.errno)\n"
            "print('OTHER', repr(call(sys.argv[1], ['last-denial', sys.argv[3]])))\n"
            "print('OWN', repr(call(sys.argv[1], ['last-denial'])))\n")
        r = self.sb.run("askDom", "", root=False,
                        argv=[sys.executable, "-c", script, self.sb.socket,
                              self.sb.path("/data/d.txt"), str(other_world)])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = dict(l.split(" ", 1) for l in r.stdout.splitlines() if " " in l)
        self.assertIn("own denial errno 1", r.stdout)
        other_reply = eval(lines["OTHER"])
        self.assertEqual(other_reply[0], 77, other_reply)
        self.assertNotIn("/secret", other_reply[1] + other_reply[2])
        self.assertIn("domain_transition", other_reply[2])
        own_reply = eval(lines["OWN"])
        self.assertEqual(own_reply[0], 0, own_reply)
        self.assertIn("path=/data/d.txt\n", own_reply[1])
        self.assertIn("domain=askDom(22)\n", own_reply[1])


if __name__ == "__main__":
    unittest.main()
