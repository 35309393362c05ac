"""The issue's acceptance walk: a confined sh under `spt-run --root` in the sample tree
(scripts/make-sample-tree.py) can do exactly what its domain grants. For a list of
paths x accesses (r, w, x), what the shell gets (success or EPERM) must equal what the
daemon's `spt --why` says for the same domain, path and access."""

import os
import shutil
import subprocess
import tempfile
import unittest

import sptfs_harness as h

UUID = "5d3fb5c5-3146d212-4263-8030e03bdef0"
# A domain added to a copy of the sample policy: a shell must be able to run in it,
# and the rules mix allow and deny, paths and labels.
PROBE_DOM = """name = "probeDom"
id = 900
level = "enforcing"
rules = [
  "-r /bin rx", "-r /usr/bin rx", "-r /lib rx", "-r /lib64 rx", "-r /usr/lib rx",
  "-r /etc r", "-r /etc/shadow ", "-r /etc/vmware/ssl r", "-o certObj r",
  "-r /tmp rw", "-r /opt rw", "-r /productLocker r", "-r /vmfs/volumes rw",
  "-r /var/run rw", "-r /dev rw", "-r /proc rw",
]
"""
PROBE_SH = r"""
echo "$PROBES" | while read a p; do
  case $a in
    r) out=$( (exec 3<"$p") 2>&1 ) ;;
    w) out=$( (exec 3>>"$p") 2>&1 ) ;;
    x) out=$("$p" </dev/null 2>&1 >/dev/null); [ $? -eq 126 ] || out="" ;;
  esac
  case "$out" in
    "") r=allow ;;
    *"not permitted"*) r=deny ;;
    *) r="other:$out" ;;
  esac
  echo "$a $p $r"
done
"""
EXECUTABLES = ["/bin/vmx", "/usr/bin/true", "/usr/bin/id", "/opt/mytrue", "/tmp/mytrue",
               f"/vmfs/volumes/{UUID}/mytrue"]
THROUGH_LINKS = ["/productLocker/vmtools/windows.iso", "/vmimages/tools-isoimages/linux.iso",
                 "/usr/bin/dash", "/usr/lib/os-release"]
READ_ONLY_MAPS = ("/lib", "/lib64", "/usr/lib", "/usr/bin")


class WalkTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sptfs-walk-")
        sample = os.path.join(self.work, "sample")
        r = h.run([os.path.join(h.source_dir(), "scripts", "make-sample-tree.py"), sample])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.tree = os.path.join(sample, "tree")
        self.policy = os.path.join(self.work, "policy")
        shutil.copytree(h.sample_policy(), self.policy)
        with open(os.path.join(self.policy, "domains", "probeDom.toml"), "w") as f:
            f.write(PROBE_DOM)
        with open(os.path.join(sample, "sptfs.toml")) as f:
            cfg = f.read()
        cfg = "\n".join(f'policy = "{self.policy}"' if l.startswith("policy =") else l
                        for l in cfg.splitlines())
        self.config = os.path.join(sample, "probe.toml")
        with open(self.config, "w") as f:
            f.write(cfg + "\n")
        for p in EXECUTABLES[3:]:
            shutil.copy("/usr/bin/true", self.tree + p)
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.mnt)

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def probes(self):
        files = []
        for dirpath, dirnames, filenames in os.walk(self.tree):
            rel = "/" + os.path.relpath(dirpath, self.tree).lstrip(".")
            if rel.startswith("/bin"):
                continue
            for n in filenames:
                full = os.path.join(dirpath, n)
                if os.path.isfile(full) and not os.path.islink(full):
                    files.append(os.path.join(rel, n).replace("//", "/"))
        out = []
        for p in sorted(set(files)) + THROUGH_LINKS:
            out.append(("r", p))
            if not p.startswith(READ_ONLY_MAPS):
                out.append(("w", p))
        out += [("x", p) for p in EXECUTABLES]
        return out

    def test_confined_shell_matches_spt_why(self):
        probes = self.probes()
        self.assertGreater(len(probes), 40)
        with h.mount(config=self.config, mountpoint=self.mnt) as m:
            expected = {}
            # The daemon's answer if it serves --why, else the same question offline
            # over the policy and the backing tree.
            online = [h.tool("spt"), "--socket", m.socket, "--why", "probeDom"]
            offline = [h.tool("spt"), "--policy", self.policy, "--root", self.tree,
                       "--why", "probeDom"]
            for a, p in probes:
                r = h.run(online + [p, a])
                if "not served" in r.stderr:
                    online = offline
                    r = h.run(offline + [p, a])
                self.assertEqual(r.returncode, 0, r.stderr)
                expected[(a, p)] = r.stdout.split(":", 1)[0]
            env = dict(os.environ, PROBES="\n".join(f"{a} {p}" for a, p in probes))
            r = subprocess.run([h.tool("spt-run"), "-D", "probeDom", "--socket", m.socket,
                                "--mount", self.mnt, "--root", "--", "sh", "-c", PROBE_SH],
                               env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
        got = {}
        for line in r.stdout.splitlines():
            a, p, verdict = line.split(" ", 2)
            got[(a, p)] = verdict
        self.assertEqual(set(got), set(expected), r.stdout)
        wrong = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
        self.assertEqual(wrong, {}, "(access, path): (confined shell, spt --why)")
        print(f"walk: {len(expected)} probes, "
              f"{sum(v == 'allow' for v in expected.values())} allowed, "
              f"{sum(v == 'deny' for v in expected.values())} denied, all as spt --why says")
        verdicts = set(expected.values())
        self.assertEqual(verdicts, {"allow", "deny"})  # the walk exercises both


if __name__ == "__main__":
    unittest.main(verbosity=2)
