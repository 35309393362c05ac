// An intrusive hash set of 32-bit element indices, for tables of millions of small
// elements (the inode table): a power-of-two array of 32-bit bucket heads, and each
// element's chain link lives inside the element itself. So it costs 4 B per bucket
// (4 to 8 B per element at the load factors kept) and nothing per element beyond the
// 4 B link the element reserves, where std::unordered_map costs a heap node of 16+ B
// per element plus 8 B per bucket (docs/PERFORMANCE.md, issue 17 item 6).
//
// The caller owns the elements and passes an `Elems` object with
//   uint32_t& Next(uint32_t i);        // element i's chain link (the set owns its value)
//   uint64_t Hash(uint32_t i) const;   // the hash of element i's key (stable while in the set)
// and looks elements up by hash plus an equality predicate on indices. An element is in
// the set at most once; Insert of one already in the set, or Erase of one not in it, is
// a bug the caller must not make (Erase reports it: false). Not thread-safe: the caller
// locks. Index kNone is reserved. Grows (doubling) when elements exceed buckets; shrinks
// (halving, down to kMinBuckets) when elements fall below an eighth of the buckets, so
// a set that empties gives its bucket array back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sptfs {

template <class Elems>
class IndexHash {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kMinBuckets = 64;

  explicit IndexHash(Elems* elems) : elems_(elems), buckets_(kMinBuckets, kNone) {}

  // The element with `hash` for which `eq(index)` is true, or kNone.
  template <class Eq>
  uint32_t Find(uint64_t hash, Eq&& eq) const {
    for (uint32_t i = buckets_[Slot(hash)]; i != kNone; i = elems_->Next(i)) {
      if (eq(i)) return i;
    }
    return kNone;
  }

  void Insert(uint32_t index, uint64_t hash) {
    if (size_ >= buckets_.size()) Rehash(buckets_.size() * 2);
    uint32_t& head = buckets_[Slot(hash)];
    elems_->Next(index) = head;
    head = index;
    ++size_;
  }

  // Removes `index` (whose key hashes to `hash`); false if it was not in the set.
  bool Erase(uint32_t index, uint64_t hash) {
    for (uint32_t* at = &buckets_[Slot(hash)]; *at != kNone; at = &elems_->Next(*at)) {
      if (*at != index) continue;
      *at = elems_->Next(index);
      elems_->Next(index) = kNone;
      --size_;
      if (buckets_.size() > kMinBuckets && size_ < buckets_.size() / 8) {
        Rehash(buckets_.size() / 2);
      }
      return true;
    }
    return false;
  }

  // Calls f(index) for every element, in bucket order; f must not change the set.
  template <class F>
  void ForEach(F&& f) const {
    for (uint32_t head : buckets_) {
      for (uint32_t i = head; i != kNone; i = elems_->Next(i)) f(i);
    }
  }

  size_t size() const { return size_; }
  size_t buckets() const { return buckets_.size(); }
  size_t bytes() const { return buckets_.capacity() * sizeof(uint32_t); }

 private:
  // The top bits of a multiplied hash: callers' hashes need not mix their low bits.
  size_t Slot(uint64_t hash) const {
    return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void Rehash(size_t n) {
    std::vector<uint32_t> old(n, kNone);
    old.swap(buckets_);  // a new array: a shrunk one really gives the memory back
    shift_ = 64;
    for (size_t b = n; b > 1; b >>= 1) --shift_;
    for (uint32_t head : old) {
      for (uint32_t i = head; i != kNone;) {
        uint32_t next = elems_->Next(i);
        uint32_t& slot = buckets_[Slot(elems_->Hash(i))];
        elems_->Next(i) = slot;
        slot = i;
        i = next;
      }
    }
  }

  Elems* elems_;
  std::vector<uint32_t> buckets_;
  size_t size_ = 0;
  int shift_ = 64 - 6;  // log2(kMinBuckets) bits of slot
};

}  // namespace sptfs
