#include "fs/uring_frame.h"

#include <errno.h>

#include <algorithm>
#include <cstring>

namespace sptfs {

size_t UringPayloadSize(uint32_t max_write, uint16_t max_pages, size_t page_size) {
  size_t size = std::max<size_t>(8192, max_write);  // FUSE_MIN_READ_BUFFER
  return std::max(size, static_cast<size_t>(max_pages) * page_size);
}

ssize_t UringAssembleRequest(const UringReqHeader& h, char* payload, size_t payload_cap,
                             char** start) {
  fuse_in_header in;
  memcpy(&in, h.in_out, sizeof(in));
  size_t payload_sz = h.ent.payload_sz;
  if (in.len < sizeof(in) || payload_sz > payload_cap || payload_sz > in.len - sizeof(in)) {
    return -EINVAL;
  }
  size_t op_len = in.len - sizeof(in) - payload_sz;
  if (op_len > kUringHeaderArea) return -EINVAL;
  char* msg = payload - sizeof(in) - op_len;
  memcpy(msg, &in, sizeof(in));
  memcpy(msg + sizeof(in), h.op_in, op_len);
  *start = msg;
  return static_cast<ssize_t>(in.len);
}

ssize_t UringTakeReply(const iovec* iov, int count, UringReqHeader* h, char* payload,
                       size_t payload_cap) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  fuse_out_header out;
  if (count < 1 || iov[0].iov_len < sizeof(out)) return -EINVAL;
  memcpy(&out, iov[0].iov_base, sizeof(out));
  if (out.len != total) return -EINVAL;
  if (total - sizeof(out) > payload_cap) return -EMSGSIZE;
  memcpy(h->in_out, &out, sizeof(out));
  size_t used = 0;
  size_t skip = sizeof(out);  // of iov[0]
  for (int i = 0; i < count; ++i) {
    size_t n = iov[i].iov_len - skip;
    if (n > 0) memcpy(payload + used, static_cast<const char*>(iov[i].iov_base) + skip, n);
    used += n;
    skip = 0;
  }
  h->ent.payload_sz = static_cast<uint32_t>(used);
  return static_cast<ssize_t>(total);
}

}  // namespace sptfs
