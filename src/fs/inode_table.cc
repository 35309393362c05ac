#include "fs/inode_table.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

namespace sptfs {
namespace {

Inode* NewNode(int fd, int map, bool read_only) {
  auto* node = new Inode;
  node->fd = fd;
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

}  // namespace

InodeTable::~InodeTable() {
  for (auto& [key, node] : nodes_) {
    close(node->fd);
    delete node;
  }
  for (Inode* node : virtuals_) delete node;
}

Inode* InodeTable::MakeRoot(int fd, int map, bool read_only) {
  root_ = NewNode(fd, map, read_only);
  if (fd < 0) {
    virtuals_.push_back(root_);
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
    virtuals_.push_back(node);
  } else {
    Key key{map, node->dev, node->ino};
    auto it = nodes_.find(key);
    if (it != nodes_.end()) {  // the same directory pinned twice: keep the first
      close(fd);
      delete node;
      node = it->second;
    } else {
      nodes_[key] = node;
    }
  }
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
    close(fd);
    node->refs++;
    if (!node->pinned && (node->parent != parent || node->name != name)) {
      SetParentLocked(node, parent, name);
    }
    return node;
  }
  auto* node = new Inode;
  node->fd = fd;
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

void InodeTable::Ref(Inode* node) {
  std::lock_guard<std::mutex> lock(mu_);
  node->refs++;
}

void InodeTable::Forget(Inode* node, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  UnrefLocked(node, n);
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
    node->refs = node->refs > n ? node->refs - n : 0;
    if (node->refs > 0 || node->pinned) return;
    nodes_.erase(Key{node->map, node->dev, node->ino});
    Inode* parent = node->parent;
    close(node->fd);
    delete node;
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

size_t InodeTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.size();
}

}  // namespace sptfs
