"""The productLocker scenario's moving parts, for the tests beside this file.

A Scenario is one freshly made sample tree (scripts/make-sample-tree.py) mounted with
sptfs (tests/lib/sptfs_harness.py), plus the operations the scenario needs: run the vmx
stand-in in globalVMDom under `spt-run --root`, re-point links through the mount, and
call `spt` against the running daemon. Always used as a context manager, so the mount
is gone and the temp dir removed whatever happens.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import sptfs_harness as h

UUID = "5d3fb5c5-3146d212-4263-8030e03bdef0"
DATASTORE = f"/vmfs/volumes/{UUID}/productLocker"
LOCKER = "/locker/packages/vmtoolsRepo"
ISO = "/vmimages/tools-isoimages/windows.iso"


def missing_programs():
    """The programs the scenario needs that are not built."""
    return [p for p in ("sptfs", "spt", "spt-run", "vmx-standin") if not os.access(h.tool(p), os.X_OK)]


class Scenario:
    def __init__(self, policy=None):
        self.policy = policy or h.sample_policy()
        self.work = None
        self.mount = None
        self._ctx = None

    def __enter__(self):
        self.work = tempfile.mkdtemp(prefix="sptfs-pl-")
        try:
            r = h.run([sys.executable, os.path.join(h.source_dir(), "scripts", "make-sample-tree.py"),
                       self.work, "--vmx", h.tool("vmx-standin"), "--policy", self.policy])
            if r.returncode != 0:
                raise RuntimeError("make-sample-tree failed: " + r.stderr)
            mnt = os.path.join(self.work, "esx")
            os.mkdir(mnt)
            self._ctx = h.mount(config=os.path.join(self.work, "sptfs.toml"), mountpoint=mnt,
                                audit_log=os.path.join(self.work, "audit.log"))
            self.mount = self._ctx.__enter__()
        except BaseException:
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._ctx is not None:
                self._ctx.__exit__(*exc)
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
        return False

    # Paths
    @property
    def mnt(self):
        return self.mount.mountpoint

    def tree_path(self, path):
        """A tree path as seen through the mount (links inside are not followed here)."""
        return self.mnt + path

    def backing(self, path):
        return os.path.join(self.work, "tree") + path

    # Actions
    def relink(self, link, target):
        """Re-points a symlink of the tree through the mount (as the administrator)."""
        p = self.tree_path(link)
        os.unlink(p)
        os.symlink(target, p)

    def vmx_args(self, path=ISO, extra=()):
        return [h.tool("spt-run"), "-D", "globalVMDom", "--mount", self.mnt, "--root", "--",
                "/bin/vmx", *extra, path]

    def vmx(self, path=ISO):
        """Runs the vmx stand-in once; CompletedProcess (stdout: its vmware.log lines)."""
        return h.run(self.vmx_args(path), timeout=60)

    def spt(self, *args, check=False):
        r = h.run([h.tool("spt"), "--mount", self.mnt, *args], timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"spt {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def denials(self, path=None):
        recs = [r for r in self.mount.audit() if r.get("type") == "SPT_AVC" and " denied " in r["_line"]]
        return [r for r in recs if path is None or r.get("path") == path]
