#include "policy/path_trie.h"

#include <cstring>

namespace sptfs {

namespace {

// Calls `next(component)` for each non-empty component; stops when it returns false.
template <typename F>
void ForEachComponent(std::string_view path, F next) {
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (end > i && !next(path.substr(i, end - i))) return;
    i = end + 1;
  }
}

}  // namespace

uint32_t PathTrie::HashEdge(uint32_t parent, std::string_view name) {
  uint32_t h = 2166136261u ^ (parent * 0x9E3779B1u);  // FNV-1a seeded by the parent
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  h ^= h >> 16;  // final avalanche (murmur3 fmix32): low bits pick the slot
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  return h;
}

size_t PathTrie::Find(uint32_t hash, uint32_t parent, std::string_view name) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Edge& e = slots_[i];
    if (e.child == 0) return i;
    if (e.hash == hash && e.parent == parent && NameOf(e) == name) return i;
  }
}

std::string_view PathTrie::NameOf(const Edge& e) const {
  if (e.name_size <= kInline) return std::string_view(e.name, e.name_size);
  uint32_t offset;
  std::memcpy(&offset, e.name, sizeof(offset));
  return std::string_view(names_.data() + offset, e.name_size);
}

void PathTrie::SetName(Edge* e, std::string_view name) {
  e->name_size = static_cast<uint32_t>(name.size());
  if (name.size() <= kInline) {
    std::memcpy(e->name, name.data(), name.size());
    return;
  }
  uint32_t offset = static_cast<uint32_t>(names_.size());
  std::memcpy(e->name, &offset, sizeof(offset));
  names_.append(name);
}

void PathTrie::Grow() {
  std::vector<Edge> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Edge());
  const size_t mask = slots_.size() - 1;
  for (const Edge& e : old) {
    if (e.child == 0) continue;
    size_t i = e.hash & mask;
    while (slots_[i].child != 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

void PathTrie::Insert(std::string_view path, size_t rule_index) {
  uint32_t node = 0;
  Edge* last = nullptr;
  ForEachComponent(path, [&](std::string_view name) {
    if ((edges_ + 1) * 2 > slots_.size()) Grow();
    uint32_t hash = HashEdge(node, name);
    Edge& e = slots_[Find(hash, node, name)];
    if (e.child == 0) {
      e = Edge();
      e.hash = hash;
      e.parent = node;
      e.child = ++edges_;
      SetName(&e, name);
    }
    node = e.child;
    last = &e;
    return true;
  });
  (last ? last->rule : root_rule_) = static_cast<uint32_t>(rule_index);
}

size_t PathTrie::LongestPrefix(std::string_view path) const {
  uint32_t best = root_rule_;
  if (!slots_.empty()) {
    uint32_t node = 0;
    ForEachComponent(path, [&](std::string_view name) {
      const Edge& e = slots_[Find(HashEdge(node, name), node, name)];
      if (e.child == 0) return false;
      node = e.child;
      if (e.rule != kNone) best = e.rule;
      return true;
    });
  }
  return best == kNone ? kNoRule : best;
}

}  // namespace sptfs
