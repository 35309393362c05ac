#include "policy/tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <vector>

namespace sptfs {

TreeView::Entry DiskTree::Lookup(const std::string& path) const {
  std::string full = (root_ == "/" ? std::string() : root_) + path;
  struct stat st;
  if (lstat(full.c_str(), &st) != 0) return {};
  if (S_ISDIR(st.st_mode)) return {Kind::kDirectory, {}};
  if (!S_ISLNK(st.st_mode)) return {Kind::kFile, {}};
  std::string target(PATH_MAX, '\0');
  ssize_t n = readlink(full.c_str(), target.data(), target.size());
  if (n < 0) return {};
  target.resize(static_cast<size_t>(n));
  return {Kind::kSymlink, target};
}

namespace {

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string Join(const std::string& dir, std::string_view name) {
  return (dir == "/" ? "" : dir) + "/" + std::string(name);
}

// Splits into components, dropping empty ones ("a//b", trailing "/").
std::deque<std::string> Components(std::string_view path) {
  std::deque<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t next = path.find('/', i);
    if (next == std::string_view::npos) next = path.size();
    if (next > i) parts.emplace_back(path.substr(i, next - i));
    i = next + 1;
  }
  return parts;
}

constexpr int kMaxLinks = 40;  // as Linux's path walk

}  // namespace

void MemoryTree::AddDirectory(const std::string& path) {
  if (path == "/" || path.empty()) return;
  AddDirectory(ParentOf(path));
  entries_[path] = Entry{Kind::kDirectory, {}};
}

void MemoryTree::AddFile(const std::string& path) {
  AddDirectory(ParentOf(path));
  entries_[path] = Entry{Kind::kFile, {}};
}

void MemoryTree::AddSymlink(const std::string& path, const std::string& target) {
  AddDirectory(ParentOf(path));
  entries_[path] = Entry{Kind::kSymlink, target};
}

void MemoryTree::Remove(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return;
  const std::string prefix = path + "/";
  it = entries_.erase(it);
  while (it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = entries_.erase(it);
  }
}

TreeView::Entry MemoryTree::Lookup(const std::string& path) const {
  if (path == "/") return {Kind::kDirectory, {}};
  auto it = entries_.find(path);
  return it == entries_.end() ? Entry{} : it->second;
}

Status ResolvePath(const TreeView& tree, std::string_view path, Resolution* out) {
  std::deque<std::string> todo = Components(path);
  std::string current = "/";
  bool complete = true;
  int links = 0;
  std::vector<std::string> seen;  // the links met, for Resolution::links
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      current = ParentOf(current);
      continue;
    }
    std::string next = Join(current, name);
    if (!complete) {  // past a missing component: normalise lexically only
      current = next;
      continue;
    }
    TreeView::Entry entry = tree.Lookup(next);
    if (entry.kind == TreeView::Kind::kSymlink) {
      if (std::find(seen.begin(), seen.end(), next) == seen.end()) seen.push_back(next);
      if (++links > kMaxLinks) {
        return Status::Invalid("symlink loop resolving " + std::string(path) +
                               " (expected at most 40 symlinks on the way)");
      }
      std::deque<std::string> target = Components(entry.link_target);
      todo.insert(todo.begin(), target.begin(), target.end());
      if (!entry.link_target.empty() && entry.link_target[0] == '/') current = "/";
      continue;
    }
    current = next;
    // A missing component, or a file with components after it, cannot be walked further.
    if (entry.kind == TreeView::Kind::kMissing ||
        (entry.kind == TreeView::Kind::kFile && !todo.empty())) {
      complete = false;
    }
  }
  out->canonical = current;
  out->complete = complete;
  out->links = std::move(seen);
  return Status::Ok();
}

}  // namespace sptfs
