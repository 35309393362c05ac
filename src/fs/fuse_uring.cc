#include "fs/fuse_uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fs/uring_frame.h"

namespace sptfs {
namespace {

// Workers per CPU queue, one entry each: a worker busy with a slow request (an fsync, a
// lookup on a slow backing store) holds only its own entry, and the kernel gives the
// queue's next request to the other.
constexpr int kWorkersPerQueue = 2;
constexpr uint64_t kStopTag = ~0ULL;
constexpr uint64_t kEntryTag = 1;

std::atomic<bool> wanted{false};
std::atomic<bool> stopping{false};
std::atomic<bool> failed{false};

// A worker of queue `qid` ended while the mount was live: says why (the first time) and
// ends the mount (fuse_uring.h, UringFailed).
void Fail(unsigned qid, const std::string& what) {
  if (stopping.load() || failed.exchange(true)) return;
  fprintf(stderr,
          "sptfs: io_uring queue %u: %s; ending the mount (its callers would wait for an "
          "entry that is gone)\n",
          qid, what.c_str());
  kill(getpid(), SIGTERM);  // the session's signal handler ends the loop
}

// Test hook (tests/integration/fs/test_uring.py): with SPTFS_TEST_URING_FAIL_QUEUE=Q the
// first worker of queue Q sets up no ring, as if io_uring_queue_init had failed.
bool FailForTest(unsigned qid, int worker) {
  static const char* q = getenv("SPTFS_TEST_URING_FAIL_QUEUE");
  if (q == nullptr || worker != 0 || static_cast<unsigned>(atoi(q)) != qid) return false;
  errno = EPERM;
  return true;
}

struct Pool {
  std::mutex mu;
  std::vector<std::thread> threads;
  int stop_fd = -1;
};
Pool& pool() {
  static Pool p;
  return p;
}

// The request this thread is answering (null outside one).
struct Answering {
  UringReqHeader* header;
  char* payload;
  size_t payload_size;
  uint64_t unique;
  bool replied;
};
thread_local Answering* answering = nullptr;

// One registered entry: its header block and its payload, with kUringPrefix bytes of
// room before the payload (uring_frame.h). Mapped, so untouched payload costs no memory.
class Entry {
 public:
  explicit Entry(size_t payload_size) : payload_size_(payload_size) {
    size_ = sizeof(UringReqHeader) + kUringPrefix + payload_size;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
    if (!base_) return;
    iov_[0] = {header(), sizeof(UringReqHeader)};
    iov_[1] = {payload(), payload_size};
  }
  ~Entry() {
    if (base_) munmap(base_, size_);
  }
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  bool ok() const { return base_ != nullptr; }
  UringReqHeader* header() { return reinterpret_cast<UringReqHeader*>(base_); }
  char* payload() { return base_ + sizeof(UringReqHeader) + kUringPrefix; }
  size_t payload_size() const { return payload_size_; }
  iovec* iov() { return iov_; }

 private:
  size_t payload_size_;
  size_t size_ = 0;
  char* base_ = nullptr;
  iovec iov_[2] = {};
};

// Fills the ring's next submission entry (128 bytes) with a command on `iov`'s entry;
// false if the ring has no free entry.
bool PrepCommand(io_uring* ring, int fd, uint32_t op, uint16_t qid, uint64_t commit_id,
                 iovec* iov) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == nullptr) return false;
  memset(static_cast<void*>(sqe), 0, 2 * sizeof(io_uring_sqe));
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = fd;
  sqe->cmd_op = op;
  sqe->addr = reinterpret_cast<uint64_t>(iov);
  sqe->len = 2;
  sqe->user_data = kEntryTag;
  auto* cmd = reinterpret_cast<UringCmdReq*>(sqe->cmd);
  cmd->qid = qid;
  cmd->commit_id = commit_id;
  return true;
}

void SetErrorReply(UringReqHeader* h, uint64_t unique, int err) {
  fuse_out_header out{sizeof(out), -err, unique};
  memcpy(h->in_out, &out, sizeof(out));
  h->ent.payload_sz = 0;
}

// Processes the request in `e` with libfuse, which answers it through the session's
// writev (UringTakeThreadReply). Returns its unique, the commit id.
uint64_t Serve(fuse_session* se, Entry* e) {
  fuse_in_header in;
  memcpy(&in, e->header()->in_out, sizeof(in));
  char* msg = nullptr;
  ssize_t len = UringAssembleRequest(*e->header(), e->payload(), e->payload_size(), &msg);
  if (len < 0) {
    SetErrorReply(e->header(), in.unique, EIO);
    return in.unique;
  }
  Answering a{e->header(), e->payload(), e->payload_size(), in.unique, false};
  answering = &a;
  fuse_buf buf{};
  buf.size = static_cast<size_t>(len);
  buf.mem = msg;
  fuse_session_process_buf(se, &buf);
  answering = nullptr;
  // libfuse answers every request but a forget, and forgets do not come this way; an
  // entry must be committed with an answer all the same, or its caller waits forever.
  if (!a.replied) SetErrorReply(e->header(), in.unique, EIO);
  return in.unique;
}

bool InitRing(io_uring* ring) {
  io_uring_params p{};
  // Task work (the kernel filling the entry) runs when this thread waits, not by
  // interrupting it; the ring has one submitter.
  p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(4, ring, &p) == 0) return true;
  io_uring_params plain{};
  plain.flags = IORING_SETUP_SQE128;
  int rc = io_uring_queue_init_params(4, ring, &plain);
  if (rc < 0) errno = -rc;  // liburing returns the error instead of setting errno
  return rc == 0;
}

void PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);  // a CPU outside our affinity: left floating
}

struct WorkerArgs {
  fuse_session* se;
  int fd;
  uint16_t qid;
  int worker;  // 0 .. kWorkersPerQueue-1
  size_t payload_size;
  int stop_fd;
};

// Registers one entry, then answers the requests that come in it until the connection
// ends (the kernel completes the command with an error) or StopUring.
void RunWorker(WorkerArgs w, std::latch* started) {
  pthread_setname_np(pthread_self(), "sptfs-ring");  // for top -H, ps -L and the tests
  // Signals go to the session's threads: SIGTERM must interrupt the loop, not a ring wait.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  PinToCpu(w.qid);
  Entry entry(w.payload_size);
  io_uring ring;
  bool ring_up = entry.ok() && !FailForTest(w.qid, w.worker) && InitRing(&ring);
  bool ok = ring_up;
  if (ok) {
    io_uring_sqe* stop = io_uring_get_sqe(&ring);
    io_uring_prep_poll_add(stop, w.stop_fd, POLLIN);
    stop->user_data = kStopTag;
    ok = PrepCommand(&ring, w.fd, kUringCmdRegister, w.qid, 0, entry.iov()) &&
         io_uring_submit(&ring) == 2;
  }
  int setup_errno = errno;
  started->count_down();
  if (!ok) {
    if (ring_up) io_uring_queue_exit(&ring);
    Fail(w.qid, std::string("no entry registered (") + strerror(setup_errno) + ")");
    return;
  }
  for (;;) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(&ring, &cqe);
    if (rc == -EINTR) continue;
    if (rc < 0) break;
    uint64_t tag = cqe->user_data;
    int res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    if (tag == kStopTag) break;
    if (res < 0) {  // ENOTCONN: the mount is gone; anything else: the entry is lost
      if (res != -ENOTCONN && res != -ECONNABORTED) {
        Fail(w.qid, std::string("entry ended: ") + strerror(-res));
      }
      break;
    }
    uint64_t unique = Serve(w.se, &entry);
    if (!PrepCommand(&ring, w.fd, kUringCmdCommitAndFetch, w.qid, unique, entry.iov())) {
      Fail(w.qid, "no submission entry for the answer");
      break;
    }
    while ((rc = io_uring_submit(&ring)) == -EINTR) {
    }
    if (rc != 1) {
      Fail(w.qid, std::string("answer not submitted: ") + strerror(rc < 0 ? -rc : EIO));
      break;
    }
  }
  io_uring_queue_exit(&ring);
}

// The kernel's number of queues: possible CPUs (/sys/devices/system/cpu/possible, such
// as "0-3" or "0,2-5"), counted as the highest listed index plus one.
int PossibleCpus() {
  FILE* f = fopen("/sys/devices/system/cpu/possible", "re");
  if (!f) return 0;
  char line[256] = {};
  bool read = fgets(line, sizeof(line), f) != nullptr;
  fclose(f);
  if (!read) return 0;
  int highest = -1;
  for (char* p = line; *p;) {
    char* end = nullptr;
    long n = strtol(p, &end, 10);
    if (end == p) break;
    if (n > highest) highest = static_cast<int>(n);
    p = *end ? end + 1 : end;
  }
  return highest + 1;
}

// Whether the fuse module's enable_uring parameter is on (the kernel then offers it).
bool KernelOffersUring() {
  FILE* f = fopen("/sys/module/fuse/parameters/enable_uring", "re");
  if (!f) return false;
  int c = fgetc(f);
  fclose(f);
  return c == 'Y' || c == '1';
}

}  // namespace

void SetUringWanted(bool w) { wanted.store(w); }
bool UringWanted() { return wanted.load(); }

bool UringUsable(std::string* why) {
  if (!KernelOffersUring()) {
    *why =
        "the kernel does not offer FUSE over io_uring "
        "(/sys/module/fuse/parameters/enable_uring is not Y)";
    return false;
  }
  io_uring ring;  // as the workers will set theirs up
  if (!InitRing(&ring)) {
    *why = std::string("io_uring cannot be set up here (") + strerror(errno) +
           "; see /proc/sys/kernel/io_uring_disabled)";
    return false;
  }
  io_uring_queue_exit(&ring);
  return true;
}

bool UringOffered(uint64_t init_flags) { return (init_flags & kFuseOverIoUring) != 0; }

void StartUring(fuse_session* se, int fd, size_t payload_size) {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.stop_fd >= 0) return;  // started already
  // The INIT reply has asked for the rings: without workers no request would be served.
  int queues = PossibleCpus();
  if (queues <= 0) {
    Fail(0, "no CPU count in /sys/devices/system/cpu/possible");
    return;
  }
  p.stop_fd = eventfd(0, EFD_CLOEXEC);
  if (p.stop_fd < 0) {
    Fail(0, std::string("no eventfd (") + strerror(errno) + ")");
    return;
  }
  std::latch started(static_cast<std::ptrdiff_t>(queues) * kWorkersPerQueue);
  for (int q = 0; q < queues; ++q) {
    for (int i = 0; i < kWorkersPerQueue; ++i) {
      WorkerArgs w{se, fd, static_cast<uint16_t>(q), i, payload_size, p.stop_fd};
      p.threads.emplace_back(RunWorker, w, &started);
    }
  }
  started.wait();
}

bool UringTakeThreadReply(const iovec* iov, int count, ssize_t* n) {
  Answering* a = answering;
  if (a == nullptr || a->replied || count < 1 || iov[0].iov_len < sizeof(fuse_out_header)) {
    return false;
  }
  const auto* out = static_cast<const fuse_out_header*>(iov[0].iov_base);
  if (out->unique != a->unique) return false;  // a notification (unique 0)
  a->replied = true;
  ssize_t r = UringTakeReply(iov, count, a->header, a->payload, a->payload_size);
  if (r < 0) {  // what /dev/fuse would refuse: the caller gets EIO, libfuse the error
    SetErrorReply(a->header, a->unique, EIO);
    errno = static_cast<int>(-r);
    *n = -1;
    return true;
  }
  *n = r;
  return true;
}

void StopUring() {
  stopping.store(true);
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.stop_fd < 0) return;
  uint64_t one = 1;
  if (write(p.stop_fd, &one, sizeof(one)) != sizeof(one)) perror("sptfs: io_uring stop");
  for (std::thread& t : p.threads) t.join();
  p.threads.clear();
  close(p.stop_fd);
  p.stop_fd = -1;
}

bool UringFailed() { return failed.load(); }

}  // namespace sptfs
