// PathTrie: a prefix tree keyed by whole path components, mapping canonical rule paths
// to rule indexes. Longest-prefix lookup costs O(depth of the looked-up path), whatever
// the number of rules. Immutable once built; shared between derived snapshots, so it
// stores indexes into CompiledDomain::path_rules, never pointers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sptfs {

class PathTrie {
 public:
  static constexpr size_t kNoRule = static_cast<size_t>(-1);

  // `path` canonical and absolute. A later Insert of the same path replaces the index.
  void Insert(std::string_view path, size_t rule_index);
  // Index of the rule on the longest prefix of `path` (whole components), or kNoRule.
  size_t LongestPrefix(std::string_view path) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Node {
    size_t rule = kNoRule;
    std::unordered_map<std::string, std::unique_ptr<Node>, Hash, std::equal_to<>> children;
  };
  Node root_;
};

}  // namespace sptfs
