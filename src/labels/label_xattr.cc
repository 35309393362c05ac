#include "labels/label_xattr.h"

#include <errno.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

namespace sptfs {
namespace {

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool IsMissingAttr(int err) { return err == ENODATA || err == ENOTSUP; }

}  // namespace

std::string DefaultLabelXattr() { return geteuid() == 0 ? "trusted.spt.label" : "user.spt.label"; }

std::string LabelSourceXattr(const std::string& xattr) { return xattr + ".source"; }

Status ReadLabel(const std::string& path, const std::string& xattr, bool follow, RawLabel* out) {
  char buf[kMaxLabelBytes + 1];
  ssize_t n = follow ? getxattr(path.c_str(), xattr.c_str(), buf, sizeof(buf))
                     : lgetxattr(path.c_str(), xattr.c_str(), buf, sizeof(buf));
  if (n < 0 && errno == ERANGE) {
    // Longer than any label can be: keep it as (truncated) garbage, never as unlabeled.
    out->present = true;
    out->value.assign(kMaxLabelBytes + 1, '\xff');
    return Status::Ok();
  }
  if (n < 0) {
    if (IsMissingAttr(errno)) {
      out->present = false;
      out->value.clear();
      return Status::Ok();
    }
    return Status::Io(errno, path + ": cannot read " + xattr + ": " + strerror(errno));
  }
  out->present = true;
  out->value.assign(buf, static_cast<size_t>(n));
  return Status::Ok();
}

Status WriteLabel(const std::string& path, const std::string& xattr, bool follow,
                  const std::string& label) {
  int rc = follow ? setxattr(path.c_str(), xattr.c_str(), label.data(), label.size(), 0)
                  : lsetxattr(path.c_str(), xattr.c_str(), label.data(), label.size(), 0);
  if (rc < 0) return Status::Io(errno, path + ": cannot set " + xattr + ": " + strerror(errno));
  return Status::Ok();
}

Status RemoveLabel(const std::string& path, const std::string& xattr, bool follow) {
  int rc =
      follow ? removexattr(path.c_str(), xattr.c_str()) : lremovexattr(path.c_str(), xattr.c_str());
  if (rc < 0 && errno != ENODATA) {
    return Status::Io(errno, path + ": cannot remove " + xattr + ": " + strerror(errno));
  }
  return Status::Ok();
}

Status ReadLabelFd(int fd, const std::string& xattr, RawLabel* out) {
  return ReadLabel(FdPath(fd), xattr, true, out);
}

Status WriteLabelFd(int fd, const std::string& xattr, const std::string& label) {
  return WriteLabel(FdPath(fd), xattr, true, label);
}

}  // namespace sptfs
