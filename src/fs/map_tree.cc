#include "fs/map_tree.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sptfs {
namespace {

// True if `prefix` covers `path` by whole components.
bool Covers(const std::string& prefix, const std::string& path) {
  if (prefix == "/") return true;
  return path.compare(0, prefix.size(), prefix) == 0 &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

}  // namespace

const MapTree::Map* MapTree::Showing(const std::string& path) const {
  const Map* best = nullptr;
  for (const Map& m : maps_) {
    if (Covers(m.at, path) && (!best || m.at.size() > best->at.size())) best = &m;
  }
  return best;
}

std::string MapTree::WatchPath(const std::string& path) const {
  const Map* best = Showing(path);
  if (!best || !best->link.empty()) return "";  // a link map never changes
  std::string rel = path.size() > best->at.size() ? path.substr(best->at.size()) : "";
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  return "/proc/self/fd/" + std::to_string(best->fd) + (rel.empty() ? "" : "/" + rel);
}

TreeView::Entry MapTree::Lookup(const std::string& path) const {
  const Map* best = Showing(path);
  bool leads_to_map = false;  // a strict ancestor of some map point: a directory anyway
  for (const Map& m : maps_) {
    if (path.size() < m.at.size() && Covers(path, m.at)) leads_to_map = true;
  }
  Entry missing{leads_to_map ? Kind::kDirectory : Kind::kMissing, ""};
  if (!best) return missing;
  // A link map is that symlink; nothing is "below" it (a walk follows it instead).
  if (!best->link.empty()) return path == best->at ? Entry{Kind::kSymlink, best->link} : Entry{};
  std::string rel = path.size() > best->at.size() ? path.substr(best->at.size()) : "";
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) return Entry{Kind::kDirectory, ""};
  struct stat st;
  if (fstatat(best->fd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return missing;
  if (S_ISDIR(st.st_mode)) return Entry{Kind::kDirectory, ""};
  if (!S_ISLNK(st.st_mode)) return Entry{Kind::kFile, ""};
  std::string target(PATH_MAX, '\0');
  ssize_t n = readlinkat(best->fd, rel.c_str(), target.data(), target.size());
  if (n < 0) return Entry{};
  target.resize(static_cast<size_t>(n));
  return Entry{Kind::kSymlink, target};
}

}  // namespace sptfs
