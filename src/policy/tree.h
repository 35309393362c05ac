// The tree that rule paths are resolved in. The compiler only needs to look at one
// path at a time without following its last component; this interface lets it run on
// a directory on disk (DiskTree), on the mounted tree's backing maps (src/fs), or on an
// in-memory tree in tests (MemoryTree).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sptfs {

class TreeView {
 public:
  enum class Kind { kMissing, kDirectory, kFile, kSymlink };
  struct Entry {
    Kind kind = Kind::kMissing;
    std::string link_target;  // kSymlink only, as stored in the link
  };
  virtual ~TreeView() = default;
  // `path` is absolute and already canonical up to its last component, which is not
  // followed. Anything that cannot be looked at is kMissing.
  virtual Entry Lookup(const std::string& path) const = 0;
  // A host path naming the directory at canonical tree path `path`, for inotify (the
  // stale-rule watch, docs/productlocker.md); "" when it has none (in memory, virtual).
  virtual std::string WatchPath(const std::string& /*path*/) const { return ""; }
};

// Paths are read relative to `root` (so an absolute link target stays inside it).
class DiskTree : public TreeView {
 public:
  explicit DiskTree(std::string root) : root_(std::move(root)) {}
  Entry Lookup(const std::string& path) const override;
  std::string WatchPath(const std::string& path) const override {
    return (root_ == "/" ? std::string() : root_) + path;
  }

 private:
  std::string root_;
};

class MemoryTree : public TreeView {
 public:
  // Parents are created as directories as needed.
  void AddDirectory(const std::string& path);
  void AddFile(const std::string& path);
  void AddSymlink(const std::string& path, const std::string& target);  // replaces
  void Remove(const std::string& path);
  Entry Lookup(const std::string& path) const override;

 private:
  std::map<std::string, Entry, std::less<>> entries_;
};

// A tree in which every path is an existing directory: rules compile to their path as
// written (lexically normalised), with no warnings. Offline `spt` uses it when no --root
// is given, so `spt -d` shows the policy set's own paths.
class LiteralTree : public TreeView {
 public:
  Entry Lookup(const std::string&) const override { return Entry{Kind::kDirectory, {}}; }
};

struct Resolution {
  std::string canonical;  // absolute, no symlinks, no "." or ".." (as far as it exists)
  bool complete = true;   // false: some component did not exist ("Partially resolved path")
  // Every symlink the walk went through, in the order met, each as its own canonical
  // path in the tree (its directory resolved, its name as written): "/productLocker",
  // then the links inside its target ("/vmfs/volumes/datastore1"), and so on. A link
  // met twice is listed once. Re-pointing, removing or replacing any of them can change
  // `canonical`; that is what the daemon watches (docs/productlocker.md).
  std::vector<std::string> links;
};

// Resolves `path` (absolute) through the tree's symlinks: absolute targets are read
// relative to the tree's root, relative ones from the link's directory, ".." never
// climbs above "/". Fails with Invalid on a symlink loop (more than 40 links).
Status ResolvePath(const TreeView& tree, std::string_view path, Resolution* out);

}  // namespace sptfs
