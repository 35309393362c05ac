"""Issue 19.2: a scripted learning run confines a real daemon, Debian's nginx, as
docs/learning-nginx.md tells it. nginx starts in an EMPTY domain at level warning
(everything allowed, every access the rules lack recorded); after each run,
`spt --policy DIR --root MNT --suggest` turns the run's records into rules, they are
added to the domain's file and `spt -p` reloads. When a warning run records nothing,
the domain goes to enforcing: nginx must then serve the same requests (HTTP 200 with
the files' contents) with no denial recorded, after at most 3 learning runs.

The whole test runs in a network namespace of its own (only its loopback exists), so
nginx, confined by spt-run, and this test's HTTP client meet on 127.0.0.1 and nothing
leaves the machine."""

import os
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import confine
import sptfs_harness as h

NGINX = "/usr/sbin/nginx"
DOMAIN, DOMAIN_ID = "nginxDom", 50
MARK = "markDom"  # never runs anything: its level changes mark the end of a run's records
MAX_LEARNING_RUNS = 3
INDEX = "<h1>hello from confined nginx</h1>\n"
TEXT = "plain text, served as text/plain through /etc/nginx/mime.types\n"
# nginx's own command line: its config in the tree, errors on stderr (spt-run's).
ARGV = [NGINX, "-p", "/srv/nginx/", "-c", "/srv/nginx/nginx.conf", "-e", "stderr"]


def nginx_conf(port):
    """The walkthrough's config: in the foreground (spt-run supervises it), a master and
    one worker, everything it writes under /srv/nginx, files from /srv/www."""
    temp = "".join(f"  {kind}_temp_path /srv/nginx/tmp/{name};\n" for kind, name in (
        ("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"),
        ("uwsgi", "uwsgi"), ("scgi", "scgi")))
    return f"""daemon off;
master_process on;
worker_processes 1;
pid /srv/nginx/run/nginx.pid;
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /srv/nginx/log/access.log;
{temp}  server {{
    listen 127.0.0.1:{port};
    root /srv/www;
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rule_key(rule):
    """Rules of one path (or the same capability) replace each other: a suggestion
    carries the merged perms of the rule deciding there today (docs/productlocker.md)."""
    words = rule.split()
    return ("-r", words[1]) if words[0] == "-r" else (rule,)


def suggested_rules(text):
    return [l for l in text.splitlines() if l.strip() and not l.startswith("#")]


def in_own_netns():
    """Re-runs this test in a network namespace of its own with loopback up."""
    if os.environ.get("SPT_LEARN_NETNS") == "1":
        return
    os.environ["SPT_LEARN_NETNS"] = "1"
    cmd = ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
           sys.executable] + sys.argv
    os.execvp(cmd[0], cmd)


class LearningCase(unittest.TestCase):
    """The learning steps over self.sb (a confine.Sandbox) for one domain, DOMAIN, whose
    rules (self.rules) and level (self.level) the test changes and reloads."""
    START_RULES = ()

    def start(self, **sandbox):
        self.rules = list(self.START_RULES)
        self.level = "warning"
        self.mark_level = "disabled"
        self.sb = confine.Sandbox(self.domains(), **sandbox).__enter__()
        self.addCleanup(self.sb.__exit__, None, None, None)

    def domains(self):
        return {DOMAIN: dict(id=DOMAIN_ID, level=self.level, rules=self.rules),
                MARK: dict(id=DOMAIN_ID + 1, level=self.mark_level, rules=[])}

    def reload(self):
        """Writes the domain's file with the rules so far and the level, then `spt -p`."""
        h.write_policy(self.sb.policy, self.domains(), labels=self.sb.labels)
        r = self.sb.spt("-p")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def log_size(self):
        return os.path.getsize(self.sb.m.audit_log)

    def records_since(self, offset):
        """DOMAIN's access records (docs/audit.md) written after `offset`, once every
        record of the run is in it: the daemon writes records in order from one queue,
        so a level change of the mark domain, made now and seen in the log, comes after
        all of them."""
        self.mark_level = "warning" if self.mark_level == "disabled" else "disabled"
        r = h.run([h.tool("spt-domain"), "--socket", self.sb.socket, "set", "-n", MARK,
                   "-l", self.mark_level])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        want = f"domain={MARK}({DOMAIN_ID + 1}) old="
        self.sb.m.audit(until=lambda recs: any(
            want in a["_line"] and f"new={self.mark_level}" in a["_line"] for a in recs))
        with open(self.sb.m.audit_log) as f:
            f.seek(offset)
            text = f.read()
        return "".join(l + "\n" for l in text.splitlines()
                       if l.startswith(("type=SPT_AVC ", "type=SPT_SANDBOX "))
                       and f" domain={DOMAIN}(" in l)

    def suggest(self, log_text, policy=True):
        """`spt --suggest` over the records; with `policy`, today's deciding rules come
        from the policy set (compiled against the mount), else from each record's rule=."""
        where = ["--policy", self.sb.policy, "--root", self.sb.mnt] if policy else []
        r = h.run([h.tool("spt")] + where + ["--suggest", "-"], input=log_text)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def add(self, rules):
        by_key = {rule_key(r): i for i, r in enumerate(self.rules)}
        for rule in rules:
            if rule_key(rule) in by_key:
                self.rules[by_key[rule_key(rule)]] = rule
            else:
                by_key[rule_key(rule)] = len(self.rules)
                self.rules.append(rule)


@unittest.skipUnless(os.access(NGINX, os.X_OK), "nginx is not installed "
                     "(scripts/install-deps.sh installs Debian's nginx)")
class LearnNginxTest(LearningCase):
    def setUp(self):
        self.port = free_port()
        files = {"/srv/nginx/nginx.conf": nginx_conf(self.port), "/srv/www/index.html": INDEX,
                 "/srv/www/hello.txt": TEXT}
        for d in ("run", "log", "tmp"):
            files[f"/srv/nginx/{d}/.keep"] = ""
        self.start(files=files, host_maps=("/etc",))

    # ---- the steps of the walkthrough --------------------------------------------------
    def serve(self):
        """One run: nginx confined in DOMAIN, the requests, a graceful stop. Returns the
        responses {path: (status, body)} and nginx's stderr."""
        p = self.sb.popen(DOMAIN, "", argv=ARGV, stdin=subprocess.DEVNULL)

        def answering():
            if p.poll() is not None:
                return True
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        self.assertTrue(confine.wait_for(answering, timeout=30), "nginx did not start")
        got = {}
        if p.poll() is None:
            for path in ("/", "/hello.txt", "/index.html", "/missing"):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}",
                                                timeout=10) as resp:
                        got[path] = (resp.status, resp.read().decode())
                except urllib.error.HTTPError as e:
                    got[path] = (e.code, "")
                except OSError as e:
                    got[path] = (None, str(e))
            p.send_signal(signal.SIGQUIT)  # graceful: the master waits for its worker
        _, err = p.communicate(timeout=30)
        return got, p.returncode, err

    def learn(self, keep=lambda rule: True):
        """Warning runs until one records nothing (at most MAX_LEARNING_RUNS), each
        followed by suggest, add (the suggestions `keep` accepts) and reload. Returns
        one (records, suggestions) per run."""
        runs = []
        while len(runs) < MAX_LEARNING_RUNS:
            start = self.log_size()
            got, rc, err = self.serve()
            self.assertEqual(rc, 0, err)
            self.assert_served(got, err)  # warning: nothing is refused
            log_text = self.records_since(start)
            suggestions = self.suggest(log_text) if log_text else ""
            runs.append((log_text, suggestions))
            if not log_text:
                break
            self.add([r for r in suggested_rules(suggestions) if keep(r)])
            self.reload()
        return runs

    def assert_served(self, got, err):
        self.assertEqual(got.get("/"), (200, INDEX), err)
        self.assertEqual(got.get("/index.html"), (200, INDEX), err)
        self.assertEqual(got.get("/hello.txt"), (200, TEXT), err)
        self.assertEqual(got.get("/missing", (None,))[0], 404, err)

    def enforce(self):
        self.level = "enforcing"
        self.reload()
        start = self.log_size()
        got, rc, err = self.serve()
        return got, rc, err, self.records_since(start)

    # ---- the tests ----------------------------------------------------------------------
    def test_three_runs_confine_nginx(self):
        t0 = time.monotonic()
        self.reload()  # the empty domain, at warning
        runs = self.learn()
        first_records, first = runs[0]
        # The first run names what nginx needs: its binary, the loader's libraries (open
        # and executable mapping: rx), its config, its sockets.
        for rule in ("-r /usr/sbin/nginx x", "-r /usr/lib/x86_64-linux-gnu/libc.so.6 rx",
                     "-r /srv/nginx/nginx.conf r", "-r /srv/www/index.html r",
                     "-c inet_stream_socket_create grant", "-p inet_socket_bind loopback grant",
                     "-c unix_socket_create grant"):
            self.assertIn(rule, suggested_rules(first), first)
        self.assertNotIn("# no rule:", first)  # every record became a rule
        # Converged within MAX_LEARNING_RUNS: the last run recorded nothing.
        self.assertLessEqual(len(runs), MAX_LEARNING_RUNS)
        self.assertEqual(runs[-1][0], "", "the last learning run still recorded accesses:\n"
                         + runs[-1][0] + runs[-1][1])
        got, rc, err, denials = self.enforce()
        self.assertEqual(denials, "", "the enforcing run was refused something")
        self.assertEqual(rc, 0, err)
        self.assert_served(got, err)
        print(f"learn nginx: {len(runs)} learning runs ({len(first_records.splitlines())} "
              f"records, {len(suggested_rules(first))} rules suggested after the first), then "
              f"enforcing with no denial; {time.monotonic() - t0:.1f} s")
        if os.environ.get("SPT_LEARN_SAVE"):  # the walkthrough's excerpts, the unit test's log
            with open(os.environ["SPT_LEARN_SAVE"], "w") as f:
                f.write(first_records)
            with open(os.environ["SPT_LEARN_SAVE"] + ".suggest", "w") as f:
                f.write(first)
            with open(os.environ["SPT_LEARN_SAVE"] + ".rules", "w") as f:
                f.write("\n".join(self.rules) + "\n")

    def test_without_socket_rules_the_enforcing_run_fails(self):
        # What the learning run proves is only worth something if the enforcing run
        # notices a missing rule: drop the socket rules and nginx must be refused.
        self.reload()
        runs = self.learn(keep=lambda rule: not rule.startswith(("-c ", "-p ")))
        self.assertEqual(len(runs), MAX_LEARNING_RUNS)  # never converges
        self.assertIn("-c inet_stream_socket_create grant", runs[-1][1])
        got, rc, err, denials = self.enforce()
        self.assertNotEqual(rc, 0, err)
        self.assertIn("Operation not permitted", err)
        self.assertIn('denied op="socket"', denials)
        self.assertIn("-c inet_stream_socket_create grant", denials)


class LabelledLibraryTest(LearningCase):
    """An executable mapping is recorded like a file access (docs/syscall-classes.md):
    with the object's label and the -r rule that decided as written, so `spt --suggest`
    proposes the -o rule the label step needs and keeps the r that rule grants, even
    without the policy at hand (from the record alone)."""
    LIB = "/opt/lib/libz.so.1"
    START_RULES = confine.BASE_RULES + ["-o libObj r"]
    LOAD = f"import ctypes; ctypes.CDLL('{LIB}'); print('loaded')"

    def setUp(self):
        self.start(labels=[("libObj", 3600)],
                   files={self.LIB: ("/usr/lib/x86_64-linux-gnu/libz.so.1", 0o644)},
                   labels_on={self.LIB: "libObj"})

    def load(self):
        start = self.log_size()
        r = self.sb.run(DOMAIN, "", argv=["/usr/bin/python3", "-I", "-c", self.LOAD])
        return r, self.records_since(start)

    def test_labelled_library_learns_its_label_rule(self):
        r, records = self.load()
        self.assertIn("loaded", r.stdout, r.stderr)  # warning: allowed, and recorded
        self.assertIn('warning op="mmap"', records)
        self.assertIn(" label=libObj ", records)
        self.assertIn(' rule="-r / r" ', records)
        suggestions = suggested_rules(self.suggest(records, policy=False))
        self.assertEqual(suggestions, [f"-r {self.LIB} rx", "-o libObj x"], records)
        self.add(suggestions)
        self.level = "enforcing"
        self.reload()
        r, records = self.load()
        self.assertEqual(records, "")
        self.assertIn("loaded", r.stdout, r.stderr)


if __name__ == "__main__":
    in_own_netns()
    unittest.main(verbosity=2)
