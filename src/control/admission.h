// Who gets a control connection slot, who waits, who is refused: a pure policy, so the
// server only asks and the rules can be tested without sockets.
//
//   ConnectionAdmission admission(AdmissionLimits{});
//   switch (admission.Arrive(key, &why)) { kServe: run it; kWait: queue it; kRefuse: busy }
//   ... admission.TryStart(key) for a queued one when a slot frees ...
//   admission.Leave(key, serving);  // when it is done, or gives up waiting
//
// Rules (docs/control-protocol.md, "Limits"):
//   - `slots` connections are served at once; `reserved` of them only for privileged
//     callers (supervisors and unconfined administrators: the server decides who),
//     which ordinary (confined, unprivileged) callers can never take.
//   - An ordinary caller is charged to buckets, counting its connections served and
//     waiting: its uid (at most `per_uid`), and, when it lives in a PID namespace other
//     than the daemon's (a world), that world (at most `per_world`). Root inside a world
//     is charged to the world only: root is the uid of most worlds' programs, and one
//     world must not lock another out. Privileged callers have no buckets.
//   - A caller with a free slot of its class is served; one without waits in a queue of
//     at most `queue` connections (the server answers "busy" when its wait ends);
//     one over a bucket's limit, or with the queue full, is refused at once.
// Not thread-safe: one thread (the server's accept thread) owns it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace sptfs {

struct AdmissionLimits {
  int slots = 32;
  int reserved = 8;
  int per_uid = 4;
  int per_world = 4;
  int queue = 64;
};

struct AdmissionKey {
  bool privileged = false;
  uid_t uid = 0;
  uint64_t world = 0;            // PID-namespace inode (0: unknown)
  bool in_daemon_world = false;  // the daemon's own PID namespace: not a world
};

enum class Admit { kServe, kWait, kRefuse };

class ConnectionAdmission {
 public:
  explicit ConnectionAdmission(AdmissionLimits limits) : limits_(limits) {}

  // A new connection. kServe and kWait count it (serving / waiting) until Leave();
  // kRefuse sets `*why` ("uid 1000 already has 4 connections ...") and counts nothing.
  Admit Arrive(const AdmissionKey& key, std::string* why);
  // A waiting connection: true (now serving) if a slot of its class is free.
  bool TryStart(const AdmissionKey& key);
  void Leave(const AdmissionKey& key, bool serving);

  int serving() const { return serving_; }
  int waiting() const { return waiting_; }

 private:
  bool SlotFree(const AdmissionKey& key) const;
  bool ChargesUid(const AdmissionKey& key) const;
  bool ChargesWorld(const AdmissionKey& key) const;
  void Charge(const AdmissionKey& key, int delta);

  const AdmissionLimits limits_;
  int serving_ = 0;
  int serving_ordinary_ = 0;
  int waiting_ = 0;
  std::map<uid_t, int> per_uid_;
  std::map<uint64_t, int> per_world_;
};

}  // namespace sptfs
