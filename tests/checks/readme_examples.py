"""The README's by-hand examples run as written (issue 14 item 8): each ```sh block
after the quick start, line by line, in a scratch directory where `build` and
`policies` are the real ones. Each line must exit 0; the checks below name what it
must print. Usage: readme_examples.py SOURCE_ROOT BUILD_ROOT"""
import os
import re
import subprocess
import sys
import tempfile

src, build = sys.argv[1], sys.argv[2]
blocks = re.findall(r"```sh\n(.*?)```", open(os.path.join(src, "README.md")).read(), re.S)
expect = {"--check policies/esxi": "policies/esxi: ok:", "--check mypol": "mypol: ok: 2 domains",
          "--why globalVMDom": "allow: globalVMDom", "--why webDom /etc/shadow": "deny: webDom"}
seen, problems = set(), []
with tempfile.TemporaryDirectory() as d:
    os.symlink(os.path.abspath(build), os.path.join(d, "build"))
    os.symlink(os.path.join(os.path.abspath(src), "policies"), os.path.join(d, "policies"))
    for block in blocks[1:]:  # the first is the quick start itself (CI runs it)
        for line in block.splitlines():
            r = subprocess.run(line, shell=True, cwd=d, capture_output=True, text=True)
            out = r.stdout + r.stderr
            if r.returncode != 0:
                problems.append(f"exit {r.returncode}: {line}\n{out}")
            for key, want in expect.items():
                if key in line:
                    seen.add(key)
                    if want not in out:
                        problems.append(f"{line}: expected {want!r} in {out!r}")
problems += [f"README has no example with {k!r}" for k in expect if k not in seen]
print("\n".join(problems))
sys.exit(1 if problems else 0)
