#include "domains/exec_gate.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sptfs {
namespace {

// How often the gate looks for stops while it holds a thread: an exec takes a few
// hundred microseconds at least, so this adds little to it, and nothing is polled
// while no thread is held.
constexpr auto kPoll = std::chrono::microseconds(100);

}  // namespace

std::unique_ptr<ExecGate> ExecGate::Open() {
  std::unique_ptr<ExecGate> gate(new ExecGate());
  gate->thread_ = std::thread([g = gate.get()] { g->Loop(); });
  return gate;
}

ExecGate::~ExecGate() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();  // the tracer thread's end detaches whatever it still holds
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return deciding_ == 0; });  // deciders touch this object
}

Status ExecGate::Hold(pid_t tid, pid_t tgid, Decide decide) {
  Request r{tid, tgid, std::move(decide), false, Status::Ok()};
  std::unique_lock lock(mu_);
  if (stop_) return Status::Busy("exec gate: stopped");
  requests_.push_back(&r);
  cv_.notify_all();
  done_cv_.wait(lock, [&] { return r.done; });
  return r.result;
}

size_t ExecGate::held() {
  std::lock_guard lock(mu_);
  return held_.size();
}

void ExecGate::Loop() {
  for (;;) {
    std::deque<Request*> todo;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return stop_ || !requests_.empty() || !detach_.empty(); };
      if (held_.empty() && deciding_ == 0) {
        cv_.wait(lock, ready);
      } else {
        cv_.wait_for(lock, kPoll, ready);
      }
      if (stop_ && deciding_ == 0) {
        for (Request* r : requests_) {
          r->result = Status::Busy("exec gate: stopped");
          r->done = true;
        }
        requests_.clear();
        done_cv_.notify_all();
        return;
      }
      todo.swap(requests_);
    }
    Detach();
    for (Request* r : todo) Seize(r);
    if (!todo.empty()) {
      std::lock_guard lock(mu_);
      for (Request* r : todo) r->done = true;
      done_cv_.notify_all();
    }
    Reap();
  }
}

void ExecGate::Seize(Request* r) {
  if (ptrace(PTRACE_SEIZE, r->tid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACEEXEC)) != 0) {
    r->result = Status::Permission(std::string("exec gate: cannot hold thread ") +
                                   std::to_string(r->tid) + ": " + strerror(errno));
    return;
  }
  // The stop comes when the thread leaves the kernel, or at the exec event before that.
  // An interrupt that fails means the thread is dying: its exit is reaped below.
  ptrace(PTRACE_INTERRUPT, r->tid, nullptr, nullptr);
  std::lock_guard lock(mu_);
  held_[r->tid] = {r->tgid, std::move(r->decide)};
}

void ExecGate::Reap() {
  for (;;) {
    int status = 0;
    pid_t w = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
    if (w <= 0) return;  // nothing stopped (0), or nothing held (ECHILD)
    Finish(w, status);
  }
}

void ExecGate::Finish(pid_t waited, int status) {
  Held h;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(waited);
    if (it == held_.end()) {  // a non-leader's exec: the thread now has the tgid
      for (it = held_.begin(); it != held_.end() && it->second.tgid != waited; ++it) {
      }
    }
    if (it == held_.end()) return;
    h = std::move(it->second);
    held_.erase(it);
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    h.decide({h.tgid, false, true});
    return;
  }
  if (!WIFSTOPPED(status)) return;
  int event = status >> 16;
  // A signal that arrived before our stop goes on to the thread; a group stop stays.
  long inject = event == 0 ? WSTOPSIG(status) : 0;
  ExecStop stop{h.tgid, event == PTRACE_EVENT_EXEC, false};
  // The decision may look paths up on the mount, whose threads may be waiting in Hold()
  // for this loop: it runs on a thread of its own, and the loop detaches when it is done.
  ++deciding_;
  std::thread([this, h = std::move(h), stop, waited, inject] {
    h.decide(stop);
    std::lock_guard lock(mu_);
    detach_.push_back({waited, inject});
    --deciding_;
    cv_.notify_all();
  }).detach();
}

void ExecGate::Detach() {
  std::deque<std::pair<pid_t, long>> todo;
  {
    std::lock_guard lock(mu_);
    todo.swap(detach_);
  }
  for (auto [tid, inject] : todo) {
    ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(inject));
  }
}

}  // namespace sptfs
