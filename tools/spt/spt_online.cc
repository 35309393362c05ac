// RunSptOnline: parse locally (so usage errors need no daemon), strip the options that
// only choose the daemon, make -p's directory absolute (the daemon has another cwd), send.
#include "spt_online.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/graph.h"
#include "cli/spt_options.h"
#include "control/client.h"
#include "control/label_tool.h"

namespace {

std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// argv for the daemon: "spt" + args without --mount/--socket (both spellings).
std::vector<std::string> Forwarded(const std::vector<std::string>& args,
                                   const sptfs::SptOptions& o) {
  std::vector<std::string> out = {"spt"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--mount" || a == "--socket") {
      ++i;
      continue;
    }
    if (a.rfind("--mount=", 0) == 0 || a.rfind("--socket=", 0) == 0) continue;
    std::string fixed = a;
    if (o.command == sptfs::SptCommand::kLoadPolicy && !o.argument.empty() &&
        o.argument[0] != '/') {
      std::string abs = Absolute(o.argument);
      if (a == o.argument) fixed = abs;
      if (a == "-p" + o.argument) fixed = "-p" + abs;
      if (a == "--load-policy=" + o.argument) fixed = "--load-policy=" + abs;
    }
    out.push_back(fixed);
  }
  return out;
}

int Labels(const sptfs::SptOptions& o) {
  sptfs::LabelToolOptions lt;
  lt.socket = o.socket;
  lt.mount = o.mount;
  lt.files = {o.argument};
  lt.mode =
      o.command == sptfs::SptCommand::kGetLabel ? sptfs::LabelMode::kGet : sptfs::LabelMode::kSet;
  lt.label = o.label;
  return sptfs::RunLabelTool(lt, "spt");
}

}  // namespace

int RunSptOnline(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  sptfs::SptOptions o;
  sptfs::Status s = sptfs::ParseSptArgs(args, &o);
  if (!s.ok()) {
    std::fprintf(stderr, "spt: %s\nTry 'spt -h' for help.\n", s.message().c_str());
    return 2;
  }
  if (o.command == sptfs::SptCommand::kGetLabel || o.command == sptfs::SptCommand::kSetLabel) {
    return Labels(o);
  }
  std::string socket_path;
  s = sptfs::ChooseSocket(o.socket, o.mount, &socket_path);
  if (!s.ok()) {  // no daemon, or several: an error, not a usage mistake (docs/spt.md)
    std::fprintf(stderr, "spt: %s\n", s.message().c_str());
    return 1;
  }
  sptfs::Reply reply;
  s = sptfs::CallDaemon(socket_path, Forwarded(args, o), &reply);
  if (!s.ok()) {
    std::fprintf(stderr, "spt: %s\n", s.message().c_str());
    return 1;
  }
  if (reply.exit_code == 0 && !o.svg.empty()) return sptfs::WriteGraphSvg(reply.out, o.svg, "spt");
  std::fputs(reply.out.c_str(), stdout);
  std::fputs(reply.err.c_str(), stderr);
  return reply.exit_code;
}
