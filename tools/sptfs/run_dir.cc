#include "run_dir.h"

#include <dirent.h>
#include <unistd.h>

#include <vector>

#include "control/client.h"
#include "domains/proc_reader.h"
#include "domains/state_file.h"

namespace sptfs {
namespace {

bool Alive(const ProcReader& proc, pid_t pid, uint64_t start) {
  ProcStat st;
  return proc.ReadStat(pid, &st) && st.start_time == start;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string DefaultAuditLog(const std::string& socket_path) {
  std::string name = socket_path.substr(socket_path.rfind('/') + 1);
  if (EndsWith(name, ".sock")) name.resize(name.size() - 5);
  return std::string(kLogDir) + "/" + name + ".audit.log";
}

bool StateHasLiveRecords(const std::string& state_path) {
  TrackerState state;
  if (!LoadTrackerState(state_path, CurrentBootId(), &state).ok()) return false;
  ProcReader proc;
  for (const WorldRecord& w : state.worlds) {
    if (Alive(proc, w.leader, w.leader_start)) return true;
  }
  for (const ProcRecord& p : state.procs) {
    if (Alive(proc, p.pid, p.start)) return true;
  }
  return false;
}

void RemoveStateIfIdle(const std::string& state_path) {
  if (!StateHasLiveRecords(state_path)) unlink(state_path.c_str());
}

void SweepRunDir() {
  // ListSockets() drops the sockets and links nobody answers on; what it returns is live.
  std::vector<std::string> live = ListSockets();
  DIR* dir = opendir(kSocketDir);
  if (dir == nullptr) return;
  std::vector<std::string> states;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (EndsWith(name, ".sock.state")) states.push_back(std::string(kSocketDir) + "/" + name);
  }
  closedir(dir);
  for (const std::string& state : states) {
    std::string sock = state.substr(0, state.size() - 6);
    bool served = false;
    for (const std::string& l : live) served = served || l == sock;
    if (!served) RemoveStateIfIdle(state);
  }
}

}  // namespace sptfs
