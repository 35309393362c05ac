#include "fs/inode_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace sptfs {
namespace {

Inode* NewNode(int fd, int map, bool read_only) {
  auto* node = new Inode;
  node->fd = fd;
  node->virt = fd < 0;
  node->map = map;
  node->read_only = read_only || fd < 0;
  node->pinned = true;
  node->type = S_IFDIR;
  struct stat st;
  if (fd >= 0 && fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0) {
    node->dev = st.st_dev;
    node->ino = st.st_ino;
    node->type = st.st_mode & S_IFMT;
  }
  return node;
}

// Directories are parents of *at() calls; a file with several names cannot be found
// again by one name alone.
bool MustKeepFd(const struct stat& st) { return S_ISDIR(st.st_mode) || st.st_nlink > 1; }

// More references dropped than were counted: a bug in sptfs (a reply that was never
// counted, or a reference dropped twice), which could free a node the kernel still
// names. Loud in every build; a debug build stops at the bug. A release build keeps
// serving: the node goes as if its count had reached zero.
void LookupUnderflow(const Inode* node, uint64_t n) {
  fprintf(stderr,
          "sptfs: BUG: lookup count underflow: dropping %llu reference(s) of inode %llu "
          "(dev %llu, name \"%s\") which has %llu\n",
          static_cast<unsigned long long>(n), static_cast<unsigned long long>(node->ino),
          static_cast<unsigned long long>(node->dev), node->name.c_str(),
          static_cast<unsigned long long>(node->refs));
#ifndef NDEBUG
  abort();
#endif
}

}  // namespace

InodeTable::~InodeTable() {
  for (auto& [key, node] : nodes_) {
    if (node->fd >= 0) close(node->fd);
    delete node;
  }
  for (Inode* node : virtuals_) delete node;
}

// Virtual directories are numbered down from the top of the inode number space, which
// backing file systems do not hand out (ext4's are 32-bit; btrfs reserves the top), so
// tools that tell files apart by (st_dev, st_ino) never take one for a backing file.
void InodeTable::AddVirtual(Inode* node) {
  node->ino = std::numeric_limits<ino_t>::max() - virtuals_.size();
  virtuals_.push_back(node);
}

Inode* InodeTable::MakeRoot(int fd, int map, bool read_only) {
  root_ = NewNode(fd, map, read_only);
  if (fd >= 0) held_fds_++;
  root_->refs = 1;  // the kernel's own lookup of the root: it never sends one
  if (fd < 0) {
    AddVirtual(root_);
  } else {
    nodes_[Key{map, root_->dev, root_->ino}] = root_;
  }
  return root_;
}

Inode* InodeTable::AddPinned(Inode* parent, const std::string& name, int fd, int map,
                             bool read_only) {
  Inode* node = NewNode(fd, map, read_only);
  node->parent = parent;
  node->name = name;
  if (fd < 0) {
    AddVirtual(node);
  } else {
    Key key{map, node->dev, node->ino};
    auto it = nodes_.find(key);
    if (it != nodes_.end()) {  // the same directory pinned twice: keep the first
      close(fd);
      delete node;
      node = it->second;
    } else {
      nodes_[key] = node;
      held_fds_++;
    }
  }
  parent->overlay[name] = node;
  return node;
}

Inode* InodeTable::AddPinnedLink(Inode* parent, const std::string& name,
                                 const std::string& target) {
  Inode* node = NewNode(-1, -1, true);
  node->type = S_IFLNK;
  node->link = target;
  node->parent = parent;
  node->name = name;
  AddVirtual(node);
  parent->overlay[name] = node;
  return node;
}

Inode* InodeTable::Overlay(Inode* parent, std::string_view name) {
  if (parent->overlay.empty()) return nullptr;  // set up before the mount: no lock needed
  auto it = parent->overlay.find(name);
  return it == parent->overlay.end() ? nullptr : it->second;
}

Inode* InodeTable::Found(Inode* parent, const std::string& name, int fd, const struct stat& st) {
  std::lock_guard<std::mutex> lock(mu_);
  Key key{parent->map, st.st_dev, st.st_ino};
  auto it = nodes_.find(key);
  if (it != nodes_.end()) {
    Inode* node = it->second;
    if (node->fd < 0 && fd >= 0 && MustKeepFd(st)) {
      node->fd = fd;  // became a hard link: keep it reachable by fd from now on
      held_fds_++;
    } else if (fd >= 0) {
      close(fd);
    }
    node->refs++;
    if (!node->pinned && (node->parent != parent || node->name != name)) {
      SetParentLocked(node, parent, name);
    }
    return node;
  }
  auto* node = new Inode;
  if (fd >= 0 && KeepsFdLocked(st)) {
    node->fd = fd;
    held_fds_++;
    if (!MustKeepFd(st)) {
      node->counted_fd = true;
      file_fds_++;
    }
  } else if (fd >= 0) {
    close(fd);
  }
  node->dev = st.st_dev;
  node->ino = st.st_ino;
  node->type = st.st_mode & S_IFMT;
  node->map = parent->map;
  node->read_only = parent->read_only;
  node->refs = 1;
  node->parent = parent;
  node->name = name;
  parent->refs++;
  nodes_[key] = node;
  return node;
}

void InodeTable::KeepBeforeUnlink(Inode* parent, const char* name) {
  struct stat st;
  if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(Key{parent->map, st.st_dev, st.st_ino});
    if (it == nodes_.end() || it->second->fd >= 0) return;
  }
  int fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(Key{parent->map, st.st_dev, st.st_ino});
  if (it != nodes_.end() && it->second->fd < 0) {
    it->second->fd = fd;
    held_fds_++;
  } else {
    close(fd);
  }
}

bool InodeTable::WantsFd(const struct stat& st) { return MustKeepFd(st); }

bool InodeTable::AdoptFd(Inode* node, int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (node->fd >= 0 || file_fds_ >= file_fd_budget_) return false;
  node->fd = fd;
  node->counted_fd = true;
  file_fds_++;
  held_fds_++;
  return true;
}

bool InodeTable::KeepsFdLocked(const struct stat& st) const {
  return MustKeepFd(st) || file_fds_ < file_fd_budget_;
}

void InodeTable::Ref(Inode* node) {
  std::lock_guard<std::mutex> lock(mu_);
  node->refs++;
}

void InodeTable::Forget(Inode* node, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  UnrefLocked(node, n);
}

void InodeTable::Forget(const fuse_forget_data* forgets, size_t count) {
  for (size_t at = 0; at < count; at += kForgetChunk) {
    size_t end = std::min(count, at + kForgetChunk);
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = at; i < end; ++i) UnrefLocked(Get(forgets[i].ino), forgets[i].nlookup);
  }
}

void InodeTable::Moved(int map, dev_t dev, ino_t ino, Inode* parent, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(Key{map, dev, ino});
  if (it != nodes_.end() && !it->second->pinned) SetParentLocked(it->second, parent, name);
}

void InodeTable::SetParentLocked(Inode* node, Inode* parent, const std::string& name) {
  Inode* old = node->parent;
  parent->refs++;
  node->parent = parent;
  node->name = name;
  if (old) UnrefLocked(old, 1);
}

void InodeTable::UnrefLocked(Inode* node, uint64_t n) {
  while (node) {
    if (n > node->refs) LookupUnderflow(node, n);
    node->refs = node->refs > n ? node->refs - n : 0;
    if (node->refs > 0 || node->pinned) return;
    nodes_.erase(Key{node->map, node->dev, node->ino});
    Inode* parent = node->parent;
    if (node->fd >= 0) {
      close(node->fd);
      held_fds_--;
    }
    if (node->counted_fd) file_fds_--;
    delete node;
    ++freed_since_trim_;
    node = parent;
    n = 1;
  }
}

std::string InodeTable::PathOf(const Inode* node, std::string_view child) const {
  std::vector<const std::string*> parts;
  size_t len = child.size() + 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Inode* n = node; n && n->parent; n = n->parent) {
      parts.push_back(&n->name);
      len += n->name.size() + 1;
    }
    // Names of pinned nodes never change; others are copied while the lock is held.
    std::string path;
    path.reserve(len);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      path += '/';
      path += **it;
    }
    if (!child.empty()) {
      path += '/';
      path += child;
    }
    return path.empty() ? "/" : path;
  }
}

int InodeTable::VerifyPlace(const Inode* node) const {
  struct Link {
    Inode* parent;  // referenced until checked
    std::string name;
    dev_t dev;
    ino_t ino;
  };
  if (node->pinned) return 0;  // set up before the mount and never moved: no lock needed
  std::vector<Link> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Inode* n = node; n->parent && !n->pinned; n = n->parent) {
      if (!n->is_dir()) continue;  // a file's own name is checked where it is opened
      n->parent->refs++;
      links.push_back(Link{n->parent, n->name, n->dev, n->ino});
    }
  }
  int err = 0;
  for (const Link& l : links) {
    struct stat st;
    if (fstatat(l.parent->fd, l.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        st.st_dev != l.dev || st.st_ino != l.ino) {
      err = ESTALE;
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Link& l : links) const_cast<InodeTable*>(this)->UnrefLocked(l.parent, 1);
  return err;
}

int InodeTable::OpenPath(const Inode* node, int* fd, bool* owned) const {
  *owned = false;
  *fd = node->fd;
  if (node->fd >= 0) return 0;
  if (node->is_virtual()) return EPERM;
  std::string name;
  Inode* parent = ParentOf(node, &name);
  int f = openat(parent->fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int err = f < 0 ? errno : 0;
  struct stat st;
  if (!err && (fstatat(f, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 ||
               st.st_ino != node->ino || st.st_dev != node->dev)) {
    err = ESTALE;  // the name now holds another file (renamed or replaced behind us)
    close(f);
  }
  auto* self = const_cast<InodeTable*>(this);
  self->Forget(parent, 1);
  if (err) return err == ENOENT ? ESTALE : err;
  *fd = f;
  *owned = !self->AdoptFd(const_cast<Inode*>(node), f);
  return 0;
}

Inode* InodeTable::ParentOf(const Inode* node, std::string* name) const {
  std::lock_guard<std::mutex> lock(mu_);
  *name = node->name;
  node->parent->refs++;  // keeps the parent (and its fd) alive while it is used
  return node->parent;
}

int InodeTable::Stat(const Inode* node, struct stat* st) const {
  if (node->fd >= 0) {
    return fstatat(node->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  }
  std::string name;
  Inode* parent = ParentOf(node, &name);
  int err = fstatat(parent->fd, name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  const_cast<InodeTable*>(this)->Forget(parent, 1);
  if (!err && (st->st_ino != node->ino || st->st_dev != node->dev)) err = ESTALE;
  return err == ENOENT ? ESTALE : err;
}

// Never by name with the caller's flags: O_TRUNC (or a FIFO's open) would act on
// whatever the name holds now, before anyone checked it is the inode that was decided.
// The open goes through a verified O_PATH handle instead (as libfuse's passthrough_hp).
int InodeTable::OpenData(const Inode* node, int flags, int* fd) const {
  int path_fd;
  bool owned;
  if (int err = OpenPath(node, &path_fd, &owned)) return err;
  *fd = open(("/proc/self/fd/" + std::to_string(path_fd)).c_str(), flags);
  int err = *fd < 0 ? errno : 0;
  if (owned) close(path_fd);
  return err;
}

std::vector<std::pair<fuse_ino_t, std::string>> InodeTable::FdHolders(size_t max,
                                                                      size_t skip) const {
  std::vector<std::pair<fuse_ino_t, std::string>> out;
  std::lock_guard<std::mutex> lock(mu_);
  size_t holders = 0;
  for (const auto& [key, node] : nodes_) {
    if (!node->pinned && node->fd >= 0 && node->parent) holders++;
  }
  if (holders == 0) return out;
  skip %= holders;
  for (int pass = 0; pass < 2 && out.size() < max; ++pass) {
    size_t i = 0;
    for (const auto& [key, node] : nodes_) {
      if (node->pinned || node->fd < 0 || !node->parent) continue;
      bool wanted = pass == 0 ? i >= skip : i < skip;
      ++i;
      if (!wanted) continue;
      if (out.size() >= max) break;
      out.emplace_back(IdOf(node->parent), node->name);
    }
  }
  return out;
}

bool InodeTable::TakeTrimHint() {
  std::lock_guard<std::mutex> lock(mu_);
  if (freed_since_trim_ < kTrimNodes || freed_since_trim_ < nodes_.size()) return false;
  freed_since_trim_ = 0;
  return true;
}

size_t InodeTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.size();
}

}  // namespace sptfs
