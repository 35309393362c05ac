// Blocking I/O of whole control frames on a stream socket, for client and server.
// Two kinds of time limit:
//   - ReadFrame/WriteAll: the socket's own timeouts (SO_RCVTIMEO/SO_SNDTIMEO, see
//     SetTimeouts), per call: right for a client waiting on a slow daemon.
//   - ReadFrameBy/WriteAllBy: one deadline for the whole frame, however the peer
//     trickles it (one byte every few seconds still ends at the deadline): what the
//     server uses, so a caller cannot hold a connection longer than that.
// A peer that stalls gets an error, never an endless wait. Writes never raise SIGPIPE.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sptfs {

using Deadline = std::chrono::steady_clock::time_point;

Status SetTimeouts(int fd, int timeout_ms);
Status WriteAll(int fd, std::string_view data);
// Reads one frame; `*payload` gets its payload. Errors say whether the peer closed,
// stalled, or sent a bad header (see protocol.h).
Status ReadFrame(int fd, uint32_t max_payload, std::string* payload);

// The same, all of it done by `deadline` (else an Io status with ETIMEDOUT).
Status ReadFrameBy(int fd, uint32_t max_payload, Deadline deadline, std::string* payload);
Status WriteAllBy(int fd, std::string_view data, Deadline deadline);

// One byte that carries a descriptor (SCM_RIGHTS), or none when `pass_fd` is -1: 'F'
// or 'N'. RecvFdByte: *passed gets the descriptor (close-on-exec) or -1.
Status SendFdByte(int fd, int pass_fd, Deadline deadline);
Status RecvFdByte(int fd, int* passed);

}  // namespace sptfs
