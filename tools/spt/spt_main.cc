// spt: the secpolicytools-compatible command line (manual: docs/spt.md).
// Offline (--policy DIR, --check DIR) it loads and compiles a policy set itself; the
// online branch (talking to a running sptfs) is RunSptOnline() in spt_online.cc.
// Exit codes: 0 ok, 1 error, 2 usage.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/graph.h"
#include "cli/spt_options.h"
#include "cli/spt_query.h"
#include "explain/explain_cli.h"
#include "explain/suggest.h"
#include "explain/why_command.h"
#include "policy/compiler.h"
#include "policy/loader.h"
#include "policy/tree.h"
#include "spt_online.h"

namespace {

constexpr int kOk = 0, kError = 1, kUsage = 2;

int Finish(const std::string& out, const std::string& err, int rc) {
  std::fputs(out.c_str(), stdout);
  std::fputs(err.c_str(), stderr);
  return rc;
}

// Loads and compiles `dir` against --root (or, without it, the paths as written).
int LoadOffline(const std::string& dir, const std::string& root,
                std::shared_ptr<const sptfs::CompiledPolicy>* policy,
                std::vector<std::string>* warnings) {
  sptfs::PolicySet set;
  sptfs::Status s = sptfs::LoadPolicySet(dir, &set);
  std::unique_ptr<sptfs::TreeView> tree;
  if (root.empty()) {
    tree = std::make_unique<sptfs::LiteralTree>();
  } else {
    tree = std::make_unique<sptfs::DiskTree>(root);
  }
  if (s.ok()) s = sptfs::Compile(set, *tree, 1, policy, warnings);
  if (!s.ok()) std::fprintf(stderr, "spt: %s\n", s.message().c_str());
  return s.ok() ? kOk : kError;
}

int Check(const sptfs::SptOptions& o) {
  std::shared_ptr<const sptfs::CompiledPolicy> policy;
  std::vector<std::string> warnings;
  if (int rc = LoadOffline(o.argument, o.root, &policy, &warnings); rc != kOk) return rc;
  for (const std::string& w : warnings) std::fprintf(stderr, "spt: %s\n", w.c_str());
  for (const std::string& w : sptfs::NarrowingWarnings(*policy)) {
    std::fprintf(stderr, "spt: warning: %s\n", w.c_str());
  }
  size_t rules = 0;
  for (const auto& d : policy->domains()) rules += d.rules.size();
  std::printf("%s: ok: %zu domains, %zu object labels, %zu rules, %zu default labels\n",
              o.argument.c_str(), policy->domains().size(), policy->labels().size(), rules,
              policy->default_labels().size());
  return kOk;
}

int RunOffline(const sptfs::SptOptions& o) {
  if (!sptfs::IsSptQuery(o.command)) {
    std::fprintf(stderr, "spt: %s needs a running sptfs (offline, only -l -d -D -O -k work)\n",
                 std::string(sptfs::SptCommandName(o.command)).c_str());
    return kError;
  }
  std::shared_ptr<const sptfs::CompiledPolicy> policy;
  std::vector<std::string> warnings;  // shown by --check; queries stay quiet
  if (int rc = LoadOffline(o.policy_dir, o.root, &policy, &warnings); rc != kOk) return rc;
  std::string out, err;
  int rc = sptfs::RunSptQuery(o, *policy, sptfs::LiveStates(), &out, &err);
  if (rc == kOk && !o.svg.empty()) return sptfs::WriteGraphSvg(out, o.svg, "spt");
  return Finish(out, err, rc);
}

}  // namespace

int main(int argc, char** argv) {
  // --why/--suggest/--import take options of their own: move them behind "--" (explain/).
  std::vector<std::string> args = sptfs::RewriteExplainArgs({argv + 1, argv + argc});
  sptfs::SptOptions options;
  sptfs::Status s = sptfs::ParseSptArgs(args, &options);
  if (!s.ok()) {
    std::fprintf(stderr, "spt: %s\nTry 'spt -h' for help.\n", s.message().c_str());
    return kUsage;
  }
  switch (options.command) {
    case sptfs::SptCommand::kNone:
      std::fputs(sptfs::SptHelpText().c_str(), stderr);
      return kUsage;
    case sptfs::SptCommand::kHelp:
      std::fputs(sptfs::SptHelpText().c_str(), stdout);
      return kOk;
    case sptfs::SptCommand::kVersion:
      std::puts("spt " SPTFS_VERSION);
      return kOk;
    case sptfs::SptCommand::kCheck:
      return Check(options);
    default:
      break;
  }
  // Explain commands (src/explain, docs/productlocker.md): --suggest, --import and
  // offline --why run here; online --why goes to the daemon like any other command.
  if (sptfs::IsExplainCommand(options.command)) {
    std::string out, err;
    int rc = sptfs::RunExplainCli(options, &out, &err);
    if (rc != sptfs::kExplainNotHere) return Finish(out, err, rc);
  }
  if (!options.policy_dir.empty()) return RunOffline(options);
  // The daemon gets the rewritten words (explain options behind "--").
  std::vector<char*> online = {argv[0]};
  for (std::string& a : args) online.push_back(a.data());
  online.push_back(nullptr);
  return RunSptOnline(static_cast<int>(online.size() - 1), online.data());
}
