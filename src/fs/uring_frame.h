// The layout of one FUSE-over-io_uring entry (Linux 6.14+, FUSE ABI 7.42), and the
// translation between it and the /dev/fuse framing libfuse 3.14 parses and writes.
// Debian 12's kernel headers (6.1) predate the interface, so its structures are declared
// here, as the kernel's include/uapi/linux/fuse.h gives them.
//
// An entry is two buffers the daemon registers: a header block (UringReqHeader) and a
// payload buffer of at least the connection's largest request. For a request the kernel
// puts the fuse_in_header into in_out, the opcode's fixed argument (its first argument)
// into op_in, and every further argument (names, write data) into the payload; for the
// reply the daemon puts the fuse_out_header into in_out and every reply argument into the
// payload. Pure functions: no I/O.
#pragma once

#include <linux/fuse.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace sptfs {

inline constexpr uint64_t kFuseOverIoUring = 1ULL << 41;  // INIT flag (flags2 bit 9)
inline constexpr uint32_t kUringCmdRegister = 1;
inline constexpr uint32_t kUringCmdCommitAndFetch = 2;
inline constexpr size_t kUringHeaderArea = 128;  // in_out and op_in, each

struct UringEntryInOut {
  uint64_t flags;
  uint64_t commit_id;   // the request's unique, echoed in the commit
  uint32_t payload_sz;  // bytes of the payload in use, either direction
  uint32_t padding;
  uint64_t reserved;
};

struct UringReqHeader {
  char in_out[kUringHeaderArea];  // fuse_in_header, then fuse_out_header
  char op_in[kUringHeaderArea];   // the opcode's fixed argument
  UringEntryInOut ent;
};

// In the 80-byte command area of a 128-byte submission entry.
struct UringCmdReq {
  uint64_t flags;
  uint64_t commit_id;
  uint16_t qid;
  uint8_t padding[6];
};

// Room the daemon keeps in front of an entry's payload: the in header and the largest
// fixed argument, so a request is made contiguous without moving its payload.
inline constexpr size_t kUringPrefix = sizeof(fuse_in_header) + kUringHeaderArea;

// The payload size the kernel asks of every entry (fs/fuse/dev_uring.c,
// fuse_uring_create): the largest of 8 KiB, max_write and max_pages pages, from the
// INIT reply the daemon sent.
size_t UringPayloadSize(uint32_t max_write, uint16_t max_pages, size_t page_size);

// Makes the request in `h` and `payload` (its entry's payload buffer, with kUringPrefix
// bytes of room before it) one /dev/fuse message: the in header and the fixed argument
// go into the room just before the payload. `*start` is set to the message, which ends
// at payload + payload_sz. The message's length (the header's len), or -EINVAL for an
// entry that cannot be one: a len below the header, a payload larger than `payload_cap`,
// or a fixed argument larger than op_in.
ssize_t UringAssembleRequest(const UringReqHeader& h, char* payload, size_t payload_cap,
                             char** start);

// Takes a reply libfuse built for /dev/fuse (`iov[0]` begins with the fuse_out_header,
// the rest of the message follows in any split) into the entry: the out header into
// h->in_out, everything after it into `payload`, payload_sz set. The message's length
// (what writev would have returned), -EINVAL if the iov holds no whole out header or its
// len disagrees with the iov, -EMSGSIZE if the rest exceeds `payload_cap`.
ssize_t UringTakeReply(const iovec* iov, int count, UringReqHeader* h, char* payload,
                       size_t payload_cap);

}  // namespace sptfs
