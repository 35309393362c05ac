// rename and link: the two ops that give an existing object a name elsewhere, and so
// the two where the link subset rule applies (CheckNoWidening; for a directory, to the
// whole subtree it moves: CheckSubtree). Both stay within one
// backing map (else EXDEV).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "fs/caller_creds.h"
#include "fs/ops_internal.h"
#include "policy/decision.h"

namespace sptfs::ops {
namespace {

// A directory takes everything below it along, and every node below rebuilds its path
// through it: the move may not give any path below more than it had (the subset rule for
// the whole subtree). Decided on the domain's -r rules alone (FindSubtreeWidening), so
// the cost does not grow with the files below and nothing can race into the subtree
// between check and rename; the price is refusing moves that would widen a rule path
// below which nothing exists at the moment. Labels intersect alike at both places.
int CheckSubtree(AccessChecker& ck, const Subject& s, const ResolvedLabel& label,
                 const std::string& src, const std::string& dst, const Decision& at_dst) {
  if (s.free) return 0;
  if (!s.domain) return EPERM;
  auto w = FindSubtreeWidening(*s.domain, src, dst);
  if (!w) return 0;
  std::string rel = w->below.empty() ? "" : "/" + w->below;
  return ck.Refuse(s, at_dst, dst + rel, label, w->wider, "rename",
                   "rename of a directory would grant more than " + src + rel);
}

bool IsDirAt(int dirfd, const char* name) {
  struct stat st;
  return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

// Both ends of a rename: the moving object needs w where it is and where it goes, and
// may not be granted more where it goes (the link subset rule: else a rename out of a
// write-only directory into a readable one would read it); an object it replaces needs
// w; with RENAME_EXCHANGE the other object moves too, under the same rules.
int CheckRename(SptFs& fs, const Subject& s, Inode* from, const char* name, Inode* to,
                const char* newname, unsigned flags) {
  if (s.free) return 0;
  AccessChecker& ck = fs.checker();
  std::string src = fs.table().PathOf(from, name);
  std::string dst = fs.table().PathOf(to, newname);
  ResolvedLabel moving = ck.LabelAt(*s.policy, from->fd, name);
  Decision at_dst;
  if (int err = ck.Check(s, src, moving, kPermWrite, "rename")) return err;
  if (int err = ck.Check(s, dst, moving, kPermWrite, "rename", &at_dst)) return err;
  if (int err = ck.CheckNoWidening(s, moving, src, dst, at_dst, "rename")) return err;
  if (IsDirAt(from->fd, name)) {
    if (int err = CheckSubtree(ck, s, moving, src, dst, at_dst)) return err;
  }
  struct stat st;
  if (fstatat(to->fd, newname, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;  // nothing there
  ResolvedLabel other = ck.LabelAt(*s.policy, to->fd, newname);
  if (int err = ck.Check(s, dst, other, kPermWrite, "rename")) return err;
  if (!(flags & RENAME_EXCHANGE)) return 0;
  Decision at_src;
  if (int err = ck.Check(s, src, other, kPermWrite, "rename", &at_src)) return err;
  if (int err = ck.CheckNoWidening(s, other, dst, src, at_src, "rename")) return err;
  return S_ISDIR(st.st_mode) ? CheckSubtree(ck, s, other, dst, src, at_src) : 0;
}

void NoteMoved(SptFs& fs, Inode* parent, const char* name) {
  struct stat st;
  if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    fs.table().Moved(parent->map, st.st_dev, st.st_ino, parent, name);
  }
}

// link: w on the new name, and the new name may not grant more than the old one
// (AppArmor's link subset rule), else a link would widen access to the same inode.
int CheckLink(SptFs& fs, const Subject& s, Inode* node, const std::string& newpath) {
  if (s.free) return 0;
  AccessChecker& ck = fs.checker();
  ResolvedLabel label = ck.LabelOf(*s.policy, node, fs.table());
  Decision now;
  if (int err = ck.Check(s, newpath, label, kPermWrite, "link", &now)) return err;
  return ck.CheckNoWidening(s, label, fs.table().PathOf(node), newpath, now, "link");
}

}  // namespace

void OpRename(fuse_req_t req, fuse_ino_t parent_ino, const char* name, fuse_ino_t newparent_ino,
              const char* newname, unsigned int flags) {
  SptFs& fs = Fs(req);
  Inode* from = Node(req, parent_ino);
  Inode* to = Node(req, newparent_ino);
  int err = CannotChange(fs.table(), from, name);
  if (!err) err = CannotChange(fs.table(), to, newname);
  if (!err && from->map != to->map) err = EXDEV;
  if (!err && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))) err = EINVAL;
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckRename(fs, s, from, name, to, newname, flags);
  }
  if (!err && !(flags & RENAME_EXCHANGE)) fs.table().KeepBeforeUnlink(to, newname);  // replaced
  if (!err && renameat2(from->fd, name, to->fd, newname, flags) != 0) err = errno;
  if (!err) {
    NoteMoved(fs, to, newname);  // the moved node keeps its label and gets its new path
    if (flags & RENAME_EXCHANGE) NoteMoved(fs, from, name);
  }
  fuse_reply_err(req, err);
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_ino, const char* newname) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  Inode* to = Node(req, newparent_ino);
  int err = CannotChange(fs.table(), to, newname);
  if (!err && node->is_virtual()) err = EPERM;
  if (!err && node->map != to->map) err = EXDEV;
  Subject s;
  if (!err) {
    fs.checker().Begin(req, &s);
    err = CheckLink(fs, s, node, fs.table().PathOf(to, newname));
  }
  if (!err) {
    PathFd pf(fs.table(), node);
    CallerCreds as_caller(req);
    if (pf.error()) {
      err = pf.error();
    } else if (linkat(AT_FDCWD, ProcPath(pf.fd()).c_str(), to->fd, newname, AT_SYMLINK_FOLLOW)) {
      err = errno;
    }
  }
  fuse_entry_param e;
  if (!err) err = DoLookup(fs, to, newname, &e);  // fresh attributes: the link count moved
  ReplyEntryOrErr(req, err, e);
}

}  // namespace sptfs::ops
