"""Messages and exit codes of every tool, as the manuals say (issue 14, items 2, 4, 5).

Table-driven: each case runs one command and states the exit code, text the message
must hold, and text it must not (a doubled reason, a usage dump after an error that is
not a usage mistake). Every message must name the thing, say what is wrong and what
was expected, once. Cases that need a quiet /run/sptfs (no daemon at all, stale
entries, several daemons) run in a private mount namespace with a tmpfs there, so other
tests' daemons cannot change the answer.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
import sptfs_harness as h  # noqa: E402
from confine import wait_for  # noqa: E402

SPT, SPTFS, DOMAIN, LABEL = (h.tool(n) for n in ("spt", "sptfs", "spt-domain", "spt-label"))
NOENT = os.strerror(2)


def private_run_dir(script):
    """Runs shell `script` in a new mount namespace whose /run/sptfs is an empty tmpfs."""
    os.makedirs("/run/sptfs", exist_ok=True)
    wrapped = "mount -t tmpfs sptfs-test /run/sptfs && " + script
    return h.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", wrapped],
                 timeout=60)


class Messages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="sptfs-msg-")
        cls.tree = os.path.join(cls.work, "tree")
        os.makedirs(os.path.join(cls.tree, "tmp"))
        cls.mnt = os.path.join(cls.work, "mnt")
        os.makedirs(cls.mnt)
        cls.policy = h.write_policy(os.path.join(cls.work, "pol"), {
            "boxDom": dict(id=20, rules=["-r / r"])})
        bad = h.write_policy(os.path.join(cls.work, "badpol"), {"boxDom": dict(id=20)})
        with open(os.path.join(bad, "domains", "boxDom.toml"), "w") as f:
            f.write('name = "boxDom"\nid = 20\nlevel = "loud"\nrules = []\n')
        cls.badpol = bad
        cls.cm = h.mount(cls.tree, cls.mnt, policy=cls.policy)
        cls.m = cls.cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.cm.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)

    def check(self, cmd, code, has=(), lacks=(), once=(), cwd=None):
        r = h.run(cmd, cwd=cwd)
        msg = f"{cmd}: rc={r.returncode} stderr={r.stderr!r} stdout={r.stdout!r}"
        self.assertEqual(r.returncode, code, msg)
        for text in has:
            self.assertIn(text, r.stderr, msg)
        for text in lacks:
            self.assertNotIn(text, r.stderr, msg)
        for text in once:
            self.assertEqual(r.stderr.count(text), 1, msg)
        return r

    def test_table(self):
        nowhere = os.path.join(self.work, "nowhere")
        free = os.path.join(self.work, "free")  # a directory nothing is mounted on
        os.makedirs(free, exist_ok=True)
        cases = [
            # (command, exit code, must hold, must not hold, exactly once)
            ([SPTFS, self.tree, self.mnt, "--threads", "abc"], 2,
             ["--threads abc: not a thread count (expected 1..1024)", "sptfs -h"], ["Usage:"], []),
            ([SPTFS, self.tree, self.mnt, "--timeout", "-5"], 2,
             ["--timeout -5: negative (expected seconds >= 0)"], ["not a number"], []),
            ([SPTFS, self.tree, self.mnt, "--timeout", "x"], 2, ["not a number"], [], []),
            ([SPTFS, nowhere, free], 1, ["expected an existing directory"], [], [NOENT]),
            ([SPTFS, self.tree, nowhere], 1, ["expected an existing directory"], [], [NOENT]),
            ([SPTFS, "--config", nowhere + ".toml", free], 1,
             ["cannot read the mount config: " + NOENT, "expected a readable TOML file"], [], []),
            ([SPTFS, self.tree, self.mnt], 1,
             ["already mounted there", "fusermount3 -u " + self.mnt], [], []),
            ([SPT, "--check", nowhere], 1,
             [nowhere + ": no such file or directory (expected a policy set directory)"],
             ["not a directory"], []),
            ([SPT, "--check", self.badpol], 1, ['bad level "loud"', "expected"], [], []),
            ([SPT, "--mount", nowhere, "-l"], 1,
             ["no sptfs daemon is listening", "expected a mounted sptfs"], [], ["listening"]),
            ([DOMAIN, "--mount", nowhere, "list"], 1,
             ["spt-domain: ", "no sptfs daemon is listening"], ["usage:", "Options:"],
             ["listening"]),
            ([DOMAIN, "--socket", self.m.socket, "set", "-n", "ghostDom", "-l", "enforcing"], 1,
             ['spt-domain: unknown domain "ghostDom"'], [], []),
            ([DOMAIN, "--socket", self.m.socket, "set", "-n", "boxDom", "-l", "loud"], 2,
             ['spt-domain: ', '"loud"'], [], []),
        ]
        for cmd, code, has, lacks, once in cases:
            with self.subTest(cmd=cmd):
                self.check(cmd, code, has, lacks, once)

    def test_no_daemon_at_all_is_an_error_not_usage(self):
        for tool, name in ((SPT, "spt"), (DOMAIN, "spt-domain")):
            args = "-l" if tool == SPT else "list"
            r = private_run_dir(f"{tool} {args}")
            self.assertEqual(r.returncode, 1, r)
            self.assertIn(f"{name}: no sptfs daemon is running", r.stderr)
            self.assertNotIn("Options:", r.stderr)

    def test_stale_entries_are_not_daemons_and_several_are_listed(self):
        # Two daemons killed with SIGKILL leave their sockets; a live one is then the only
        # one `spt -l` finds, and the stale entries are gone. With two live ones, both are
        # listed with how to pick one.
        a, b, c = (os.path.join(self.work, n) for n in ("ma", "mb", "mc"))
        script = textwrap.dedent(f"""\
            set -u
            for m in {a} {b} {c}; do mkdir -p $m; done
            fg() {{ {SPTFS} {self.tree} $1 --policy {self.policy} -f 2>/dev/null & PID=$!
                   while ! mountpoint -q $1; do kill -0 $PID || exit 9; sleep 0.02; done; }}
            start() {{ {SPTFS} {self.tree} $1 --policy {self.policy} 2>/dev/null || exit 9; }}
            fg {a}; A=$PID; fg {b}; B=$PID
            kill -KILL $A $B; wait $A $B
            echo "dead: $({SPTFS} {self.tree} {a} 2>&1 | grep -c 'daemon is gone.*fusermount3 -u')"
            umount -l {a}; umount -l {b}
            echo "before: $(ls /run/sptfs | grep -c 'sock$')"
            {SPT} -l >/dev/null 2>{self.work}/stale.err; echo "none-rc: $?"; cat {self.work}/stale.err >&2
            start {a}; start {c}
            {SPT} -l >/dev/null; echo "several-rc: $?"
            fusermount3 -u {a}; fusermount3 -u {c}
            for _ in $(seq 100); do [ -z "$(ls /run/sptfs)" ] && break; sleep 0.05; done
            echo "after: $(ls /run/sptfs | wc -l)"
            """)
        r = private_run_dir(script)
        self.assertIn("dead: 1", r.stdout, r)  # the dead mount names the command that clears it
        self.assertIn("before: 2", r.stdout, r)
        self.assertIn("none-rc: 1", r.stdout, r)
        self.assertIn("no sptfs daemon is running", r.stderr, r)
        self.assertIn("several-rc: 1", r.stdout, r)
        self.assertIn("2 sptfs daemons run (expected --mount DIR or --socket PATH", r.stderr)
        self.assertEqual(r.stderr.count("  --socket /run/sptfs/"), 2, r.stderr)
        self.assertIn("after: 0", r.stdout, r)  # nothing left behind, not even .state

    def test_relative_paths_are_made_absolute_at_start(self):
        # The daemon runs from / after start: relative names must not change meaning.
        work = tempfile.mkdtemp(prefix="sptfs-rel-", dir=self.work)
        shutil.copytree(self.policy, os.path.join(work, "pol"))
        os.makedirs(os.path.join(work, "tree"))
        os.makedirs(os.path.join(work, "mnt"))
        log = os.path.join(work, "log")
        # Daemon mode (no -f): the daemon leaves for / once the mount is live.
        r = h.run([SPTFS, "tree", "mnt", "--policy", "pol", "--socket", "s.sock",
                   "--audit-log", "audit.log"], cwd=work)
        self.assertEqual(r.returncode, 0, r)
        try:
            r = h.run([SPT, "--socket", os.path.join(work, "s.sock"), "-p"])
            self.assertEqual(r.returncode, 0, r)
            self.assertTrue(os.path.exists(os.path.join(work, "audit.log")))
        finally:
            h.run(["fusermount3", "-u", os.path.join(work, "mnt")])
        # A config file's relative paths are relative to the config file's directory.
        conf_dir = os.path.join(work, "conf")
        os.makedirs(conf_dir)
        shutil.copytree(self.policy, os.path.join(conf_dir, "pol2"))
        with open(os.path.join(conf_dir, "m.toml"), "w") as f:
            f.write('policy = "pol2"\nsocket = "c.sock"\n[[map]]\nat = "/"\nsource = "../tree"\n')
        r = h.run([SPTFS, "--config", "conf/m.toml", "mnt"], cwd=work)
        self.assertEqual(r.returncode, 0, r)
        try:
            r = h.run([SPT, "--socket", os.path.join(conf_dir, "c.sock"), "-p"])
            self.assertEqual(r.returncode, 0, r)
        finally:
            h.run(["fusermount3", "-u", os.path.join(work, "mnt")])

    def test_reload_warnings_go_to_stderr_cut_like_the_daemon(self):
        # The sample policy has dozens of rule paths this tree lacks.
        work = tempfile.mkdtemp(prefix="sptfs-warn-", dir=self.work)
        os.makedirs(os.path.join(work, "mnt"))
        with h.mount(self.tree, os.path.join(work, "mnt"), policy=h.sample_policy()) as m:
            r = h.run([SPT, "--socket", m.socket, "-p"])
            self.assertEqual(r.returncode, 0, r)
            self.assertNotIn("Partially resolved", r.stdout)
            self.assertEqual(r.stderr.count("spt: Partially resolved path: "), 10, r.stderr)
            self.assertRegex(r.stderr, r"spt: \.\.\. and \d+ more partially resolved paths\n")

    def test_import_makes_the_output_directory(self):
        dump = os.path.join(self.work, "d.txt")
        with open(dump, "w") as f:
            f.write("Domain Name: boxDom Domain ID :20 Enforcement Level: enforcing\n-r / r\n")
        out = os.path.join(self.work, "imported", "newdir")
        r = h.run([SPT, "--import", dump, "--out", out])
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(os.listdir(out), r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
