// Status: the outcome of an operation that can fail, passed as a value across module
// edges (as in leveldb) so no exception ever crosses the FUSE loop.
//
// A Status is either OK or carries a code and a message. Messages are written for the
// person at the terminal: "file:line: what is wrong (expected ...)". The errno code lets
// the FUSE edge answer the kernel without parsing text.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace sptfs {

class Status {
 public:
  enum class Code { kOk, kInvalid, kNotFound, kPermission, kIo, kExists, kBusy };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string msg) { return Status(Code::kInvalid, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Permission(std::string msg) { return Status(Code::kPermission, std::move(msg)); }
  static Status Exists(std::string msg) { return Status(Code::kExists, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  // An I/O failure with the errno that caused it; the message says what was being done.
  static Status Io(int err, std::string msg);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int sys_errno() const { return errno_; }  // 0 unless made by Io()
  const std::string& message() const { return message_; }
  // "OK" or the message; for logs and tool output.
  std::string ToString() const { return ok() ? "OK" : message_; }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string message_;
};

}  // namespace sptfs
