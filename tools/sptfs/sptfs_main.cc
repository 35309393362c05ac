// sptfs: mounts a sandboxed tree (docs/sptfs.md).
//
//   sptfs SOURCE MOUNTPOINT [--policy DIR] [--default-domain NAME] [--audit-log FILE]
//         [--socket PATH] [--label-xattr NAME] [-f|--foreground] [-o OPTS]
//   sptfs --config FILE MOUNTPOINT [same options: they override the file]
//
// Without -f the program forks at once; the parent exits 0 only after the child's mount
// is live (so a script can use it right away), or with the child's error and status.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "control/client.h"
#include "control/daemon_context.h"
#include "control/sandbox_epoch.h"
#include "control/server.h"
#include "control/service_notify.h"
#include "control/stale_watcher.h"
#include "domains/tracker.h"
#include "fs/access_check.h"
#include "fs/event_watch.h"
#include "fs/fd_reclaim.h"
#include "fs/fuse_io.h"
#include "fs/fuse_reader.h"
#include "fs/fuse_uring.h"
#include "fs/inode_table.h"
#include "fs/map_tree.h"
#include "fs/mount_config.h"
#include "fs/sptfs_ops.h"
#include "fs/tree_setup.h"
#include "labels/label_xattr.h"
#include "policy/load_warnings.h"
#include "policy/policy_holder.h"
#include "run_dir.h"

namespace sptfs {
namespace {

constexpr char kUsage[] =
    "Usage: sptfs SOURCE MOUNTPOINT [options]\n"
    "       sptfs --config FILE MOUNTPOINT [options]\n"
    "Options:\n"
    "  --policy DIR            policy set to enforce (none: nothing is mediated)\n"
    "  --default-domain NAME   domain of processes nobody placed (default: the policy's)\n"
    "  --audit-log FILE        audit log (default: stderr)\n"
    "  --socket PATH           control socket (default: /run/sptfs/<mount>.sock)\n"
    "  --label-xattr NAME      label attribute (default: trusted.spt.label as root,\n"
    "                          user.spt.label otherwise)\n"
    "  --timeout SECONDS       kernel entry/attribute cache timeout (default 1)\n"
    "  --threads N             most FUSE worker threads (default: one per CPU, at\n"
    "                          least 2; 1 = single-threaded loop)\n"
    "  --clone-fd, --no-clone-fd  one /dev/fuse descriptor per worker (the\n"
    "                          default), or all workers on the session's\n"
    "  --max-idle-threads N    end a worker when more than N are idle (default:\n"
    "                          idle workers are kept)\n"
    "  --poll-us N             the reading worker polls /dev/fuse N microseconds\n"
    "                          before it sleeps (0..10000, default 50; 0: off)\n"
    "  --io-uring              serve requests through FUSE over io_uring, a queue\n"
    "                          per CPU, where the kernel offers it (Linux 6.14+,\n"
    "                          the fuse module's enable_uring on; default: off)\n"
    "  --fd-budget N           open files and directories one world may hold\n"
    "                          (default: a quarter of the daemon's descriptors)\n"
    "  -f, --foreground        stay in the foreground\n"
    "  -o OPTS                 extra FUSE mount options (comma separated)\n"
    "  -h, --help              this text\n"
    "      --version           print \"sptfs VERSION\" and exit\n";

struct Args {
  std::string config, source, mountpoint, policy, default_domain, audit_log, socket, xattr;
  std::string timeout, threads, fd_budget, max_idle, poll_us;
  double timeout_s = -1;   // parsed --timeout; < 0: not given
  int threads_n = 0;       // parsed --threads; 0: not given
  int clone_fd = -1;       // --clone-fd 1, --no-clone-fd 0; -1: not given
  int max_idle_n = -1;     // parsed --max-idle-threads; -1: not given
  int poll_us_n = -1;      // parsed --poll-us; -1: not given
  size_t fd_budget_n = 0;  // parsed --fd-budget; 0: not given
  std::vector<std::string> fuse_opts;
  bool foreground = false;
  bool io_uring = false;  // --io-uring
};

// `text` as a whole decimal number in lo..hi, into *out.
bool InRange(const std::string& text, long lo, long hi, int* out) {
  char* end = nullptr;
  long n = strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end || n < lo || n > hi) return false;
  *out = static_cast<int>(n);
  return true;
}

// --timeout, --threads, --max-idle-threads, --poll-us, --fd-budget: a malformed number is a
// usage mistake (exit 2), said once.
bool ParseNumbers(Args* a, std::string* err) {
  if (!a->timeout.empty()) {
    char* end = nullptr;
    double t = strtod(a->timeout.c_str(), &end);
    if (end == a->timeout.c_str() || *end) {
      return *err = "--timeout " + a->timeout + ": not a number (expected seconds >= 0)", false;
    }
    if (t < 0)
      return *err = "--timeout " + a->timeout + ": negative (expected seconds >= 0)", false;
    a->timeout_s = t;
  }
  if (!a->threads.empty() && !InRange(a->threads, 1, 1024, &a->threads_n)) {
    return *err = "--threads " + a->threads + ": not a thread count (expected 1..1024)", false;
  }
  if (!a->max_idle.empty() && !InRange(a->max_idle, 0, 1024, &a->max_idle_n)) {
    return *err = "--max-idle-threads " + a->max_idle + ": not a thread count (expected 0..1024)",
           false;
  }
  if (!a->poll_us.empty() && !InRange(a->poll_us, 0, 10000, &a->poll_us_n)) {
    return *err = "--poll-us " + a->poll_us + ": not a time (expected microseconds 0..10000)",
           false;
  }
  if (!a->fd_budget.empty()) {
    char* end = nullptr;
    long long n = strtoll(a->fd_budget.c_str(), &end, 10);
    if (end == a->fd_budget.c_str() || *end || n < 1) {
      return *err = "--fd-budget " + a->fd_budget +
                    ": not a descriptor count (expected a positive integer)",
             false;
    }
    a->fd_budget_n = static_cast<size_t>(n);
  }
  return true;
}

// Fails with a usage message; accepts "--opt VALUE" and "--opt=VALUE".
bool ParseArgs(int argc, char** argv, Args* a, std::string* err) {
  std::vector<std::string> positional;
  struct Opt {
    const char* name;
    std::string* out;
  } opts[] = {{"--config", &a->config},
              {"--policy", &a->policy},
              {"--default-domain", &a->default_domain},
              {"--audit-log", &a->audit_log},
              {"--socket", &a->socket},
              {"--label-xattr", &a->xattr},
              {"--timeout", &a->timeout},
              {"--threads", &a->threads},
              {"--max-idle-threads", &a->max_idle},
              {"--poll-us", &a->poll_us},
              {"--fd-budget", &a->fd_budget}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-f" || arg == "--foreground") {
      a->foreground = true;
      continue;
    }
    if (arg == "--io-uring") {
      a->io_uring = true;
      continue;
    }
    if (arg == "--clone-fd" || arg == "--no-clone-fd") {
      a->clone_fd = arg == "--clone-fd";
      continue;
    }
    if (arg == "-o") {
      if (++i >= argc) return *err = "-o needs a value", false;
      a->fuse_opts.push_back(argv[i]);
      continue;
    }
    bool matched = false;
    for (Opt& o : opts) {
      std::string name = o.name;
      if (arg == name) {
        if (++i >= argc) return *err = name + " needs a value", false;
        *o.out = argv[i];
        matched = true;
      } else if (arg.rfind(name + "=", 0) == 0) {
        *o.out = arg.substr(name.size() + 1);
        matched = true;
      }
    }
    if (matched) continue;
    if (arg.size() > 1 && arg[0] == '-') return *err = "unknown option " + arg, false;
    positional.push_back(arg);
  }
  size_t want = a->config.empty() ? 2 : 1;
  if (positional.size() != want) {
    *err = a->config.empty() ? "expected SOURCE and MOUNTPOINT" : "expected one MOUNTPOINT";
    return false;
  }
  if (want == 2) a->source = positional[0];
  a->mountpoint = positional.back();
  return ParseNumbers(a, err);
}

// Unescapes the octal escapes of /proc/self/mountinfo ("\040" for a space).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A FUSE file system already mounted at `abs` (the last mount there wins).
bool FuseMountedAt(const std::string& abs) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  bool fuse = false;
  while (std::getline(in, line)) {
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    char point[4201];  // room for what %4200s may store, plus the NUL
    if (sscanf(line.c_str(), "%*s %*s %*s %*s %4200s", point) != 1) continue;
    if (Unescape(point) != abs) continue;
    fuse = line.compare(sep + 3, 4, "fuse") == 0;
  }
  return fuse;
}

Status CheckMountpoint(const std::string& path, std::string* abs) {
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf)) {
    int err = errno;
    if (err == ENOTCONN) {
      return Status::Busy(path +
                          ": a FUSE mount whose daemon is gone is still there (expected "
                          "an unmounted directory; run fusermount3 -u " +
                          path + ")");
    }
    return Status::Invalid(path + ": " + strerror(err) + " (expected an existing directory)");
  }
  *abs = buf;
  // stat may answer from the attribute cache of a dead mount; statfs always asks it.
  struct stat st;
  struct statfs sfs;
  bool dead =
      (stat(buf, &st) != 0 && errno == ENOTCONN) || (statfs(buf, &sfs) != 0 && errno == ENOTCONN);
  if (dead) {
    return Status::Busy(path +
                        ": a FUSE mount whose daemon is gone is still there (expected an "
                        "unmounted directory; run fusermount3 -u " +
                        *abs + ")");
  }
  if (FuseMountedAt(*abs)) {
    return Status::Busy(path +
                        ": busy: a FUSE file system is already mounted there (expected "
                        "an unmounted directory; unmount it with fusermount3 -u " +
                        *abs + ")");
  }
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Invalid(path + ": not a directory (expected a directory to mount on)");
  }
  return Status::Ok();
}

// `path` made absolute against the directory the daemon was started in: the daemon
// runs from / afterwards, so a relative name would later mean something else.
std::string FromCwd(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

Status MakeConfig(const Args& a, MountConfig* cfg) {
  // Relative paths in a config file are relative to the file's directory (mount_config.h);
  // relative paths on the command line are relative to the current directory.
  if (!a.config.empty()) {
    Status st = LoadMountConfig(FromCwd(a.config), cfg);
    if (!st.ok()) return st;
  } else {
    cfg->maps.push_back(MapSpec{"/", FromCwd(a.source), false, 0});
  }
  if (!a.policy.empty()) cfg->policy_dir = FromCwd(a.policy);
  if (!a.default_domain.empty()) cfg->default_domain = a.default_domain;
  if (!a.audit_log.empty()) cfg->audit_log = FromCwd(a.audit_log);
  if (!a.socket.empty()) cfg->socket = FromCwd(a.socket);
  if (!a.xattr.empty()) cfg->label_xattr = a.xattr;
  if (a.timeout_s >= 0) cfg->cache_timeout = a.timeout_s;
  if (a.threads_n > 0) cfg->threads = a.threads_n;
  if (a.clone_fd >= 0) cfg->clone_fd = a.clone_fd;
  if (a.max_idle_n >= 0) cfg->max_idle_threads = a.max_idle_n;
  if (a.poll_us_n >= 0) cfg->poll_us = a.poll_us_n;
  if (a.fd_budget_n > 0) cfg->fd_budget = a.fd_budget_n;
  if (a.io_uring) cfg->io_uring = true;
  if (cfg->label_xattr.empty()) cfg->label_xattr = DefaultLabelXattr();
  return Status::Ok();
}

// Loads and compiles the policy against the tree; prints "Partially resolved path" lines.
Status LoadPolicy(const MountConfig& cfg, const TreeView& tree, PolicyHolder* holder) {
  std::vector<std::string> warnings;
  Status st = holder->Reload(cfg.policy_dir, tree, &warnings);
  fputs(FormatLoadWarnings(warnings, "sptfs").c_str(), stderr);
  if (!st.ok()) return st;
  if (!cfg.default_domain.empty() && !holder->Current()->FindDomain(cfg.default_domain)) {
    return Status::NotFound("default domain '" + cfg.default_domain +
                            "' is not defined by the policy in " + cfg.policy_dir +
                            " (expected a domain name from `spt -l`)");
  }
  return Status::Ok();
}

// Everything the mounted daemon owns, destroyed in reverse order of construction.
struct Daemon {
  MountConfig cfg;
  std::string mountpoint;
  std::vector<OpenMap> maps;
  InodeTable table;
  std::unique_ptr<MapTree> tree;
  // Before the holder and the tracker, whose hooks bump it: it outlives them.
  std::unique_ptr<SandboxEpoch> epoch;
  std::unique_ptr<PolicyHolder> holder;  // nullptr: no policy
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<DomainTracker> tracker;
  LastDenials denials;  // written by the checker's denials, read by `last-denial`
  std::unique_ptr<AccessChecker> checker;
  std::unique_ptr<SptFs> fs;
  std::unique_ptr<ServiceNotifier> notifier;  // nullptr: no service manager asked
  DaemonContext ctx;
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<StaleWatcher> stale;  // the stale-rule watch (its own thread)
};

void MakeParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  std::string dir = path.substr(0, slash);
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') mkdir(dir.substr(0, i).c_str(), 0755);
  }
}

// The inode table holds one O_PATH fd per inode the kernel knows: raise the fd limit as
// far as allowed (root: up to fs.nr_open), or 100,000 looked-up files would hit EMFILE.
// Returns the soft limit now in force.
rlim_t RaiseFdLimit() {
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  rlim_t want = 1 << 20;
  std::ifstream nr("/proc/sys/fs/nr_open");
  if (unsigned long v = 0; nr >> v) want = v;
  if (geteuid() == 0 && lim.rlim_max < want) lim.rlim_max = want;
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

// Everything up to (not including) the mount: nothing here touches the mount point.
// Supervisors keep answers while the epoch stands still (control/sandbox_epoch.h).
// Hooked here, before the mount serves: nothing else uses the holder or the tracker yet.
void ShareSandboxEpoch(Daemon* d) {
  if (Status st = SandboxEpoch::Create(&d->epoch); !st.ok()) {
    fprintf(stderr, "sptfs: warning: supervisors keep no answers: %s\n", st.message().c_str());
    return;
  }
  SandboxEpoch* epoch = d->epoch.get();
  d->holder->AddPublishHook([epoch] { epoch->Bump(); });
  d->tracker->SetChangeHook([epoch] { epoch->Bump(); });
}

Status Prepare(const Args& args, Daemon* d) {
  // Plain files get an O_PATH fd on their first use after lookup (inode_table.h); a
  // quarter of the fd limit may go to those, the rest is for open files, directories,
  // sockets and the reserve (fd_budget.h). A quarter keeps the cache alone below the mark
  // where fd_reclaim.h starts asking the kernel to drop entries.
  d->table.set_file_fd_budget(RaiseFdLimit() / 4);
  Status st = CheckMountpoint(args.mountpoint, &d->mountpoint);
  if (st.ok()) st = MakeConfig(args, &d->cfg);
  if (st.ok()) st = OpenMaps(d->cfg.maps, &d->maps);
  if (!st.ok()) return st;
  d->tree = std::make_unique<MapTree>(TreeMaps(d->maps));
  for (const std::string& w : SetuidWarnings(d->maps))
    fprintf(stderr, "sptfs: warning: %s\n", w.c_str());
  for (const std::string& w : LinkWarnings(d->maps))
    fprintf(stderr, "sptfs: warning: %s\n", w.c_str());
  st = BuildTree(d->maps, &d->table);
  if (!st.ok()) return st;
  if (d->cfg.socket.empty()) d->cfg.socket = SocketForMount(d->mountpoint);
  if (d->cfg.audit_log.empty() && !args.foreground) {
    d->cfg.audit_log = DefaultAuditLog(d->cfg.socket);
    MakeParentDir(d->cfg.audit_log);
  }
  SweepRunDir();
  if (!d->cfg.policy_dir.empty()) {
    d->holder = std::make_unique<PolicyHolder>();
    st = LoadPolicy(d->cfg, *d->tree, d->holder.get());
    if (!st.ok()) return st;
    MakeParentDir(d->cfg.socket);
    st = DomainTracker::Open(d->cfg.socket + ".state", &d->tracker);
    if (!st.ok()) return st;
    ShareSandboxEpoch(d);
  }
  st = AuditLog::Open(d->cfg.audit_log, d->cfg.audit_rate, &d->audit);
  if (!st.ok()) return st;
  d->checker =
      std::make_unique<AccessChecker>(d->holder.get(), d->tracker.get(), d->audit.get(),
                                      d->cfg.default_domain, d->cfg.label_xattr, d->tree.get());
  d->checker->set_last_denials(&d->denials);
  d->fs = std::make_unique<SptFs>(
      &d->table, d->checker.get(),
      FsOptions{d->cfg.cache_timeout, d->cfg.writeback, d->cfg.socket, d->cfg.fd_budget});
  return Status::Ok();
}

std::vector<std::string> FuseArgv(const Args& args) {
  std::string opts = "default_permissions,fsname=sptfs,subtype=sptfs";
  if (geteuid() == 0) opts += ",allow_other";
  std::vector<std::string> argv = {"sptfs", "-o", opts};
  for (const std::string& o : args.fuse_opts) {
    argv.push_back("-o");
    argv.push_back(o);
  }
  return argv;
}

fuse_session* NewSession(const Args& args, Daemon* d) {
  std::vector<std::string> strs = FuseArgv(args);
  std::vector<char*> argv;
  for (std::string& s : strs) argv.push_back(s.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse_session* se =
      fuse_session_new(&fargs, &SptFs::Ops(), sizeof(fuse_lowlevel_ops), d->fs.get());
  fuse_opt_free_args(&fargs);
  return se;
}

Status StartControl(Daemon* d) {
  if (!d->holder) return Status::Ok();  // nothing to control without a policy
  d->ctx.policy = d->holder.get();
  d->ctx.tracker = d->tracker.get();
  d->ctx.audit = d->audit.get();
  d->ctx.denials = &d->denials;
  d->ctx.tree = d->tree.get();
  d->ctx.mountpoint = d->mountpoint;
  d->ctx.label_xattr = d->cfg.label_xattr;
  d->ctx.epoch = d->epoch.get();
  if (Status st = StaleWatcher::Start(&d->ctx, &d->stale); !st.ok()) {
    fprintf(stderr, "sptfs: warning: stale-rule watch off: %s\n", st.message().c_str());
  }
  d->ctx.notifier = d->notifier.get();
  return ControlServer::Start(d->cfg.socket, &d->ctx, &d->control);
}

int DefaultThreads() {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 2 ? 2 : static_cast<int>(cpus);
}

// The FUSE request loop. `cfg.threads` is libfuse's max_threads: workers start one at a
// time, when a request arrives and none is idle, up to that many; 1 is libfuse's
// single-threaded loop, where clone_fd and max_idle_threads mean nothing. Defaults from
// docs/PERFORMANCE.md, "Worker threads (issue 17 item 3)": one worker per CPU, at least
// 2 (one worker is fast only while the scheduler keeps it on its client's CPU), and a
// /dev/fuse clone per worker (never clearly slower; create+stat+unlink 1.2-2.8x faster
// with one client in three of four comparisons, level in the quietest).
int Serve(fuse_session* se, const MountConfig& cfg) {
  int threads = cfg.threads > 0 ? cfg.threads : DefaultThreads();
  // With an idle limit the worker that has just answered may end instead of reading
  // again, and the next request would wait for the take-over timer: no polling then.
  bool idle_limit = threads > 1 && cfg.max_idle_threads >= 0;
  // With io_uring /dev/fuse carries only forgets and interrupts: nothing to poll for.
  bool no_poll = idle_limit || UringWanted();
  SetReaderPollMicros(no_poll ? 0 : cfg.poll_us >= 0 ? cfg.poll_us : DefaultReaderPollMicros());
  if (threads == 1) return fuse_session_loop(se);
  fuse_loop_config* loop = fuse_loop_cfg_create();
  fuse_loop_cfg_set_clone_fd(loop, cfg.clone_fd != 0 ? 1 : 0);  // -1 (not given): on
  fuse_loop_cfg_set_max_threads(loop, static_cast<unsigned>(threads));
  // libfuse's own default (UINT_MAX) keeps every idle worker; a limit ends the surplus.
  if (cfg.max_idle_threads >= 0) {
    fuse_loop_cfg_set_idle_threads(loop, static_cast<unsigned>(cfg.max_idle_threads));
  }
  int rc = fuse_session_loop_mt(se, loop);
  fuse_loop_cfg_destroy(loop);
  return rc;
}

void Detach() {
  setsid();
  if (chdir("/") != 0) return;
  int null = open("/dev/null", O_RDWR);
  if (null < 0) return;
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  if (null > 2) close(null);
}

// The daemon proper. `ready_fd` (-1 in the foreground) gets one byte once the mount is live.
int Run(const Args& args, int ready_fd) {
  Daemon d;
  d.notifier = ServiceNotifier::FromEnvironment();
  Status st = Prepare(args, &d);
  if (!st.ok()) {
    fprintf(stderr, "sptfs: %s\n", st.message().c_str());
    return 1;
  }
  if (d.cfg.io_uring) {
    std::string why;
    if (UringUsable(&why)) {
      SetUringWanted(true);
    } else {
      fprintf(stderr, "sptfs: warning: --io-uring: %s; serving through /dev/fuse\n", why.c_str());
    }
  }
  fuse_session* se = NewSession(args, &d);
  if (!se) return 1;  // libfuse printed why
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, d.mountpoint.c_str()) != 0) {
    fuse_session_destroy(se);
    return 1;
  }
  if (!UseFuseIo(se)) {  // the mount works, the kernel then handles set-id bits itself
    fprintf(stderr, "sptfs: warning: no custom FUSE I/O: HANDLE_KILLPRIV not offered\n");
  }
  // The mount's device as the kernel shows it, for exec transitions (what an exec'ed
  // program is). DONT_SYNC: no request to ourselves, which do not run yet.
  struct statx sx;
  if (d.checker && statx(AT_FDCWD, d.mountpoint.c_str(), AT_STATX_DONT_SYNC, 0, &sx) == 0) {
    d.checker->set_mount_dev(makedev(sx.stx_dev_major, sx.stx_dev_minor));
  }
  st = StartControl(&d);
  if (!st.ok()) {
    fprintf(stderr, "sptfs: control socket %s: %s\n", d.cfg.socket.c_str(), st.message().c_str());
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    return 1;
  }
  if (d.audit) d.audit->Event("SPT_MOUNT", "mountpoint=\"" + d.mountpoint + "\"");
  if (ready_fd >= 0) {
    Detach();
    if (write(ready_fd, "", 1) != 1) return 1;
    close(ready_fd);
  }
  std::unique_ptr<EventWatch> events;
  if (d.tracker) events = std::make_unique<EventWatch>(d.tracker.get(), d.audit.get());
  auto reclaimer = std::make_unique<FdReclaimer>(se, &d.table);
  d.fs->set_reclaimer(reclaimer.get());
  if (d.notifier) d.notifier->Ready();
  int rc = Serve(se, d.cfg);
  if (d.notifier) d.notifier->Stopping();
  d.fs->set_reclaimer(nullptr);
  reclaimer.reset();
  events.reset();
  if (d.control) d.control->Stop();
  d.stale.reset();
  fuse_session_unmount(se);
  StopUring();  // after the mount is gone: its requests came to the ring until then
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  if (d.audit) d.audit->Flush();
  // Placements must survive a restart while confined processes run; with none left the
  // state file is litter (run_dir.h). The tracker writes its newest state first, and
  // nothing after (its saver thread would otherwise write behind the check).
  if (d.tracker) {
    d.tracker->Shutdown();
    RemoveStateIfIdle(d.cfg.socket + ".state");
  }
  return rc < 0 || UringFailed() ? 1 : 0;
}

// Parent side of daemon mode: waits until the child is serving or has failed.
int Daemonize(const Args& args) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    perror("sptfs: pipe");
    return 1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("sptfs: fork");
    return 1;
  }
  if (pid == 0) {
    close(pipefd[0]);
    _exit(Run(args, pipefd[1]));
  }
  close(pipefd[1]);
  char byte;
  ssize_t n;
  do n = read(pipefd[0], &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n == 1) return 0;  // mounted and serving
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
}

}  // namespace
}  // namespace sptfs

int main(int argc, char** argv) {
  sptfs::Args args;
  std::string err;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--version")) {
      puts("sptfs " SPTFS_VERSION);
      return 0;
    }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(sptfs::kUsage, stdout);
      return 0;
    }
  }
  if (!sptfs::ParseArgs(argc, argv, &args, &err)) {
    fprintf(stderr, "sptfs: %s\nTry 'sptfs -h' for help.\n", err.c_str());
    return 2;
  }
  return args.foreground ? sptfs::Run(args, -1) : sptfs::Daemonize(args);
}
