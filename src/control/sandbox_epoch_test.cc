#include "control/sandbox_epoch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace sptfs {
namespace {

TEST(SandboxEpoch, ReadersSeeEveryBumpAndCannotWrite) {
  std::unique_ptr<SandboxEpoch> epoch;
  ASSERT_TRUE(SandboxEpoch::Create(&epoch).ok());
  std::unique_ptr<EpochView> view;
  ASSERT_TRUE(EpochView::Map(fcntl(epoch->read_only_fd(), F_DUPFD_CLOEXEC, 0), &view).ok());
  uint64_t start = view->Read();
  EXPECT_EQ(start, epoch->Read());
  epoch->Bump();
  epoch->Bump();
  EXPECT_EQ(view->Read(), start + 2);
  // What a supervisor receives cannot be mapped for writing, nor resized.
  int fd = epoch->read_only_fd();
  EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
  EXPECT_NE(ftruncate(fd, 0), 0);
  EXPECT_NE(write(fd, "x", 1), 1);
  // Nor through a new open of it (a memfd is mode 0777): the daemon's own mapping is
  // the only writer (F_SEAL_FUTURE_WRITE).
  int rw = open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDWR | O_CLOEXEC);
  if (rw >= 0) {
    EXPECT_NE(pwrite(rw, "xxxxxxxx", 8, 0), 8);
    EXPECT_EQ(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0), MAP_FAILED);
    close(rw);
  }
  EXPECT_EQ(view->Read(), start + 2);
  epoch->Bump();  // and the daemon still writes
  EXPECT_EQ(view->Read(), start + 3);
}

TEST(SandboxEpoch, AnUnmappableDescriptorIsAnError) {
  std::unique_ptr<EpochView> view;
  int pipes[2];
  ASSERT_EQ(pipe(pipes), 0);
  close(pipes[1]);
  EXPECT_FALSE(EpochView::Map(pipes[0], &view).ok());  // and closed it
  EXPECT_EQ(fcntl(pipes[0], F_GETFD), -1);
}

}  // namespace
}  // namespace sptfs
