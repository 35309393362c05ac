#include "domains/proc_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace sptfs {
namespace {

// Reads a whole small /proc file with one open and as few reads as it takes.
bool ReadSmallFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return !out->empty();
}

bool ParseUnsigned(const char* text, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text) return false;
  *out = v;
  return true;
}

uint64_t InodeOf(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

bool ParseProcStat(const std::string& text, ProcStat* out) {
  size_t open_paren = text.find('(');
  size_t close_paren = text.rfind(')');
  if (open_paren == std::string::npos || close_paren == std::string::npos ||
      close_paren < open_paren) {
    return false;
  }
  out->comm.assign(text, open_paren + 1, close_paren - open_paren - 1);
  // After ") " come fields 3, 4, ...; field 22 is the 20th of them. Parsed by hand: this
  // runs on every mediated request.
  const char* p = text.c_str() + close_paren + 1;
  for (int n = 3; n <= 22; ++n) {
    while (*p == ' ') ++p;
    if (*p == '\0' || *p == '\n') return false;
    const char* field = p;
    while (*p != ' ' && *p != '\0' && *p != '\n') ++p;
    if (n == 3) {
      out->state = *field;
    } else if (n == 4 || n == 22) {
      char* end = nullptr;
      unsigned long long v = strtoull(field, &end, 10);
      if (end != p) return false;
      if (n == 4) out->ppid = static_cast<pid_t>(v);
      if (n == 22) out->start_time = v;
    }
  }
  return true;
}

std::string ProcReader::Path(pid_t tid, const char* leaf) const {
  return root_ + "/" + std::to_string(tid) + "/" + leaf;
}

bool ProcReader::ReadStat(pid_t tid, ProcStat* out) const {
  if (tid <= 0) return false;
  std::string text;
  return ReadSmallFile(Path(tid, "stat"), &text) && ParseProcStat(text, out);
}

bool ProcReader::ReadStatus(pid_t tid, ProcStatus* out) const {
  if (tid <= 0) return false;
  std::string text;
  if (!ReadSmallFile(Path(tid, "status"), &text)) return false;
  std::istringstream lines(text);
  std::string line;
  bool have_tgid = false;
  out->ns_pids.clear();
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "Tgid:") {
      have_tgid = static_cast<bool>(fields >> out->tgid);
    } else if (key == "Uid:") {
      fields >> out->uid;
    } else if (key == "Gid:") {
      fields >> out->gid;
    } else if (key == "Threads:") {
      fields >> out->threads;
    } else if (key == "NSpid:") {
      pid_t p;
      while (fields >> p) out->ns_pids.push_back(p);
    }
  }
  return have_tgid;
}

std::string ProcReader::ReadExe(pid_t pid) const {
  char buf[4096];
  ssize_t n = readlink(Path(pid, "exe").c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool ProcReader::ExeIdentity(pid_t pid, uint64_t* dev, uint64_t* ino) const {
  struct stat st;
  if (pid <= 0 || stat(Path(pid, "exe").c_str(), &st) != 0) return false;
  *dev = static_cast<uint64_t>(st.st_dev);
  *ino = static_cast<uint64_t>(st.st_ino);
  return true;
}

namespace {

// Of an O_PATH descriptor: no open reaches the file system, and attributes come from
// the kernel's cache (AT_STATX_DONT_SYNC), so nothing here waits on a FUSE daemon.
bool FileIdOfFd(int fd, FileId* out) {
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &sx) != 0) return false;
  out->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  out->ino = sx.stx_ino;
  union {
    file_handle fh;
    char buf[sizeof(file_handle) + MAX_HANDLE_SZ];
  } h;
  h.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  out->handle.clear();
  if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) == 0) {
    int type = h.fh.handle_type;
    out->handle.assign(reinterpret_cast<const char*>(&type), sizeof type);
    out->handle.append(reinterpret_cast<const char*>(h.fh.f_handle), h.fh.handle_bytes);
  }
  return true;
}

bool FileIdAt(int dirfd, const char* path, uint64_t resolve, FileId* out) {
  open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = resolve;
  int fd = static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
  if (fd < 0) return false;
  bool ok = FileIdOfFd(fd, out);
  close(fd);
  return ok;
}

}  // namespace

uint64_t FuseNodeOf(const FileId& id) {
  constexpr int kInoGen = 0x81, kInoGenParent = 0x82;  // FILEID_INO64_GEN(_PARENT)
  int type = 0;
  if (id.handle.size() < sizeof type + 8) return 0;
  memcpy(&type, id.handle.data(), sizeof type);
  if (type != kInoGen && type != kInoGenParent) return 0;
  uint32_t hi, lo;
  memcpy(&hi, id.handle.data() + sizeof type, 4);
  memcpy(&lo, id.handle.data() + sizeof type + 4, 4);
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool ProcReader::ExeId(pid_t pid, FileId* out) const {
  return pid > 0 && FileIdAt(AT_FDCWD, Path(pid, "exe").c_str(), 0, out);
}

bool ProcReader::PathId(pid_t pid, const std::string& path, FileId* out) const {
  if (pid <= 0 || path.empty() || path[0] != '/') return false;
  // Resolved as the process would: absolute symlinks and ".." stay in its root.
  int root = open(Path(pid, "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return false;
  bool ok = FileIdAt(root, path.c_str(), RESOLVE_IN_ROOT, out);
  close(root);
  return ok;
}

bool ProcReader::ReadEnviron(pid_t pid, std::string* out) const {
  if (pid <= 0) return false;
  int fd = open(Path(pid, "environ").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[16384];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return n == 0;
}

bool ProcReader::PidNamespaceChain(pid_t tid, std::vector<uint64_t>* inodes) const {
  inodes->clear();
  if (tid <= 0) return false;
  int fd = open(Path(tid, "ns/pid").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // Bounded: the kernel nests PID namespaces at most 32 deep.
  for (int depth = 0; fd >= 0 && depth < 40; ++depth) {
    inodes->push_back(InodeOf(fd));
    int parent = ioctl(fd, NS_GET_PARENT);  // EPERM at our own namespace: the top
    close(fd);
    fd = parent;
  }
  if (fd >= 0) close(fd);
  return !inodes->empty() && inodes->front() != 0;
}

uint64_t ProcReader::OwnPidNamespace() const {
  int fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t ino = InodeOf(fd);
  close(fd);
  return ino;
}

std::vector<pid_t> ProcReader::Children(pid_t pid) const {
  std::vector<pid_t> out;
  DIR* dir = opendir(Path(pid, "task").c_str());
  if (dir == nullptr) return out;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string text;
    if (!ReadSmallFile(Path(pid, "task/") + entry->d_name + "/children", &text)) continue;
    std::istringstream ids(text);
    pid_t child;
    while (ids >> child) out.push_back(child);
  }
  closedir(dir);
  return out;
}

std::vector<pid_t> ProcReader::AllProcesses() const {
  std::vector<pid_t> out;
  DIR* dir = opendir(root_.c_str());
  if (dir == nullptr) return out;
  while (struct dirent* entry = readdir(dir)) {
    uint64_t pid = 0;
    if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9' && ParseUnsigned(entry->d_name, &pid)) {
      out.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(dir);
  return out;
}

}  // namespace sptfs
