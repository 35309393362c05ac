// The control socket's wire format (docs/control-protocol.md), as pure functions.
//
// A connection carries one request and one reply, each one frame: a 4-byte big-endian
// payload length, then the payload. A request is the argv of a command:
//   "SPT1" | u32 argc (1..kMaxArgs) | argc x (u32 length | bytes, no NUL)
// a reply is what the command printed and its exit code:
//   "SPR1" | i32 exit code | u32 length | stdout bytes | u32 length | stderr bytes
// Integers are big-endian. Decoders accept exactly this and nothing else: a payload
// with missing, extra or oversized parts is rejected with a message saying what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sptfs {

inline constexpr uint32_t kMaxRequestBytes = 64 * 1024;       // payload of one request
inline constexpr uint32_t kMaxReplyBytes = 64 * 1024 * 1024;  // `spt -d` of a big policy
inline constexpr uint32_t kMaxArgs = 1024;
inline constexpr size_t kFrameHeaderBytes = 4;

struct Reply {
  int exit_code = 0;
  std::string out;  // what the tool prints on stdout
  std::string err;  // ... and on stderr
};

// Frame header -> payload length; fails on 0 or more than `max_payload`.
Status DecodeFrameHeader(std::string_view header, uint32_t max_payload, uint32_t* length);

// Whole frames (header included). EncodeRequest fails if the request would exceed the
// limits (so a client learns it before sending).
Status EncodeRequest(const std::vector<std::string>& argv, std::string* frame);
std::string EncodeReply(const Reply& reply);

// Payloads (header already removed). On error the output is untouched.
Status DecodeRequest(std::string_view payload, std::vector<std::string>* argv);
Status DecodeReply(std::string_view payload, Reply* reply);

}  // namespace sptfs
