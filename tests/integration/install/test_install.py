"""`meson install` into a temporary DESTDIR, then the installed tree is used as an
administrator would: --version/--help against the man pages, `man -l`, bash completion,
`spt --policy <share>/sptfs/policies/esxi`, the mount helper (directly, through mount(8)
and an fstab file) and the systemd unit's ExecStart/ExecStop run by hand.
"""

import glob
import json
import os
import re
import shlex
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from sptfs_harness import (build_dir, is_mounted, mount_fstype, run, source_dir,  # noqa: E402
                           unmount)

PROGRAMS = ["sptfs", "spt", "spt-label", "spt-domain", "spt-run"]
MANUALS = ["man8/%s.8" % p for p in PROGRAMS] + [
    "man8/mount.fuse.sptfs.8", "man5/sptfs-policy.5", "man5/sptfs.toml.5"]


def meson_info(name):
    with open(os.path.join(build_dir(), "meson-info", "intro-%s.json" % name)) as f:
        return json.load(f)


def option(name):
    return next(o["value"] for o in meson_info("buildoptions") if o["name"] == name)


def options_in(text):
    """Option names (-x, --long-name) mentioned in `text`; "spt -l" names another program's."""
    text = re.sub(r"\bspt -\S+", "", text)
    return set(re.findall(r"(?<![\w.-])(--?[A-Za-z][\w-]*)", text))


def roff_text(line):
    """A roff line without its font escapes and macro name, '\\-' as '-'."""
    line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace("\\(dq", '"')
    return re.sub(r"^\.[A-Z]+\s*", "", line)


def man_section(page, title):
    """Lines of the .SH `title` section of a roff man page."""
    lines, inside = [], False
    with open(page) as f:
        for line in f:
            if line.startswith(".SH"):
                inside = line.split(None, 1)[1].strip().strip('"') == title
                continue
            if inside:
                lines.append(line.rstrip("\n"))
    return lines


def man_option_tags(page):
    """Options named in the tags (.TP lines) of the OPTIONS section."""
    lines = man_section(page, "OPTIONS")
    tags = [roff_text(lines[i + 1]) for i, l in enumerate(lines) if l == ".TP" and i + 1 < len(lines)]
    return options_in(" ".join(tags))


def man_exit_codes(page):
    lines = man_section(page, "EXIT STATUS")
    return {roff_text(lines[i + 1]).strip() for i, l in enumerate(lines) if l == ".TP"}


def systemd_escape_path(path):
    out = ""
    for i, c in enumerate(path.strip("/")):
        if c == "/":
            out += "-"
        elif c.isalnum() or c in ":_" or (c == "." and i > 0):
            out += c
        else:
            out += "\\x%02x" % ord(c)
    return out


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sptfs-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        # meson install only copies (--no-rebuild: meson test already built everything).
        r = run(["meson", "install", "-C", build_dir(), "--destdir", cls.dest, "--no-rebuild"],
                timeout=120)
        if r.returncode != 0:
            raise AssertionError("meson install failed:\n" + r.stdout + r.stderr)
        cls.prefix = cls.dest + option("prefix")
        cls.bindir = os.path.join(cls.prefix, option("bindir"))
        cls.datadir = os.path.join(cls.prefix, option("datadir"))
        cls.mandir = os.path.join(cls.prefix, option("mandir"))
        cls.version = meson_info("projectinfo")["version"]
        cls.env = dict(os.environ, PATH=cls.bindir + ":" + os.environ["PATH"],
                       SPTFS=os.path.join(cls.bindir, "sptfs"), MANPAGER="cat", MANWIDTH="100",
                       LC_ALL="C.UTF-8")
        cls.mounts = []

    @classmethod
    def tearDownClass(cls):
        for m in cls.mounts:
            unmount(m)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def prog(self, name):
        return os.path.join(self.bindir, name)

    def run_installed(self, cmd, **kw):
        return run(cmd, env=self.env, **kw)

    # --- what is installed -------------------------------------------------------------

    def test_installs_programs_data_and_service_files(self):
        for p in PROGRAMS:
            self.assertTrue(os.access(self.prog(p), os.X_OK), p)
        self.assertFalse(os.path.exists(self.prog("vmx-standin")), "vmx-standin is a test helper")
        for page in MANUALS:
            self.assertTrue(os.path.isfile(os.path.join(self.mandir, page)), page)
        for p in PROGRAMS:
            self.assertTrue(os.path.isfile(
                os.path.join(self.datadir, "bash-completion", "completions", p)), p)
        self.assertTrue(os.path.isfile(os.path.join(self.datadir, "sptfs/policies/esxi/policy.toml")))
        self.assertEqual(len(glob.glob(os.path.join(self.datadir, "sptfs/policies/esxi/domains/*.toml"))),
                         len(glob.glob(os.path.join(source_dir(), "policies/esxi/domains/*.toml"))))
        self.assertTrue(os.access(os.path.join(self.dest, "sbin", "mount.fuse.sptfs"), os.X_OK))
        self.assertTrue(os.path.isfile(self.unit_path()))

    def unit_path(self):
        return os.path.join(self.prefix, "lib", "systemd", "system", "sptfs@.service")

    # --- --version, --help, errors, exit codes -----------------------------------------

    def test_version_prints_name_and_version(self):
        for p in PROGRAMS:
            with self.subTest(program=p):
                r = self.run_installed([self.prog(p), "--version"])
                self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "%s %s\n" % (p, self.version), ""))
                # Its manual says so too.
                self.assertIn("--version", man_option_tags(os.path.join(self.mandir, "man8", p + ".8")))

    def test_help_lists_the_options_of_the_man_page(self):
        for p in PROGRAMS:
            with self.subTest(program=p):
                r = self.run_installed([self.prog(p), "--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                helped = options_in(r.stdout)
                documented = man_option_tags(os.path.join(self.mandir, "man8", p + ".8"))
                self.assertTrue(documented, "no OPTIONS in %s.8" % p)
                self.assertEqual(sorted(documented - helped), [], "in %s.8, not in --help" % p)
                self.assertEqual(sorted(helped - documented), [], "in --help, not in %s.8" % p)

    def test_usage_errors_are_one_line_with_the_program_name_and_documented_codes(self):
        usage_code = {"sptfs": 2, "spt": 2, "spt-label": 2, "spt-domain": 2, "spt-run": 125}
        for p in PROGRAMS:
            with self.subTest(program=p):
                r = self.run_installed([self.prog(p), "--no-such-option"])
                self.assertEqual(r.returncode, usage_code[p], r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertTrue(r.stderr.startswith(p + ": "), r.stderr)
                self.assertIn("--no-such-option", r.stderr.splitlines()[0])
                codes = man_exit_codes(os.path.join(self.mandir, "man8", p + ".8"))
                self.assertIn(str(usage_code[p]), codes, "%s.8 EXIT STATUS" % p)

    # --- spt on the installed policy set -----------------------------------------------

    def installed_policy(self):
        return os.path.join(self.datadir, "sptfs", "policies", "esxi")

    def test_spt_lists_the_installed_sample_policy(self):
        r = self.run_installed([self.prog("spt"), "--policy", self.installed_policy(), "-l"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(source_dir(), "src/cli/testdata/seed_list_labels.txt")) as f:
            self.assertEqual(r.stdout, f.read())
        r = self.run_installed([self.prog("spt"), "--check", self.installed_policy()])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_spt_graph_of_the_installed_policy(self):
        spt = [self.prog("spt"), "--policy", self.installed_policy(), "--graph"]
        r = self.run_installed(spt + ["--domain", "globalVMDom"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("digraph sptfs_domains {\n"), r.stdout)
        self.assertIn('"globalVMDom" -> "tpm2emuDom" [label="tpm2emuObj"];', r.stdout)
        svg = os.path.join(self.tmp, "graph.svg")
        no_dot = dict(self.env, PATH=self.bindir)
        r = run(spt + ["--svg", svg], env=no_dot)
        self.assertEqual(r.returncode, 1)
        self.assertIn("spt: --svg %s: Graphviz is not installed" % svg, r.stderr)
        self.assertFalse(os.path.exists(svg))
        if shutil.which("dot") is None:
            self.skipTest("Graphviz not installed: SVG rendering not tried (DOT text checked)")
        r = self.run_installed(spt + ["--svg", svg])
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        with open(svg) as f:
            text = f.read()
        self.assertIn("<svg", text)
        self.assertIn("tpm2emuObj", text)

    # --- manuals -----------------------------------------------------------------------

    def test_man_pages_render(self):
        for page in MANUALS:
            with self.subTest(page=page):
                # From the man tree's root, as man(1) resolves ".so man8/sptfs.8".
                r = self.run_installed(["man", "--warnings", "-l", page], cwd=self.mandir)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "", page)
                self.assertIn("NAME", r.stdout)
                self.assertIn("SEE ALSO", r.stdout)
        r = self.run_installed(["man", "-M", self.mandir, "sptfs"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mount.fuse.sptfs", r.stdout)

    # --- bash completion ---------------------------------------------------------------

    def completion(self, program, words):
        script = os.path.join(self.datadir, "bash-completion", "completions", program)
        code = ('source "$1"; spec=$(complete -p "$2") || exit 3; fn=${spec##*-F }; fn=${fn%% *}; '
                'shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); "$fn"; '
                'printf "%s\\n" "${COMPREPLY[@]}"')
        r = run(["bash", "--norc", "--noprofile", "-c", code, "bash", script, program] + words,
                env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return set(r.stdout.split())

    def test_completion_files_parse_and_complete_options(self):
        for p in PROGRAMS:
            script = os.path.join(self.datadir, "bash-completion", "completions", p)
            r = run(["bash", "-n", script])
            self.assertEqual(r.returncode, 0, r.stderr)
        helped = options_in(self.run_installed([self.prog("spt-label"), "--help"]).stdout)
        self.assertEqual(self.completion("spt-label", ["spt-label", "-"]), helped)
        self.assertEqual(self.completion("spt-label", ["spt-label", "--re"]), {"--restore", "--recursive"})
        self.assertEqual(self.completion("spt-domain", ["spt-domain", "set", "-l", "d"]), {"disabled"})
        labels = self.completion("spt-label", ["spt-label", "--policy", self.installed_policy(),
                                               "-s", "f", "-L", "tpm"])
        self.assertEqual(labels, {"tpm2emuObj"})
        self.assertIn("--graph", self.completion("spt", ["spt", "--gr"]))

    # --- mount helper ------------------------------------------------------------------

    def make_tree(self, name):
        """A source tree with one file, a mount point, and a mount config for them."""
        base = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(base, "src", "etc"))
        os.makedirs(os.path.join(base, "mnt"))
        with open(os.path.join(base, "src", "etc", "motd"), "w") as f:
            f.write("hello from %s\n" % name)
        config = os.path.join(base, name + ".toml")
        with open(config, "w") as f:
            f.write('policy = "%s"\ndefault_domain = "superDom"\naudit_log = "%s/audit.log"\n'
                    'socket = "%s/ctl.sock"\n\n[[map]]\nat = "/"\nsource = "%s/src"\n'
                    % (self.installed_policy(), base, base, base))
        mnt = os.path.join(base, "mnt")
        self.mounts.append(mnt)
        return base, config, mnt

    def helper(self):
        return os.path.join(self.dest, "sbin", "mount.fuse.sptfs")

    def test_mount_helper_as_mount8_calls_it(self):
        base, config, mnt = self.make_tree("helper")
        try:
            r = self.run_installed([self.helper(), config, mnt, "-o",
                                    "rw,noauto,nofail,_netdev,x-systemd.automount,timeout=0"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(mount_fstype(mnt), "fuse.sptfs")
            with open(os.path.join(mnt, "etc", "motd")) as f:
                self.assertEqual(f.read(), "hello from helper\n")
            r = self.run_installed([self.prog("spt"), "--mount", mnt, "-D", "globalVMDom"])
            self.assertEqual((r.returncode, r.stdout), (0, "4\n"), r.stderr)
        finally:
            r = run(["umount", mnt])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(is_mounted(mnt))
        # umount returns before the daemon has closed its control socket: wait for it.
        self.assertTrue(self.wait_daemon_gone(mnt), "sptfs still running after umount")

        # Read-only, and options for sptfs itself.
        r = self.run_installed([self.helper(), os.path.join(base, "src"), mnt, "-o",
                                "ro,policy=%s,default_domain=superDom" % self.installed_policy()])
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            with self.assertRaises(OSError) as cm:
                open(os.path.join(mnt, "new"), "w")
            self.assertEqual(cm.exception.errno, 30)  # EROFS
        finally:
            unmount(mnt)

    def test_mount_helper_fake_verbose_and_errors(self):
        base, config, mnt = self.make_tree("helper-errors")
        r = self.run_installed([self.helper(), config, mnt, "-fv", "-o", "defaults,noexec,socket=/x"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--config %s %s --socket /x -o noexec" % (config, mnt), r.stderr)
        self.assertFalse(is_mounted(mnt))
        # The worker options (issue 17 item 3) become sptfs options, not FUSE ones.
        r = self.run_installed([self.helper(), config, mnt, "-fv", "-o",
                                "threads=4,no_clone_fd,clone_fd,max_idle_threads=2,poll_us=0,"
                                "io_uring"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("%s --threads 4 --no-clone-fd --clone-fd --max-idle-threads 2 --poll-us 0 --io-uring\n"
                      % mnt,
                      r.stderr)
        self.assertFalse(is_mounted(mnt))
        r = self.run_installed([self.helper(), os.path.join(base, "nope"), mnt])
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("mount.fuse.sptfs: %s/nope: not a file or directory"
                                            % base), r.stderr)
        r = self.run_installed([self.helper(), config, mnt, "-o", "timeout=soon"])
        self.assertEqual(r.returncode, 1)  # a bad option value is a usage mistake (sptfs exit 2)
        self.assertIn("sptfs: --timeout soon: not a number", r.stderr)
        self.assertFalse(is_mounted(mnt))
        r = self.run_installed([self.helper(), config])
        self.assertEqual(r.returncode, 1)
        self.assertIn("usage: mount.fuse.sptfs", r.stderr)

    def test_mount8_and_fstab_find_the_helper(self):
        """mount(8) runs /sbin/mount.fuse.sptfs: in a private mount namespace the DESTDIR's
        sbin is overlaid on /sbin, so mount(8) finds the installed helper there."""
        base, config, mnt = self.make_tree("mount8")
        fstab = os.path.join(base, "fstab")
        with open(fstab, "w") as f:
            f.write("# test fstab\n%s  %s  fuse.sptfs  defaults,nofail,ro  0  0\n" % (config, mnt))
        sbin = os.path.realpath("/sbin")
        script = r"""
set -e
mount -t overlay overlay -o lowerdir="$DEST_SBIN:$SBIN" "$SBIN" || exit 77
trap 'umount -l "$MNT" 2>/dev/null || true' EXIT
mount -t fuse.sptfs "$CONFIG" "$MNT"
grep -q " $MNT .* - fuse.sptfs " /proc/self/mountinfo
cat "$MNT/etc/motd"
umount "$MNT"
! grep -q " $MNT " /proc/self/mountinfo
mount -T "$FSTAB" "$MNT"
grep " $MNT " /proc/self/mountinfo | grep -q "[ ,]ro[ ,]"
cat "$MNT/etc/motd"
umount "$MNT"
! grep -q " $MNT " /proc/self/mountinfo
echo done
"""
        env = dict(self.env, DEST_SBIN=os.path.join(self.dest, "sbin"), SBIN=sbin, MNT=mnt,
                   CONFIG=config, FSTAB=fstab)
        r = run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                env=env, timeout=60)
        if r.returncode == 77:
            self.skipTest("no overlayfs here: mount(8) cannot be pointed at the DESTDIR helper")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "hello from mount8\n" * 2 + "done\n")

    # --- systemd unit, commands run by hand ---------------------------------------------

    def unit_commands(self, instance, mountpoint, etc):
        """ExecStartPre/ExecStart/ExecStop of the installed unit as systemd would run them."""
        commands = {}
        with open(self.unit_path()) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key in ("ExecStartPre", "ExecStart", "ExecReload", "ExecStop", "Type"):
                    commands[key] = value
        installed_bin = option("prefix") + "/" + option("bindir") + "/"
        for key in ("ExecStartPre", "ExecStart", "ExecReload", "ExecStop"):
            value = commands[key].replace("%i", instance).replace("%f", mountpoint)
            value = value.replace("$$", "$").replace("/etc/sptfs/", etc + "/")
            ignore = value.startswith("-")
            argv = shlex.split(value.lstrip("-"))
            argv[0] = argv[0].replace(installed_bin, self.bindir + "/")
            commands[key] = (argv, ignore)
        return commands

    def test_systemd_unit_commands_start_and_stop_a_mount(self):
        base, config, mnt = self.make_tree("unit")
        # A mount point whose escaped name needs no \x escapes (tmp names have '-').
        mnt = tempfile.mkdtemp(prefix="sptfsunit", dir="/tmp")
        self.mounts.append(mnt)
        self.addCleanup(shutil.rmtree, mnt, True)
        instance = systemd_escape_path(mnt)
        self.assertNotIn("\\", instance)
        etc = os.path.join(base, "etc-sptfs")
        os.makedirs(etc)
        shutil.copy(config, os.path.join(etc, instance + ".toml"))
        with open(os.path.join(etc, instance + ".toml"), "a") as f:
            f.write('\n[[map]]\nat = "/data"\nsource = "%s/src/etc"\nread_only = true\n' % base)
        shutil.rmtree(mnt)  # ExecStartPre makes it
        cmds = self.unit_commands(instance, mnt, etc)
        self.assertEqual(cmds["Type"], "notify")
        # systemd's side of Type=notify (issue 15 item 8): a datagram socket named by
        # NOTIFY_SOCKET, here a path one.
        notify_path = os.path.join(base, "notify.sock")
        notify = NotifySocket(notify_path)
        self.addCleanup(notify.close)
        daemon = None
        try:
            argv, ignore = cmds["ExecStartPre"]
            r = run(argv, env=self.env)
            self.assertTrue(ignore or r.returncode == 0, r.stderr)
            argv, _ = cmds["ExecStart"]
            self.assertEqual(argv[0], self.prog("sptfs"))
            daemon = subprocess.Popen(argv, env=dict(self.env, NOTIFY_SOCKET=notify_path),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True)
            ready = notify.wait_for("READY=1", daemon)
            self.assertIsNotNone(ready, "no READY=1 from sptfs: " + notify.seen_text())
            # READY=1 means the mount is live: read through it at once.
            with open(os.path.join(mnt, "data", "motd")) as f:
                self.assertEqual(f.read(), "hello from unit\n")
            self.assertEqual(ready[1], daemon.pid, "READY=1 must come from the main process")
            daemons = [p for p in os.listdir("/proc") if p.isdigit() and self.cmdline_has(p, mnt)]
            self.assertEqual(daemons, [str(daemon.pid)])
            # systemctl reload: RELOADING=1, then READY=1 again once the load is done.
            argv, _ = cmds["ExecReload"]
            self.assertEqual(argv[0], self.prog("spt"))
            r = run(argv, env=self.env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIsNotNone(notify.wait_for("RELOADING=1", daemon), notify.seen_text())
            self.assertIsNotNone(notify.wait_for("READY=1", daemon), notify.seen_text())
            argv, _ = cmds["ExecStop"]
            r = run(argv, env=self.env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIsNotNone(notify.wait_for("STOPPING=1", daemon), notify.seen_text())
            self.assertEqual(daemon.wait(timeout=30), 0, daemon.stderr.read())
            self.assertFalse(is_mounted(mnt))
            self.assertTrue(self.wait_daemon_gone(mnt), "sptfs still running after ExecStop")
        finally:
            unmount(mnt)
            if daemon is not None and daemon.poll() is None:
                daemon.kill()
            if daemon is not None:
                daemon.wait()
                daemon.stderr.close()

    def test_notify_socket_abstract_address(self):
        # NOTIFY_SOCKET may name an abstract socket ("@name"); the foreground daemon
        # says READY=1 there, and STOPPING=1 when it is unmounted.
        base, config, mnt = self.make_tree("abstract")
        name = "@sptfs-test-notify-%d" % os.getpid()
        notify = NotifySocket(name)
        self.addCleanup(notify.close)
        daemon = subprocess.Popen([self.prog("sptfs"), "-f", "--config", config, mnt],
                                  env=dict(self.env, NOTIFY_SOCKET=name),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            self.assertIsNotNone(notify.wait_for("READY=1", daemon), notify.seen_text())
            self.assertTrue(is_mounted(mnt))
            unmount(mnt)
            self.assertIsNotNone(notify.wait_for("STOPPING=1", daemon), notify.seen_text())
            self.assertEqual(daemon.wait(timeout=30), 0, daemon.stderr.read())
        finally:
            unmount(mnt)
            if daemon.poll() is None:
                daemon.kill()
            daemon.wait()
            daemon.stderr.close()

    def wait_daemon_gone(self, mnt, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if not any(self.cmdline_has(p, mnt) for p in os.listdir("/proc") if p.isdigit()):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def cmdline_has(pid, word):
        """True for a live sptfs process with `word` among its arguments."""
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return False
        return not zombie and os.path.basename(args[0]) == b"sptfs" and word.encode() in args

class NotifySocket:
    """A fake service manager: the datagram socket of sd_notify(3) at `address` (a path,
    or "@name" for an abstract one), with the sender's pid of each message."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.seen = []  # (message, pid)

    def wait_for(self, line, proc, seconds=30):
        """The next message holding `line` (as one of its lines) and its sender's pid;
        None if `proc` exits or the deadline passes first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                if proc.poll() is not None:
                    return None
                continue
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            pid = None
            for level, kind, cred in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cred[:12])[0]
            msg = data.decode()
            self.seen.append((msg, pid))
            if line in msg.split("\n"):
                return msg, pid
        return None

    def seen_text(self):
        return "seen: %r" % self.seen

    def close(self):
        self.sock.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
