// The sandbox epoch: a counter the daemon bumps whenever a supervisor's answer could
// change (a policy published, a process placed or transitioned anywhere), in a page it
// shares read-only with the supervisors of spt-run worlds (passed with the reply that
// opens a session, docs/control-protocol.md). A supervisor keeps the answers it got
// while the counter stays where it was when it asked, so a notified call costs no round
// trip; it may never keep one across a change of the counter.
//
//   daemon:      SandboxEpoch::Create(&epoch); ... epoch->Bump(); ... pass ReadOnlyFd()
//   supervisor:  EpochView::Map(fd, &view); ... view->Read() ...
#pragma once

#include <cstdint>
#include <memory>

#include "util/status.h"

namespace sptfs {

class SandboxEpoch {
 public:
  static Status Create(std::unique_ptr<SandboxEpoch>* out);
  ~SandboxEpoch();
  SandboxEpoch(const SandboxEpoch&) = delete;
  SandboxEpoch& operator=(const SandboxEpoch&) = delete;
  // Thread-safe and cheap (one atomic increment): callable under other locks.
  void Bump();
  uint64_t Read() const;
  // A read-only descriptor of the page (open file description of its own: the receiver
  // can map it only for reading, and cannot resize it: it is sealed).
  int read_only_fd() const { return ro_fd_; }

 private:
  SandboxEpoch(int fd, int ro_fd, uint64_t* page) : fd_(fd), ro_fd_(ro_fd), page_(page) {}
  int fd_;
  int ro_fd_;
  uint64_t* page_;
};

// The supervisor's read-only view of the page.
class EpochView {
 public:
  // Maps `fd` (takes ownership; closed here either way).
  static Status Map(int fd, std::unique_ptr<EpochView>* out);
  ~EpochView();
  EpochView(const EpochView&) = delete;
  EpochView& operator=(const EpochView&) = delete;
  uint64_t Read() const;

 private:
  explicit EpochView(const uint64_t* page) : page_(page) {}
  const uint64_t* page_;
};

}  // namespace sptfs
