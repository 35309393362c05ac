#include "control/sandbox_epoch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace sptfs {
namespace {

constexpr size_t kPage = 4096;
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010  // Linux 5.1
#endif

}  // namespace

Status SandboxEpoch::Create(std::unique_ptr<SandboxEpoch>* out) {
  int fd = memfd_create("sptfs-sandbox-epoch", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Status::Io(errno, "sandbox epoch: memfd_create");
  void* page = MAP_FAILED;
  int ro = -1;
  if (ftruncate(fd, kPage) == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0) {
    page = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    // Our mapping stays writable; nothing else can write: a memfd is mode 0777, so a
    // read-only descriptor reopened through /proc/self/fd would be writable without
    // this seal (escape test test_issue17_4_epoch_page_cannot_be_written_by_its_holder).
    if (page != MAP_FAILED && fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) == 0) {
      // A new open file description, read-only: what the supervisors get.
      ro = open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC);
    }
  }
  if (page == MAP_FAILED || ro < 0) {
    int err = errno;
    if (page != MAP_FAILED) munmap(page, kPage);
    if (ro >= 0) close(ro);
    close(fd);
    return Status::Io(err, "sandbox epoch: cannot make the shared page");
  }
  out->reset(new SandboxEpoch(fd, ro, static_cast<uint64_t*>(page)));
  return Status::Ok();
}

SandboxEpoch::~SandboxEpoch() {
  munmap(page_, kPage);
  close(ro_fd_);
  close(fd_);
}

void SandboxEpoch::Bump() { __atomic_add_fetch(page_, 1, __ATOMIC_RELEASE); }

uint64_t SandboxEpoch::Read() const { return __atomic_load_n(page_, __ATOMIC_ACQUIRE); }

Status EpochView::Map(int fd, std::unique_ptr<EpochView>* out) {
  void* page = mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (page == MAP_FAILED) return Status::Io(err, "sandbox epoch: cannot map the daemon's page");
  out->reset(new EpochView(static_cast<const uint64_t*>(page)));
  return Status::Ok();
}

EpochView::~EpochView() { munmap(const_cast<uint64_t*>(page_), kPage); }

uint64_t EpochView::Read() const { return __atomic_load_n(page_, __ATOMIC_ACQUIRE); }

}  // namespace sptfs
