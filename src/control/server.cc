// ControlServer: an accept thread plus one thread per connection. Connections are few
// and short (an administrator's tool), so a thread each keeps the code obvious; the cap
// and the per-connection timeout keep a misbehaving client from exhausting the daemon.
#include "control/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "control/client.h"
#include "control/commands.h"
#include "control/socket_io.h"

namespace sptfs {
namespace {

Status MakeAddress(const std::string& path, sockaddr_un* addr) {
  *addr = sockaddr_un{};
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) {
    return Status::Invalid(path + ": bad control socket path (expected 1.." +
                           std::to_string(sizeof(addr->sun_path) - 1) + " bytes)");
  }
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return Status::Ok();
}

// True if a daemon answers on `path`.
bool Answers(const std::string& path) {
  sockaddr_un addr;
  if (!MakeAddress(path, &addr).ok()) return false;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// Clears `path` for a new socket or link: refuses a live daemon or a regular file.
Status ClearStale(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Status::Ok();
  if (Answers(path)) return Status::Busy(path + ": another sptfs daemon is serving here");
  if (!S_ISSOCK(st.st_mode) && !S_ISLNK(st.st_mode)) {
    return Status::Exists(path + ": exists and is not a socket (expected a free path)");
  }
  if (unlink(path.c_str()) != 0) return Status::Io(errno, path + ": removing stale socket");
  return Status::Ok();
}

Status Listen(const std::string& path, int* out) {
  sockaddr_un addr;
  Status s = MakeAddress(path, &addr);
  if (!s.ok() || !(s = ClearStale(path)).ok()) return s;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Io(errno, "control socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      chmod(path.c_str(), 0666) != 0 || listen(fd, 64) != 0) {
    int err = errno;
    close(fd);
    return Status::Io(err, path + ": cannot serve the control socket");
  }
  *out = fd;
  return Status::Ok();
}

class ControlServerImpl final : public ControlServer {
 public:
  ControlServerImpl(DaemonContext* ctx, std::string path, int listen_fd, int stop_fd,
                    std::string link)
      : runner_(ctx),
        ctx_(ctx),
        path_(std::move(path)),
        link_(std::move(link)),
        listen_fd_(listen_fd),
        stop_fd_(stop_fd) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~ControlServerImpl() override { Stop(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    accept_thread_.join();
    std::unique_lock<std::mutex> lock(mu_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);  // wakes threads blocked in recv
    idle_.wait(lock, [this] { return open_.empty(); });
    lock.unlock();
    close(listen_fd_);
    close(stop_fd_);
    unlink(path_.c_str());
    if (!link_.empty()) unlink(link_.c_str());
  }

 private:
  void AcceptLoop() {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      if (!(fds[0].revents & POLLIN)) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;  // EMFILE, ECONNABORTED...: this client only
      if (!Admit(fd)) {
        RefuseBusy(fd);
        continue;
      }
      try {
        std::thread([this, fd] { Serve(fd); }).detach();
      } catch (const std::exception&) {
        Release(fd);
        RefuseBusy(fd);
      }
    }
  }

  bool Admit(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_.size() >= static_cast<size_t>(kMaxConnections)) return false;
    open_.insert(fd);
    return true;
  }

  void Release(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    open_.erase(fd);
    if (open_.empty()) idle_.notify_all();
  }

  static void RefuseBusy(int fd) {
    (void)SetTimeouts(fd, 200);
    (void)WriteAll(fd, EncodeReply({75, "", "sptfs: control socket busy, try again\n"}));
    close(fd);
  }

  void Serve(int fd) {
    Reply reply = Handle(fd);
    if (reply.exit_code >= 0) (void)WriteAll(fd, EncodeReply(reply));
    close(fd);
    Release(fd);  // last: Stop() may destroy *this once open_ is empty
  }

  // exit_code -1: send nothing (the peer is gone or stalled).
  Reply Handle(int fd) {
    if (!SetTimeouts(fd, kConnectionTimeoutMs).ok()) return {-1, "", ""};
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return {-1, "", ""};
    std::string payload;
    Status s = ReadFrame(fd, kMaxRequestBytes, &payload);
    if (!s.ok() && s.code() == Status::Code::kIo) return {-1, "", ""};
    std::vector<std::string> argv;
    if (s.ok()) s = DecodeRequest(payload, &argv);
    if (!s.ok()) return {2, "", "sptfs: " + s.message() + "\n"};
    Peer peer = IdentifyPeer(cred);
    try {
      return runner_.Run(peer, argv);
    } catch (const std::exception& e) {  // a bug in a command must not end the daemon
      return {1, "", std::string("sptfs: internal error: ") + e.what() + "\n"};
    }
  }

  Peer IdentifyPeer(const ucred& cred) {
    Peer peer;
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    auto policy = ctx_->policy ? ctx_->policy->Current() : nullptr;
    DomainId fallback = policy ? policy->default_domain() : 0;
    if (ctx_->tracker != nullptr) {
      peer.info = ctx_->tracker->Identify(cred.pid, fallback);
    } else {  // no tracker (unit tests): everyone is in the default domain
      peer.info.identified = cred.pid > 0;
      peer.info.pid = peer.info.tid = cred.pid;
      peer.info.domain = fallback;
    }
    // The socket's credentials are the kernel's; /proc's uid may be stale or missing.
    peer.info.uid = cred.uid;
    peer.info.gid = cred.gid;
    return peer;
  }

  CommandRunner runner_;
  DaemonContext* ctx_;
  const std::string path_;
  const std::string link_;
  const int listen_fd_;
  const int stop_fd_;
  bool stopped_ = false;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::set<int> open_;
};

// The --mount name for the socket; empty if not needed or not possible (not fatal:
// tools can still use --socket).
std::string LinkForMount(const std::string& socket_path, const std::string& mountpoint) {
  if (mountpoint.empty()) return "";
  std::string link = SocketForMount(mountpoint);
  if (link == socket_path) return "";
  mkdir(kSocketDir, 0755);
  char abs[4096];
  std::string target = socket_path;
  if (target[0] != '/' && getcwd(abs, sizeof(abs)) != nullptr) target = abs + ("/" + target);
  if (!ClearStale(link).ok() || symlink(target.c_str(), link.c_str()) != 0) {
    std::fprintf(stderr,
                 "sptfs: warning: %s: cannot link to the control socket (%s); "
                 "tools need --socket %s\n",
                 link.c_str(), std::strerror(errno), socket_path.c_str());
    return "";
  }
  return link;
}

}  // namespace

Status ControlServer::Start(const std::string& socket_path, DaemonContext* ctx,
                            std::unique_ptr<ControlServer>* out) {
  if (socket_path.rfind(std::string(kSocketDir) + "/", 0) == 0) mkdir(kSocketDir, 0755);
  int listen_fd = -1;
  Status s = Listen(socket_path, &listen_fd);
  if (!s.ok()) return s;
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) {
    close(listen_fd);
    return Status::Io(errno, "control socket: eventfd");
  }
  std::string link = LinkForMount(socket_path, ctx->mountpoint);
  *out = std::make_unique<ControlServerImpl>(ctx, socket_path, listen_fd, stop_fd, link);
  return Status::Ok();
}

}  // namespace sptfs
