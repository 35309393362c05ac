#!/usr/bin/env python3
"""fsx-style exerciser: random writes, truncates, reads and mmap reads/writes on one
file, each checked against an in-memory model of what the file must contain.

    fsx.py FILE [--ops N] [--seed S] [--max-size BYTES] [--quiet]
               [--direct [--block-size BYTES]] [--denied PATH]

--direct: the O_DIRECT variant (DirectFsx): the file is opened with O_DIRECT and every
read and write goes through a page-aligned buffer (an anonymous mmap) at offsets and
sizes that are multiples of the block size (default: the file system's f_bsize), with
truncates to block multiples; besides, requests whose offset or size is not a multiple
of 512 are made and their outcomes (errno or byte count) recorded: `unaligned=` in the
last line is a digest of them, to compare with a run of the same seed on the backing
file system. A refused write may leave sectors of its own data behind (ext4 does): each
512-byte sector must then hold its old content or the request's. Nothing but direct I/O
touches the file, the final check included, so no page of it should be cached after.
--denied PATH: a file the caller's domain denies: opening it must fail with EPERM at
the start, every 500 operations and at the end (the run is confined and enforcing).

Exit 0 when every operation matched the model; 1 with the seed, the operation number
and the last operations on the first mismatch (rerun with the same seed to replay).
"""
import argparse
import errno
import hashlib
import mmap
import os
import random
import sys

PAGE = mmap.PAGESIZE


class Mismatch(Exception):
    pass


class Fsx:
    FLAGS = 0  # open flags besides O_RDWR

    def __init__(self, path, seed, max_size, denied=None):
        self.path = path
        self.rng = random.Random(seed)
        self.max_size = max_size
        self.denied = denied
        self.model = bytearray()
        self.history = []
        self.counts = {}
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | self.FLAGS, 0o644)

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

    def truncate_size(self):
        return self.rng.randrange(0, self.max_size)

    def op_truncate(self):
        size = self.truncate_size()
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
        self.fd = os.open(self.path, os.O_RDWR | self.FLAGS)
        size = os.fstat(self.fd).st_size
        if size != len(self.model):
            raise Mismatch(f"size after reopen {size}, model {len(self.model)}")
        return "reopen"

    OPS = [("write", 30), ("truncate", 8), ("read", 25), ("mapread", 15), ("mapwrite", 12),
           ("reopen", 3)]

    def check_denied(self, when):
        """The --denied file must stay out of reach: EPERM, sptfs's answer to a denial."""
        try:
            os.close(os.open(self.denied, os.O_RDONLY))
        except OSError as e:
            if e.errno == errno.EPERM:
                return
            raise Mismatch(f"{when}: opening denied {self.denied}: {e} (want EPERM)")
        raise Mismatch(f"{when}: denied {self.denied} opened: not confined or not enforcing")

    def final_content(self):
        with open(self.path, "rb") as f:
            return f.read()

    def run(self, nops):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        for i in range(nops):
            if self.denied and i % 500 == 0:
                self.check_denied(f"op {i}")
            name = self.rng.choices(names, weights)[0]
            try:
                self.history.append(f"{i}: " + getattr(self, "op_" + name)())
            except (Mismatch, OSError) as e:
                tail = "\n".join(self.history[-10:])
                raise Mismatch(f"op {i} ({name}) failed: {e}\nlast operations:\n{tail}")
            self.counts[name] = self.counts.get(name, 0) + 1
        final = self.final_content()
        if final != bytes(self.model):
            raise Mismatch(f"final content differs (size {len(final)} vs {len(self.model)})")
        os.close(self.fd)
        if self.denied:
            self.check_denied("end")

    def summary(self):
        return f"sha256={hashlib.sha256(self.model).hexdigest()}"


class DirectFsx(Fsx):
    """The O_DIRECT variant: aligned direct reads and writes, block-multiple truncates,
    reopens (O_DIRECT again, with or without fsync) and unaligned requests, all from
    one page-aligned buffer. The unaligned requests are judged by the model like the
    others when they succeed; their outcomes are what `unaligned=` digests."""
    FLAGS = os.O_DIRECT
    MAX_BLOCKS = 16  # per request
    OPS = [("dwrite", 35), ("dread", 35), ("truncate", 8), ("unaligned", 18), ("reopen", 4)]

    def __init__(self, path, seed, max_size, block, denied=None):
        super().__init__(path, seed, max_size - max_size % block, denied)
        self.block = block
        self.buf = mmap.mmap(-1, self.MAX_BLOCKS * block + block)  # page aligned
        self.view = memoryview(self.buf)
        self.outcomes = []

    def aligned_range(self, limit_blocks):
        blocks = self.max_size // self.block
        first = self.rng.randrange(0, max(1, limit_blocks))
        n = self.rng.randrange(1, 1 + min(self.MAX_BLOCKS, blocks - first))
        return first * self.block, n * self.block

    def direct_write(self, off, data):
        self.buf[:len(data)] = data
        n = os.pwritev(self.fd, [self.view[:len(data)]], off)
        if n > 0:
            if off > len(self.model):
                self.model.extend(bytes(off - len(self.model)))
            self.model[off:off + n] = data[:n]
        return n

    def direct_read(self, off, n, what):
        got = os.preadv(self.fd, [self.view[:n]], off)
        self.check(what, bytes(self.buf[:got]), off)
        want = max(0, min(n, len(self.model) - off))
        if got != want:
            raise Mismatch(f"{what} {off:#x}+{n:#x}: got {got} bytes, size {len(self.model)}")
        return got

    def op_dwrite(self):
        off, n = self.aligned_range(self.max_size // self.block)
        if self.direct_write(off, self.rng.randbytes(n)) != n:
            raise Mismatch("short write")
        return f"dwrite {off:#x}+{n:#x}"

    def op_dread(self):
        if not self.model:
            return self.op_dwrite()
        off, n = self.aligned_range(-(-len(self.model) // self.block))
        self.direct_read(off, n, "dread")
        return f"dread {off:#x}+{n:#x}"

    def truncate_size(self):  # whole blocks: O_DIRECT needs aligned file sizes to read back
        return self.block * self.rng.randrange(0, self.max_size // self.block + 1)

    def op_unaligned(self):
        """A direct read or write inside the file whose offset or size is off by 1..511
        bytes from a 512 multiple (the smallest device sector). The outcome is recorded
        (errno name, or the byte count, the data checked against the model)."""
        if not self.model:
            return self.op_dwrite()
        off, n = self.aligned_range(-(-len(self.model) // self.block))
        skew = self.rng.randrange(1, 512)
        if self.rng.random() < 0.5:
            off += skew
        else:
            n = max(1, n - skew)
        kind = "write" if self.rng.random() < 0.5 else "read"
        data = self.rng.randbytes(n) if kind == "write" else None
        try:
            got = self.direct_write(off, data) if data else self.direct_read(
                off, n, "unaligned read")
            result = str(got)
        except OSError as e:
            result = errno.errorcode.get(e.errno, str(e.errno))
            if data:
                self.adopt(off, data)
        self.outcomes.append(f"{kind} {off:#x}+{n:#x} {result}")
        return f"unaligned {self.outcomes[-1]}"

    def adopt(self, off, data):
        """After a refused write, ext4 may have written the aligned sectors of it
        (which ones varies with the extents the file got): the model takes what the file
        now holds there, read back directly, after checking that each 512-byte sector
        holds either what it held or what the request had for it; nothing else."""
        size = os.fstat(self.fd).st_size
        if size > len(self.model):
            self.model.extend(bytes(size - len(self.model)))
        first = off - off % self.block
        end = min(size, -(-(off + len(data)) // self.block) * self.block)
        step = self.MAX_BLOCKS * self.block
        now = bytearray()
        for pos in range(first, end, step):
            got = os.preadv(self.fd, [self.view[:min(step, end - pos)]], pos)
            now += self.buf[:got]
        for pos in range(first, first + len(now), 512):
            seg = bytes(now[pos - first:pos - first + 512])
            old = bytes(self.model[pos:pos + len(seg)])
            new = bytearray(old)
            lo, hi = max(pos, off), min(pos + len(seg), off + len(data))
            if lo < hi:
                new[lo - pos:hi - pos] = data[lo - off:hi - off]
            if seg != old and seg != new:
                raise Mismatch(f"refused write {off:#x}+{len(data):#x} left sector {pos:#x} "
                               "holding neither its old content nor the request's")
        self.model[first:first + len(now)] = now

    def final_content(self):
        out = bytearray()
        size = os.fstat(self.fd).st_size
        step = self.MAX_BLOCKS * self.block
        for off in range(0, size, step):
            got = os.preadv(self.fd, [self.view[:step]], off)
            out += self.buf[:got]
        return bytes(out)

    def summary(self):
        kinds = {}  # "write EINVAL" -> count ("read 4096": succeeded)
        for o in self.outcomes:
            key = " ".join(o.split()[0:3:2])
            kinds[key] = kinds.get(key, 0) + 1
        digest = hashlib.sha256("\n".join(self.outcomes).encode()).hexdigest()[:16]
        errors = sorted((k, v) for k, v in kinds.items() if not k.split()[1].isdigit())
        return (f"unaligned={digest} ({len(self.outcomes)} requests, "
                f"{len(self.outcomes) - sum(v for _, v in errors)} done, failed: {errors}) "
                + super().summary())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-size", type=int, default=1 << 20)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--direct", action="store_true")
    ap.add_argument("--block-size", type=int)
    ap.add_argument("--denied")
    a = ap.parse_args(argv)
    if a.direct:
        block = a.block_size or os.statvfs(os.path.dirname(os.path.abspath(a.file))).f_bsize
        fsx = DirectFsx(a.file, a.seed, a.max_size, block, a.denied)
    else:
        fsx = Fsx(a.file, a.seed, a.max_size, a.denied)
    try:
        fsx.run(a.ops)
    except Mismatch as e:
        print(f"fsx: seed {a.seed}: {e}", file=sys.stderr)
        return 1
    if not a.quiet:
        print(f"fsx: seed {a.seed}: {a.ops} operations OK {sorted(fsx.counts.items())} "
              + fsx.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
