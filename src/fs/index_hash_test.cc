#include "fs/index_hash.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

namespace sptfs {
namespace {

// Elements are indices into `key`; `collide` sends every key to one chain.
struct TestElems {
  std::vector<uint32_t> next;
  std::vector<uint64_t> key;
  bool collide = false;
  uint32_t& Next(uint32_t i) { return next[i]; }
  uint64_t Hash(uint32_t i) const { return collide ? 42 : key[i]; }
  uint32_t Add(uint64_t k) {
    key.push_back(k);
    next.push_back(0);
    return static_cast<uint32_t>(key.size() - 1);
  }
};

using Hash = IndexHash<TestElems>;

uint32_t FindKey(const Hash& h, TestElems& e, uint64_t k) {
  return h.Find(e.collide ? 42 : k, [&](uint32_t i) { return e.key[i] == k; });
}

TEST(IndexHashTest, InsertFindErase) {
  TestElems e;
  Hash h(&e);
  uint32_t a = e.Add(7), b = e.Add(9);
  EXPECT_EQ(FindKey(h, e, 7), Hash::kNone);
  h.Insert(a, 7);
  h.Insert(b, 9);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(FindKey(h, e, 7), a);
  EXPECT_EQ(FindKey(h, e, 9), b);
  EXPECT_EQ(FindKey(h, e, 8), Hash::kNone);
  EXPECT_TRUE(h.Erase(a, 7));
  EXPECT_FALSE(h.Erase(a, 7));  // not in the set any more
  EXPECT_EQ(FindKey(h, e, 7), Hash::kNone);
  EXPECT_EQ(FindKey(h, e, 9), b);
  EXPECT_EQ(h.size(), 1u);
}

// One chain: erasing its head, middle and tail keeps the others reachable.
TEST(IndexHashTest, CollisionsShareAChain) {
  TestElems e;
  e.collide = true;
  Hash h(&e);
  for (uint64_t k = 0; k < 5; ++k) h.Insert(e.Add(k), 42);
  for (uint64_t k = 0; k < 5; ++k) EXPECT_EQ(FindKey(h, e, k), k);
  for (uint32_t gone : {4u, 2u, 0u}) {  // head (last inserted), middle, tail
    ASSERT_TRUE(h.Erase(gone, 42));
    EXPECT_EQ(FindKey(h, e, gone), Hash::kNone);
  }
  EXPECT_EQ(FindKey(h, e, 1), 1u);
  EXPECT_EQ(FindKey(h, e, 3), 3u);
  EXPECT_EQ(h.size(), 2u);
}

// Growth keeps every element findable and the load at most 1; emptying shrinks the
// bucket array back to its minimum.
TEST(IndexHashTest, GrowsAndShrinks) {
  TestElems e;
  Hash h(&e);
  constexpr uint32_t n = 100000;
  for (uint32_t i = 0; i < n; ++i) h.Insert(e.Add(i * 4096ull), i * 4096ull);  // low bits 0
  EXPECT_GE(h.buckets(), n);
  EXPECT_LE(h.buckets(), 2u * n);
  EXPECT_EQ(h.buckets() & (h.buckets() - 1), 0u);  // a power of two
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(FindKey(h, e, i * 4096ull), i);
  size_t big = h.bytes();
  for (uint32_t i = 0; i < n; ++i) ASSERT_TRUE(h.Erase(i, i * 4096ull));
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.buckets(), Hash::kMinBuckets);
  EXPECT_LT(h.bytes(), big / 100);
}

TEST(IndexHashTest, ForEachVisitsEachOnce) {
  TestElems e;
  Hash h(&e);
  for (uint64_t k = 0; k < 1000; ++k) h.Insert(e.Add(k), k);
  h.Erase(500, 500);
  std::vector<int> seen(1000);
  h.ForEach([&](uint32_t i) { seen[i]++; });
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(seen[i], i == 500 ? 0 : 1) << i;
}

// Random inserts and erases against std::unordered_set, across growth and shrinking.
TEST(IndexHashTest, MatchesAModelUnderRandomChurn) {
  TestElems e;
  Hash h(&e);
  std::mt19937_64 rng(17);
  std::unordered_set<uint32_t> in;
  std::vector<uint32_t> members;
  for (int step = 0; step < 200000; ++step) {
    bool add = members.empty() || rng() % 100 < (step < 100000 ? 70 : 30);
    if (add) {
      uint32_t i = e.Add(rng() % 5000);  // duplicate keys: distinct elements
      h.Insert(i, e.key[i]);
      in.insert(i);
      members.push_back(i);
    } else {
      size_t at = rng() % members.size();
      uint32_t i = members[at];
      members[at] = members.back();
      members.pop_back();
      ASSERT_TRUE(h.Erase(i, e.key[i]));
      in.erase(i);
    }
    ASSERT_EQ(h.size(), in.size());
  }
  for (uint32_t i : members) {
    ASSERT_EQ(h.Find(e.key[i], [&](uint32_t x) { return x == i; }), i);
  }
  size_t count = 0;
  h.ForEach([&](uint32_t i) { count += in.count(i); });
  EXPECT_EQ(count, in.size());
}

}  // namespace
}  // namespace sptfs
