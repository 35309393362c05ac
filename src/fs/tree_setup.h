// Builds the mounted tree's skeleton before the mount: opens every map's source as an
// O_PATH directory fd (so mounting over the source itself still reaches the backing
// files), and pins the root, each map's root and the directories leading to it in the
// inode table. A map point's parent path that a lower map does not have becomes a
// virtual, read-only directory.
#pragma once

#include <string>
#include <vector>

#include "fs/inode_table.h"
#include "fs/map_tree.h"
#include "fs/mount_config.h"
#include "util/status.h"

namespace sptfs {

struct OpenMap {
  MapSpec spec;
  int fd = -1;  // owned by the inode table once BuildTree succeeded; -1 for a link
  // Merged /usr (mount_config.h TreeLinks): the source is a host symlink, and `link` the
  // relative target the tree shows at spec.at instead of a directory ("" = the directory
  // it resolves to, `real`, is mapped as before).
  bool source_is_link = false;
  std::string real;  // spec.source with every symlink resolved
  std::string link;
};

// Fails with a clear message if a source is missing or not a directory; closes what
// it opened on failure. A source that is a host symlink becomes a tree symlink when
// another map shows its target (OpenMap::link; no fd then).
Status OpenMaps(const std::vector<MapSpec>& specs, std::vector<OpenMap>* out);

// One line per map whose source is a host symlink that the tree cannot show as one (no
// other map shows its target): its two paths are two paths for the policy.
std::vector<std::string> LinkWarnings(const std::vector<OpenMap>& maps);

// `maps` sorted by `at` (as CheckMaps leaves them). Hands their fds to `table`.
Status BuildTree(const std::vector<OpenMap>& maps, InodeTable* table);

// One line per writable map whose backing file system honours setuid and setgid bits
// (not mounted nosuid): a file planted there through the mount would run with its
// owner's rights for anyone on the host who reaches the backing directory.
std::vector<std::string> SetuidWarnings(const std::vector<OpenMap>& maps);

// The same maps as the policy compiler sees them (fds borrowed from `maps`).
std::vector<MapTree::Map> TreeMaps(const std::vector<OpenMap>& maps);

}  // namespace sptfs
