#include "sandbox.h"

#include <linux/capability.h>

#include <algorithm>

#include "gtest/gtest.h"

namespace sptfs {
namespace {

bool Has(const std::vector<int>& caps, int cap) {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

SandboxRules Domain(bool unconfined, std::vector<std::pair<std::string, std::string>> net = {}) {
  SandboxRules d;
  d.unconfined = unconfined;
  for (auto& n : net) d.network.insert(n);
  return d;
}

TEST(KeptCapabilities, OnlyWhatRootProgramsAndTheRulesNeed) {
  std::vector<int> plain = KeptCapabilities({Domain(false)});
  for (int cap :
       {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_SETUID, CAP_SETGID, CAP_KILL}) {
    EXPECT_TRUE(Has(plain, cap)) << cap;
  }
  for (int cap : {CAP_SYS_ADMIN, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_IPC_OWNER, CAP_SYS_NICE,
                  CAP_SYS_RESOURCE, CAP_SETPCAP, CAP_AUDIT_WRITE, CAP_DAC_READ_SEARCH}) {
    EXPECT_FALSE(Has(plain, cap)) << cap;
  }
  EXPECT_EQ(plain.size(), 7u);
  std::vector<int> binds =
      KeptCapabilities({Domain(false), Domain(false, {{"inet_socket_bind", "loopback"}})});
  EXPECT_TRUE(Has(binds, CAP_NET_BIND_SERVICE));
  EXPECT_FALSE(Has(binds, CAP_NET_RAW));
  EXPECT_FALSE(Has(KeptCapabilities({Domain(false, {{"inet_socket_connect", "all"}})}),
                   CAP_NET_BIND_SERVICE));
  std::vector<int> free = KeptCapabilities({Domain(true)});
  EXPECT_TRUE(Has(free, CAP_NET_BIND_SERVICE));
  EXPECT_TRUE(Has(free, CAP_NET_RAW));
  EXPECT_FALSE(Has(free, CAP_SYS_ADMIN));
  EXPECT_TRUE(std::is_sorted(free.begin(), free.end()));
}

}  // namespace
}  // namespace sptfs
