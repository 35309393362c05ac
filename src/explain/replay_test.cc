#include "explain/replay.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

namespace sptfs {
namespace {

using testing::CompileOrDie;
using testing::Dom;
using testing::Set;

const char kLog[] =
    "type=SPT_MOUNT msg=audit(1.000): mountpoint=\"/m\"\n"
    "type=SPT_AVC msg=audit(1.001): denied { read } op=open pid=1 tid=1 comm=\"vmx\" "
    "exe=\"/bin/vmx\" uid=0 path=\"/ds2/locker/w.iso\" label=unlabeled domain=vm(4) "
    "level=enforcing rule=\"no rule\" generation=1\n"
    "type=SPT_AVC msg=audit(1.002): denied { read } op=open pid=1 tid=1 comm=\"vmx\" "
    "exe=\"/bin/vmx\" uid=0 path=\"/ds2/locker/w.iso\" label=unlabeled domain=vm(4) "
    "level=enforcing rule=\"no rule\" generation=1\n"
    "type=SPT_AVC msg=audit(1.003): warning { read write } op=open pid=2 tid=2 comm=\"x\" "
    "exe=\"/x\" uid=0 path=\"/tmp/f\" label=unlabeled domain=box(5) level=warning "
    "rule=\"no rule\" generation=1\n"
    "type=SPT_AVC msg=audit(1.004): denied { write } op=open pid=1 tid=1 comm=\"vmx\" "
    "exe=\"/bin/vmx\" uid=0 path=\"/ds2/locker/w.iso\" label=unlabeled domain=vm(4) "
    "level=enforcing rule=\"no rule\" generation=1\n";

TEST(Replay, DenialsThatALoadAllowsAndWarningsItWouldDeny) {
  MemoryTree tree;
  tree.AddDirectory("/ds1/locker");
  tree.AddDirectory("/ds2/locker");
  tree.AddDirectory("/tmp");
  tree.AddSymlink("/productLocker", "/ds1/locker");
  PolicySet running =
      Set({Dom("vm", 4, {"-r /productLocker r"}), Dom("box", 5, {}, Level::kWarning)});
  auto current = CompileOrDie(running, tree);
  tree.AddSymlink("/productLocker", "/ds2/locker");
  PolicySet loaded = Set({Dom("vm", 4, {"-r /productLocker r"}), Dom("box", 5, {})});  // enforcing
  auto next = CompileOrDie(loaded, tree);
  std::string out;
  EXPECT_EQ(ReplayAuditLog("audit.log", kLog, *current, *next, &out), 2u);
  EXPECT_EQ(out,
            "replay of audit.log: 4 access records\n"
            "  would become allowed: vm(4) read /ds2/locker/w.iso (2 records)\n"
            "  would become denied:  box(5) read write /tmp/f (1 record)\n");
  out.clear();
  EXPECT_EQ(ReplayAuditLog("audit.log", kLog, *next, *next, &out), 0u);
  EXPECT_EQ(out, "replay of audit.log: 4 access records\n");
}

}  // namespace
}  // namespace sptfs
