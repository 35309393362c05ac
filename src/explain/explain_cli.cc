#include "explain/explain_cli.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "explain/import.h"
#include "explain/suggest.h"
#include "explain/why_command.h"
#include "policy/compiler.h"
#include "policy/loader.h"
#include "sandbox/landlock_apply.h"

namespace sptfs {
namespace {

// Reading a big audit log is the long part of --suggest: show how far it got, but only
// to a person (stderr a terminal), never into a pipe or a log.
Status ReadInput(const std::string& name, std::string* text) {
  if (name == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    *text = ss.str();
    return Status::Ok();
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) return Status::Io(errno, "cannot read " + name);
  struct stat st;
  const bool show = stat(name.c_str(), &st) == 0 && st.st_size > (8 << 20) && isatty(2);
  constexpr size_t kChunk = 4 << 20;
  text->clear();
  std::string chunk(kChunk, '\0');
  while (in.read(chunk.data(), kChunk) || in.gcount() > 0) {
    text->append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (show) {
      std::fprintf(stderr, "\rspt: reading %s: %3d%%", name.c_str(),
                   static_cast<int>(100.0 * static_cast<double>(text->size()) /
                                    static_cast<double>(st.st_size)));
    }
  }
  if (show) std::fprintf(stderr, "\n");
  if (in.bad()) return Status::Io(EIO, "cannot read " + name);
  return Status::Ok();
}

int Fail(std::string* err, const std::string& msg, int rc = 1) {
  *err += "spt: " + msg + "\n";
  return rc;
}

// The policy set in DIR compiled against TREE (or the paths as written).
Status CompileOffline(const std::string& dir, const std::string& root,
                      std::shared_ptr<const CompiledPolicy>* policy) {
  PolicySet set;
  if (Status s = LoadPolicySet(dir, &set); !s.ok()) return s;
  std::unique_ptr<TreeView> tree;
  if (root.empty()) {
    tree = std::make_unique<LiteralTree>();
  } else {
    tree = std::make_unique<DiskTree>(root);
  }
  std::vector<std::string> warnings;  // partially resolved paths: --check shows them
  return Compile(set, *tree, 1, policy, &warnings);
}

int Suggest(const SptOptions& o, std::string* out, std::string* err) {
  SuggestOptions opt;
  std::vector<std::string> files;
  for (const std::string& w : o.operands) {
    if (w == "--glob") {
      opt.glob = true;
    } else if (w == "--dontaudit") {
      opt.prefer_dontaudit = true;
    } else if (w.size() > 1 && w[0] == '-') {
      return Fail(
          err, "--suggest: unknown option '" + w + "' (expected --glob, --dontaudit or a log file)",
          2);
    } else {
      files.push_back(w);
    }
  }
  if (files.empty()) files.push_back("-");
  std::string text;
  for (const std::string& f : files) {
    std::string one;
    if (Status s = ReadInput(f, &one); !s.ok()) return Fail(err, "--suggest: " + s.message());
    text += one;
    if (!text.empty() && text.back() != '\n') text += '\n';
  }
  // With --policy, suggestions merge with the rules of that set (compiled against
  // --root); without, with the rule each record names as deciding.
  std::shared_ptr<const CompiledPolicy> policy;
  if (!o.policy_dir.empty()) {
    if (Status s = CompileOffline(o.policy_dir, o.root, &policy); !s.ok()) {
      return Fail(err, "--suggest: " + s.message());
    }
    opt.policy = policy.get();
  }
  opt.source = files.size() == 1 ? (files[0] == "-" ? "<stdin>" : files[0]) : "<logs>";
  std::vector<DomainSuggestion> sug;
  std::vector<std::string> warnings;
  Status s = SuggestRules(text, opt, &sug, &warnings);
  for (const std::string& w : warnings) *err += "spt: " + w + "\n";
  if (!s.ok()) return Fail(err, "--suggest: " + s.message());
  *out += FormatSuggestions(sug);
  return 0;
}

int Import(const SptOptions& o, std::string* out, std::string* err) {
  std::string file, dir;
  for (size_t i = 0; i < o.operands.size(); ++i) {
    const std::string& w = o.operands[i];
    if (w == "--out" && i + 1 < o.operands.size()) {
      dir = o.operands[++i];
    } else if (w.size() > 1 && w[0] == '-') {
      return Fail(err, "--import: unknown option '" + w + "' (expected FILE [--out DIR])", 2);
    } else if (file.empty()) {
      file = w;
    } else {
      return Fail(err, "--import: unexpected '" + w + "' (expected one FILE)", 2);
    }
  }
  if (file.empty()) return Fail(err, "--import: no file (expected FILE or - for stdin)", 2);
  std::string text;
  if (Status s = ReadInput(file, &text); !s.ok()) return Fail(err, "--import: " + s.message());
  std::vector<ImportedFile> files;
  Status s = ImportSecpolicyDump(text, file == "-" ? "<stdin>" : file, &files);
  if (!s.ok()) return Fail(err, s.message());
  if (dir.empty()) {
    for (const ImportedFile& f : files) {
      if (files.size() > 1) *out += "# ---- " + f.name + "\n";
      *out += f.text;
    }
    return 0;
  }
  // Check every target first, so a refusal writes nothing.
  for (const ImportedFile& f : files) {
    struct stat st {};
    if (lstat((dir + "/" + f.name).c_str(), &st) == 0) {
      return Fail(err, "--import: " + dir + "/" + f.name +
                           " exists (expected a directory without it; nothing written)");
    }
  }
  for (const ImportedFile& f : files) {
    // A new policy set usually goes to a new directory: make it (and domains/), as
    // `mkdir -p` would.
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(dir + "/" + f.name).parent_path(),
                                        ec);
    if (ec) {
      return Fail(err, "--import: cannot make the directory for " + dir + "/" + f.name + ": " +
                           ec.message());
    }
    std::ofstream o2(dir + "/" + f.name, std::ios::binary);
    if (!(o2 << f.text) || !(o2.flush())) {
      return Fail(err,
                  "--import: cannot write " + dir + "/" + f.name + ": " + std::strerror(errno));
    }
    *out += "wrote " + dir + "/" + f.name + "\n";
  }
  return 0;
}

// The label of a file under the tree root, from its xattr (not following a last link).
LabelId LabelOnDisk(const CompiledPolicy& policy, const std::string& file) {
  const char* name = geteuid() == 0 ? "trusted.spt.label" : "user.spt.label";
  char buf[256];
  ssize_t n = lgetxattr(file.c_str(), name, buf, sizeof(buf));
  if (n < 0) return kUnlabeledId;  // absent (or unreadable: explained as unlabeled)
  auto id = policy.FindLabel(std::string_view(buf, static_cast<size_t>(n)));
  return id ? *id : kMaxId + 1;  // garbage: a label no rule grants
}

int WhyOffline(const SptOptions& o, std::string* out, std::string* err) {
  PolicySet set;
  if (Status s = LoadPolicySet(o.policy_dir, &set); !s.ok()) return Fail(err, s.message());
  std::unique_ptr<TreeView> tree;
  if (o.root.empty()) {
    tree = std::make_unique<LiteralTree>();
  } else {
    tree = std::make_unique<DiskTree>(o.root);
  }
  std::shared_ptr<const CompiledPolicy> policy;
  std::vector<std::string> warnings;
  if (Status s = Compile(set, *tree, 1, &policy, &warnings); !s.ok()) return Fail(err, s.message());
  WhySources src;
  src.policy = policy.get();
  src.tree = tree.get();
  if (!o.root.empty()) {
    src.label_of = [&](const std::string& canonical) {
      return LabelOnDisk(*policy, o.root + canonical);
    };
  }
  RealHostView host;  // offline: no mount, every --host path is a host path
  src.host = &host;
  src.landlock_abi = LandlockAbi();
  return RunWhy(o.operands, src, out, err);
}

}  // namespace

bool IsExplainCommand(SptCommand c) {
  return c == SptCommand::kWhy || c == SptCommand::kSuggest || c == SptCommand::kImport;
}

int RunExplainCli(const SptOptions& o, std::string* out, std::string* err) {
  switch (o.command) {
    case SptCommand::kSuggest:
      return Suggest(o, out, err);
    case SptCommand::kImport:
      return Import(o, out, err);
    case SptCommand::kWhy:
      return o.policy_dir.empty() ? kExplainNotHere : WhyOffline(o, out, err);
    default:
      return kExplainNotHere;
  }
}

}  // namespace sptfs
