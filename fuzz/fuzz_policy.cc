// libFuzzer target: the policy loader (TOML files + rule strings) and the compiler.
//
// One input is a whole policy set: its parts are separated by lines "%%%" and written
// as policy.toml, default-labels.toml and domains/dN.toml (parts 3 and on) into a
// private temporary directory, then loaded; a set that loads is compiled against a
// literal tree and a small in-memory tree with symlinks (loops included), and every
// domain is asked one decision. Each line is also parsed alone as a rule string.
// Contract checked: no crash, no sanitizer report, no hang; loader errors carry a
// "file:line:" prefix; a failed load leaves the output untouched.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "policy/compiler.h"
#include "policy/decision.h"
#include "policy/loader.h"
#include "policy/rule_parser.h"
#include "policy/tree.h"

namespace {

std::vector<std::string_view> SplitParts(std::string_view data) {
  std::vector<std::string_view> parts;
  constexpr std::string_view kSep = "\n%%%\n";
  size_t start = 0;
  for (size_t at; (at = data.find(kSep, start)) != std::string_view::npos; start = at + kSep.size())
    parts.push_back(data.substr(start, at - start));
  parts.push_back(data.substr(start));
  return parts;
}

// One scratch directory per process, emptied before each input.
const std::string& ScratchDir() {
  static const std::string dir = [] {
    char tmpl[] = "/dev/shm/sptfs-fuzz-policy-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) abort();
    return std::string(made);
  }();
  return dir;
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary).write(text.data(), std::streamsize(text.size()));
}

void WriteSet(const std::string& dir, const std::vector<std::string_view>& parts) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/domains");
  if (parts.size() > 0) WriteFile(dir + "/policy.toml", parts[0]);
  if (parts.size() > 1) WriteFile(dir + "/default-labels.toml", parts[1]);
  for (size_t i = 2; i < parts.size() && i < 12; ++i)
    WriteFile(dir + "/domains/d" + std::to_string(i) + ".toml", parts[i]);
}

void ParseEachLine(std::string_view data) {
  size_t line_no = 1;
  for (size_t start = 0; start <= data.size(); ++line_no) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    sptfs::Rule rule;
    (void)sptfs::ParseRule(data.substr(start, end - start), {"fuzz", int(line_no)}, &rule);
    start = end + 1;
  }
}

void CompileAndDecide(const sptfs::PolicySet& set) {
  sptfs::LiteralTree literal;
  sptfs::MemoryTree memory;
  memory.AddSymlink("/productLocker", "/vmfs/volumes/a/productLocker");
  memory.AddSymlink("/vmfs/volumes/a", "b");
  memory.AddDirectory("/vmfs/volumes/b/productLocker");
  memory.AddSymlink("/loop1", "/loop2");
  memory.AddSymlink("/loop2", "/loop1/x");
  const sptfs::TreeView* trees[] = {&literal, &memory};
  for (const sptfs::TreeView* tree : trees) {
    std::shared_ptr<const sptfs::CompiledPolicy> compiled;
    std::vector<std::string> warnings;
    if (!sptfs::Compile(set, *tree, 1, &compiled, &warnings).ok()) continue;
    for (const auto& d : compiled->domains()) {
      (void)sptfs::Decide(*compiled, d.id, "/productLocker/x", sptfs::kUnlabeledId,
                          sptfs::kPermRead);
      (void)compiled->DefaultLabelFor("/vmfs/volumes/b");
    }
    (void)sptfs::FindStaleRules(*compiled, memory);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // policy files are small; keep iterations fast
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseEachLine(text);
  const std::string& dir = ScratchDir();
  WriteSet(dir, SplitParts(text));
  sptfs::PolicySet set;
  sptfs::Status st = sptfs::LoadPolicySet(dir, &set);
  if (st.ok()) {
    CompileAndDecide(set);
  } else if (st.message().find(':') == std::string::npos) {
    abort();  // every load error must name where it is
  }
  return 0;
}
