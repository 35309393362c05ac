// The mounted tree as the policy compiler sees it (policy/tree.h TreeView): paths are
// looked up in the backing maps with fd-relative calls, without following the last
// component; the directories that lead to a map's mount point exist even when virtual.
#pragma once

#include <string>
#include <vector>

#include "policy/tree.h"

namespace sptfs {

class MapTree : public TreeView {
 public:
  struct Map {
    std::string at;         // normalised ("/" or "/a/b")
    int fd = -1;            // O_PATH directory fd of the map's source (not owned)
    std::string link = {};  // non-empty: `at` is a symlink to this (merged /usr), no fd
  };
  explicit MapTree(std::vector<Map> maps) : maps_(std::move(maps)) {}
  Entry Lookup(const std::string& path) const override;
  // "/proc/self/fd/FD/rel" of the covering map: the backing directory itself, also when
  // the mount hides its source path (mounted over itself).
  std::string WatchPath(const std::string& path) const override;

 private:
  const Map* Showing(const std::string& path) const;  // longest `at` covering path
  std::vector<Map> maps_;
};

}  // namespace sptfs
