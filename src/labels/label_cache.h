// A small cache of raw label attributes keyed by backing inode (device, inode number),
// so a hot open path costs no xattr read. Entries expire after `ttl` (changes made on
// the backing store behind the mount's back show up within it) and are dropped at once
// by Invalidate() when the label is changed through the mount. Bounded: when full, the
// shard is cleared (cheap, and a miss only costs one getxattr). Thread-safe.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "labels/label_xattr.h"

namespace sptfs {

class LabelCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LabelCache(Clock::duration ttl = std::chrono::seconds(1), size_t max_entries = 65536);

  // True and *out set if a fresh entry exists.
  bool Lookup(dev_t dev, ino_t ino, RawLabel* out);
  void Insert(dev_t dev, ino_t ino, const RawLabel& raw);
  void Invalidate(dev_t dev, ino_t ino);
  void Clear();

 private:
  struct Key {
    dev_t dev;
    ino_t ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<ino_t>()(k.ino) ^ (k.dev << 1); }
  };
  struct Entry {
    RawLabel raw;
    Clock::time_point expires;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Key, Entry, KeyHash> map;
  };
  static constexpr size_t kShards = 16;
  Shard& ShardFor(const Key& k) { return shards_[KeyHash()(k) % kShards]; }

  Clock::duration ttl_;
  size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace sptfs
