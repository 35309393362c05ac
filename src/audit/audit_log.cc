// AuditLog over a file descriptor: callers format their line and hand it to a bounded
// queue under a short lock; one writer thread does all the I/O. A request therefore
// never waits for the disk, and a full queue or a burst over the rate limit only bumps
// a counter that is reported later as a type=SPT_AUDIT_SUPPRESSED line.
#include "audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sptfs {
namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class FdAuditLog : public AuditLog {
 public:
  FdAuditLog(int fd, bool owns_fd, int max_per_second, size_t capacity)
      : fd_(fd), owns_fd_(owns_fd), max_per_second_(max_per_second), capacity_(capacity) {
    writer_ = std::thread([this] { WriterLoop(); });
  }

  ~FdAuditLog() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
    if (owns_fd_) close(fd_);
  }

  void Access(const AccessRecord& record) override {
    int64_t now = NowMs();
    if (!Admit(now)) return;  // counted; formatting skipped on purpose under a flood
    if (!record.make_hint) {
      Enqueue(FormatAccessRecord(record, AuditTime(now)), now);
      return;
    }
    std::string hint = record.make_hint();
    AccessRecord with_hint = record;
    with_hint.hint = hint;
    Enqueue(FormatAccessRecord(with_hint, AuditTime(now)), now);
  }

  void Event(std::string_view type, std::string_view fields) override {
    int64_t now = NowMs();
    std::string line = "type=" + std::string(type) + " msg=audit(" + AuditTime(now) + "):";
    if (!fields.empty()) line += " " + std::string(fields);
    Enqueue(std::move(line), now);  // policy events are rare: never rate limited
  }

  bool LimitedEvent(std::string_view type, std::string_view fields) override {
    if (!Admit(NowMs())) return false;
    Event(type, fields);
    return true;
  }

  AuditStats Stats() const override {
    return AuditStats{written_.load(), suppressed_.load(), lost_.load()};
  }

  void Flush() override {
    std::unique_lock<std::mutex> lock(mu_);
    if (unreported_ > 0) PushReport(NowMs());
    wake_.notify_all();
    drained_.wait(lock, [this] { return queue_.empty() && !writing_; });
  }

 private:
  // Rate limit over one-second windows; only access records are limited.
  bool Admit(int64_t now_ms) {
    if (max_per_second_ <= 0) return true;
    std::lock_guard<std::mutex> lock(mu_);
    int64_t second = now_ms / 1000;
    if (second != window_) {
      window_ = second;
      in_window_ = 0;
    }
    if (in_window_ >= max_per_second_) {
      Suppress();
      return false;
    }
    ++in_window_;
    return true;
  }

  void Suppress() {  // mu_ held
    ++suppressed_;
    ++unreported_;
  }

  void PushReport(int64_t now_ms) {  // mu_ held
    queue_.push_back("type=SPT_AUDIT_SUPPRESSED msg=audit(" + AuditTime(now_ms) +
                     "): suppressed=" + std::to_string(unreported_) +
                     " total_suppressed=" + std::to_string(suppressed_.load()));
    unreported_ = 0;
  }

  void Enqueue(std::string line, int64_t now_ms) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      size_t needed = unreported_ > 0 ? 2 : 1;
      if (queue_.size() + needed > capacity_) {
        Suppress();
        return;
      }
      if (unreported_ > 0) PushReport(now_ms);
      queue_.push_back(std::move(line));
    }
    wake_.notify_one();
  }

  void WriterLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      // Wake at least once a second so a flood that stopped still gets its report.
      wake_.wait_for(lock, std::chrono::seconds(1),
                     [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && unreported_ > 0) PushReport(NowMs());
      std::deque<std::string> batch;
      batch.swap(queue_);
      writing_ = !batch.empty();
      lock.unlock();
      for (std::string& line : batch) WriteLine(&line);
      lock.lock();
      writing_ = false;
      if (queue_.empty()) drained_.notify_all();
      if (stopping_ && queue_.empty()) return;
    }
  }

  void WriteLine(std::string* line) {
    line->push_back('\n');
    const char* p = line->data();
    size_t left = line->size();
    while (left > 0) {
      ssize_t n = write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ++lost_;  // disk full, unwritable: the request already went on
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    ++written_;
  }

  const int fd_;
  const bool owns_fd_;
  const int max_per_second_;
  const size_t capacity_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  bool writing_ = false;
  int64_t window_ = 0;
  int in_window_ = 0;
  uint64_t unreported_ = 0;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> suppressed_{0};
  std::atomic<uint64_t> lost_{0};
  std::thread writer_;
};

}  // namespace

Status AuditLog::Open(const std::string& path, int max_per_second, std::unique_ptr<AuditLog>* out) {
  return Open(path, max_per_second, kDefaultQueueCapacity, out);
}

Status AuditLog::Open(const std::string& path, int max_per_second, size_t queue_capacity,
                      std::unique_ptr<AuditLog>* out) {
  if (queue_capacity < 2) return Status::Invalid("audit queue capacity must be at least 2");
  if (path.empty() || path == "-") {
    *out = std::make_unique<FdAuditLog>(STDERR_FILENO, false, max_per_second, queue_capacity);
    return Status::Ok();
  }
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    int err = errno;
    return Status::Io(err, path + ": cannot open audit log");
  }
  *out = std::make_unique<FdAuditLog>(fd, true, max_per_second, queue_capacity);
  return Status::Ok();
}

}  // namespace sptfs
