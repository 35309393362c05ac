// PathTrie: longest whole-component prefix match of canonical paths against rule paths,
// mapping each rule path to a rule index. A lookup costs O(depth of the looked-up path),
// whatever the number of rules. Immutable once built; shared between derived snapshots,
// so it stores indexes into CompiledDomain::path_rules, never pointers.
//
// Layout: every rule path is one key of an open-addressing hash table, hashed over its
// components. A lookup hashes each prefix of the request path ("/a", "/a/b", ...) as it
// walks it and probes the table for each; the probes do not depend on each other, so
// the CPU overlaps their cache misses, and the table holds one slot per rule, not per
// path component. Measurements: docs/PERFORMANCE.md.
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
  struct Slot {
    uint64_t hash = 0;  // 0: empty (real hashes are forced non-zero)
    uint32_t rule = kNone;
    uint32_t key_offset = 0;  // the normalised key in keys_
    uint32_t key_size = 0;
  };
  // The slot holding `key` (hash `hash`), or the empty slot where it would go.
  size_t Find(uint64_t hash, std::string_view key) const;
  void Grow();

  std::vector<Slot> slots_;  // size a power of two, at most half full
  std::string keys_;         // normalised keys ("/a/b"), back to back
  uint32_t used_ = 0;
  uint32_t root_rule_ = kNone;  // the rule on "/"
};

}  // namespace sptfs
