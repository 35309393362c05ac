// Reads what the tracker needs to know about a process from /proc: one small file per
// question, no caching (the tracker caches). Every function returns false when the
// process is gone or /proc does not answer; nothing here throws or logs.
//
// Pids and tids are in the PID namespace of the /proc that is mounted at `proc_root`
// (normally "/proc", the daemon's own namespace, which is also the one FUSE reports).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sptfs {

// From /proc/<tid>/stat: the fields that identify a process for its whole life.
struct ProcStat {
  std::string comm;         // field 2, without the parentheses
  char state = '?';         // field 3
  pid_t ppid = 0;           // field 4
  uint64_t start_time = 0;  // field 22, clock ticks after boot; never changes, not even at exec
};

// From /proc/<tid>/status.
struct ProcStatus {
  pid_t tgid = 0;
  uid_t uid = 0;  // real ids: who the process is, not what it acts as
  gid_t gid = 0;
  std::vector<pid_t> ns_pids;  // NSpid: outermost (ours) first, innermost last
  int threads = 0;
};

// A file as the kernel names it: device, inode number, and the file system's own handle
// (name_to_handle_at; for FUSE it holds the node id, which tells apart two files that
// show the same inode number from two maps of one mount).
struct FileId {
  uint64_t dev = 0, ino = 0;
  std::string handle;  // handle type and bytes; "" if the file system gives none
  bool operator==(const FileId&) const = default;
};
// The FUSE node id in a FUSE file handle (FILEID_INO64_GEN), or 0.
uint64_t FuseNodeOf(const FileId& id);

class ProcReader {
 public:
  explicit ProcReader(std::string proc_root = "/proc") : root_(std::move(proc_root)) {}

  bool ReadStat(pid_t tid, ProcStat* out) const;
  bool ReadStatus(pid_t tid, ProcStatus* out) const;
  // Target of /proc/<pid>/exe, or "" (kernel threads, gone, not allowed).
  std::string ReadExe(pid_t pid) const;
  // Device and inode of the program the process runs (stat of /proc/<pid>/exe).
  bool ExeIdentity(pid_t pid, uint64_t* dev, uint64_t* ino) const;
  // FileId of the program the process runs (/proc/<pid>/exe). Sends no request to a
  // FUSE mount (cached attributes only), so a FUSE daemon may call it from any thread.
  bool ExeId(pid_t pid, FileId* out) const;
  // FileId of absolute `path` as it resolves in the root of process `pid`.
  bool PathId(pid_t pid, const std::string& path, FileId* out) const;
  // /proc/<pid>/environ: NUL-separated NAME=value strings.
  bool ReadEnviron(pid_t pid, std::string* out) const;
  // Inodes of the PID namespace of `tid` and of every ancestor namespace (NS_GET_PARENT),
  // innermost first, up to the namespace of `proc_root`'s reader.
  bool PidNamespaceChain(pid_t tid, std::vector<uint64_t>* inodes) const;
  // Inode of the PID namespace the reader itself lives in.
  uint64_t OwnPidNamespace() const;
  // Children of every thread of process `pid` (needs CONFIG_PROC_CHILDREN).
  std::vector<pid_t> Children(pid_t pid) const;
  // Every process (thread group) id listed in /proc.
  std::vector<pid_t> AllProcesses() const;

 private:
  std::string Path(pid_t tid, const char* leaf) const;
  std::string root_;
};

// Parses the text of a /proc/<pid>/stat file (exposed for tests: comm may hold spaces
// and parentheses, so the parser anchors on the last ')').
bool ParseProcStat(const std::string& text, ProcStat* out);

}  // namespace sptfs
