// Blocking I/O of whole control frames on a stream socket, for client and server.
// Timeouts are the socket's own (SO_RCVTIMEO/SO_SNDTIMEO, see SetTimeouts): a peer that
// stalls gets an error, never an endless wait. Writes never raise SIGPIPE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sptfs {

Status SetTimeouts(int fd, int timeout_ms);
Status WriteAll(int fd, std::string_view data);
// Reads one frame; `*payload` gets its payload. Errors say whether the peer closed,
// stalled, or sent a bad header (see protocol.h).
Status ReadFrame(int fd, uint32_t max_payload, std::string* payload);

}  // namespace sptfs
