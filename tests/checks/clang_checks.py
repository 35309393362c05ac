"""clang-format and clang-tidy over the project's own sources (issue 15 item 6).

  clang_checks.py format SOURCE_ROOT        clang-format --dry-run -Werror (.clang-format)
  clang_checks.py tidy SOURCE_ROOT BUILD    clang-tidy (.clang-tidy) on every .cc of src/
                                            and tools/ in BUILD's compile_commands.json,
                                            every warning an error
Prints each finding; exit 1 if any, 77 (skipped) if the tool is not installed."""

import json
import os
import shutil
import subprocess
import sys

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


def check_tidy(root, build):
    tool = shutil.which("run-clang-tidy") or shutil.which("run-clang-tidy-14")
    if not tool or not shutil.which("clang-tidy"):
        print("clang-tidy is not installed (scripts/install-deps.sh installs it)")
        return 77
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    mine = sorted({os.path.realpath(os.path.join(e["directory"], e["file"])) for e in entries})
    mine = [p for p in mine if os.path.relpath(p, root).split(os.sep)[0] in ("src", "tools")]
    jobs = str(max(1, min(2, os.cpu_count() or 1)))
    # Warnings are errors through .clang-tidy (WarningsAsErrors); run-clang-tidy 14 has
    # no flag for it.
    r = subprocess.run([tool, "-quiet", "-j", jobs, "-p", build] + mine,
                       cwd=root, capture_output=True, text=True)
    findings = sorted({l for l in r.stdout.splitlines() + r.stderr.splitlines()
                       if ("warning:" in l or "error:" in l) and "warnings generated" not in l})
    for l in findings:
        print(l)
    print(f"clang-tidy: {len(mine)} files, {len(findings)} findings")
    return 1 if findings or r.returncode != 0 else 0


def main():
    if sys.argv[1] == "format":
        return check_format(sys.argv[2])
    return check_tidy(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    sys.exit(main())
