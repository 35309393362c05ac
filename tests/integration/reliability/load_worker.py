#!/usr/bin/env python3
"""One load client, run confined by spt-run (test_load.py): mixed open/read/write/
create/unlink through the mount for a set time, checking every answer it can judge.

    load_worker.py MOUNT ROLE NAME SECONDS OUT.json     (ROLE: a or b)

Role a (domain domA) owns /a/NAME; role b (domB) owns /b/NAME. Both may read /common.
Role a also writes /flip/NAME (granted by one of the two policy sets only: either answer
is right here; test_load.py judges it from the audit generations). Role b tries /secret
and /a, which no policy set or level of domB ever grants: any success is an escape.
OUT gets counts, wrong answers, and the files the worker left with their content.
"""
import errno
import json
import os
import random
import sys
import time


def main():
    mnt, role, name, seconds, out = sys.argv[1:6]
    own = os.path.join(mnt, role, name)
    rng = random.Random(name)  # str seeds are deterministic
    files = {}  # name -> content this worker last wrote and saw succeed
    counts = {"ops": 0, "writes": 0, "reads": 0, "unlinks": 0, "flip_ok": 0,
              "flip_eperm": 0, "forbidden_eperm": 0}
    wrong = []
    deadline = time.monotonic() + float(seconds)
    serial = 0

    def expect_ok(what, fn, *a):
        try:
            return fn(*a)
        except OSError as e:
            wrong.append(f"{what}: {errno.errorcode.get(e.errno, e.errno)} (expected success)")
            return None

    def expect_eperm(what, fn, *a):
        try:
            fn(*a)
            wrong.append(f"{what}: succeeded (expected EPERM: escape)")
        except OSError as e:
            if e.errno != errno.EPERM:
                wrong.append(f"{what}: {errno.errorcode.get(e.errno)} (expected EPERM)")
            else:
                counts["forbidden_eperm"] += 1

    def write(path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    while time.monotonic() < deadline:
        counts["ops"] += 1
        op = rng.random()
        if op < 0.35 or not files:
            serial += 1
            fname = f"f{rng.randrange(40)}"
            data = f"{name}:{serial}\n".encode() * rng.randrange(1, 200)
            if expect_ok("write " + fname, write, os.path.join(own, fname), data) is None:
                files[fname] = data
                counts["writes"] += 1
        elif op < 0.65:
            fname = rng.choice(sorted(files))
            got = expect_ok("read " + fname, read, os.path.join(own, fname))
            if got is not None and got != files[fname]:
                wrong.append(f"read {fname}: {len(got)} bytes differ from the last write")
            counts["reads"] += 1
        elif op < 0.75:
            fname = rng.choice(sorted(files))
            if expect_ok("unlink " + fname, os.unlink, os.path.join(own, fname)) is None:
                del files[fname]
                counts["unlinks"] += 1
        elif op < 0.85:
            got = expect_ok("read common", read, os.path.join(mnt, "common", "c.txt"))
            if got is not None and got != b"COMMON\n":
                wrong.append("read common: wrong content")
        elif role == "a":
            try:
                write(os.path.join(mnt, "flip", name), b"flip")
                counts["flip_ok"] += 1
            except OSError as e:
                if e.errno != errno.EPERM:
                    wrong.append(f"flip: {errno.errorcode.get(e.errno)} (expected ok or EPERM)")
                counts["flip_eperm"] += 1
        else:
            target = rng.choice([("read secret", read, os.path.join(mnt, "secret", "s.txt")),
                                 ("write a", write, os.path.join(mnt, "a", "x"), b"x"),
                                 ("create secret", write, os.path.join(mnt, "secret", name), b"x")])
            expect_eperm(target[0], *target[1:])
    with open(out, "w") as f:
        json.dump({"counts": counts, "wrong": wrong[:50], "wrong_total": len(wrong),
                   "files": {k: v.decode() for k, v in files.items()}}, f)


if __name__ == "__main__":
    main()
