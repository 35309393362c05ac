#include "domains/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace sptfs {
namespace {

const char* KindName(ProcKind kind) {
  switch (kind) {
    case ProcKind::kPlaced:
      return "placed";
    case ProcKind::kTransition:
      return "transition";
    case ProcKind::kInherited:
      return "inherited";
    case ProcKind::kDefault:
      return "default";
  }
  return "placed";
}

bool ParseKind(const std::string& text, ProcKind* out) {
  if (text == "placed")
    *out = ProcKind::kPlaced;
  else if (text == "transition")
    *out = ProcKind::kTransition;
  else if (text == "inherited")
    *out = ProcKind::kInherited;
  else if (text == "default")
    *out = ProcKind::kDefault;
  else
    return false;
  return true;
}

Status BadLine(const std::string& path, int line, const std::string& what) {
  return Status::Invalid(path + ":" + std::to_string(line) + ": " + what);
}

// Parses one record line into `state`; false if it is not a well-formed record.
bool ParseRecord(const std::string& line, TrackerState* state) {
  std::istringstream in(line);
  std::string type, extra;
  in >> type;
  if (type == "world") {
    WorldRecord w;
    if (!(in >> w.pidns >> w.leader >> w.leader_start >> w.domain) || (in >> extra)) return false;
    if (w.pidns == 0 || w.leader <= 0 || w.domain > kMaxId) return false;
    state->worlds.push_back(w);
    return true;
  }
  if (type == "proc") {
    ProcRecord p;
    std::string kind;
    if (!(in >> p.pid >> p.start >> p.domain >> kind) || (in >> extra)) return false;
    if (p.pid <= 0 || p.domain > kMaxId || !ParseKind(kind, &p.kind)) return false;
    state->procs.push_back(p);
    return true;
  }
  return false;
}

}  // namespace

std::string CurrentBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  in >> id;
  return id;
}

Status LoadTrackerState(const std::string& path, const std::string& boot_id, TrackerState* out) {
  *out = TrackerState();
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Io(errno, path + ": cannot read the domain state file");
  }
  std::string line;
  if (!std::getline(in, line)) return Status::Ok();  // empty file: nothing kept
  std::istringstream header(line);
  std::string magic, version, boot;
  header >> magic >> version >> boot;
  if (magic != "sptfs-domains" || version != "1" || boot.rfind("boot=", 0) != 0) {
    return BadLine(path, 1, "not a domain state file (expected \"sptfs-domains 1 boot=<id>\")");
  }
  if (boot.substr(5) != boot_id) return Status::Ok();  // written before the last reboot
  TrackerState state;
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    if (!ParseRecord(line, &state)) {
      return BadLine(path, n,
                     "bad record \"" + line +
                         "\" (expected \"world INODE PID START DOMAIN\" or "
                         "\"proc PID START DOMAIN placed|transition|inherited|default\")");
    }
  }
  *out = std::move(state);
  return Status::Ok();
}

Status SaveTrackerState(const std::string& path, const std::string& boot_id,
                        const TrackerState& state) {
  std::ostringstream text;
  text << "sptfs-domains 1 boot=" << boot_id << "\n";
  for (const WorldRecord& w : state.worlds) {
    text << "world " << w.pidns << " " << w.leader << " " << w.leader_start << " " << w.domain
         << "\n";
  }
  for (const ProcRecord& p : state.procs) {
    text << "proc " << p.pid << " " << p.start << " " << p.domain << " " << KindName(p.kind)
         << "\n";
  }
  std::string tmp = path + ".tmp";
  // A fresh file, never one already there: the daemon is root, and a symlink planted at
  // the temporary name would otherwise have it truncate and write the symlink's target.
  // A temporary left by a daemon that died mid-save goes first.
  if (unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    return Status::Io(errno, tmp + ": cannot remove the old temporary state file");
  }
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io(errno, tmp + ": cannot write the domain state file");
  std::string data = text.str();
  // No fsync: the state only matters within one boot, and a crash of the daemon (not of
  // the machine) cannot lose data already written to the page cache.
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    unlink(tmp.c_str());
    return Status::Io(err, path + ": cannot save the domain state file");
  }
  return Status::Ok();
}

}  // namespace sptfs
