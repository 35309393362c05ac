"""clang-format and clang-tidy over the project's own sources (issue 15 item 6).

  clang_checks.py format SOURCE_ROOT        clang-format --dry-run -Werror (.clang-format)
  clang_checks.py tidy SOURCE_ROOT BUILD    clang-tidy (.clang-tidy) on every .cc of src/
                                            and tools/ in BUILD's compile_commands.json,
                                            every warning an error
Prints each finding; exit 1 if any, 77 (skipped) if the tool is not installed."""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time

DIRS = ("src", "tools", "bench", "fuzz")


def sources(root, exts=(".cc", ".h")):
    out = []
    for d in DIRS:
        for base, _, names in os.walk(os.path.join(root, d)):
            out += [os.path.join(base, n) for n in sorted(names) if n.endswith(exts)]
    return sorted(out)


def check_format(root):
    tool = shutil.which("clang-format")
    if not tool:
        print("clang-format is not installed (scripts/install-deps.sh installs it)")
        return 77
    files = sources(root)
    r = subprocess.run([tool, "--dry-run", "-Werror", "--style=file"] + files, cwd=root,
                       capture_output=True, text=True)
    bad = sorted({l.split(":")[0] for l in r.stderr.splitlines() if ": error:" in l})
    for f in bad:
        print("not formatted: " + os.path.relpath(f, root))
    print(f"clang-format: {len(files)} files, {len(bad)} not formatted"
          + (" (run clang-format -i on them)" if bad else ""))
    return 1 if r.returncode != 0 else 0


def tidy_one(tool, build, path):
    """(path, findings, exit code, output, seconds) of clang-tidy on one file."""
    start = time.monotonic()
    r = subprocess.run([tool, "-quiet", "-p", build, path], capture_output=True, text=True)
    out = r.stdout + r.stderr
    found = [l for l in out.splitlines()
             if ("warning:" in l or "error:" in l) and "warnings generated" not in l]
    return path, found, r.returncode, out, time.monotonic() - start


def relative(line, root, build):
    """A finding's `file:line:col: ...` with the file relative to the source root."""
    path, sep, rest = line.partition(":")
    if not sep:
        return line
    return os.path.relpath(os.path.normpath(os.path.join(build, path)), root) + sep + rest


def check_tidy(root, build):
    tool = shutil.which("clang-tidy")
    if not tool:
        print("clang-tidy is not installed (scripts/install-deps.sh installs it)")
        return 77
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    mine = sorted({os.path.realpath(os.path.join(e["directory"], e["file"])) for e in entries})
    mine = [p for p in mine if os.path.relpath(p, root).split(os.sep)[0] in ("src", "tools")]
    # Two processes (CI has 2 cores), biggest files first, so the last file to finish is
    # a short one.
    mine.sort(key=lambda p: -os.path.getsize(p))
    jobs = max(1, min(2, os.cpu_count() or 1))
    start = time.monotonic()
    findings, failed, took = set(), [], []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for path, found, rc, out, secs in pool.map(lambda p: tidy_one(tool, build, p), mine):
            took.append((secs, os.path.relpath(path, root)))
            # A header's finding comes once from every file that includes it.
            findings.update(relative(l, root, build) for l in found)
            if rc != 0 and not found:
                failed.append(os.path.relpath(path, root))
                print(out.strip())
    for l in sorted(findings):
        print(l)
    for p in failed:
        print(f"{p}: clang-tidy failed without a finding (expected exit 0)")
    # What to look at first if the check gets slow.
    slow = ", ".join(f"{p} {t:.0f} s" for t, p in sorted(took, reverse=True)[:3])
    print(f"clang-tidy: {len(mine)} files, {len(findings)} findings,"
          f" {time.monotonic() - start:.0f} s with {jobs} processes (slowest: {slow})")
    return 1 if findings or failed else 0


def main():
    if sys.argv[1] == "format":
        return check_format(sys.argv[2])
    return check_tidy(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    sys.exit(main())
