"""Exec transitions through the mount: `-d LABEL DOMAIN file_exec grant` moves the
process that executes a LABEL file into DOMAIN (and its later children with it);
without a rule an exec needs x; a domain that is not enforcing transitions too, and
every transition is in the audit log."""

import os
import unittest

from confine import (BASE_RULES, EPERM_TEXT, SandboxTestCase, kill_world, wait_for,
                     worlds_in_domain)

TOOL_SECRET = "TOOLSECRET-91"
DOMAINS = {
    "srcDom": dict(id=20, rules=BASE_RULES + [
        "-r /secretT ", "-r /opt rx", "-d toolObj toolDom file_exec grant",
        "-o plainObj rx", "-o noxObj r"]),
    "toolDom": dict(id=21, rules=BASE_RULES + ["-r /secretT r", "-r /opt rx", "-o toolObj rx"]),
    "warnDom": dict(id=22, level="warning", rules=BASE_RULES + [
        "-r /secretT ", "-r /opt rx", "-d toolObj toolDom file_exec grant", "-o noxObj r"]),
}
LABELS = [("toolObj", 3301), ("plainObj", 3302), ("noxObj", 3303)]
SHELL = "/usr/bin/dash"
FILES = {
    "/secretT/t.txt": TOOL_SECRET + "\n",
    "/opt/toolsh": (SHELL, 0o755),
    "/opt/plainsh": (SHELL, 0o755),
    "/opt/noxsh": (SHELL, 0o755),
}
LABELS_ON = {"/opt/toolsh": "toolObj", "/opt/plainsh": "plainObj", "/opt/noxsh": "noxObj"}
# The shell reads the file itself (`read`), then a child (cat) reads it.
PROBE = "read l < /secretT/t.txt && echo self:$l; cat /secretT/t.txt | sed s/^/child:/"


class TransitionTest(SandboxTestCase):
    SANDBOX = dict(domains=DOMAINS, labels=LABELS, files=FILES, labels_on=LABELS_ON)

    def transitions(self):
        return [a for a in self.sb.audit() if a.get("type") == "SPT_TRANSITION" and "from" in a]

    def test_source_domain_cannot_read(self):
        r = self.sb.run("srcDom", PROBE)
        self.assertNotIn(TOOL_SECRET, r.stdout)
        self.assertIn(EPERM_TEXT, r.stderr)

    def test_exec_moves_process_and_children(self):
        r = self.sb.run("srcDom", "", argv=["/opt/toolsh", "-c", PROBE])
        self.assertIn("self:" + TOOL_SECRET, r.stdout, r.stderr)
        self.assertIn("child:" + TOOL_SECRET, r.stdout, r.stderr)
        recs = [a for a in self.transitions() if a.get("from") == "srcDom(20)"]
        self.assertTrue(any(a.get("to") == "toolDom(21)" and a.get("result") == "ok"
                            for a in recs), recs)

    def test_transitioned_process_is_listed_in_its_domain(self):
        p = self.sb.popen("srcDom", "", argv=["/opt/toolsh", "-c", "sleep 30"])
        try:
            self.assertTrue(wait_for(lambda: worlds_in_domain(self.sb, "toolDom")),
                            self.sb.spt("--ps").stdout)
            self.assertTrue(worlds_in_domain(self.sb, "srcDom"))  # the world's first process
        finally:
            kill_world(p)

    def test_without_rule_exec_needs_x(self):
        r = self.sb.run("srcDom", "/opt/noxsh -c 'echo ran'; echo rc=$?")
        self.assertNotIn("ran", r.stdout.replace("rc=", ""))
        self.assertIn("rc=126", r.stdout)
        # plainObj has x but no transition: the program stays in srcDom.
        r = self.sb.run("srcDom", "", argv=["/opt/plainsh", "-c", "echo ran; " + PROBE])
        self.assertIn("ran", r.stdout, r.stderr)
        self.assertNotIn(TOOL_SECRET, r.stdout)

    def test_non_enforcing_domain_transitions_and_is_recorded(self):
        r = self.sb.run("warnDom", "", argv=["/opt/toolsh", "-c", PROBE])
        self.assertIn("self:" + TOOL_SECRET, r.stdout, r.stderr)
        recs = [a for a in self.transitions() if a.get("from") == "warnDom(22)"]
        self.assertTrue(any(a.get("to") == "toolDom(21)" for a in recs), recs)
        # warning level: an exec without x is allowed and recorded as a warning.
        r = self.sb.run("warnDom", "/opt/noxsh -c 'echo ran'")
        self.assertIn("ran", r.stdout, r.stderr)
        warned = [a for a in self.sb.audit() if a.get("domain") == "warnDom(22)"
                  and "noxsh" in a.get("path", "")]
        self.assertTrue(warned, self.sb.audit())


if __name__ == "__main__":
    unittest.main(verbosity=2)
