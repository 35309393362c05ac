#include "fs/tree_setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace sptfs {
namespace {

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

// Turns the maps whose source is a host symlink into tree symlinks where TreeLinks finds
// a target (their directory fd is not needed then).
void MakeLinks(std::vector<OpenMap>* maps) {
  std::vector<MapSpec> specs;
  std::vector<std::string> real;
  std::vector<bool> is_link;
  for (const OpenMap& m : *maps) {
    specs.push_back(m.spec);
    real.push_back(m.real);
    is_link.push_back(m.source_is_link && !m.real.empty());
  }
  std::vector<std::string> links = TreeLinks(specs, real, is_link);
  for (size_t i = 0; i < maps->size(); ++i) {
    if (links[i].empty()) continue;
    close((*maps)[i].fd);
    (*maps)[i].fd = -1;
    (*maps)[i].link = links[i];
  }
}

}  // namespace

Status OpenMaps(const std::vector<MapSpec>& specs, std::vector<OpenMap>* out) {
  std::vector<OpenMap> maps;
  for (const MapSpec& spec : specs) {
    int fd = open(spec.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      for (OpenMap& m : maps) close(m.fd);  // no links yet: every fd is open
      std::string where =
          spec.line ? "map at " + spec.at + " (line " + std::to_string(spec.line) + "): " : "";
      // Status::Io would append strerror a second time: the reason is said once, here.
      return Status::Invalid(where + spec.source + ": " + strerror(err) +
                             " (expected an existing directory)");
    }
    struct stat st;
    char real[PATH_MAX];
    bool link = lstat(spec.source.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
    maps.push_back(OpenMap{spec, fd, link, realpath(spec.source.c_str(), real) ? real : "", ""});
  }
  MakeLinks(&maps);
  *out = std::move(maps);
  return Status::Ok();
}

std::vector<std::string> LinkWarnings(const std::vector<OpenMap>& maps) {
  std::vector<std::string> out;
  for (const OpenMap& m : maps) {
    if (!m.source_is_link || !m.link.empty() || m.spec.at == "/") continue;
    out.push_back(
        "map at " + m.spec.at + ": its source " + m.spec.source + " is a symlink to " + m.real +
        ", which no other map shows; the directory is mapped, so the policy sees " + m.spec.at +
        " and " + m.real + " as two paths (map that directory too, docs/sptfs.md \"Merged /usr\")");
  }
  return out;
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
    std::vector<std::string> parts = PathComponents(maps[i].spec.at);
    Inode* dir = table->root();
    for (size_t k = 0; k + 1 < parts.size() && !dir->is_virtual_link(); ++k) {
      dir = PinStep(table, dir, parts[k]);
    }
    if (dir->is_virtual_link()) {
      return Status::Invalid("map at " + maps[i].spec.at + ": the tree has a symlink on the way (" +
                             table->PathOf(dir) + " -> " + table->LinkTarget(dir) +
                             ", a map whose source is a host symlink; expected a map below " +
                             "the directory it points to)");
    }
    if (table->Overlay(dir, parts.back())) {
      return Status::Invalid("map at " + maps[i].spec.at + ": the path is already a map point");
    }
    if (!maps[i].link.empty()) {
      table->AddPinnedLink(dir, parts.back(), maps[i].link);
      continue;
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
  for (const OpenMap& m : maps) out.push_back(MapTree::Map{m.spec.at, m.fd, m.link});
  return out;
}

}  // namespace sptfs
