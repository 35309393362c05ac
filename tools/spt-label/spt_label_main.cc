// spt-label: read and set object labels (docs/spt-label.md).
//   spt-label [OPTIONS] -g FILE...            print each FILE's label
//   spt-label [OPTIONS] -s FILE... -L LABEL   set it (LABEL must be defined by the policy)
//   spt-label [OPTIONS] --restore FILE...     set the policy set's default label by path
// OPTIONS: -R (recursive), --mount DIR | --socket PATH (daemon of a mounted FILE),
// --policy DIR, --root DIR, --xattr NAME (backing paths).
#include <cstdio>
#include <cstring>
#include <string>

#include "control/label_tool.h"

namespace {

constexpr char kUsage[] =
    "usage: spt-label [OPTIONS] -g FILE...\n"
    "       spt-label [OPTIONS] -s FILE... -L LABEL\n"
    "       spt-label [OPTIONS] --restore FILE...\n"
    "  -g, --get-label     print each FILE's label\n"
    "  -s, --set-label     set each FILE's label to LABEL\n"
    "  -L, --label LABEL   the label for -s (one the policy defines: spt -l)\n"
    "  --restore           set each FILE's default label (the policy set's by path)\n"
    "  -R, --recursive     also everything below each directory (symlinks skipped;\n"
    "                      a file count on stderr while it is a terminal)\n"
    "  --json              print [{\"path\": FILE, \"label\": LABEL}, ...]\n"
    "  --mount DIR         the sptfs mount (default: found from FILE)\n"
    "  --socket PATH       the daemon's control socket (default: from the mount)\n"
    "  --policy DIR        policy set to check labels on backing paths\n"
    "  --root DIR          backing directory that is the tree's / (for --restore)\n"
    "  --xattr NAME        label attribute on backing paths (default: trusted.spt.label\n"
    "                      as root, user.spt.label otherwise)\n"
    "  -h, --help          this text\n"
    "  --version           print the program's name and version\n";

int Usage(const std::string& msg) {
  std::fprintf(stderr, "spt-label: %s\n%s", msg.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  sptfs::LabelToolOptions o;
  int modes = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::puts("spt-label " SPTFS_VERSION);
      return 0;
    } else if (a == "-g" || a == "--get-label") {
      o.mode = sptfs::LabelMode::kGet, ++modes;
    } else if (a == "-s" || a == "--set-label") {
      o.mode = sptfs::LabelMode::kSet, ++modes;
    } else if (a == "--restore") {
      o.mode = sptfs::LabelMode::kRestore, ++modes;
    } else if (a == "-R" || a == "--recursive") {
      o.recursive = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-L" || a == "--label") {
      if (!value(&o.label)) return Usage(a + " needs a LABEL");
    } else if (a == "--mount" || a == "--socket" || a == "--policy" || a == "--root" ||
               a == "--xattr") {
      std::string* target = a == "--mount"    ? &o.mount
                            : a == "--socket" ? &o.socket
                            : a == "--policy" ? &o.policy_dir
                            : a == "--root"   ? &o.root
                                              : &o.xattr;
      if (!value(target)) return Usage(a + " needs a value");
    } else if (a == "--") {
      for (++i; i < argc; ++i) o.files.push_back(argv[i]);
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option " + a);
    } else {
      o.files.push_back(a);
    }
  }
  if (modes != 1) return Usage("give exactly one of -g, -s, --restore");
  if (o.mode != sptfs::LabelMode::kSet && !o.label.empty()) return Usage("-L goes with -s only");
  return sptfs::RunLabelTool(o, "spt-label");
}
