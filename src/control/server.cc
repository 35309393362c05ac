// ControlServer: an accept thread that identifies callers, admits them (admission.h) and
// starts one thread per served connection; it also joins finished threads, so no
// thread outlives the server and no state is freed under a live connection.
// Connections are few and short (an administrator's tool, a supervisor's question), so
// a thread each keeps the code obvious; slots, deadlines and limits bound what a
// misbehaving client can hold.
#include "control/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include "control/client.h"
#include "control/commands.h"
#include "control/peer_identity.h"
#include "control/sandbox_epoch.h"
#include "control/socket_io.h"

namespace sptfs {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After an accept that failed for want of descriptors or memory, the listening socket is
// left alone this long (or until a connection ends and frees some), instead of polling
// it again at once: that was a busy loop.
constexpr milliseconds kAcceptPause(100);
constexpr int kAcceptsPerRound = 16;

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

// Clears `path` for a new socket or link: refuses a live daemon or a regular file.
Status ClearStale(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Status::Ok();
  if (ConnectErrno(path) == 0) return Status::Busy(path + ": another sptfs daemon is serving here");
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
  // Non-blocking: a connection that is aborted between poll() and accept() must not
  // block the accept thread.
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Io(errno, "control socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      chmod(path.c_str(), 0666) != 0 || listen(fd, 128) != 0) {
    int err = errno;
    close(fd);
    return Status::Io(err, path + ": cannot serve the control socket");
  }
  *out = fd;
  return Status::Ok();
}

// Answers exit 75 without reading the request, and closes `fd`. One non-blocking send:
// the reply is small and the socket's buffer empty, and the accept thread must not wait.
void RefuseBusy(int fd, const std::string& why) {
  std::string frame =
      EncodeReply({75, "", "sptfs: control socket busy (" + why + "), try again\n"});
  (void)!send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}

// One accepted connection. The accept thread owns the object; the connection's thread
// only reads it, and writes `fd` and `done` under the server's mutex.
struct Connection {
  int fd = -1;  // closed (and set to -1) under the mutex, so Stop() never shuts down a
                // number that was closed and reused
  PeerProcess process;
  Peer peer;
  AdmissionKey key;
  Clock::time_point wait_until;  // while queued
  std::thread thread;
  bool done = false;
  bool session = false;        // became a kept session (set under the server's mutex)
  bool slot_released = false;  // accept thread only: its admission slot was given back
};

class ControlServerImpl final : public ControlServer {
 public:
  ControlServerImpl(DaemonContext* ctx, const ControlLimits& limits, std::string path,
                    int listen_fd, int stop_fd, int wake_fd, std::string link)
      : runner_(ctx),
        ctx_(ctx),
        limits_(limits),
        admission_(limits.admission),
        path_(std::move(path)),
        link_(std::move(link)),
        listen_fd_(listen_fd),
        stop_fd_(stop_fd),
        wake_fd_(wake_fd),
        daemon_world_(PidNamespaceOf(0)) {
    spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~ControlServerImpl() override { Stop(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    accept_thread_.join();
    close(listen_fd_);
    close(stop_fd_);
    close(wake_fd_);
    if (spare_fd_ >= 0) close(spare_fd_);
    unlink(path_.c_str());
    if (!link_.empty()) unlink(link_.c_str());
  }

 private:
  // ---- the accept thread ----------------------------------------------------------
  void AcceptLoop() {
    for (;;) {
      bool listening = Clock::now() >= paused_until_;
      pollfd fds[3] = {
          {stop_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {listening ? listen_fd_ : -1, POLLIN, 0}};
      if (poll(fds, 3, NextTimeoutMs()) < 0 && errno != EINTR) break;
      if (fds[0].revents) break;
      if (fds[1].revents) {
        uint64_t n;
        (void)!read(wake_fd_, &n, sizeof(n));
      }
      ReapFinished();
      ExpireWaiting();
      StartWaiting();
      if (fds[2].revents & POLLIN) AcceptReady();
    }
    Shutdown();
  }

  int NextTimeoutMs() const {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& c : waiting_) next = std::min(next, c->wait_until);
    if (paused_until_ > Clock::now()) next = std::min(next, paused_until_);
    if (next == Clock::time_point::max()) return -1;
    auto ms = std::chrono::ceil<milliseconds>(next - Clock::now()).count();
    return ms < 0 ? 0 : static_cast<int>(std::min<long long>(ms, 60000));
  }

  void AcceptReady() {
    for (int i = 0; i < kAcceptsPerRound; ++i) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        Arrive(fd);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        OutOfDescriptors();
      } else if (errno == ENOBUFS || errno == ENOMEM) {
        paused_until_ = Clock::now() + kAcceptPause;
      }
      return;  // EAGAIN: nothing more waits
    }
  }

  // The spare descriptor lets us take the waiting connection and tell it why, instead
  // of leaving it in the backlog (where poll would report it again at once).
  void OutOfDescriptors() {
    if (spare_fd_ >= 0) {
      close(spare_fd_);
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) RefuseBusy(fd, "the daemon is out of file descriptors");
      spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (spare_fd_ < 0) paused_until_ = Clock::now() + kAcceptPause;
  }

  void Arrive(int fd) {
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    Identify(c.get());
    std::string why;
    switch (admission_.Arrive(c->key, &why)) {
      case Admit::kRefuse:
        RefuseBusy(fd, why);
        return;
      case Admit::kWait:
        c->wait_until = Clock::now() + milliseconds(limits_.queue_wait_ms);
        waiting_.push_back(std::move(c));
        return;
      case Admit::kServe:
        Launch(std::move(c));
        return;
    }
  }

  void Launch(std::unique_ptr<Connection> c) {
    Connection* raw = c.get();
    try {
      raw->thread = std::thread([this, raw] { Serve(raw); });
    } catch (const std::exception&) {
      admission_.Leave(raw->key, true);
      RefuseBusy(raw->fd, "cannot start a thread");
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    running_.push_back(std::move(c));
  }

  void ReapFinished() {
    std::vector<std::unique_ptr<Connection>> finished;
    bool freed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = running_.begin(); it != running_.end();) {
        if ((*it)->session && !(*it)->slot_released) {  // a session holds no slot
          (*it)->slot_released = true;
          admission_.Leave((*it)->key, true);
          freed = true;
        }
        if ((*it)->done) {
          finished.push_back(std::move(*it));
          it = running_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& c : finished) {
      c->thread.join();
      if (!c->slot_released) admission_.Leave(c->key, true);
    }
    if (!finished.empty()) paused_until_ = Clock::time_point();  // descriptors were freed
    if (freed || !finished.empty()) StartWaiting();
  }

  void ExpireWaiting() {
    Clock::time_point now = Clock::now();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if ((*it)->wait_until > now) {
        ++it;
        continue;
      }
      admission_.Leave((*it)->key, false);
      RefuseBusy((*it)->fd,
                 "no slot came free in " + std::to_string(limits_.queue_wait_ms) + " ms");
      it = waiting_.erase(it);
    }
  }

  void StartWaiting() {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (!admission_.TryStart((*it)->key)) {
        ++it;
        continue;
      }
      std::unique_ptr<Connection> c = std::move(*it);
      it = waiting_.erase(it);
      Launch(std::move(c));
    }
  }

  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& c : running_) {
        if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);  // wakes a thread waiting on its peer
      }
    }
    // Only this thread adds to or removes from running_: no lock needed to walk it.
    for (auto& c : running_) c->thread.join();
    running_.clear();
    for (auto& c : waiting_) close(c->fd);
    waiting_.clear();
  }

  // Who is calling, read once at accept: identity, domain, world, admission class.
  void Identify(Connection* c) {
    c->process = PeerProcess::Take(c->fd);
    Peer& peer = c->peer;
    peer.pid = c->process.pid();
    peer.uid = c->process.uid();
    peer.gid = c->process.gid();
    auto policy = ctx_->policy ? ctx_->policy->Current() : nullptr;
    DomainId fallback = policy ? policy->default_domain() : 0;
    if (ctx_->tracker != nullptr && peer.pid > 0) {
      peer.info = ctx_->tracker->Identify(peer.pid, fallback);
    } else {  // no tracker (unit tests): everyone is in the default domain
      peer.info.identified = peer.pid > 0;
      peer.info.pid = peer.info.tid = peer.pid;
      peer.info.domain = fallback;
    }
    uint64_t world = PidNamespaceOf(peer.pid);
    // Last: everything above was read by pid, and is the connecting process's only if
    // that process still holds the pid now.
    if (!c->process.StillHoldsPid()) {
      peer.info.identified = false;
      world = 0;
    }
    // The socket's credentials are the kernel's; /proc's uid may be stale or missing.
    peer.info.uid = peer.uid;
    peer.info.gid = peer.gid;
    c->key = AdmissionKey{Privileged(peer, policy.get()), peer.uid, world,
                          world != 0 && world == daemon_world_};
  }

  // A session serves requests for as long as its opener keeps it: the opener's domain is
  // read again for each (it may have been placed or moved by an exec transition since,
  // keeping the descriptor), so a session never speaks with a right its opener has lost
  // (escape test test_issue17_4_session_outlives_its_openers_domain). Run() still checks
  // that the pid is the opener's; the uid stays the socket's. One cached Identify.
  void Reidentify(Connection* c) {
    Peer& peer = c->peer;
    if (ctx_->tracker == nullptr || peer.pid <= 0 || !peer.info.identified) return;
    auto policy = ctx_->policy ? ctx_->policy->Current() : nullptr;
    peer.info = ctx_->tracker->Identify(peer.pid, policy ? policy->default_domain() : 0);
    peer.info.uid = peer.uid;
    peer.info.gid = peer.gid;
  }

  // Supervisors (spt-run) and administrators: those who may change the policy or place
  // processes. They get the reserved slots and have no per-peer limits.
  static bool Privileged(const Peer& peer, const CompiledPolicy* policy) {
    if (!peer.info.identified || !policy) return false;
    if (peer.uid != 0 && peer.uid != geteuid()) return false;
    const CompiledDomain* d = policy->FindDomain(peer.info.domain);
    return d && (d->unconfined || d->HasCapability("domain_transition") ||
                 d->HasCapability("policy_admin"));
  }

  // ---- a connection's thread ------------------------------------------------------
  void Serve(Connection* c) {
    bool session = false;
    Reply reply = Handle(c, &session);
    bool sent = reply.exit_code >= 0 && Answer(c, reply);
    if (session && sent) {
      int epoch_fd = ctx_->epoch ? ctx_->epoch->read_only_fd() : -1;
      sent =
          SendFdByte(c->fd, epoch_fd, Clock::now() + milliseconds(limits_.reply_deadline_ms)).ok();
    }
    if (session && sent) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        c->session = true;
      }
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));  // the accept thread frees its slot
      ServeSession(c);
      sessions_.fetch_sub(1);
    } else if (session) {
      sessions_.fetch_sub(1);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      close(c->fd);
      c->fd = -1;
      c->done = true;
    }
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));  // the accept thread joins us
  }

  bool Answer(Connection* c, const Reply& reply) {
    return WriteAllBy(c->fd, EncodeReply(reply),
                      Clock::now() + milliseconds(limits_.reply_deadline_ms))
        .ok();
  }

  // A kept session: requests one after another, each read by its own deadline once its
  // first byte is there; it ends when the peer closes, stalls, sends garbage, or the
  // server stops (shutdown() wakes the poll).
  void ServeSession(Connection* c) {
    for (;;) {
      pollfd p = {c->fd, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
      if (!(p.revents & POLLIN)) return;  // hung up or shut down
      std::vector<std::string> argv;
      Reply reply;
      if (!ReadRequest(c, &argv, &reply)) return;
      if (reply.exit_code == 0) {
        bool sandbox = argv.size() >= 2 && argv[0] == "sandbox" && argv[1] != "session";
        if (sandbox) Reidentify(c);
        reply = sandbox ? Run(c, argv)
                        : Reply{2, "", "sptfs: a session serves only sandbox requests\n"};
      }
      if (!Answer(c, reply) || reply.exit_code == 2) return;
    }
  }

  // false: the peer is gone or stalled (send nothing). A bad frame: `*reply` says so.
  bool ReadRequest(Connection* c, std::vector<std::string>* argv, Reply* reply) {
    std::string payload;
    Status s = ReadFrameBy(c->fd, kMaxRequestBytes,
                           Clock::now() + milliseconds(limits_.request_deadline_ms), &payload);
    if (!s.ok() && s.code() == Status::Code::kIo) return false;
    if (s.ok()) s = DecodeRequest(payload, argv);
    *reply = s.ok() ? Reply{0, "", ""} : Reply{2, "", "sptfs: " + s.message() + "\n"};
    return true;
  }

  Reply Run(Connection* c, const std::vector<std::string>& argv) {
    Peer peer = c->peer;
    // The caller decided at accept must still be there: a connection handed on by a
    // process that has exited speaks for nobody (its pid may be someone else's now).
    if (peer.info.identified && !c->process.StillHoldsPid()) peer.info.identified = false;
    try {
      return runner_.Run(peer, argv);
    } catch (const std::exception& e) {  // a bug in a command must not end the daemon
      return {1, "", std::string("sptfs: internal error: ") + e.what() + "\n"};
    }
  }

  // exit_code -1: send nothing (the peer is gone or stalled). `*session`: the request
  // opened a session (counted in sessions_ until the caller gives it back).
  Reply Handle(Connection* c, bool* session) {
    std::vector<std::string> argv;
    Reply reply;
    if (!ReadRequest(c, &argv, &reply)) return {-1, "", ""};
    if (reply.exit_code != 0) return reply;
    if (argv.size() == 2 && argv[0] == "sandbox" && argv[1] == "session") {
      return OpenSession(c, argv, session);
    }
    return Run(c, argv);
  }

  Reply OpenSession(Connection* c, const std::vector<std::string>& argv, bool* session) {
    Reply reply = Run(c, argv);  // the command decides who may (and audits a refusal)
    if (reply.exit_code != 0) return reply;
    if (sessions_.fetch_add(1) >= limits_.sessions) {
      sessions_.fetch_sub(1);
      return {75, "",
              "sptfs: control socket busy (" + std::to_string(limits_.sessions) +
                  " sessions open), try again\n"};
    }
    *session = true;
    return reply;
  }

  CommandRunner runner_;
  DaemonContext* ctx_;
  const ControlLimits limits_;
  ConnectionAdmission admission_;  // accept thread only
  const std::string path_;
  const std::string link_;
  const int listen_fd_;
  const int stop_fd_;
  const int wake_fd_;  // connection threads -> accept thread: "one of us is done"
  const uint64_t daemon_world_;
  int spare_fd_ = -1;                                // accept thread only
  Clock::time_point paused_until_;                   // accept thread only
  std::deque<std::unique_ptr<Connection>> waiting_;  // accept thread only
  bool stopped_ = false;
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> running_;  // membership: accept thread only
  std::atomic<int> sessions_{0};
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
  return Start(socket_path, ctx, ControlLimits{}, out);
}

Status ControlServer::Start(const std::string& socket_path, DaemonContext* ctx,
                            const ControlLimits& limits, std::unique_ptr<ControlServer>* out) {
  if (socket_path.rfind(std::string(kSocketDir) + "/", 0) == 0) mkdir(kSocketDir, 0755);
  int listen_fd = -1;
  Status s = Listen(socket_path, &listen_fd);
  if (!s.ok()) return s;
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0 || wake_fd < 0) {
    int err = errno;
    close(listen_fd);
    if (stop_fd >= 0) close(stop_fd);
    if (wake_fd >= 0) close(wake_fd);
    return Status::Io(err, "control socket: eventfd");
  }
  std::string link = LinkForMount(socket_path, ctx->mountpoint);
  *out = std::make_unique<ControlServerImpl>(ctx, limits, socket_path, listen_fd, stop_fd, wake_fd,
                                             link);
  return Status::Ok();
}

}  // namespace sptfs
