#include "policy/path_trie.h"

namespace sptfs {

namespace {

constexpr uint64_t kSeed = 14695981039346656037ull;  // FNV-1a 64

uint64_t Mix(uint64_t h, unsigned char c) { return (h ^ c) * 1099511628211ull; }

// The hash of a prefix as stored: FNV-1a over "/comp/comp...", then a final avalanche so
// the low bits that pick the slot depend on every byte; never 0 (0 marks empty slots).
uint64_t Finish(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h | 1;
}

// Calls `next(end, hash)` after each non-empty component of `path`, where `end` is the
// offset just past the component and `hash` the running hash of the normalised prefix
// (empty components are skipped). Stops when `next` returns false.
template <typename F>
void ForEachPrefix(std::string_view path, F next) {
  uint64_t h = kSeed;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (end > i) {
      h = Mix(h, '/');
      for (size_t k = i; k < end; ++k) h = Mix(h, static_cast<unsigned char>(path[k]));
      if (!next(end, h)) return;
    }
    i = end + 1;
  }
}

// `path` with empty components dropped: "//a/b/" -> "/a/b" ("" for "/").
std::string Normalise(std::string_view path) {
  std::string out;
  ForEachPrefix(path, [&](size_t end, uint64_t) {
    size_t start = path.rfind('/', end - 1) + 1;
    out += '/';
    out.append(path.substr(start, end - start));
    return true;
  });
  return out;
}

}  // namespace

size_t PathTrie::Find(uint64_t hash, std::string_view key) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return i;
    if (s.hash == hash && std::string_view(keys_).substr(s.key_offset, s.key_size) == key) {
      return i;
    }
  }
}

void PathTrie::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : old.size() * 2, Slot());
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void PathTrie::Insert(std::string_view path, size_t rule_index) {
  std::string key = Normalise(path);
  if (key.empty()) {
    root_rule_ = static_cast<uint32_t>(rule_index);
    return;
  }
  if ((static_cast<size_t>(used_) + 1) * 2 > slots_.size()) Grow();
  uint64_t hash = 0;
  ForEachPrefix(key, [&hash](size_t, uint64_t h) {
    hash = h;
    return true;
  });
  hash = Finish(hash);
  Slot& s = slots_[Find(hash, key)];
  if (s.hash == 0) {
    s.hash = hash;
    s.key_offset = static_cast<uint32_t>(keys_.size());
    s.key_size = static_cast<uint32_t>(key.size());
    keys_ += key;
    ++used_;
  }
  s.rule = static_cast<uint32_t>(rule_index);
}

size_t PathTrie::LongestPrefix(std::string_view path) const {
  uint32_t best = root_rule_;
  if (used_ > 0) {
    // Requests are canonical, so a normalised key equals the request's own prefix.
    ForEachPrefix(path, [&](size_t end, uint64_t h) {
      const Slot& s = slots_[Find(Finish(h), path.substr(0, end))];
      if (s.hash != 0) best = s.rule;
      return true;
    });
  }
  return best == kNone ? kNoRule : best;
}

}  // namespace sptfs
