// getxattr, listxattr, setxattr, removexattr. Reads are not mediated; changes need w, and
// the label attribute also file_relabel (CheckXattr). The root answers the virtual
// kSocketXattr with the control socket path.
#include <errno.h>
#include <sys/xattr.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

void ReplyXattr(fuse_req_t req, size_t size, const char* data, ssize_t n) {
  if (n < 0) {
    fuse_reply_err(req, errno);
  } else if (size == 0) {
    fuse_reply_xattr(req, static_cast<size_t>(n));
  } else if (static_cast<size_t>(n) > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, data, static_cast<size_t>(n));
  }
}

// setxattr/removexattr need w on the object. The label attribute also needs an
// unconfined (or disabled) domain or the file_relabel capability, and a value that
// names a label the policy defines (else EINVAL, for everyone).
int CheckXattr(SptFs& fs, const Subject& s, Inode* node, const char* name, const char* value,
               size_t size, const char* op) {
  AccessChecker& ck = fs.checker();
  bool is_label = ck.label_xattr() == name;
  if (is_label && value && s.policy) {
    std::string_view text(value, size);
    if (!IsLabelText(text) || !s.policy->FindLabel(text)) return EINVAL;
  }
  if (s.free) return 0;
  ResolvedLabel label = ck.LabelOf(*s.policy, node, fs.table());
  std::string path = fs.table().PathOf(node);
  Decision d;
  if (int err = ck.Check(s, path, label, kPermWrite, op, &d)) return err;
  if (!is_label || (s.domain && s.domain->HasCapability("file_relabel"))) return 0;
  d.reason = "no file_relabel";
  return ck.Refuse(s, d, path, label, kPermWrite, op, "the label attribute needs file_relabel");
}

// Runs a path-based xattr call on the node (through /proc/self/fd); 0 or an errno.
template <typename Fn>
int XattrCall(SptFs& fs, const Inode* node, Fn fn) {
  PathFd pf(fs.table(), node);
  if (pf.error()) return pf.error();
  return fn(ProcPath(pf.fd()).c_str()) == 0 ? 0 : errno;
}

// The label attribute of a read-only map's file without one, which carries the label
// computed from default-labels (AccessChecker::LabelOf), and the virtual ".source"
// attribute that says where any file's label comes from. True if it replied.
bool AnswersLabel(fuse_req_t req, SptFs& fs, Inode* node, const char* name, size_t size) {
  AccessChecker& ck = fs.checker();
  bool label = ck.label_xattr() == name;
  bool source = LabelSourceXattr(ck.label_xattr()) == name;
  if (!source && !(label && node->read_only && !node->is_virtual())) return false;
  Subject s;
  ck.Begin(req, &s);
  ResolvedLabel r;
  const char* from = kLabelSourceNone;
  if (s.policy) {
    r = ck.LabelOf(*s.policy, node, fs.table());
    if (r.computed) {
      from = kLabelSourceComputed;
    } else if (r.id != kUnlabeledId) {
      from = kLabelSourceStored;
    }
  } else if (source && !node->is_virtual()) {  // no policy: nothing is computed
    RawLabel raw;
    PathFd pf(fs.table(), node);
    if (!pf.error() && ReadLabelFd(pf.fd(), ck.label_xattr(), &raw).ok() && raw.present) {
      from = kLabelSourceStored;
    }
  }
  if (label && !r.computed) return false;  // stored or absent: the backing file answers
  std::string value = source ? std::string(from) : std::string(r.name);
  errno = 0;
  ReplyXattr(req, size, value.data(), static_cast<ssize_t>(value.size()));
  return true;
}

}  // namespace

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  if (node == fs.table().root() && strcmp(name, kSocketXattr) == 0) {
    const std::string& sock = fs.options().socket_path;
    errno = 0;
    ReplyXattr(req, size, sock.data(), static_cast<ssize_t>(sock.size()));
    return;
  }
  if (AnswersLabel(req, fs, node, name, size)) return;
  if (node->is_virtual()) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  PathFd pf(fs.table(), node);
  if (pf.error()) {
    fuse_reply_err(req, pf.error());
    return;
  }
  std::vector<char> buf(size);
  ssize_t n = getxattr(ProcPath(pf.fd()).c_str(), name, buf.data(), size);
  ReplyXattr(req, size, buf.data(), n);
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Inode* node = Node(req, ino);
  if (node->is_virtual()) {
    ReplyXattr(req, size, "", 0);
    return;
  }
  PathFd pf(Fs(req).table(), node);
  if (pf.error()) {
    fuse_reply_err(req, pf.error());
    return;
  }
  std::vector<char> buf(size);
  ssize_t n = listxattr(ProcPath(pf.fd()).c_str(), buf.data(), size);
  ReplyXattr(req, size, buf.data(), n);
}

namespace {

// setxattr and removexattr: the same mediation (w, and file_relabel for the label
// attribute), then `fn` on the node; a changed label attribute drops the cached label.
template <typename Fn>
void ChangeXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                 const char* op, Fn fn) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  int err = CannotChange(fs.table(), node, nullptr);
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckXattr(fs, s, node, name, value, size, op);
  }
  if (!err) err = XattrCall(fs, node, fn);
  if (!err && fs.checker().label_xattr() == name) fs.checker().LabelChanged(node);
  fuse_reply_err(req, err);
}

}  // namespace

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags) {
  ChangeXattr(req, ino, name, value, size, "setxattr",
              [&](const char* path) { return setxattr(path, name, value, size, flags); });
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  ChangeXattr(req, ino, name, nullptr, 0, "removexattr",
              [&](const char* path) { return removexattr(path, name); });
}

}  // namespace sptfs::ops
