// Encoding and decoding of control frames. A small reader over a string_view keeps
// every bounds check in one place, so garbage can only produce an error message.
#include "control/protocol.h"

#include <cstring>

namespace sptfs {
namespace {

constexpr std::string_view kRequestMagic = "SPT1";
constexpr std::string_view kReplyMagic = "SPR1";

void PutU32(uint32_t v, std::string* out) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

uint32_t GetU32(std::string_view b) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[i])); };
  return (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U32(uint32_t* v) {
    if (data_.size() < 4) return false;
    *v = GetU32(data_);
    data_.remove_prefix(4);
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (data_.size() < n) return false;
    *v = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  size_t left() const { return data_.size(); }

 private:
  std::string_view data_;
};

Status Bad(const std::string& what) { return Status::Invalid("control message: " + what); }

}  // namespace

Status DecodeFrameHeader(std::string_view header, uint32_t max_payload, uint32_t* length) {
  if (header.size() != kFrameHeaderBytes) return Bad("truncated frame header");
  uint32_t n = GetU32(header);
  if (n == 0) return Bad("empty frame (expected a payload length of at least 1)");
  if (n > max_payload) {
    return Bad("frame of " + std::to_string(n) + " bytes is too large (expected at most " +
               std::to_string(max_payload) + ")");
  }
  *length = n;
  return Status::Ok();
}

Status EncodeRequest(const std::vector<std::string>& argv, std::string* frame) {
  if (argv.empty()) return Bad("no command (expected at least one argument)");
  if (argv.size() > kMaxArgs) return Bad("too many arguments");
  std::string payload(kRequestMagic);
  PutU32(static_cast<uint32_t>(argv.size()), &payload);
  for (const std::string& arg : argv) {
    if (arg.find('\0') != std::string::npos) return Bad("argument contains a NUL byte");
    if (payload.size() + 4 + arg.size() > kMaxRequestBytes) {
      return Bad("request larger than " + std::to_string(kMaxRequestBytes) + " bytes");
    }
    PutU32(static_cast<uint32_t>(arg.size()), &payload);
    payload += arg;
  }
  frame->clear();
  PutU32(static_cast<uint32_t>(payload.size()), frame);
  *frame += payload;
  return Status::Ok();
}

std::string EncodeReply(const Reply& reply) {
  std::string payload(kReplyMagic);
  PutU32(static_cast<uint32_t>(reply.exit_code), &payload);
  // Oversized output is cut, with a note, rather than failing the whole reply.
  std::string out = reply.out, err = reply.err;
  size_t room = kMaxReplyBytes - 64;
  if (out.size() + err.size() > room) {
    out.resize(room - std::min(err.size(), room / 2));
    err = err.substr(0, room / 2) + "\n(output truncated by the control socket)\n";
  }
  PutU32(static_cast<uint32_t>(out.size()), &payload);
  payload += out;
  PutU32(static_cast<uint32_t>(err.size()), &payload);
  payload += err;
  std::string frame;
  PutU32(static_cast<uint32_t>(payload.size()), &frame);
  return frame + payload;
}

Status DecodeRequest(std::string_view payload, std::vector<std::string>* argv) {
  Reader r(payload);
  std::string_view magic;
  if (!r.Bytes(4, &magic) || magic != kRequestMagic) {
    return Bad("not a request (expected the magic \"SPT1\")");
  }
  uint32_t argc = 0;
  if (!r.U32(&argc)) return Bad("truncated before the argument count");
  if (argc == 0 || argc > kMaxArgs) {
    return Bad("argument count " + std::to_string(argc) + " (expected 1.." +
               std::to_string(kMaxArgs) + ")");
  }
  std::vector<std::string> args;
  for (uint32_t i = 0; i < argc; ++i) {
    uint32_t len = 0;
    std::string_view arg;
    if (!r.U32(&len) || !r.Bytes(len, &arg)) {
      return Bad("truncated in argument " + std::to_string(i + 1) + " of " + std::to_string(argc));
    }
    if (arg.find('\0') != std::string_view::npos) {
      return Bad("argument " + std::to_string(i + 1) + " contains a NUL byte");
    }
    args.emplace_back(arg);
  }
  if (r.left() != 0) return Bad(std::to_string(r.left()) + " bytes after the last argument");
  *argv = std::move(args);
  return Status::Ok();
}

Status DecodeReply(std::string_view payload, Reply* reply) {
  Reader r(payload);
  std::string_view magic, out, err;
  uint32_t code = 0, out_len = 0, err_len = 0;
  if (!r.Bytes(4, &magic) || magic != kReplyMagic) {
    return Bad("not a reply (expected the magic \"SPR1\")");
  }
  if (!r.U32(&code) || !r.U32(&out_len) || !r.Bytes(out_len, &out) || !r.U32(&err_len) ||
      !r.Bytes(err_len, &err)) {
    return Bad("truncated reply");
  }
  if (r.left() != 0) return Bad(std::to_string(r.left()) + " bytes after the reply");
  reply->exit_code = static_cast<int>(code);
  reply->out.assign(out);
  reply->err.assign(err);
  return Status::Ok();
}

}  // namespace sptfs
