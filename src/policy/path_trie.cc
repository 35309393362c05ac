#include "policy/path_trie.h"

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

void PathTrie::Insert(std::string_view path, size_t rule_index) {
  Node* node = &root_;
  ForEachComponent(path, [&node](std::string_view name) {
    auto it = node->children.find(name);
    if (it == node->children.end()) {
      it = node->children.emplace(std::string(name), std::make_unique<Node>()).first;
    }
    node = it->second.get();
    return true;
  });
  node->rule = rule_index;
}

size_t PathTrie::LongestPrefix(std::string_view path) const {
  const Node* node = &root_;
  size_t best = root_.rule;
  ForEachComponent(path, [&node, &best](std::string_view name) {
    auto it = node->children.find(name);
    if (it == node->children.end()) return false;
    node = it->second.get();
    if (node->rule != kNoRule) best = node->rule;
    return true;
  });
  return best;
}

}  // namespace sptfs
