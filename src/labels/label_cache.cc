#include "labels/label_cache.h"

namespace sptfs {

LabelCache::LabelCache(Clock::duration ttl, size_t max_entries)
    : ttl_(ttl), max_per_shard_(max_entries / kShards + 1) {}

bool LabelCache::Lookup(dev_t dev, ino_t ino, RawLabel* out) {
  Key key{dev, ino};
  Shard& s = ShardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) return false;
  if (Clock::now() >= it->second.expires) {
    s.map.erase(it);
    return false;
  }
  *out = it->second.raw;
  return true;
}

void LabelCache::Insert(dev_t dev, ino_t ino, const RawLabel& raw) {
  Key key{dev, ino};
  Shard& s = ShardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.map.size() >= max_per_shard_) s.map.clear();
  s.map[key] = Entry{raw, Clock::now() + ttl_};
}

void LabelCache::Invalidate(dev_t dev, ino_t ino) {
  Key key{dev, ino};
  Shard& s = ShardFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  s.map.erase(key);
}

void LabelCache::Clear() {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    s.map.clear();
  }
}

}  // namespace sptfs
