// CallDaemon: connect, send one request frame, read one reply frame. ControlSession:
// the same over a kept connection.
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
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

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

namespace {

// A connected, timed socket to the daemon at `socket_path` in *fd.
Status Connect(const std::string& socket_path, int* fd) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return Status::Invalid(socket_path + ": socket path too long (expected at most " +
                           std::to_string(sizeof(addr.sun_path) - 1) + " bytes)");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return Status::Io(errno, "socket");
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return Status::NotFound(socket_path +
                              ": no sptfs daemon is listening (expected a mounted sptfs there; "
                              "is it mounted?)");
    }
    return Status::Io(err, socket_path + ": cannot connect to the sptfs daemon");
  }
  if (Status s = SetTimeouts(sock.get(), kClientTimeoutMs); !s.ok()) return s;
  *fd = sock.release();
  return Status::Ok();
}

// One request and its reply on the connected socket `fd`.
Status Exchange(int fd, const std::string& socket_path, const std::vector<std::string>& argv,
                Reply* reply) {
  std::string frame;
  Status s = EncodeRequest(argv, &frame);
  if (!s.ok()) return s;
  Status sent = WriteAll(fd, frame);
  // A busy daemon answers "busy" (exit 75) without reading and closes at once, so the
  // write may fail with EPIPE while that reply is already waiting here: read it.
  if (!sent.ok() && sent.sys_errno() != EPIPE && sent.sys_errno() != ECONNRESET) return sent;
  std::string payload;
  if (!(s = ReadFrame(fd, kMaxReplyBytes, &payload)).ok()) {
    if (!sent.ok()) return sent;
    return Status::Invalid(socket_path + ": no valid reply from the daemon: " + s.message());
  }
  return DecodeReply(payload, reply);
}

}  // namespace

Status CallDaemon(const std::string& socket_path, const std::vector<std::string>& argv,
                  Reply* reply) {
  int raw = -1;
  if (Status s = Connect(socket_path, &raw); !s.ok()) return s;
  Fd fd(raw);
  return Exchange(fd.get(), socket_path, argv, reply);
}

ControlSession::~ControlSession() { Close(); }

void ControlSession::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  epoch_.reset();
}

bool ControlSession::Stamp(uint64_t* session, uint64_t* epoch) const {
  if (!epoch_) return false;
  *session = opened_;
  *epoch = epoch_->Read();
  return true;
}

Status ControlSession::Open() {
  Close();
  int raw = -1;
  if (Status s = Connect(socket_, &raw); !s.ok()) return s;
  Fd fd(raw);
  Reply reply;
  if (Status s = Exchange(fd.get(), socket_, {"sandbox", "session"}, &reply); !s.ok()) return s;
  if (reply.exit_code != 0) return Status::Invalid("the daemon refused a session: " + reply.err);
  int passed = -1;
  if (Status s = RecvFdByte(fd.get(), &passed); !s.ok()) return s;
  if (passed >= 0) {
    if (Status s = EpochView::Map(passed, &epoch_); !s.ok()) return s;
  }
  ++opened_;
  fd_ = fd.release();
  return Status::Ok();
}

Status ControlSession::Call(const std::vector<std::string>& argv, Reply* reply) {
  // A session the daemon ended (restart, a stall) is opened again once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) {
      if (Status s = Open(); !s.ok()) return s;
    }
    Status s = Exchange(fd_, socket_, argv, reply);
    if (s.ok()) return s;
    Close();
    if (attempt == 1) return s;
  }
  return Status::Ok();  // not reached
}

}  // namespace sptfs
