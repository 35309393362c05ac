// read, write_buf, flush, release, fsync, fallocate, copy_file_range, lseek: calls on an
// open handle (fi->fh, from ops_open.cc). The policy was asked at open; these only
// refuse writes under a read-only map.
//
// Direct I/O: a file opened with O_DIRECT has an O_DIRECT backing fd (BackingFlags), so
// reads and writes of it skip the backing store's page cache and complete on its device,
// as they would there. The kernel's own O_DIRECT path (no FOPEN_DIRECT_IO, see
// docs/sptfs.md) sends the caller's direct requests with O_DIRECT in their flags. Their
// data sits in libfuse's request buffer or pipe just after the request header, never
// aligned as O_DIRECT needs, so it is copied once into an aligned per-thread buffer and
// written from there (a buffered write makes one copy too, into the page cache). Whether
// the offset and size are aligned is the backing store's to judge: EINVAL as there.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs/kill_priv.h"
#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

// Alignment of direct I/O buffers: a page, which every block device's limit divides.
constexpr size_t kDirectAlign = 4096;

// One buffer over `size` bytes of file `fd` at `pos` (FUSE_BUFVEC_INIT is C-only).
fuse_bufvec FdBuf(size_t size, uint64_t fd, off_t pos) {
  fuse_bufvec v{};
  v.count = 1;
  v.buf[0].size = size;
  v.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  v.buf[0].fd = static_cast<int>(fd);
  v.buf[0].pos = pos;
  return v;
}

// A kDirectAlign-aligned buffer of at least `size` bytes, kept by the serving thread
// (at most max_write, 1 MiB, per thread); nullptr if memory is short.
char* AlignedBuffer(size_t size) {
  struct Buffer {
    void* mem = nullptr;
    size_t size = 0;
    ~Buffer() { free(mem); }
  };
  thread_local Buffer buf;
  if (buf.size < size) {
    free(buf.mem);
    buf.mem = nullptr;
    buf.size = 0;
    size_t n = (size + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
    if (posix_memalign(&buf.mem, kDirectAlign, n) != 0) return nullptr;
    buf.size = n;
  }
  // clang-analyzer (14) does not see posix_memalign set buf.mem after the free above.
  return static_cast<char*>(buf.mem);  // NOLINT(clang-analyzer-unix.Malloc)
}

// The caller's direct write: the data copied into an aligned buffer, then one pwrite on
// the O_DIRECT backing fd (given O_DIRECT first if the caller set it with fcntl after
// opening). Bytes written or -errno.
ssize_t WriteDirect(int fd, fuse_bufvec* in, off_t off) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (!(fl & O_DIRECT) && fcntl(fd, F_SETFL, fl | O_DIRECT) != 0)) return -errno;
  size_t size = fuse_buf_size(in);
  char* mem = AlignedBuffer(size);
  if (!mem) return -ENOMEM;
  fuse_bufvec aligned{};
  aligned.count = 1;
  aligned.buf[0].size = size;
  aligned.buf[0].mem = mem;
  ssize_t n = fuse_buf_copy(&aligned, in, static_cast<fuse_buf_copy_flags>(0));
  if (n < 0) return n;
  ssize_t w = pwrite(fd, mem, static_cast<size_t>(n), off);
  return w < 0 ? -errno : w;
}

// A write without O_DIRECT that the backing fd refused (EINVAL, nothing consumed): if
// that fd is O_DIRECT, the request is buffered data on a direct handle (the kernel writing
// back mmap'd or cached pages, or the caller cleared O_DIRECT with fcntl). The caller's
// own writes make the fd buffered again; written-back pages go through a buffered open
// of the same file. Bytes written or -errno.
ssize_t WriteBufferedOnDirect(int fd, fuse_bufvec* in, off_t off, const fuse_file_info* fi) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  if (!(fl & O_DIRECT)) {  // not ours to fix: let libfuse copy by hand, as without splice
    fuse_bufvec out = FdBuf(fuse_buf_size(in), static_cast<uint64_t>(fd), off);
    return fuse_buf_copy(&out, in, static_cast<fuse_buf_copy_flags>(0));
  }
  int target = fd;
  if (fi->writepage) {
    target = open(ProcPath(fd).c_str(), (fl & ~O_DIRECT) | O_CLOEXEC);
    if (target < 0) return -errno;
  } else if (fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0) {
    return -errno;
  }
  fuse_bufvec out = FdBuf(fuse_buf_size(in), static_cast<uint64_t>(target), off);
  ssize_t n = fuse_buf_copy(&out, in, static_cast<fuse_buf_copy_flags>(0));
  if (target != fd) close(target);
  return n;
}

void ReplyWritten(fuse_req_t req, ssize_t n) {
  if (n < 0) {
    fuse_reply_err(req, static_cast<int>(-n));
  } else {
    fuse_reply_write(req, static_cast<size_t>(n));
  }
}

}  // namespace

void OpRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  fuse_bufvec buf = FdBuf(size, fi->fh, off);
  fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void OpWriteBuf(fuse_req_t req, fuse_ino_t, fuse_bufvec* in, off_t off, fuse_file_info* fi) {
  int fd = static_cast<int>(fi->fh);
  if (int err = KillPrivBeforeWrite(req, fd, false)) {  // before the data changes
    fuse_reply_err(req, err);
    return;
  }
  if ((fi->flags & O_DIRECT) && !fi->writepage) {
    ReplyWritten(req, WriteDirect(fd, in, off));
    return;
  }
  // Forced splice: a refusal (EINVAL) then leaves the data where it was, for the retry.
  fuse_bufvec out = FdBuf(fuse_buf_size(in), fi->fh, off);
  ssize_t n = fuse_buf_copy(
      &out, in, static_cast<fuse_buf_copy_flags>(FUSE_BUF_SPLICE_NONBLOCK | FUSE_BUF_FORCE_SPLICE));
  if (n == -EINVAL) n = WriteBufferedOnDirect(fd, in, off, fi);
  ReplyWritten(req, n);
}

void OpFlush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  // Closing a duplicate reports delayed write errors (NFS-style) without ending the file.
  int rc = close(dup(static_cast<int>(fi->fh)));
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  CloseHandle(Fs(req), static_cast<int>(fi->fh));
  fuse_reply_err(req, 0);
}

void OpFsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  int fd = static_cast<int>(fi->fh);
  int rc = datasync ? fdatasync(fd) : fsync(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                 fuse_file_info* fi) {
  if (Node(req, ino)->read_only) {
    fuse_reply_err(req, EROFS);
    return;
  }
  if (int err = KillPrivBeforeWrite(req, static_cast<int>(fi->fh), false)) {
    fuse_reply_err(req, err);
    return;
  }
  int rc = fallocate(static_cast<int>(fi->fh), mode, off, len);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpCopyFileRange(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, fuse_file_info* fi_out, size_t len,
                     int flags) {
  if (Node(req, ino_out)->read_only) {
    fuse_reply_err(req, EROFS);
    return;
  }
  if (int err = KillPrivBeforeWrite(req, static_cast<int>(fi_out->fh), false)) {
    fuse_reply_err(req, err);
    return;
  }
  loff_t in = off_in, out = off_out;
  ssize_t n = copy_file_range(static_cast<int>(fi_in->fh), &in, static_cast<int>(fi_out->fh), &out,
                              len, static_cast<unsigned>(flags));
  if (n < 0) {
    fuse_reply_err(req, errno);
  } else {
    fuse_reply_write(req, static_cast<size_t>(n));
  }
}

void OpLseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi) {
  off_t res = lseek(static_cast<int>(fi->fh), off, whence);
  if (res < 0) {
    fuse_reply_err(req, errno);
  } else {
    fuse_reply_lseek(req, res);
  }
}

}  // namespace sptfs::ops
