// CallDaemon: connect, send one request frame, read one reply frame.
#include "control/client.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "control/socket_io.h"

namespace sptfs {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  if (!path.empty() && path[0] == '/') return path;
  if (getcwd(buf, sizeof(buf)) == nullptr) return path;
  return std::string(buf) + "/" + path;
}

}  // namespace

// 0 if a daemon accepts connections on `path` (a socket, or a link to one), else the
// connect errno: ECONNREFUSED (nobody listens) and ENOENT (a dangling link) mean stale.
int ConnectErrno(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return ENAMETOOLONG;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return errno;
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : errno;
}

std::vector<std::string> ListSockets() {
  std::vector<std::string> out;
  std::vector<std::string> real_seen;
  DIR* dir = opendir(kSocketDir);
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".sock") != 0) continue;
    std::string path = std::string(kSocketDir) + "/" + name;
    // A daemon killed with SIGKILL leaves its socket (or its --mount link) behind: an
    // entry nobody answers on is stale, so it is skipped and, where allowed, removed.
    if (int err = ConnectErrno(path); err != 0) {
      if (err == ECONNREFUSED || err == ENOENT) unlink(path.c_str());
      continue;
    }
    // A daemon with a configured socket elsewhere also has a link here: count it once.
    std::string real = Absolute(path);
    bool dup = false;
    for (const std::string& r : real_seen) dup = dup || r == real;
    if (dup) continue;
    real_seen.push_back(real);
    out.push_back(path);
  }
  closedir(dir);
  return out;
}

std::string SocketForMount(const std::string& mount_dir) {
  std::string name = Absolute(mount_dir);
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  for (char& c : name) {
    if (c == '/') c = '-';
  }
  return std::string(kSocketDir) + "/" + name + ".sock";
}

Status ChooseSocket(const std::string& socket_opt, const std::string& mount_opt,
                    std::string* socket_path) {
  if (!socket_opt.empty()) {
    *socket_path = socket_opt;
    return Status::Ok();
  }
  if (!mount_opt.empty()) {
    *socket_path = SocketForMount(mount_opt);
    return Status::Ok();
  }
  // Neither given: the one daemon of this host, if there is exactly one.
  std::vector<std::string> found = ListSockets();
  if (found.empty()) {
    return Status::NotFound("no sptfs daemon is running (no live socket in " +
                            std::string(kSocketDir) +
                            "; expected a mounted sptfs, or --mount DIR or --socket PATH)");
  }
  if (found.size() > 1) {
    std::string msg = std::to_string(found.size()) +
                      " sptfs daemons run (expected --mount DIR or --socket PATH to pick one):";
    for (const std::string& f : found) msg += "\n  --socket " + f;
    return Status::Invalid(msg);
  }
  *socket_path = found[0];
  return Status::Ok();
}

Status CallDaemon(const std::string& socket_path, const std::vector<std::string>& argv,
                  Reply* reply) {
  std::string frame;
  Status s = EncodeRequest(argv, &frame);
  if (!s.ok()) return s;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return Status::Invalid(socket_path + ": socket path too long (expected at most " +
                           std::to_string(sizeof(addr.sun_path) - 1) + " bytes)");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Status::Io(errno, "socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return Status::NotFound(socket_path +
                              ": no sptfs daemon is listening (expected a mounted sptfs there; "
                              "is it mounted?)");
    }
    return Status::Io(err, socket_path + ": cannot connect to the sptfs daemon");
  }
  if (!(s = SetTimeouts(fd.get(), kClientTimeoutMs)).ok()) return s;
  Status sent = WriteAll(fd.get(), frame);
  // A busy daemon answers "busy" (exit 75) without reading and closes at once, so the
  // write may fail with EPIPE while that reply is already waiting here: read it.
  if (!sent.ok() && sent.sys_errno() != EPIPE && sent.sys_errno() != ECONNRESET) return sent;
  std::string payload;
  if (!(s = ReadFrame(fd.get(), kMaxReplyBytes, &payload)).ok()) {
    if (!sent.ok()) return sent;
    return Status::Invalid(socket_path + ": no valid reply from the daemon: " + s.message());
  }
  return DecodeReply(payload, reply);
}

}  // namespace sptfs
