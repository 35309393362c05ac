"""The dependency graph (issue 15 item 5, docs/CONTRIBUTING.md "Layout"):
  - no cycle between the directories of src/ through #include (tests aside);
  - a few edges that must not exist because a small header serves (CallerInfo);
  - the FUSE library's link closure holds no part of spt's command line (src/cli).
Usage: deps.py SOURCE_ROOT BUILD_ROOT. Prints every finding; exit 1 if any."""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"', re.M)

# (directory, included file): edges that must not come back.
FORBIDDEN = [
    ("audit", "domains/tracker.h", "audit needs CallerInfo only: domains/caller_info.h"),
    ("explain", "control/daemon_context.h", "the daemon side of --why lives in src/control"),
]

# Programs whose link line is a library's whole closure, and libraries they must not link.
LINK_RULES = [
    ("src/fs/fs_inode_table_test", "libsptfs_cli.a", "fs_dep pulls spt's command line"),
]


def include_edges(src):
    edges = {}  # (from_dir, to_dir) -> first "file: include"
    files = []
    for d in sorted(os.listdir(src)):
        top = os.path.join(src, d)
        if not os.path.isdir(top):
            continue
        for root, _, names in os.walk(top):
            for n in sorted(names):
                if n.endswith((".h", ".cc")) and not n.endswith("_test.cc"):
                    files.append((d, os.path.join(root, n)))
    for d, path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for to, rest in INCLUDE.findall(text):
            rel = os.path.relpath(path, src)
            yield d, to, rest, rel


def find_cycle(graph):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def main():
    src_root, build_root = sys.argv[1], sys.argv[2]
    src = os.path.join(src_root, "src")
    problems = []
    graph = {}
    why = {}
    for d, to, rest, rel in include_edges(src):
        if to != d and os.path.isdir(os.path.join(src, to)):
            graph.setdefault(d, set()).add(to)
            why.setdefault((d, to), f"{rel}: #include \"{to}/{rest}\"")
        for fd, ff, reason in FORBIDDEN:
            if d == fd and f"{to}/{rest}" == ff:
                problems.append(f"src/{rel}: includes {ff} (expected not: {reason})")
    cycle = find_cycle(graph)
    if cycle:
        steps = "; ".join(why[(a, b)] for a, b in zip(cycle, cycle[1:]))
        problems.append("include cycle " + " -> ".join(cycle) + ": " + steps)
    ninja = open(os.path.join(build_root, "build.ninja"), encoding="utf-8").read()
    for target, lib, reason in LINK_RULES:
        m = re.search(r"^build " + re.escape(target) + r": cpp_LINKER (.*)$", ninja, re.M)
        if not m:
            problems.append(f"build.ninja: no link rule for {target} (expected one)")
        elif lib in m.group(1):
            problems.append(f"{target} links {lib} (expected not: {reason})")
    for p in problems:
        print(p)
    print(f"dependency graph: {len(graph)} directories, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
