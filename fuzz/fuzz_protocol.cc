// libFuzzer target: the control socket's wire decoders (src/control/protocol.h).
//
// The input is taken as a frame header plus payload and as a bare payload, for both
// requests and replies. Contract checked: no crash or sanitizer report; a decoder that
// fails leaves its output untouched; a request or reply that decodes re-encodes to
// exactly the bytes it came from (the decoders accept one spelling only).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol.h"

namespace {

void CheckRequest(std::string_view payload) {
  std::vector<std::string> argv = {"untouched"};
  sptfs::Status st = sptfs::DecodeRequest(payload, &argv);
  if (!st.ok()) {
    if (argv.size() != 1 || argv[0] != "untouched") abort();
    return;
  }
  std::string frame;
  if (!sptfs::EncodeRequest(argv, &frame).ok()) abort();  // decoded, so within limits
  if (std::string_view(frame).substr(sptfs::kFrameHeaderBytes) != payload) abort();
}

void CheckReply(std::string_view payload) {
  sptfs::Reply reply;
  reply.exit_code = 77;
  sptfs::Status st = sptfs::DecodeReply(payload, &reply);
  if (!st.ok()) {
    if (reply.exit_code != 77 || !reply.out.empty() || !reply.err.empty()) abort();
    return;
  }
  std::string frame = sptfs::EncodeReply(reply);
  if (std::string_view(frame).substr(sptfs::kFrameHeaderBytes) != payload) abort();
}

void CheckFramed(std::string_view data) {
  if (data.size() < sptfs::kFrameHeaderBytes) return;
  uint32_t length = 0;
  if (!sptfs::DecodeFrameHeader(data.substr(0, sptfs::kFrameHeaderBytes), sptfs::kMaxRequestBytes,
                                &length)
           .ok())
    return;
  if (length == 0 || length > sptfs::kMaxRequestBytes) abort();
  std::string_view rest = data.substr(sptfs::kFrameHeaderBytes);
  if (rest.size() >= length) CheckRequest(rest.substr(0, length));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckRequest(bytes);
  CheckReply(bytes);
  CheckFramed(bytes);
  return 0;
}
