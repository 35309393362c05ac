#include "fs/tree_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>

namespace sptfs {
namespace {

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// The pinned directory `name` under `parent`: the one already pinned, the real directory
// the parent's map has there, or a new virtual one.
Inode* PinStep(InodeTable* table, Inode* parent, const std::string& name) {
  if (Inode* pinned = table->Overlay(parent, name)) return pinned;
  if (!parent->is_virtual()) {
    int fd = openat(parent->fd, name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) return table->AddPinned(parent, name, fd, parent->map, parent->read_only);
  }
  return table->AddPinned(parent, name, -1, -1, true);
}

}  // namespace

Status OpenMaps(const std::vector<MapSpec>& specs, std::vector<OpenMap>* out) {
  std::vector<OpenMap> maps;
  for (const MapSpec& spec : specs) {
    int fd = open(spec.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      for (OpenMap& m : maps) close(m.fd);
      std::string where =
          spec.line ? "map at " + spec.at + " (line " + std::to_string(spec.line) + "): " : "";
      // Status::Io would append strerror a second time: the reason is said once, here.
      return Status::Invalid(where + spec.source + ": " + strerror(err) +
                             " (expected an existing directory)");
    }
    maps.push_back(OpenMap{spec, fd});
  }
  *out = std::move(maps);
  return Status::Ok();
}

Status BuildTree(const std::vector<OpenMap>& maps, InodeTable* table) {
  size_t first = 0;
  if (!maps.empty() && maps[0].spec.at == "/") {
    table->MakeRoot(maps[0].fd, 0, maps[0].spec.read_only);
    first = 1;
  } else {
    table->MakeRoot(-1, -1, true);
  }
  for (size_t i = first; i < maps.size(); ++i) {
    std::vector<std::string> parts = Components(maps[i].spec.at);
    Inode* dir = table->root();
    for (size_t k = 0; k + 1 < parts.size(); ++k) dir = PinStep(table, dir, parts[k]);
    if (table->Overlay(dir, parts.back())) {
      return Status::Invalid("map at " + maps[i].spec.at + ": the path is already a map point");
    }
    table->AddPinned(dir, parts.back(), maps[i].fd, static_cast<int>(i), maps[i].spec.read_only);
  }
  return Status::Ok();
}

std::vector<std::string> SetuidWarnings(const std::vector<OpenMap>& maps) {
  std::vector<std::string> out;
  for (const OpenMap& m : maps) {
    struct statvfs vfs;
    if (m.spec.read_only || fstatvfs(m.fd, &vfs) != 0 || (vfs.f_flag & ST_NOSUID)) continue;
    out.push_back("map at " + m.spec.at + ": the backing store " + m.spec.source +
                  " allows setuid programs; mount it nosuid (docs/sptfs.md, \"Backing store\")");
  }
  return out;
}

std::vector<MapTree::Map> TreeMaps(const std::vector<OpenMap>& maps) {
  std::vector<MapTree::Map> out;
  for (const OpenMap& m : maps) out.push_back(MapTree::Map{m.spec.at, m.fd});
  return out;
}

}  // namespace sptfs
