// Helpers shared by the policy and cli unit tests (not part of the library): build
// rules and policy sets in memory, and write policy-set directories to a temp dir.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>

#include "policy/compiler.h"
#include "policy/model.h"
#include "policy/rule_parser.h"

namespace sptfs::testing {

inline Rule R(std::string_view text) {
  Rule rule;
  Status s = ParseRule(text, {"test.toml", 1}, &rule);
  EXPECT_TRUE(s.ok()) << s.message();
  return rule;
}

inline DomainSpec Dom(std::string name, DomainId id, std::initializer_list<std::string_view> rules,
                      Level level = Level::kEnforcing, bool unconfined = false) {
  DomainSpec d;
  d.name = std::move(name);
  d.id = id;
  d.level = level;
  d.unconfined = unconfined;
  for (std::string_view r : rules) d.rules.push_back(R(r));
  return d;
}

// A set with labels unlabeled(0), appObj(10), keyObj(11) and default domain "superDom".
inline PolicySet Set(std::initializer_list<DomainSpec> domains) {
  PolicySet set;
  set.dir = "mem";
  set.default_domain = "superDom";
  set.labels = {{"unlabeled", 0, {}}, {"appObj", 10, {}}, {"keyObj", 11, {}}};
  set.domains.push_back(Dom("superDom", 0, {}, Level::kEnforcing, true));
  for (const DomainSpec& d : domains) set.domains.push_back(d);
  return set;
}

inline std::shared_ptr<const CompiledPolicy> CompileOrDie(
    const PolicySet& set, const TreeView& tree, std::vector<std::string>* warnings = nullptr,
    uint64_t generation = 1) {
  std::shared_ptr<const CompiledPolicy> out;
  Status s = Compile(set, tree, generation, &out, warnings);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

// A fresh directory under TMPDIR, removed (with everything in it) when it goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sptfs-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  // Writes `text` to path()/rel, creating parent directories.
  void Write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }

 private:
  std::string path_;
};

}  // namespace sptfs::testing
