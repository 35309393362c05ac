"""Claims the docs make about the tree, checked (issue 14 item 7):
- no source file cites a DESIGN.md (there is none in the repository; cite docs/);
- every manual page stands on its own (`man -l FILE` works: no `.so` include);
- every program the docs say prints `--version` does.
Usage: doc_claims.py SOURCE_ROOT BUILD_ROOT"""
import os
import subprocess
import sys

src, build = sys.argv[1], sys.argv[2]
problems = []
for top in ("src", "tools", "bench", "fuzz", "tests", "scripts"):
    for root, _, files in os.walk(os.path.join(src, top)):
        for name in files:
            path = os.path.join(root, name)
            if name == "doc_claims.py" or not name.endswith((".cc", ".h", ".py", ".sh")):
                continue
            with open(path, errors="replace") as f:
                for n, line in enumerate(f, 1):
                    if "DESIGN.md" in line:
                        problems.append(f"{os.path.relpath(path, src)}:{n}: cites DESIGN.md")
for name in sorted(os.listdir(os.path.join(src, "man"))):
    if name == "meson.build":
        continue
    with open(os.path.join(src, "man", name)) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(".so "):
                problems.append(f"man/{name}:{n}: `.so` include (man -l cannot follow it)")
for tool in ("sptfs", "spt", "spt-label", "spt-domain", "spt-run"):
    exe = os.path.join(build, "tools", tool, tool)
    r = subprocess.run([exe, "--version"], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith(tool + " "):
        problems.append(f"{tool} --version: exit {r.returncode}, printed {r.stdout!r}")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
