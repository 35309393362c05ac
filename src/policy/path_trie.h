// PathTrie: a prefix tree keyed by whole path components, mapping canonical rule paths
// to rule indexes. Longest-prefix lookup costs O(depth of the looked-up path), whatever
// the number of rules. Immutable once built; shared between derived snapshots, so it
// stores indexes into CompiledDomain::path_rules, never pointers.
//
// Layout: the edges (parent node, component) -> child node live in one open-addressing
// hash table with the component names in one string pool, so a lookup touches about one
// cache line per component instead of chasing per-node heap maps (see docs/PERFORMANCE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sptfs {

class PathTrie {
 public:
  static constexpr size_t kNoRule = static_cast<size_t>(-1);

  // `path` canonical and absolute. A later Insert of the same path replaces the index.
  void Insert(std::string_view path, size_t rule_index);
  // Index of the rule on the longest prefix of `path` (whole components), or kNoRule.
  size_t LongestPrefix(std::string_view path) const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kInline = 12;  // names this short live in the edge itself
  struct alignas(32) Edge {              // two edges per cache line
    uint32_t hash = 0;
    uint32_t parent = 0;
    uint32_t child = 0;  // 0: empty slot (node 0 is the root, never a child)
    uint32_t rule = kNone;
    uint32_t name_size = 0;
    char name[kInline] = {};  // the name if name_size <= kInline, else its offset in names_
  };
  std::string_view NameOf(const Edge& e) const;
  void SetName(Edge* e, std::string_view name);
  static uint32_t HashEdge(uint32_t parent, std::string_view name);
  // The slot holding edge (parent, name), or the empty slot where it would go.
  size_t Find(uint32_t hash, uint32_t parent, std::string_view name) const;
  void Grow();

  std::vector<Edge> slots_;  // size a power of two, at most half full
  std::string names_;        // component names, back to back
  uint32_t edges_ = 0;
  uint32_t root_rule_ = kNone;
};

}  // namespace sptfs
