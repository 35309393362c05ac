// ConnectionAdmission: counters and the rules of admission.h, nothing else.
#include "control/admission.h"

namespace sptfs {

bool ConnectionAdmission::ChargesUid(const AdmissionKey& key) const {
  return !key.privileged && (key.uid != 0 || key.in_daemon_world);
}

bool ConnectionAdmission::ChargesWorld(const AdmissionKey& key) const {
  return !key.privileged && !key.in_daemon_world;
}

bool ConnectionAdmission::SlotFree(const AdmissionKey& key) const {
  if (key.privileged) return serving_ < limits_.slots;
  return serving_ < limits_.slots && serving_ordinary_ < limits_.slots - limits_.reserved;
}

void ConnectionAdmission::Charge(const AdmissionKey& key, int delta) {
  if (ChargesUid(key) && (per_uid_[key.uid] += delta) <= 0) per_uid_.erase(key.uid);
  if (ChargesWorld(key) && (per_world_[key.world] += delta) <= 0) per_world_.erase(key.world);
}

Admit ConnectionAdmission::Arrive(const AdmissionKey& key, std::string* why) {
  if (ChargesUid(key)) {
    auto it = per_uid_.find(key.uid);
    if (it != per_uid_.end() && it->second >= limits_.per_uid) {
      *why = "uid " + std::to_string(key.uid) + " already has " + std::to_string(it->second) +
             " connections (expected at most " + std::to_string(limits_.per_uid) + " at once)";
      return Admit::kRefuse;
    }
  }
  if (ChargesWorld(key)) {
    auto it = per_world_.find(key.world);
    if (it != per_world_.end() && it->second >= limits_.per_world) {
      *why = "PID namespace " + std::to_string(key.world) + " already has " +
             std::to_string(it->second) + " connections (expected at most " +
             std::to_string(limits_.per_world) + " at once per world)";
      return Admit::kRefuse;
    }
  }
  if (SlotFree(key)) {
    Charge(key, 1);
    ++serving_;
    if (!key.privileged) ++serving_ordinary_;
    return Admit::kServe;
  }
  if (waiting_ >= limits_.queue) {
    *why = "all " + std::to_string(limits_.slots) + " slots are in use and " +
           std::to_string(waiting_) + " connections wait";
    return Admit::kRefuse;
  }
  Charge(key, 1);
  ++waiting_;
  return Admit::kWait;
}

bool ConnectionAdmission::TryStart(const AdmissionKey& key) {
  if (!SlotFree(key)) return false;
  --waiting_;
  ++serving_;
  if (!key.privileged) ++serving_ordinary_;
  return true;
}

void ConnectionAdmission::Leave(const AdmissionKey& key, bool serving) {
  Charge(key, -1);
  if (!serving) {
    --waiting_;
    return;
  }
  --serving_;
  if (!key.privileged) --serving_ordinary_;
}

}  // namespace sptfs
