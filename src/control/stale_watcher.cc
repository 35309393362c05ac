#include "control/stale_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <thread>

#include "audit/audit_log.h"
#include "policy/stale.h"

namespace sptfs {

Status ReloadPolicyNow(DaemonContext* ctx, const std::string& dir,
                       std::vector<std::string>* warnings) {
  if (!ctx->tree) return Status::Invalid("this daemon has no tree to compile the policy against");
  auto old = ctx->policy->Current();
  std::map<DomainId, int> counts =
      ctx->tracker ? ctx->tracker->WorldCounts() : std::map<DomainId, int>{};
  for (const CompiledDomain& d : old->domains()) {
    if (d.runtime && counts[d.id] > 0) {
      return Status::Invalid("runtime domain " + d.name + " has " + std::to_string(counts[d.id]) +
                             " live process(es); a load would drop it (expected it empty: stop "
                             "them, then spt -C " +
                             d.name + ")");
    }
  }
  return ctx->policy->Reload(dir.empty() ? old->source_dir() : dir, *ctx->tree, warnings);
}

namespace {

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

class InotifyStaleWatcher : public StaleWatcher {
 public:
  InotifyStaleWatcher(DaemonContext* ctx, int inotify_fd, int wake_fd)
      : ctx_(ctx), inotify_(inotify_fd), wake_(wake_fd) {}

  ~InotifyStaleWatcher() override {
    stop_ = true;
    Wake();
    if (thread_.joinable()) thread_.join();
    ctx_->policy->RemovePublishHook(hook_);
    close(inotify_);
    close(wake_);
  }

  // The first watch is set here, before Start returns (and so before the control socket
  // takes requests): a link moved after the daemon is up is never missed.
  void Start() {
    hook_ = ctx_->policy->AddPublishHook([this] { Wake(); });
    Follow();
    thread_ = std::thread([this] { Loop(); });
  }

 private:
  void Wake() {
    uint64_t one = 1;
    (void)!write(wake_, &one, sizeof(one));
  }

  void Loop() {
    while (!stop_) {
      pollfd fds[2] = {{inotify_, POLLIN, 0}, {wake_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;  // EINTR
      if (fds[1].revents & POLLIN) {
        uint64_t n;
        (void)!read(wake_, &n, sizeof(n));
        if (stop_) break;
        Follow();
      }
      if ((fds[0].revents & POLLIN) && ReadEvents()) Check();
    }
  }

  // A new snapshot: follow it (a reload moves the compiled paths) and re-aim the watch.
  void Follow() {
    auto policy = ctx_->policy->Current();
    if (policy.get() == tracker_.policy()) return;
    tracker_.Reset(policy);
    Check();  // also catches a link that moved between the compile and the watch
  }

  // Drains the inotify queue; true if a watched link (or a watched directory) changed.
  bool ReadEvents() {
    alignas(inotify_event) char buf[16384];
    bool relevant = false;
    for (;;) {
      ssize_t n = read(inotify_, buf, sizeof(buf));
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) {
          relevant = true;
          continue;
        }
        auto it = dirs_by_wd_.find(ev->wd);
        if (it == dirs_by_wd_.end()) continue;
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
          // The directory itself went: watch its path again (Rewatch) and recheck.
          if (!(ev->mask & IN_IGNORED)) inotify_rm_watch(inotify_, ev->wd);
          wds_.erase(it->second);
          dirs_by_wd_.erase(it);
          relevant = true;
          continue;
        }
        if (ev->len == 0) continue;
        std::string dir = it->second;
        std::string link = (dir == "/" ? "" : dir) + "/" + ev->name;
        if (links_.count(link)) relevant = true;
      }
    }
    return relevant;
  }

  // Recheck the rules, say what moved, re-aim the watch, reload if the policy says so.
  void Check() {
    std::vector<StaleChange> changes = tracker_.Recheck(*ctx_->tree);
    Rewatch();
    if (changes.empty()) return;
    const CompiledPolicy& policy = *tracker_.policy();
    bool reload = policy.on_stale() == OnStale::kReload;
    for (const StaleChange& c : changes) {
      if (!ctx_->audit) break;
      // Under the access records' rate limit: whoever may write a rule link's directory
      // moves it as often as it likes, to targets of its choosing (escape test
      // test_audit_flood_by_flipping_a_rule_link: unlimited, one record per move).
      ctx_->audit->LimitedEvent(
          "SPT_STALE_RULE",
          "rule=" + AuditText(c.rule) + " where=" + AuditText(Join(c.where, ",")) +
              " compiled=" + AuditText(c.compiled) + " now=" + AuditText(c.now) + " domains=" +
              AuditText(Join(c.domains, ",")) + " action=" + (reload ? "reload" : "warn") +
              " fix=" + AuditText("spt -p") + " generation=" + std::to_string(policy.generation()));
    }
    if (reload) Reload(policy);
  }

  void Reload(const CompiledPolicy& stale) {
    std::vector<std::string> warnings;
    Status s = ReloadPolicyNow(ctx_, "", &warnings);
    if (!ctx_->audit) return;
    auto now = ctx_->policy->Current();
    std::string result = s.ok() ? "result=ok partial=" + std::to_string(warnings.size())
                                : "result=failed error=" + AuditText(s.message());
    ctx_->audit->Event("SPT_POLICY_LOAD", "dir=" + AuditValue(stale.source_dir()) + " " + result +
                                              " generation=" + std::to_string(now->generation()) +
                                              " cause=stale_rule");
  }

  // Watch exactly the directories the tracker needs now.
  void Rewatch() {
    links_ = tracker_.WatchedLinks();
    std::set<std::string> want = tracker_.WatchDirectories();
    for (auto it = wds_.begin(); it != wds_.end();) {
      if (want.count(it->first)) {
        ++it;
        continue;
      }
      inotify_rm_watch(inotify_, it->second);
      dirs_by_wd_.erase(it->second);
      it = wds_.erase(it);
    }
    for (const std::string& dir : want) {
      if (wds_.count(dir)) continue;
      std::string host = ctx_->tree->WatchPath(dir);
      if (host.empty()) continue;
      int wd = inotify_add_watch(inotify_, host.c_str(),
                                 IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
      if (wd < 0) continue;  // gone now; a change of its parent's links brings it back
      wds_[dir] = wd;
      dirs_by_wd_[wd] = dir;
    }
  }

  DaemonContext* ctx_;
  int inotify_, wake_;
  int hook_ = -1;  // our publish hook in the policy holder
  std::atomic<bool> stop_{false};
  std::thread thread_;
  StaleTracker tracker_;            // the watcher thread's only
  std::map<std::string, int> wds_;  // tree directory -> watch
  std::map<int, std::string> dirs_by_wd_;
  std::set<std::string> links_;
};

}  // namespace

Status StaleWatcher::Start(DaemonContext* ctx, std::unique_ptr<StaleWatcher>* out) {
  if (!ctx->policy || !ctx->tree) return Status::Invalid("stale watch: no policy or no tree");
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0) return Status::Io(errno, "inotify_init1");
  int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    close(in);
    return Status::Io(errno, "eventfd");
  }
  auto watcher = std::make_unique<InotifyStaleWatcher>(ctx, in, wake);
  watcher->Start();
  *out = std::move(watcher);
  return Status::Ok();
}

}  // namespace sptfs
