#include "util/status.h"

#include <cstring>

namespace sptfs {

Status Status::Io(int err, std::string msg) {
  Status s(Code::kIo, std::move(msg) + ": " + std::strerror(err));
  s.errno_ = err;
  return s;
}

}  // namespace sptfs
