// spt-domain: `esxcli system secpolicy domain` for a running sptfs (docs/spt-domain.md).
//   spt-domain [--mount DIR | --socket PATH] list
//   spt-domain [--mount DIR | --socket PATH] set -n NAME -l LEVEL
//   spt-domain [--mount DIR | --socket PATH] set --all -l LEVEL
//   spt-domain [--mount DIR | --socket PATH] tags
// The daemon does the work (and checks who may); this program only carries argv.
#include <cstdio>
#include <string>
#include <vector>

#include "control/client.h"

namespace {

constexpr char kUsage[] =
    "usage: spt-domain [--mount DIR | --socket PATH] COMMAND\n"
    "  list [--json]              domains and their enforcement levels\n"
    "  set -n NAME -l LEVEL       set one domain's level (enforcing, warning, disabled)\n"
    "  set --all -l LEVEL         set every domain's level\n"
    "  tags                       VMCI tags recorded with spt -T\n"
    "  -n, --name NAME            the domain to change\n"
    "  -a, --all                  every domain (runtime domains included)\n"
    "  -l, --level LEVEL          enforcing, warning or disabled\n"
    "  --json                     list as JSON: [{name, id, level, unconfined}]\n"
    "Options:\n"
    "  --mount DIR                the sptfs mount whose daemon to ask\n"
    "  --socket PATH              the daemon's control socket\n"
    "  -h, --help                 this text\n"
    "  --version                  print the program's name and version\n";

int Usage(const std::string& msg) {
  if (!msg.empty()) std::fprintf(stderr, "spt-domain: %s\n", msg.c_str());
  std::fputs("Try 'spt-domain -h' for help.\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_opt, mount_opt;
  std::vector<std::string> request = {"domain"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--version") {
      std::puts("spt-domain " SPTFS_VERSION);
      return 0;
    }
    if ((a == "--socket" || a == "--mount") && i + 1 < argc) {
      (a == "--socket" ? socket_opt : mount_opt) = argv[++i];
    } else if (a.rfind("--socket=", 0) == 0) {
      socket_opt = a.substr(9);
    } else if (a.rfind("--mount=", 0) == 0) {
      mount_opt = a.substr(8);
    } else {
      request.push_back(a);
    }
  }
  if (request.size() < 2) return Usage("no command given");
  const std::string& cmd = request[1];
  if (cmd != "list" && cmd != "set" && cmd != "tags") {
    return Usage("unknown command \"" + cmd + "\" (expected list, set or tags)");
  }
  std::string socket_path;
  sptfs::Status s = sptfs::ChooseSocket(socket_opt, mount_opt, &socket_path);
  if (!s.ok()) {  // no daemon, or several: an error, not a usage mistake
    std::fprintf(stderr, "spt-domain: %s\n", s.message().c_str());
    return 1;
  }
  sptfs::Reply reply;
  s = sptfs::CallDaemon(socket_path, request, &reply);
  if (!s.ok()) {
    std::fprintf(stderr, "spt-domain: %s\n", s.message().c_str());
    return 1;
  }
  std::fputs(reply.out.c_str(), stdout);
  // The daemon's messages are the command's own: they carry the tool's name like ours.
  if (!reply.err.empty()) std::fprintf(stderr, "spt-domain: %s", reply.err.c_str());
  return reply.exit_code;
}
