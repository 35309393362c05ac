#!/usr/bin/env python3
"""fsx-style exerciser: random writes, truncates, reads and mmap reads/writes on one
file, each checked against an in-memory model of what the file must contain.

    fsx.py FILE [--ops N] [--seed S] [--max-size BYTES] [--quiet]

Exit 0 when every operation matched the model; 1 with the seed, the operation number
and the last operations on the first mismatch (rerun with the same seed to replay).
"""
import argparse
import hashlib
import mmap
import os
import random
import sys

PAGE = mmap.PAGESIZE


class Mismatch(Exception):
    pass


class Fsx:
    def __init__(self, path, seed, max_size):
        self.path = path
        self.rng = random.Random(seed)
        self.max_size = max_size
        self.model = bytearray()
        self.history = []
        self.counts = {}
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)

    def check(self, what, got, off):
        want = bytes(self.model[off:off + len(got)])
        if got != want:
            bad = next(i for i in range(len(got)) if i >= len(want) or got[i] != want[i])
            raise Mismatch(f"{what}: byte {off + bad:#x} is {got[bad]:#04x}, model has "
                           f"{want[bad] if bad < len(want) else 'EOF'}")

    def rand_range(self, limit):
        off = self.rng.randrange(0, max(1, limit))
        return off, self.rng.randrange(1, 1 + min(65536, self.max_size - off))

    def op_write(self):
        off, n = self.rand_range(self.max_size - 1)
        data = self.rng.randbytes(n)
        if os.pwrite(self.fd, data, off) != n:
            raise Mismatch("short write")
        if off > len(self.model):
            self.model.extend(bytes(off - len(self.model)))
        self.model[off:off + n] = data
        return f"write {off:#x}+{n:#x}"

    def op_truncate(self):
        size = self.rng.randrange(0, self.max_size)
        os.ftruncate(self.fd, size)
        if size < len(self.model):
            del self.model[size:]
        else:
            self.model.extend(bytes(size - len(self.model)))
        return f"truncate {size:#x}"

    def op_read(self):
        if not self.model:
            return self.op_write()
        off, n = self.rand_range(len(self.model))
        got = os.pread(self.fd, n, off)
        self.check("read", got, off)
        if len(got) != min(n, len(self.model) - off):
            raise Mismatch(f"read {off:#x}+{n:#x}: got {len(got)} bytes, size {len(self.model)}")
        return f"read {off:#x}+{n:#x}"

    def op_mapread(self):
        if not self.model:
            return self.op_write()
        off, n = self.rand_range(len(self.model))
        n = min(n, len(self.model) - off)
        base = off - off % PAGE
        with mmap.mmap(self.fd, off + n - base, mmap.MAP_SHARED, mmap.PROT_READ,
                       offset=base) as m:
            self.check("mapread", m[off - base:off - base + n], off)
        return f"mapread {off:#x}+{n:#x}"

    def op_mapwrite(self):
        if not self.model:
            return self.op_write()
        off, n = self.rand_range(len(self.model))
        n = min(n, len(self.model) - off)
        base = off - off % PAGE
        data = self.rng.randbytes(n)
        with mmap.mmap(self.fd, off + n - base, mmap.MAP_SHARED, offset=base) as m:
            m[off - base:off - base + n] = data
            m.flush()
        self.model[off:off + n] = data
        return f"mapwrite {off:#x}+{n:#x}"

    def op_reopen(self):
        if self.rng.random() < 0.5:
            os.fsync(self.fd)
        os.close(self.fd)
        self.fd = os.open(self.path, os.O_RDWR)
        size = os.fstat(self.fd).st_size
        if size != len(self.model):
            raise Mismatch(f"size after reopen {size}, model {len(self.model)}")
        return "reopen"

    OPS = [("write", 30), ("truncate", 8), ("read", 25), ("mapread", 15), ("mapwrite", 12),
           ("reopen", 3)]

    def run(self, nops):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        for i in range(nops):
            name = self.rng.choices(names, weights)[0]
            try:
                self.history.append(f"{i}: " + getattr(self, "op_" + name)())
            except (Mismatch, OSError) as e:
                tail = "\n".join(self.history[-10:])
                raise Mismatch(f"op {i} ({name}) failed: {e}\nlast operations:\n{tail}")
            self.counts[name] = self.counts.get(name, 0) + 1
        with open(self.path, "rb") as f:
            final = f.read()
        if final != bytes(self.model):
            raise Mismatch(f"final content differs (size {len(final)} vs {len(self.model)})")
        os.close(self.fd)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-size", type=int, default=1 << 20)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    fsx = Fsx(a.file, a.seed, a.max_size)
    try:
        fsx.run(a.ops)
    except Mismatch as e:
        print(f"fsx: seed {a.seed}: {e}", file=sys.stderr)
        return 1
    if not a.quiet:
        print(f"fsx: seed {a.seed}: {a.ops} operations OK {sorted(fsx.counts.items())} "
              f"sha256={hashlib.sha256(fsx.model).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
