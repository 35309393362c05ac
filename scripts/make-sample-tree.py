#!/usr/bin/env python3
"""Builds the ESXi-like sample tree of the productLocker scenario (docs/productlocker.md).

    scripts/make-sample-tree.py DIR [--vmx BINARY] [--policy POLICY_DIR] [--xattr NAME]

Creates, from nothing but this repository and the host:
  DIR/tree/        the backing directory mounted at "/" (writable):
                     /etc /tmp /var/run /var/lock /opt
                     /locker/packages/vmtoolsRepo/{vmtools/{windows.iso,linux.iso,*.sig,
                       manifest},floppies/}
                     /vmfs/volumes/<uuid>/productLocker/{vmtools,floppies}/...  (datastore)
                     /productLocker -> /locker/packages/vmtoolsRepo
                     /vmimages/tools-isoimages -> /productLocker/vmtools
                     /bin/vmx (a copy of BINARY, the vmx stand-in) and one link per host
                       program: /bin/NAME -> /usr/bin/NAME
  DIR/sptfs.toml   the mount config: the tree at "/", host /lib /lib64 /usr/lib /usr/lib64
                   /usr/bin read-only at the same places, the policy set, audit log,
                   socket. Merged /usr (Debian): host /lib and /lib64 are symlinks into
                   /usr, so the tree shows /lib -> usr/lib and /lib64 -> usr/lib64
                   (docs/sptfs.md, "Merged /usr") and -r /lib and -r /usr/lib are one rule
Then applies the policy set's default labels (default-labels.toml) to the backing files
(`spt-label --restore` does the same through a mount; this step needs no daemon).
Why /bin is a directory of the tree and not a map of host /bin: on Debian host /bin is
/usr/bin, and globalVMDom grants `-r /bin/vmx rx`, so /bin must hold the stand-in as
well; the host's programs stay reachable through the links into the /usr/bin map.
Exit status 0 on success; on error a message "make-sample-tree: ..." and status 1.
"""

import argparse
import os
import shutil
import sys
import tomllib

UUID = "5d3fb5c5-3146d212-4263-8030e03bdef0"
DATASTORE = f"/vmfs/volumes/{UUID}"
LOCKER = "/locker/packages/vmtoolsRepo"
HOST_MAPS = ["/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/bin"]


def fail(msg):
    print(f"make-sample-tree: {msg}", file=sys.stderr)
    sys.exit(1)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def make_locker(root, where, origin):
    """A productLocker: vmtools ISOs (small text stand-ins), signatures, manifest, floppies.
    `origin` is written into every file so a reader can tell which copy it got."""
    base = root + where
    isos = {}
    for name in ("windows.iso", "linux.iso", "darwin.iso"):
        body = f"sptfs sample Tools ISO {name} ({origin})\n" + "x" * 4096 + "\n"
        write(f"{base}/vmtools/{name}", body)
        write(f"{base}/vmtools/{name}.sig", f"signature of {name} ({origin})\n")
        isos[name] = len(body)
    manifest = "".join(f"{n} {size}\n" for n, size in sorted(isos.items()))
    write(f"{base}/vmtools/manifest.txt", manifest)
    write(f"{base}/floppies/pvscsi-Windows8.flp", f"sample floppy ({origin})\n")


def make_tree(root, vmx):
    for d in ("etc/vmware/secpolicy", "etc/vmware/ssl", "tmp", "var/run", "var/lock", "opt",
              "usr", "vmimages", "dev", "proc", "bin", "tools", ".vmware"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    write(f"{root}/etc/hostname", "esx01\n")
    write(f"{root}/etc/passwd", "root:x:0:0:root:/:/bin/sh\n")
    write(f"{root}/etc/group", "root:x:0:\n")
    write(f"{root}/etc/shadow", "root:*:19000:0:99999:7:::\n", 0o600)
    write(f"{root}/etc/vmware/ssl/rui.crt", "sample certificate\n")
    write(f"{root}/etc/vmware/ssl/rui.key", "sample key\n", 0o600)
    write(f"{root}/etc/vmware/secpolicy/README", "the host's policy lives in policies/esxi\n")
    write(f"{root}/opt/app.conf", "sample application file\n")
    make_locker(root, LOCKER, "locker")
    make_locker(root, DATASTORE + "/productLocker", "datastore")
    os.symlink(LOCKER, f"{root}/productLocker")
    os.symlink("/productLocker/vmtools", f"{root}/vmimages/tools-isoimages")
    shutil.copy2(vmx, f"{root}/bin/vmx")
    os.chmod(f"{root}/bin/vmx", 0o755)
    for name in sorted(os.listdir("/usr/bin")):
        if not os.path.lexists(f"{root}/bin/{name}"):
            os.symlink(f"/usr/bin/{name}", f"{root}/bin/{name}")


def write_config(out_dir, policy):
    maps = [f'[[map]]\nat = "/"\nsource = "tree"\n']
    for m in HOST_MAPS:
        if os.path.isdir(m):  # a symlink to a directory too: sptfs shows it as the link
            maps.append(f'[[map]]\nat = "{m}"\nsource = "{m}"\nread_only = true\n')
    text = ("# sptfs mount config of the productLocker sample (scripts/make-sample-tree.py).\n"
            "# Relative paths are relative to this file.\n"
            f'policy = "{policy}"\naudit_log = "audit.log"\nsocket = "control.sock"\n\n'
            + "\n".join(maps))
    write(os.path.join(out_dir, "sptfs.toml"), text)


def default_labels(policy):
    path = os.path.join(policy, "default-labels.toml")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return sorted(((d["path"], d["label"]) for d in data.get("default", [])),
                  key=lambda pl: len(pl[0]))


def apply_labels(root, policy, xattr):
    """Sets each backing file's label from the longest default-label prefix (shortest
    first, so longer prefixes overwrite). Links are skipped: labels are on files."""
    count = 0
    for prefix, label in default_labels(policy):
        top = root + prefix
        if not os.path.lexists(top) or os.path.islink(top):
            continue
        targets = [top]
        if os.path.isdir(top):
            for dirpath, dirnames, filenames in os.walk(top):
                targets += [os.path.join(dirpath, n) for n in dirnames + filenames]
        for t in targets:
            if not os.path.islink(t):
                os.setxattr(t, xattr, label.encode(), follow_symlinks=False)
                count += 1
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.environ.get("SPTFS_BUILD", os.path.join(here, "..", "build"))
    ap.add_argument("--vmx", default=os.path.join(build, "tools", "vmx-standin", "vmx-standin"))
    ap.add_argument("--policy", default=os.path.join(here, "..", "policies", "esxi"))
    ap.add_argument("--xattr", default="trusted.spt.label" if os.geteuid() == 0
                    else "user.spt.label")
    a = ap.parse_args()
    if not os.path.isfile(a.vmx):
        fail(f"{a.vmx}: no vmx stand-in (expected a built tools/vmx-standin/vmx-standin)")
    if not os.path.isdir(a.policy):
        fail(f"{a.policy}: no policy set (expected a directory such as policies/esxi)")
    root = os.path.join(os.path.abspath(a.dir), "tree")
    if os.path.lexists(root):
        fail(f"{root} exists (expected a fresh directory; nothing changed)")
    os.makedirs(root)
    make_tree(root, a.vmx)
    write_config(os.path.abspath(a.dir), os.path.abspath(a.policy))
    try:
        n = apply_labels(root, os.path.abspath(a.policy), a.xattr)
    except OSError as e:
        fail(f"cannot set {a.xattr}: {e} (expected root, or --xattr user.spt.label)")
    print(f"make-sample-tree: {root} ready, {n} files labelled, "
          f"config {os.path.join(os.path.abspath(a.dir), 'sptfs.toml')}")


if __name__ == "__main__":
    main()
