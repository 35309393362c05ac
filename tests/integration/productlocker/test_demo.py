"""The README's main job, scripts/demo.sh, run as a user runs it (issue 14).

It once passed only where other sptfs daemons happened to run: a check in it ran
`spt -p` through eval'd backticks, which reloads the daemon when it is the only one
and fails harmlessly when there are several. So it runs here twice: while another
sptfs daemon is up (how it passed by accident), and with that daemon gone; CI also
runs it on a machine where nothing else is left running (.ci/run).
"""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
import sptfs_harness as h  # noqa: E402


def run_demo():
    env = dict(os.environ, BUILD=h.build_dir())
    return h.run(["bash", os.path.join(h.source_dir(), "scripts", "demo.sh")], env=env,
                 timeout=600)


class Demo(unittest.TestCase):
    def check(self, r):
        tail = (r.stdout + r.stderr)[-3000:]
        self.assertEqual(r.returncode, 0, tail)
        self.assertIn("DEMO PASSED", r.stdout, tail)
        self.assertNotIn("DEMO FAILED", r.stdout + r.stderr, tail)

    def test_demo_with_another_daemon_up(self):
        work = tempfile.mkdtemp(prefix="sptfs-demo-other-")
        try:
            os.makedirs(os.path.join(work, "tree"))
            os.makedirs(os.path.join(work, "mnt"))
            # Its control socket is linked in /run/sptfs, so plain `spt` sees two daemons.
            with h.mount(os.path.join(work, "tree"), os.path.join(work, "mnt"),
                         policy=h.sample_policy()):
                self.check(run_demo())
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_demo_alone(self):
        self.check(run_demo())


if __name__ == "__main__":
    unittest.main(verbosity=2)
