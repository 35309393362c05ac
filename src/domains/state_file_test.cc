#include "domains/state_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

namespace sptfs {
namespace {

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sptfs-state-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/domains.state";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  std::string dir_, path_;
};

TEST_F(StateFileTest, MissingFileIsEmpty) {
  TrackerState state;
  ASSERT_TRUE(LoadTrackerState(path_, "b1", &state).ok());
  EXPECT_TRUE(state.worlds.empty());
  EXPECT_TRUE(state.procs.empty());
}

TEST_F(StateFileTest, RoundTrip) {
  TrackerState state;
  state.worlds.push_back({4026532000u, 123, 456, 7});
  state.procs.push_back({200, 300, 9, ProcKind::kTransition});
  state.procs.push_back({201, 301, 0, ProcKind::kDefault});
  ASSERT_TRUE(SaveTrackerState(path_, "b1", state).ok());
  TrackerState back;
  ASSERT_TRUE(LoadTrackerState(path_, "b1", &back).ok());
  ASSERT_EQ(back.worlds.size(), 1u);
  EXPECT_EQ(back.worlds[0].pidns, 4026532000u);
  EXPECT_EQ(back.worlds[0].leader, 123);
  EXPECT_EQ(back.worlds[0].leader_start, 456u);
  EXPECT_EQ(back.worlds[0].domain, 7u);
  ASSERT_EQ(back.procs.size(), 2u);
  EXPECT_EQ(back.procs[0].kind, ProcKind::kTransition);
  EXPECT_EQ(back.procs[1].kind, ProcKind::kDefault);
  EXPECT_EQ(access((path_ + ".tmp").c_str(), F_OK), -1);  // renamed, not left behind
}

TEST_F(StateFileTest, SaveNeverWritesThroughAPlantedTemporary) {
  // A symlink at the temporary name (the daemon is root): its target stays untouched.
  std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "keep\n";
  ASSERT_EQ(symlink(victim.c_str(), (path_ + ".tmp").c_str()), 0);
  TrackerState state;
  state.procs.push_back({200, 300, 9, ProcKind::kPlaced});
  ASSERT_TRUE(SaveTrackerState(path_, "b1", state).ok());
  std::ifstream in(victim);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "keep");
  TrackerState back;
  ASSERT_TRUE(LoadTrackerState(path_, "b1", &back).ok());
  EXPECT_EQ(back.procs.size(), 1u);
  unlink(victim.c_str());
}

TEST_F(StateFileTest, OtherBootLoadsEmpty) {
  TrackerState state;
  state.procs.push_back({200, 300, 9, ProcKind::kPlaced});
  ASSERT_TRUE(SaveTrackerState(path_, "old-boot", state).ok());
  TrackerState back;
  ASSERT_TRUE(LoadTrackerState(path_, "new-boot", &back).ok());
  EXPECT_TRUE(back.procs.empty());
}

TEST_F(StateFileTest, BadRecordNamesFileAndLine) {
  Write("sptfs-domains 1 boot=b1\nworld 1 2 3 4\nproc 5 six 7 placed\n");
  TrackerState state;
  Status s = LoadTrackerState(path_, "b1", &state);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  EXPECT_NE(s.message().find(path_ + ":3: bad record"), std::string::npos) << s.message();
  EXPECT_TRUE(state.worlds.empty());  // nothing half-loaded
}

TEST_F(StateFileTest, BadHeader) {
  Write("hello\n");
  TrackerState state;
  Status s = LoadTrackerState(path_, "b1", &state);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: not a domain state file"), std::string::npos) << s.message();
}

TEST_F(StateFileTest, UnknownKindRejected) {
  Write("sptfs-domains 1 boot=b1\nproc 5 6 7 sideways\n");
  TrackerState state;
  EXPECT_FALSE(LoadTrackerState(path_, "b1", &state).ok());
}

}  // namespace
}  // namespace sptfs
