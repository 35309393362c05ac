// read, write_buf, flush, release, fsync, fallocate, copy_file_range, lseek: calls on an
// open handle (fi->fh, from ops_open.cc). The policy was asked at open; these only
// refuse writes under a read-only map.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

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

}  // namespace

void OpRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  fuse_bufvec buf = FdBuf(size, fi->fh, off);
  fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void OpWriteBuf(fuse_req_t req, fuse_ino_t, fuse_bufvec* in, off_t off, fuse_file_info* fi) {
  fuse_bufvec out = FdBuf(fuse_buf_size(in), fi->fh, off);
  ssize_t n = fuse_buf_copy(&out, in, FUSE_BUF_SPLICE_NONBLOCK);
  if (n < 0) {
    fuse_reply_err(req, static_cast<int>(-n));
  } else {
    fuse_reply_write(req, static_cast<size_t>(n));
  }
}

void OpFlush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  // Closing a duplicate reports delayed write errors (NFS-style) without ending the file.
  int rc = close(dup(static_cast<int>(fi->fh)));
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void OpRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  close(static_cast<int>(fi->fh));
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
