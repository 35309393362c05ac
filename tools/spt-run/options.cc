#include "options.h"

#include <grp.h>
#include <pwd.h>

#include <cstdlib>

namespace sptfs {
namespace {

Status Bad(const std::string& what) { return Status::Invalid("spt-run: " + what); }

bool IsNumber(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 10;
}

}  // namespace

const char* RunUsage() {
  return "Usage: spt-run -D DOMAIN [--mount DIR | --socket PATH] [--root [--no-proc]]\n"
         "               [--no-landlock] [--user USER] [--cwd DIR] [--kill-after SECONDS]\n"
         "               -- CMD [ARGS...]\n"
         "Runs CMD confined to DOMAIN by the sptfs daemon serving DIR (or PATH).\n"
         "  -D, --domain DOMAIN  domain name or id (spt -l lists them)\n"
         "  -m, --mount DIR      the sptfs mount; its control socket is used\n"
         "  -S, --socket PATH    the daemon's control socket (overrides --mount's)\n"
         "  -r, --root           make DIR the program's \"/\" (needs --mount)\n"
         "  -P, --no-proc        no /proc in the world: no process can reach another's\n"
         "                       memory through /proc/PID/mem (needs --root)\n"
         "  -L, --no-landlock    no Landlock layer: host paths outside the mount are\n"
         "                       not confined (needed without --root on a kernel\n"
         "                       without Landlock)\n"
         "  -u, --user USER      run as USER (name or uid)\n"
         "  -C, --cwd DIR        start in DIR (inside the tree with --root)\n"
         "  -k, --kill-after SECONDS\n"
         "                       after passing on a TERM, INT, HUP or QUIT, kill the\n"
         "                       world if it still runs SECONDS later (default 10, 0 =\n"
         "                       never by time); a second such signal kills it at once\n"
         "  -h, --help           this text\n"
         "      --version        print \"spt-run VERSION\" and exit\n"
         "Exit status: the program's, 128+N if signal N killed it; 125 if spt-run\n"
         "failed (nothing was run), 126 if CMD cannot run, 127 if CMD is not found.\n";
}

Status ParseRunOptions(const std::vector<std::string>& args, RunOptions* out) {
  *out = RunOptions();
  size_t i = 0;
  auto value = [&](const std::string& opt, std::string* dest) -> Status {
    if (i + 1 >= args.size() || args[i + 1].empty()) {
      return Bad("option " + opt + " needs a value (expected " + opt + " VALUE)");
    }
    *dest = args[++i];
    return Status::Ok();
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    Status s;
    if (a == "--") {
      ++i;
      break;
    } else if (a == "-D" || a == "--domain") {
      s = value(a, &out->domain);
    } else if (a == "-m" || a == "--mount") {
      s = value(a, &out->mount);
    } else if (a == "-S" || a == "--socket") {
      s = value(a, &out->socket);
    } else if (a == "-u" || a == "--user") {
      s = value(a, &out->user);
    } else if (a == "-C" || a == "--cwd") {
      s = value(a, &out->cwd);
    } else if (a == "-k" || a == "--kill-after") {
      std::string v;
      s = value(a, &v);
      if (s.ok() && (!IsNumber(v) || v.size() > 5 || std::stoi(v) > 86400)) {
        return Bad("bad " + a + " \"" + v + "\" (expected whole seconds, 0 to 86400)");
      }
      if (s.ok()) out->kill_after = std::stoi(v);
    } else if (a == "-r" || a == "--root") {
      out->root = true;
    } else if (a == "-P" || a == "--no-proc") {
      out->no_proc = true;
    } else if (a == "-L" || a == "--no-landlock") {
      out->no_landlock = true;
    } else if (a == "-h" || a == "--help") {
      out->help = true;
      return Status::Ok();
    } else if (a == "--version") {
      out->version = true;
      return Status::Ok();
    } else if (!a.empty() && a[0] == '-') {
      return Bad("unknown option \"" + a + "\" (expected -D, --mount, --socket, --root, " +
                 "--no-proc, --no-landlock, --user, --cwd, --kill-after or -- CMD)");
    } else {
      break;  // the command starts here
    }
    if (!s.ok()) return s;
  }
  out->command.assign(args.begin() + static_cast<long>(i), args.end());
  if (out->domain.empty()) return Bad("no domain given (expected -D DOMAIN)");
  if (out->command.empty()) return Bad("no command given (expected -- CMD [ARGS...])");
  if (out->mount.empty() && out->socket.empty()) {
    return Bad("no daemon given (expected --mount DIR or --socket PATH)");
  }
  if (out->root && out->mount.empty()) return Bad("--root needs the tree (expected --mount DIR)");
  if (out->no_proc && !out->root) return Bad("--no-proc needs --root (expected --root --no-proc)");
  return Status::Ok();
}

Status ResolveUser(const std::string& user, RunIdentity* out) {
  struct passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr && IsNumber(user)) {
    uid_t uid = static_cast<uid_t>(std::strtoul(user.c_str(), nullptr, 10));
    pw = getpwuid(uid);
    if (pw == nullptr) {
      *out = RunIdentity{uid, static_cast<gid_t>(uid), {}};
      return Status::Ok();
    }
  }
  if (pw == nullptr) return Bad("unknown user \"" + user + "\" (expected a user name or uid)");
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  int count = 64;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  if (getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count));
    getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count);
  }
  groups.resize(static_cast<size_t>(count));
  out->groups = groups;
  return Status::Ok();
}

}  // namespace sptfs
