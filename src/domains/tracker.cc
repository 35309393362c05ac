// DomainTracker over /proc and PID namespaces. How a caller's domain is found, in order:
//   1. a record on the process itself or on the nearest ancestor (ppid chain) that has
//      one: an exec transition, a Place() of a plain process, or a world's first process;
//   2. else the innermost PID namespace (NS_GET_PARENT chain) that is a placed world;
//   3. else the default domain (placed = false).
// Step 2 is what makes a world inescapable: no process can leave its PID namespace, and
// namespaces it makes itself are children of it. Step 1 is per process, keyed by
// (pid, start time), so a reused pid matches nothing.
//
// Exec transitions are pending until the exec is done: they begin during the exec-open,
// and an exec can still fail after it. ExecTransition (the mount's) holds the thread in
// the exec gate and settles or refuses at the end of that very exec attempt, with the
// process stopped (FinishExec). Transition (tests, tools) takes effect when
// /proc/<pid>/exe has changed; it is checked whenever the process is identified.
//
// Process events (proc_events.h), when the kernel offers them, make inheritance exact:
// a fork copies the parent's record to the child at once (so an orphan never seen
// before keeps its domain), and a process's records end when its last thread's exit
// event comes (threads counted from the events, see OnEventLocked) or when the fork
// event of the next process with its pid does. Without them (or after lost events) the
// ppid chain decides, as above.
//
// Who reads the events: a thread of the tracker (DrainLoop) waits on the socket and
// reads them as they come, in batches of kDrainBatch under the lock, so a fork storm is
// read there and not by requests. Every answer still reads the queue first (DrainLocked,
// non-blocking), up to the first event made after the answer began. Why an answer never
// misses an event that happened before its request: the kernel queues fork, exec and
// exit events synchronously, in the task that forks, execs or exits, before that task
// (or the new child) runs on, so every event the asking thread's past caused is queued
// before its request reaches us. Events are taken off the queue only under the lock, and
// handled in the same critical section, so at the moment a request holds the lock each
// such event is either handled already or still queued; and the queue is in queueing
// order, each event made before it was queued, so one made after the answer began was
// queued after all of those (ProcEvents::Drain). Usually the drainer has emptied the
// queue, and the answer's read is one empty recv().
//
// Saving: changes ask the StateSaver (state_saver.h) for a write; its thread takes a
// snapshot under the lock and writes the file with no lock held, so no request (and no
// exec held by the gate) waits for file I/O. Place() waits for the write (the caller
// is told the placement will survive a restart); transitions and inherited records do
// not. The destructor and Shutdown() write the newest state before they return.
//
// Speed: Identify answers from a cache keyed by thread id. With process events, an entry
// stays valid until an event names its thread id (a fork or thread creation that reuses
// it, an exit, an exec, a change of name or ids): the kernel queues the fork event of a
// reused id before the new task runs, and every answer drains the queue first, so a
// cache hit costs one empty recv() and no /proc read. (An overflowed queue empties the
// cache; an entry whose thread id was named by an event while it was being read is not
// kept.) Without events, each request reads /proc/<tid>/stat and the cache is keyed by
// (tid, start time). Everything else is read only when the cache misses or after a
// Place/Transition (generation_ changes).
#include "domains/tracker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "domains/exec_gate.h"
#include "domains/proc_events.h"
#include "domains/proc_reader.h"
#include "domains/secure_env.h"
#include "domains/state_file.h"
#include "domains/state_saver.h"

namespace sptfs {
namespace {

struct ProcKey {
  pid_t pid = 0;
  uint64_t start = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive (llvm issue 53961)
  auto operator<=>(const ProcKey&) const = default;
};

// How deep the tracker walks ppid chains and child trees; far beyond real trees, and a
// bound on work for a caller that builds a deep one on purpose.
constexpr int kMaxAncestors = 512;
constexpr size_t kMaxDescendants = 8192;
constexpr size_t kMaxCache = 8192;
// Buckets (by thread id) of the event counter at the last event that named an id in it.
constexpr size_t kEndBuckets = 4096;
// Events the drainer thread handles per hold of the lock: a request waits for at most
// one batch (a fork of a recorded process reads /proc: a few microseconds each).
constexpr size_t kDrainBatch = 64;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the clock of the events' time stamps
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct Resolution {
  bool placed = false;
  DomainId domain = 0;
  bool via_record = false;  // found on an ancestor's record (step 1), not the world
};

struct PendingExec {
  DomainId domain = 0;
  bool gated = false;                 // ExecTransition: settled by the exec gate only
  uint64_t old_dev = 0, old_ino = 0;  // the program before the exec
  DomainId before = 0;                // where it was: children forked meanwhile stay there
  bool before_placed = false;
};

class ProcTracker final : public DomainTracker {
 public:
  ProcTracker(std::string state_file, std::string boot_id, StateWriter write);
  ~ProcTracker() override { ProcTracker::Shutdown(); }  // final: no override to miss

  Status Load();
  CallerInfo Identify(pid_t tid, DomainId default_domain) override;
  Status Place(pid_t pid, DomainId domain) override;
  // Place() under the lock: a world if `pidns` (the namespace `key` leads) is not 0.
  void PlaceLocked(ProcKey key, DomainId domain, uint64_t pidns);
  Status Transition(pid_t tid, DomainId domain) override;
  Status ExecTransition(pid_t tid, DomainId domain, const ExecTarget& target,
                        ExecReport report) override;
  std::map<DomainId, int> WorldCounts() override;
  std::vector<ConfinedProcess> List() override;
  uint64_t EventsLost() const override { return events_ ? events_->lost() : 0; }
  void Shutdown() override;

 private:
  struct CacheEntry {
    ProcKey process;
    uint64_t start = 0;
    uint64_t generation = 0;
    CallerInfo info;
  };

  // Ancestors of a process, itself first, with start times (read outside the lock).
  std::vector<ProcKey> Ancestry(ProcKey self, pid_t ppid) const;
  Resolution ResolveLocked(const std::vector<ProcKey>& ancestry,
                           const std::vector<uint64_t>& namespaces);
  void SettleLocked(ProcKey key, bool exec_seen = false);
  // Handles queued events: by default (a request) those queued before now.
  void DrainLocked(uint64_t until_ns = MonotonicNs(), size_t max = SIZE_MAX);
  void DrainLoop();  // the drainer thread
  void OnEventLocked(const ProcEvent& e);
  // Drops every record of pid `pid` (its process ended).
  void EndLocked(pid_t pid);
  // Children of the process (all threads), with start times, for pinning at an exec.
  std::vector<ProcKey> Descendants(pid_t pid) const;
  // Records the pending exec transition of the caller of thread `tid`.
  void BeginExecLocked(const CallerInfo& before, ProcKey self, PendingExec pending,
                       const std::vector<ProcKey>& pinned);
  // The exec gate's verdict on a held exec: "" to settle, else why it is refused.
  std::string JudgeExec(const ExecTarget& target, const ExecStop& stop) const;
  void FinishExec(ProcKey self, const ExecTarget& target, const ExecStop& stop,
                  const ExecReport& report);
  // Drops what the cache holds of the thread `e` names.
  void ForgetThreadLocked(const ProcEvent& e);
  // With events: the cached answer for `tid`, if still valid (drains the queue first).
  bool CachedLocked(pid_t tid, DomainId default_domain, CallerInfo* out);
  // The slow path: reads /proc and resolves the ancestry.
  CallerInfo IdentifyFromProc(pid_t tid, DomainId default_domain);
  // The live record (or pending transition) of pid `pid`, whatever its start time.
  std::map<ProcKey, ProcRecord>::iterator RecordOfPid(pid_t pid);
  bool Alive(ProcKey key) const;
  void PruneLocked();
  // Asks the saver for a write of the state as it is now; a ticket for WaitSaved().
  uint64_t SaveLocked(bool soon = false);
  // For records made on the way (inheritance): the write may wait StateSaver::kSoon, so
  // a fork storm does not turn into a storm of state file writes.
  void SaveSoonLocked() { SaveLocked(true); }
  Status WaitSaved(uint64_t ticket);
  TrackerState SnapshotLocked() const;
  void RememberWorldLocked(const WorldRecord& world);
  // A process's domain changed: cached answers (ours and the supervisors') are stale.
  void ChangedLocked() {
    ++generation_;
    if (change_hook_) change_hook_();
  }
  void SetChangeHook(std::function<void()> hook) override {
    std::lock_guard lock(mu_);  // the drainer thread may be settling a transition
    change_hook_ = std::move(hook);
  }
  // The serial of the innermost placed world among `namespaces` (innermost first), or 0.
  uint64_t WorldOfLocked(const std::vector<uint64_t>& namespaces);
  // The world of PID namespace `ns` while its leader lives, else nullptr (and it is
  // forgotten): the kernel gives a freed namespace's inode number to the next one made.
  const WorldRecord* LiveWorldLocked(uint64_t ns);

  const std::string state_file_;
  const std::string boot_id_;
  ProcReader reader_;
  std::unique_ptr<ProcEvents> events_;  // nullptr: the kernel does not send them
  std::unique_ptr<ExecGate> gate_;      // made at the first exec transition
  std::once_flag gate_once_;
  std::unique_ptr<StateSaver> saver_;  // nullptr: no state file
  int stop_fd_ = -1;                   // an eventfd: the drainer thread stops
  std::thread drainer_;
  std::mutex mu_;
  std::map<ProcKey, ProcRecord> procs_;
  std::map<uint64_t, WorldRecord> worlds_;      // by PID-namespace inode
  std::map<uint64_t, uint64_t> world_serials_;  // PID-namespace inode -> serial (CallerInfo)
  uint64_t next_world_serial_ = 1;
  std::map<ProcKey, uint64_t> leaders_;     // world leader -> its namespace inode
  std::map<ProcKey, PendingExec> pending_;  // exec transitions not done yet
  // What process events say each descendant of a recorded process inherited at its
  // fork, by pid, until its exit event: also for processes gone before we could read
  // their start time (the middle of a double fork).
  std::unordered_map<pid_t, std::pair<DomainId, bool>> lineage_;
  // Live threads of the processes whose every thread start and end the events showed
  // (those forked from a recorded process, and placed ones), by pid.
  std::unordered_map<pid_t, int> live_;
  std::unordered_map<pid_t, CacheEntry> cache_;
  uint64_t events_seen_ = 0;  // events drained so far (each names a thread id)
  std::array<uint64_t, kEndBuckets> ended_at_{};
  uint64_t lost_seen_ = 0;  // events_->lost() when the cache was last emptied for it
  uint64_t generation_ = 1;
  std::function<void()> change_hook_;
  size_t prune_at_ = 1024;
};

ProcTracker::ProcTracker(std::string state_file, std::string boot_id, StateWriter write)
    : state_file_(std::move(state_file)),
      boot_id_(std::move(boot_id)),
      events_(ProcEvents::Open()) {
  if (!state_file_.empty()) {
    if (!write) {
      write = [this](const TrackerState& state) {
        return SaveTrackerState(state_file_, boot_id_, state);
      };
    }
    saver_ = std::make_unique<StateSaver>(
        [this] {
          std::lock_guard lock(mu_);
          return SnapshotLocked();
        },
        std::move(write));
  }
  if (events_) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    // Without the thread (no eventfd) requests still read every event themselves.
    if (stop_fd_ >= 0) drainer_ = std::thread([this] { DrainLoop(); });
  }
}

// The gate first (its deciders call FinishExec), then the drainer (it asks for saves),
// then the saver, which writes what is still wanted. Requests still read the events.
void ProcTracker::Shutdown() {
  gate_.reset();
  if (drainer_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);  // cannot fail: +1
    drainer_.join();
  }
  {
    std::lock_guard lock(mu_);
    DrainLocked();  // what happened before the shutdown is in the last write
  }
  if (saver_) saver_->Stop();  // kept: later Want()s are not written, waits fail
  if (stop_fd_ >= 0) close(stop_fd_);
  stop_fd_ = -1;
}

// A zombie leader whose other threads still run counts as alive (its pid is freed only
// after the last of them; /proc then still counts them in Threads).
bool ProcTracker::Alive(ProcKey key) const {
  ProcStat st;
  ProcStatus status;
  if (!reader_.ReadStat(key.pid, &st) || st.start_time != key.start) return false;
  return st.state != 'Z' || (reader_.ReadStatus(key.pid, &status) && status.threads > 1);
}

std::vector<ProcKey> ProcTracker::Ancestry(ProcKey self, pid_t ppid) const {
  std::vector<ProcKey> out{self};
  ProcStat st;
  while (ppid > 0 && out.size() < kMaxAncestors && reader_.ReadStat(ppid, &st)) {
    out.push_back({ppid, st.start_time});
    ppid = st.ppid;
  }
  return out;
}

std::map<ProcKey, ProcRecord>::iterator ProcTracker::RecordOfPid(pid_t pid) {
  auto it = procs_.upper_bound({pid, UINT64_MAX});
  if (it == procs_.begin()) return procs_.end();
  --it;  // the newest start time of `pid`: exits are seen before a reuse
  return it->first.pid == pid ? it : procs_.end();
}

void ProcTracker::EndLocked(pid_t pid) {
  lineage_.erase(pid);
  live_.erase(pid);
  procs_.erase(procs_.lower_bound({pid, 0}), procs_.upper_bound({pid, UINT64_MAX}));
  for (auto it = pending_.lower_bound({pid, 0}); it != pending_.end() && it->first.pid == pid;) {
    it = it->second.gated ? std::next(it) : pending_.erase(it);  // the gate ends its own
  }
}

// Exits are read from the events' own fields, in the order the kernel sent them; /proc
// is never asked afterwards whether the process still runs (it may run a new program
// under the same pid, or be a zombie leader with live threads). A process whose thread
// count the tracker knows (live_) ends with the exit of its last thread; the records of
// one whose count it does not know stay until the fork event of the next process with
// that pid, which proves the pid was free, or until PruneLocked.
void ProcTracker::OnEventLocked(const ProcEvent& e) {
  switch (e.kind) {
    case ProcEvent::Kind::kThread:
      if (auto it = live_.find(e.pid); it != live_.end()) ++it->second;
      return;
    case ProcEvent::Kind::kExit:
    case ProcEvent::Kind::kThreadExit:
      if (auto it = live_.find(e.pid); it != live_.end() && --it->second <= 0) EndLocked(e.pid);
      return;
    case ProcEvent::Kind::kExec: {
      // Every other thread has ended (their exits came first), and the one that exec'ed
      // now has the process id: one thread, whichever it was.
      if (auto it = live_.find(e.pid); it != live_.end()) it->second = 1;
      auto it = pending_.lower_bound({e.pid, 0});
      if (it != pending_.end() && it->first.pid == e.pid) SettleLocked(it->first, true);
      return;
    }
    case ProcEvent::Kind::kChanged:
      return;
    case ProcEvent::Kind::kFork:
      break;
  }
  // A fork: the pid was free, so whatever is recorded under it is of an ended process.
  EndLocked(e.pid);
  // The child gets what its parent has (the old domain if the parent is in the middle
  // of a transitioning exec).
  std::pair<DomainId, bool> inherited;
  auto pending = pending_.lower_bound({e.parent_tgid, 0});
  if (pending != pending_.end() && pending->first.pid == e.parent_tgid) {
    inherited = {pending->second.before, pending->second.before_placed};
  } else if (auto line = lineage_.find(e.parent_tgid); line != lineage_.end()) {
    inherited = line->second;
  } else if (auto rec = RecordOfPid(e.parent_tgid); rec != procs_.end()) {
    inherited = {rec->second.domain, rec->second.kind != ProcKind::kDefault};
  } else {
    return;  // a world or nothing: the namespace or the ppid chain decides
  }
  lineage_[e.pid] = inherited;
  live_[e.pid] = 1;  // a new process has one thread; every later one is an event
  ProcStat st;
  if (!reader_.ReadStat(e.pid, &st)) return;  // gone already: lineage_ is enough
  ProcKey child{e.pid, st.start_time};
  if (procs_.count(child) || leaders_.count(child)) return;
  procs_[child] = {child.pid, child.start, inherited.first,
                   inherited.second ? ProcKind::kInherited : ProcKind::kDefault};
}

void ProcTracker::ForgetThreadLocked(const ProcEvent& e) {
  ++events_seen_;
  ended_at_[static_cast<size_t>(e.tid) % kEndBuckets] = events_seen_;
  cache_.erase(e.tid);
}

void ProcTracker::DrainLocked(uint64_t until_ns, size_t max) {
  if (!events_) return;
  bool changed = false;
  events_->Drain(
      [&](const ProcEvent& e) {
        ForgetThreadLocked(e);
        if (e.kind == ProcEvent::Kind::kChanged) return;
        if (!procs_.empty() || !pending_.empty() || !lineage_.empty()) {
          size_t before = procs_.size();
          OnEventLocked(e);
          changed |= procs_.size() != before;
        }
      },
      until_ns, max);
  if (events_->lost() != lost_seen_) {  // some ends may be missing: trust nothing cached
    lost_seen_ = events_->lost();
    cache_.clear();
    live_.clear();  // thread counts may be wrong: records end by pid reuse or pruning
    PruneLocked();
    ++events_seen_;
    ended_at_.fill(events_seen_);
  }
  if (changed) {
    if (procs_.size() >= prune_at_) PruneLocked();
    SaveSoonLocked();
  }
}

// Reads and handles events as they come; a request finds the queue empty, or holds the
// lock between two batches and reads the rest of what came before it itself.
void ProcTracker::DrainLoop() {
  while (events_->Wait(stop_fd_)) {
    std::lock_guard lock(mu_);
    DrainLocked(0, kDrainBatch);
  }
}

void ProcTracker::SettleLocked(ProcKey key, bool exec_seen) {
  auto it = pending_.find(key);
  if (it == pending_.end() || it->second.gated) return;  // the gate decides those
  uint64_t dev = 0, ino = 0;
  if (!reader_.ExeIdentity(key.pid, &dev, &ino)) return;
  bool unchanged = dev == it->second.old_dev && ino == it->second.old_ino;
  if (unchanged && !exec_seen) return;  // not done, or failed
  PendingExec done = it->second;
  pending_.erase(it);
  procs_[key] = {key.pid, key.start, done.domain, ProcKind::kTransition};
  if (events_) lineage_[key.pid] = {done.domain, true};
  ChangedLocked();
  SaveLocked();
}

Resolution ProcTracker::ResolveLocked(const std::vector<ProcKey>& ancestry,
                                      const std::vector<uint64_t>& namespaces) {
  for (size_t i = 0; i < ancestry.size(); ++i) {
    if (!pending_.empty()) SettleLocked(ancestry[i]);
    if (auto it = procs_.find(ancestry[i]); it != procs_.end()) {
      bool placed = it->second.kind != ProcKind::kDefault;
      return {placed, placed ? it->second.domain : 0, i > 0};
    }
    if (auto it = leaders_.find(ancestry[i]); it != leaders_.end()) {
      return {true, worlds_.at(it->second).domain, false};
    }
  }
  for (uint64_t ns : namespaces) {
    if (const WorldRecord* w = LiveWorldLocked(ns)) return {true, w->domain, false};
  }
  return {};
}

// The leader is the namespace's first process: when it is no longer alive (a zombie
// without threads), every other process of the namespace has ended (the kernel kills
// and waits for them first), so nothing of the world can ask any more, and a process in
// a new namespace of the same number is in no world (escape test
// test_last_denial_of_an_ended_world_through_its_reused_namespace).
const WorldRecord* ProcTracker::LiveWorldLocked(uint64_t ns) {
  auto it = worlds_.find(ns);
  if (it == worlds_.end()) return nullptr;
  ProcKey leader{it->second.leader, it->second.leader_start};
  if (Alive(leader)) return &it->second;
  leaders_.erase(leader);
  world_serials_.erase(ns);
  worlds_.erase(it);
  SaveSoonLocked();
  return nullptr;
}

bool ProcTracker::CachedLocked(pid_t tid, DomainId default_domain, CallerInfo* out) {
  DrainLocked();
  if (!pending_.empty()) return false;  // the slow path settles transitions
  auto it = cache_.find(tid);
  if (it == cache_.end() || it->second.generation != generation_) return false;
  *out = it->second.info;
  if (!out->placed) out->domain = default_domain;
  return true;
}

CallerInfo ProcTracker::Identify(pid_t tid, DomainId default_domain) {
  if (events_ && tid > 0) {
    std::lock_guard lock(mu_);
    CallerInfo cached;
    if (CachedLocked(tid, default_domain, &cached)) return cached;
  }
  return IdentifyFromProc(tid, default_domain);
}

CallerInfo ProcTracker::IdentifyFromProc(pid_t tid, DomainId default_domain) {
  CallerInfo info;
  info.tid = tid;
  // Events still queued now are drained before the answer is kept and count as later,
  // so the snapshot needs no drain of its own.
  uint64_t events_before = 0;
  if (events_) {
    std::lock_guard lock(mu_);
    events_before = events_seen_;
  }
  ProcStat st;
  if (tid <= 0 || !reader_.ReadStat(tid, &st)) return info;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(tid);
    if (it != cache_.end() && it->second.start == st.start_time && !pending_.empty()) {
      ProcKey process = it->second.process;
      DrainLocked();  // forks before the exec must be seen before the exec settles
      SettleLocked(process);
      it = cache_.find(tid);  // draining may have dropped the entry
    }
    if (it != cache_.end() && it->second.start == st.start_time &&
        it->second.generation == generation_) {
      CallerInfo& cached = it->second.info;
      if (cached.comm != st.comm) {  // it exec'ed: the name and the program changed
        cached.comm = st.comm;
        cached.exe = reader_.ReadExe(cached.pid);
      }
      CallerInfo out = cached;
      if (!out.placed) out.domain = default_domain;
      return out;
    }
  }
  ProcStatus status;
  if (!reader_.ReadStatus(tid, &status)) return info;
  ProcKey self{status.tgid, st.start_time};
  pid_t ppid = st.ppid;
  if (status.tgid != tid) {  // a thread: the process is keyed by its leader
    ProcStat leader;
    if (!reader_.ReadStat(status.tgid, &leader)) return info;
    self.start = leader.start_time;
    ppid = leader.ppid;
  }
  std::vector<ProcKey> ancestry = Ancestry(self, ppid);
  std::vector<uint64_t> namespaces;
  reader_.PidNamespaceChain(tid, &namespaces);
  info.identified = true;
  info.pid = status.tgid;
  info.uid = status.uid;
  info.gid = status.gid;
  info.comm = st.comm;
  info.exe = reader_.ReadExe(status.tgid);

  std::lock_guard lock(mu_);
  DrainLocked();
  Resolution r = ResolveLocked(ancestry, namespaces);
  info.world = WorldOfLocked(namespaces);
  info.placed = r.placed;
  info.domain = r.placed ? r.domain : default_domain;
  if (r.via_record && !procs_.count(self)) {
    // Copy the inherited domain onto the process itself: if its parent dies later, it
    // is re-parented outside the chain, and this record is what keeps its domain.
    procs_[self] = {self.pid, self.start, r.domain,
                    r.placed ? ProcKind::kInherited : ProcKind::kDefault};
    if (procs_.size() >= prune_at_) PruneLocked();
    SaveSoonLocked();  // best effort: losing it only matters across a daemon restart
  }
  if (cache_.size() >= kMaxCache) cache_.clear();
  // With events, an end or change of this thread drained since the read began means
  // what was read may be of a thread that is gone: answer, but do not keep it.
  if (!events_ || ended_at_[static_cast<size_t>(tid) % kEndBuckets] <= events_before) {
    cache_[tid] = {self, st.start_time, generation_, info};
  }
  return info;
}

Status ProcTracker::Place(pid_t pid, DomainId domain) {
  ProcStat st;
  ProcStatus status;
  if (pid <= 0 || !reader_.ReadStat(pid, &st) || !reader_.ReadStatus(pid, &status)) {
    return Status::NotFound("place: no process " + std::to_string(pid));
  }
  if (status.tgid != pid) {
    return Status::Invalid("place: " + std::to_string(pid) +
                           " is a thread (expected a process id)");
  }
  ProcKey key{pid, st.start_time};
  std::vector<uint64_t> namespaces;
  bool leads_namespace = status.ns_pids.size() > 1 && status.ns_pids.back() == 1 &&
                         reader_.PidNamespaceChain(pid, &namespaces) &&
                         namespaces.front() != reader_.OwnPidNamespace();
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    PlaceLocked(key, domain, leads_namespace ? namespaces.front() : 0);
    ticket = SaveLocked();
  }
  return WaitSaved(ticket);  // with no lock held: requests go on meanwhile
}

void ProcTracker::PlaceLocked(ProcKey key, DomainId domain, uint64_t pidns) {
  pid_t pid = key.pid;
  DrainLocked();
  procs_.erase(key);
  lineage_.erase(pid);
  live_.erase(pid);
  if (pidns != 0) {
    RememberWorldLocked({pidns, pid, key.start, domain});
  } else {
    procs_[key] = {pid, key.start, domain, ProcKind::kPlaced};
    // Counted after the drain, under the lock: a thread that ended before this read has
    // its exit drained already, one that starts after it is an event still to come.
    ProcStatus now;
    if (events_ && reader_.ReadStatus(pid, &now)) {
      lineage_[pid] = {domain, true};
      live_[pid] = now.threads;
    }
  }
  ChangedLocked();
}

void ProcTracker::RememberWorldLocked(const WorldRecord& world) {
  if (auto old = worlds_.find(world.pidns); old != worlds_.end()) {
    leaders_.erase({old->second.leader, old->second.leader_start});
  }
  worlds_[world.pidns] = world;
  leaders_[{world.leader, world.leader_start}] = world.pidns;
  world_serials_[world.pidns] = next_world_serial_++;
}

uint64_t ProcTracker::WorldOfLocked(const std::vector<uint64_t>& namespaces) {
  for (uint64_t ns : namespaces) {
    if (!LiveWorldLocked(ns)) continue;
    if (auto it = world_serials_.find(ns); it != world_serials_.end()) return it->second;
  }
  return 0;
}

std::vector<ProcKey> ProcTracker::Descendants(pid_t pid) const {
  std::vector<ProcKey> out;
  std::deque<pid_t> todo{pid};
  while (!todo.empty() && out.size() < kMaxDescendants) {
    pid_t parent = todo.front();
    todo.pop_front();
    for (pid_t child : reader_.Children(parent)) {
      ProcStat cst;
      if (!reader_.ReadStat(child, &cst)) continue;
      out.push_back({child, cst.start_time});
      todo.push_back(child);
    }
  }
  return out;
}

void ProcTracker::BeginExecLocked(const CallerInfo& before, ProcKey self, PendingExec pending,
                                  const std::vector<ProcKey>& pinned) {
  DrainLocked();
  // Children forked before this exec run the old program: pin them to the old domain.
  for (const ProcKey& child : pinned) {
    if (procs_.count(child) || leaders_.count(child)) continue;  // decided on its own
    procs_[child] = {child.pid, child.start, before.domain,
                     before.placed ? ProcKind::kInherited : ProcKind::kDefault};
  }
  pending_[self] = pending;
  ChangedLocked();
  SaveLocked();  // the pinned children; the gate's thread is not held for the write
}

Status ProcTracker::Transition(pid_t tid, DomainId domain) {
  CallerInfo before = Identify(tid, 0);
  ProcStat st;
  PendingExec pending{domain, false, 0, 0, before.domain, before.placed};
  if (!before.identified || !reader_.ReadStat(before.pid, &st) ||
      !reader_.ExeIdentity(before.pid, &pending.old_dev, &pending.old_ino)) {
    return Status::NotFound("transition: no process for thread " + std::to_string(tid));
  }
  std::vector<ProcKey> pinned = Descendants(before.pid);
  std::lock_guard lock(mu_);
  BeginExecLocked(before, {before.pid, st.start_time}, pending, pinned);
  return Status::Ok();
}

Status ProcTracker::ExecTransition(pid_t tid, DomainId domain, const ExecTarget& target,
                                   ExecReport report) {
  CallerInfo before = Identify(tid, 0);
  ProcStat st;
  if (!before.identified || !reader_.ReadStat(before.pid, &st)) {
    return Status::NotFound("transition: no process for thread " + std::to_string(tid));
  }
  if (target.dev == 0 && target.interpreter.empty()) {
    return Status::Invalid("transition: the exec'ed file is not known by device and node");
  }
  ProcKey self{before.pid, st.start_time};
  std::call_once(gate_once_, [this] { gate_ = ExecGate::Open(); });
  if (!gate_) return Status::Busy("transition: the tracker has shut down");
  std::vector<ProcKey> pinned = Descendants(before.pid);
  {
    std::lock_guard lock(mu_);
    BeginExecLocked(before, self, {domain, true, 0, 0, before.domain, before.placed}, pinned);
  }
  Status held = gate_->Hold(tid, before.pid, [this, self, target, report](const ExecStop& stop) {
    FinishExec(self, target, stop, report);
  });
  if (!held.ok()) {
    std::lock_guard lock(mu_);
    pending_.erase(self);
    ChangedLocked();
  }
  return held;
}

std::string ProcTracker::JudgeExec(const ExecTarget& target, const ExecStop& stop) const {
  if (stop.gone) return "the process ended during the exec";
  if (!stop.execed) return "the exec failed";
  FileId exe;
  if (!reader_.ExeId(stop.pid, &exe)) return "its program cannot be read";
  if (target.interpreter.empty()) {
    if (exe.dev != target.dev || FuseNodeOf(exe) != target.node) {
      return "it runs another program than the exec-opened file";
    }
  } else {
    // A script: the program must be the interpreter its "#!" line names, as that path
    // resolves in the process's own root now (the kernel opened it within this exec).
    FileId interp;
    if (!reader_.PathId(stop.pid, target.interpreter, &interp) || !(interp == exe)) {
      return "it does not run the interpreter " + target.interpreter + " of the script";
    }
  }
  std::string env;
  if (!reader_.ReadEnviron(stop.pid, &env)) return "its environment cannot be read";
  std::string bad = UnsafeVariable(env);
  // The caller names the variable (up to an argument string's 128 KiB): the reason, an
  // audit record's field, names at most its first 64 bytes (escape test
  // test_audit_flood_by_refused_transitions).
  constexpr size_t kMaxName = 64;
  if (bad.size() > kMaxName) bad = bad.substr(0, kMaxName) + "...";
  if (!bad.empty()) return "its environment sets " + bad;
  return "";
}

void ProcTracker::FinishExec(ProcKey self, const ExecTarget& target, const ExecStop& stop,
                             const ExecReport& report) {
  std::string why = JudgeExec(target, stop);
  {
    std::lock_guard lock(mu_);
    DrainLocked();
    auto it = pending_.find(self);
    if (it == pending_.end() || !it->second.gated) {
      if (why.empty()) why = "it was placed elsewhere meanwhile";
    } else {
      PendingExec done = it->second;
      pending_.erase(it);
      if (why.empty() && !stop.gone) {
        procs_[self] = {self.pid, self.start, done.domain, ProcKind::kTransition};
        if (events_) lineage_[self.pid] = {done.domain, true};
      }
      ChangedLocked();
      SaveLocked();
    }
  }
  if (report) report(why);
}

void ProcTracker::PruneLocked() {
  for (auto it = procs_.begin(); it != procs_.end();) {
    it = Alive(it->first) ? std::next(it) : procs_.erase(it);
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = it->second.gated || Alive(it->first) ? std::next(it) : pending_.erase(it);
  }
  for (auto it = live_.begin(); it != live_.end();) {
    it = lineage_.count(it->first) ? std::next(it) : live_.erase(it);
  }
  for (auto it = lineage_.begin(); it != lineage_.end();) {  // exits lost with the queue
    ProcStat st;
    it = reader_.ReadStat(it->first, &st) ? std::next(it) : lineage_.erase(it);
  }
  for (auto it = worlds_.begin(); it != worlds_.end();) {
    ProcKey leader{it->second.leader, it->second.leader_start};
    if (Alive(leader)) {
      ++it;
    } else {
      leaders_.erase(leader);
      world_serials_.erase(it->first);
      it = worlds_.erase(it);
    }
  }
  prune_at_ = std::max<size_t>(1024, procs_.size() * 2);
}

uint64_t ProcTracker::SaveLocked(bool soon) { return saver_ ? saver_->Want(soon) : 0; }

Status ProcTracker::WaitSaved(uint64_t ticket) {
  return saver_ ? saver_->Wait(ticket) : Status::Ok();
}

TrackerState ProcTracker::SnapshotLocked() const {
  TrackerState state;
  state.worlds.reserve(worlds_.size());
  state.procs.reserve(procs_.size());
  for (const auto& [key, world] : worlds_) state.worlds.push_back(world);
  for (const auto& [key, proc] : procs_) state.procs.push_back(proc);
  return state;
}

Status ProcTracker::Load() {
  if (state_file_.empty()) return Status::Ok();
  TrackerState state;
  Status s = LoadTrackerState(state_file_, boot_id_, &state);
  if (!s.ok()) return s;
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    for (const WorldRecord& w : state.worlds) RememberWorldLocked(w);
    for (const ProcRecord& p : state.procs) procs_[{p.pid, p.start}] = p;
    PruneLocked();  // what died while the daemon was down is gone for good
    ticket = SaveLocked();
  }
  return WaitSaved(ticket);
}

std::vector<ConfinedProcess> ProcTracker::List() {
  std::vector<ConfinedProcess> out;
  for (pid_t pid : reader_.AllProcesses()) {
    CallerInfo info = Identify(pid, 0);
    if (info.identified && info.placed) out.push_back({pid, info.domain, info.comm});
  }
  std::lock_guard lock(mu_);
  PruneLocked();
  return out;
}

std::map<DomainId, int> ProcTracker::WorldCounts() {
  std::map<DomainId, int> counts;
  for (const ConfinedProcess& p : List()) ++counts[p.domain];
  return counts;
}

}  // namespace

Status DomainTracker::Open(const std::string& state_file, std::unique_ptr<DomainTracker>* out,
                           StateWriter write) {
  auto tracker = std::make_unique<ProcTracker>(state_file, CurrentBootId(), std::move(write));
  Status s = tracker->Load();
  if (!s.ok()) return s;
  *out = std::move(tracker);
  return Status::Ok();
}

}  // namespace sptfs
