#include "sandbox/landlock_rules.h"

#include <gtest/gtest.h>

#include <map>

namespace sptfs {
namespace {

constexpr int kAbi = 7;
const uint64_t kR = ll::kReadFile | ll::kReadDir;
const uint64_t kAll = HandledFsAccess(kAbi);

// A made-up host: every path with its kind; directories list the paths directly below.
class FakeHost : public HostView {
 public:
  FakeHost(std::initializer_list<std::pair<std::string, HostKind>> paths) {
    kinds_["/"] = HostKind::kDirectory;
    for (const auto& [p, k] : paths) kinds_[p] = k;
  }
  HostKind Kind(const std::string& path) override {
    auto it = kinds_.find(path);
    if (it == kinds_.end()) return HostKind::kMissing;
    return it->second == HostKind::kSymlink ? HostKind::kDirectory : it->second;
  }
  std::vector<std::pair<std::string, HostKind>> List(const std::string& dir) override {
    std::vector<std::pair<std::string, HostKind>> out;
    std::string prefix = dir == "/" ? "/" : dir + "/";
    for (const auto& [p, k] : kinds_) {
      if (p.size() > prefix.size() && p.rfind(prefix, 0) == 0 &&
          p.find('/', prefix.size()) == std::string::npos) {
        out.emplace_back(p.substr(prefix.size()), k);
      }
    }
    return out;
  }
  std::vector<std::string> Paths() const {
    std::vector<std::string> out;
    for (const auto& [p, k] : kinds_) out.push_back(p);
    return out;
  }

 private:
  std::map<std::string, HostKind> kinds_;
};

const HostKind D = HostKind::kDirectory, F = HostKind::kOther, L = HostKind::kSymlink;

FakeHost StandardHost() {
  return FakeHost{{"/etc", D},
                  {"/etc/passwd", F},
                  {"/etc/shadow", F},
                  {"/etc/ssl", D},
                  {"/etc/ssl/cert", F},
                  {"/etc/ld.so.cache", F},
                  {"/usr", D},
                  {"/usr/bin", D},
                  {"/usr/bin/cat", F},
                  {"/usr/lib", D},
                  {"/usr/lib/libc.so", F},
                  {"/lib", L},
                  {"/root", D},
                  {"/root/key", F},
                  {"/tmp", D},
                  {"/tmp/sb", D},
                  {"/tmp/sb/tree", D},
                  {"/tmp/sb/tree/secret", F},
                  {"/tmp/sb/mnt", D},
                  {"/tmp/sb/mnt/secret", F},
                  {"/tmp/other", F},
                  {"/data", D},
                  {"/data/a", F},
                  {"/data/private", D},
                  {"/data/private/b", F}};
}

LandlockDomain Dom(std::string name, DomainId id, std::vector<std::pair<std::string, Perms>> paths,
                   std::vector<std::string> transitions = {}) {
  LandlockDomain d;
  d.name = std::move(name);
  d.id = id;
  d.paths = std::move(paths);
  d.transitions = std::move(transitions);
  return d;
}

bool Covers(const std::string& prefix, const std::string& path) {
  if (prefix == "/") return true;
  return path == prefix || (path.rfind(prefix + "/", 0) == 0);
}

// What Landlock gives at `path`: the union of the grants on it and its ancestors.
uint64_t Effective(const LandlockPlan& plan, const std::string& path) {
  uint64_t out = 0;
  for (const LandlockGrant& g : plan.grants) {
    if (Covers(g.path, path)) out |= g.access;
  }
  return out;
}

std::vector<const LandlockDomain*> Reach(const std::vector<LandlockDomain>& all,
                                         const std::string& start) {
  std::vector<const LandlockDomain*> out;
  EXPECT_TRUE(ReachableDomains(all, start, &out).ok());
  return out;
}

// Never more than the union of the reachable domains' -r rules read as host paths
// (the mount aside; a non-directory may hold listing/making bits, which mean nothing
// for it), for every path of the host.
void ExpectNeverWider(const LandlockPlan& plan, const std::vector<const LandlockDomain*>& reach,
                      FakeHost& host, const std::string& mount) {
  for (const std::string& p : host.Paths()) {
    if (Covers(mount, p)) continue;
    uint64_t allowed = FsAccessOf(HostPermsAt(reach, p, nullptr), kAbi);
    if (host.Kind(p) == HostKind::kOther) allowed |= ll::kReadDir | ll::kMakeAny;
    EXPECT_EQ(Effective(plan, p) & ~allowed, 0u) << p;
  }
}

TEST(LandlockMapping, PermsToAccess) {
  EXPECT_EQ(FsAccessOf(kPermNone, kAbi), 0u);
  EXPECT_EQ(FsAccessOf(kPermRead, kAbi), kR);
  EXPECT_EQ(FsAccessOf(kPermExec, kAbi), ll::kExecute);
  uint64_t w = FsAccessOf(kPermWrite, kAbi);
  for (uint64_t bit : {ll::kWriteFile, ll::kTruncate, ll::kMakeReg, ll::kMakeDir, ll::kMakeSym,
                       ll::kRemoveFile, ll::kRemoveDir, ll::kRefer, ll::kIoctlDev}) {
    EXPECT_NE(w & bit, 0u) << bit;
  }
  EXPECT_EQ(w & (kR | ll::kExecute), 0u);
  EXPECT_EQ(FsAccessOf(kPermAll, kAbi), kAll);
}

TEST(LandlockMapping, OlderAbisKnowFewerRights) {
  EXPECT_EQ(HandledFsAccess(0), 0u);
  EXPECT_EQ(HandledFsAccess(1) & (ll::kRefer | ll::kTruncate | ll::kIoctlDev), 0u);
  EXPECT_NE(HandledFsAccess(2) & ll::kRefer, 0u);
  EXPECT_EQ(HandledFsAccess(2) & ll::kTruncate, 0u);
  EXPECT_NE(HandledFsAccess(3) & ll::kTruncate, 0u);
  EXPECT_EQ(HandledFsAccess(4) & ll::kIoctlDev, 0u);
  EXPECT_NE(HandledFsAccess(5) & ll::kIoctlDev, 0u);
  EXPECT_EQ(FsAccessOf(kPermWrite, 1) & ~HandledFsAccess(1), 0u);
}

TEST(LandlockReply, ParsesBlocks) {
  std::vector<LandlockDomain> out;
  ASSERT_TRUE(ParseLandlockDomains("domain aDom 10 enforcing confined\n"
                                   "-r /usr rx\n-r /etc/shadow \n"
                                   "-d bObj bDom file_exec grant\n"
                                   "-p inet_socket_connect loopback grant\n"
                                   "domain superDom 0 enforcing unconfined\n",
                                   &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "aDom");
  EXPECT_EQ(out[0].id, 10u);
  ASSERT_EQ(out[0].paths.size(), 2u);
  EXPECT_EQ(out[0].paths[0], (std::pair<std::string, Perms>{"/usr", kPermRead | kPermExec}));
  EXPECT_EQ(out[0].paths[1].second, kPermNone);
  EXPECT_EQ(out[0].transitions, std::vector<std::string>{"bDom"});
  EXPECT_EQ(out[0].network_ops, std::vector<std::string>{"inet_socket_connect"});
  EXPECT_TRUE(out[1].unconfined);
}

TEST(LandlockReply, RejectsBadInput) {
  std::vector<LandlockDomain> out;
  Status s = ParseLandlockDomains("-r /usr r\n", &out);
  EXPECT_NE(s.message().find("landlock reply:1: a rule before any domain line"), std::string::npos)
      << s.message();
  s = ParseLandlockDomains("domain a 1 enforcing\n", &out);
  EXPECT_NE(s.message().find("wrong number of words"), std::string::npos);
  s = ParseLandlockDomains("domain a 1 loud confined\n", &out);
  EXPECT_NE(s.message().find("bad level"), std::string::npos);
  s = ParseLandlockDomains("domain a 1 enforcing confined\n-c unix_socket_create grant\n", &out);
  EXPECT_NE(s.message().find("landlock reply:2: a rule of another kind"), std::string::npos);
  EXPECT_FALSE(ParseLandlockDomains("", &out).ok());
  EXPECT_TRUE(out.empty());  // nothing changed by a failed parse
}

TEST(LandlockReach, FollowsTransitionsTransitively) {
  std::vector<LandlockDomain> all = {Dom("a", 10, {}, {"b"}), Dom("b", 11, {}, {"c", "a"}),
                                     Dom("c", 12, {}), Dom("d", 13, {})};
  std::vector<const LandlockDomain*> r = Reach(all, "a");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]->name, "a");
  EXPECT_EQ(r[2]->name, "c");
  EXPECT_EQ(Reach(all, "12").size(), 1u);  // by id
  EXPECT_EQ(Reach(all, "d").size(), 1u);
}

TEST(LandlockReach, UnknownStartOrTargetFails) {
  std::vector<LandlockDomain> all = {Dom("a", 10, {}, {"ghost"})};
  std::vector<const LandlockDomain*> out;
  EXPECT_EQ(ReachableDomains(all, "nope", &out).code(), Status::Code::kNotFound);
  Status s = ReachableDomains(all, "a", &out);
  EXPECT_NE(s.message().find("\"ghost\""), std::string::npos) << s.message();
}

TEST(LandlockPlan, GrantsWhatRulesSayAndNothingElse) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {Dom("a", 10,
                                         {{"/usr", kPermRead | kPermExec},
                                          {"/etc/ld.so.cache", kPermRead},
                                          {"/tmp/sb/mnt/secret", kPermNone}})};
  auto reach = Reach(all, "a");
  LandlockPlan plan = PlanLandlock(reach, "/tmp/sb/mnt", kAbi, &host);
  ASSERT_TRUE(plan.confined);
  EXPECT_EQ(plan.handled_fs, kAll);
  EXPECT_EQ(Effective(plan, "/usr/bin/cat"), kR | ll::kExecute);
  EXPECT_EQ(Effective(plan, "/etc/ld.so.cache"), kR);
  EXPECT_EQ(Effective(plan, "/etc/passwd"), 0u);  // no rule covers it
  EXPECT_EQ(Effective(plan, "/etc/shadow"), 0u);
  EXPECT_EQ(Effective(plan, "/tmp/sb/tree/secret"), 0u);   // the backing store
  EXPECT_EQ(Effective(plan, "/tmp/sb/mnt/secret"), kAll);  // the mount: sptfs decides
  EXPECT_EQ(Effective(plan, "/"), 0u);
  ExpectNeverWider(plan, reach, host, "/tmp/sb/mnt");
}

TEST(LandlockPlan, NarrowerFileRuleIsCarvedOut) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {Dom("a", 10, {{"/etc", kPermRead}, {"/etc/shadow", 0}})};
  auto reach = Reach(all, "a");
  LandlockPlan plan = PlanLandlock(reach, "/tmp/sb/mnt", kAbi, &host);
  EXPECT_EQ(Effective(plan, "/etc/shadow") & ll::kReadFile, 0u);
  EXPECT_EQ(Effective(plan, "/etc/passwd"), kR);
  EXPECT_EQ(Effective(plan, "/etc/ssl/cert"), kR);
  EXPECT_EQ(Effective(plan, "/etc"), ll::kReadDir);  // `ls /etc` still works
  ExpectNeverWider(plan, reach, host, "/tmp/sb/mnt");
}

TEST(LandlockPlan, NarrowerDirectoryRuleIsCarvedOut) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {
      Dom("a", 10, {{"/data", kPermRead | kPermWrite}, {"/data/private", kPermRead}})};
  auto reach = Reach(all, "a");
  LandlockPlan plan = PlanLandlock(reach, "/tmp/sb/mnt", kAbi, &host);
  uint64_t rw = FsAccessOf(kPermRead | kPermWrite, kAbi);
  EXPECT_EQ(Effective(plan, "/data/a"), (rw & ll::kFileRights) | ll::kReadDir);
  EXPECT_EQ(Effective(plan, "/data/private/b"), kR);
  EXPECT_EQ(Effective(plan, "/data"), kR);  // new entries in /data: only what is safe
  ExpectNeverWider(plan, reach, host, "/tmp/sb/mnt");
}

TEST(LandlockPlan, MissingNarrowerPathFailsClosed) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {
      Dom("a", 10, {{"/tmp", kPermRead | kPermWrite}, {"/tmp/not-yet", kPermNone}})};
  auto reach = Reach(all, "a");
  LandlockPlan plan = PlanLandlock(reach, "/tmp/sb/mnt", kAbi, &host);
  EXPECT_EQ(Effective(plan, "/tmp/not-yet"), 0u);  // if someone makes it later
  EXPECT_EQ(Effective(plan, "/tmp/other") & ll::kWriteFile, ll::kWriteFile);
  ExpectNeverWider(plan, reach, host, "/tmp/sb/mnt");
}

TEST(LandlockPlan, SymlinkEntriesAreNotGrantedThrough) {
  FakeHost host = StandardHost();  // /lib is a symlink
  std::vector<LandlockDomain> all = {Dom("a", 10, {{"/", kPermRead}, {"/root", kPermNone}})};
  LandlockPlan plan = PlanLandlock(Reach(all, "a"), "/tmp/sb/mnt", kAbi, &host);
  for (const LandlockGrant& g : plan.grants) EXPECT_NE(g.path, "/lib");
  EXPECT_EQ(Effective(plan, "/root/key"), 0u);
  EXPECT_EQ(Effective(plan, "/usr/bin/cat"), kR);
}

TEST(LandlockPlan, RulesUnderTheMountAreLeftToSptfs) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {Dom("a", 10, {{"/", kPermRead}, {"/secret", kPermNone}})};
  LandlockPlan plan = PlanLandlock(Reach(all, "a"), "/", kAbi, &host);  // --root
  ASSERT_EQ(plan.grants.size(), 1u);
  EXPECT_EQ(plan.grants[0], (LandlockGrant{"/", kAll}));
}

TEST(LandlockPlan, UnionOfReachableDomainsNeverMore) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {
      Dom("start", 10, {{"/usr", kPermRead | kPermExec}, {"/etc", kPermRead}, {"/etc/shadow", 0}},
          {"helper"}),
      Dom("helper", 11, {{"/data", kPermRead}, {"/etc/shadow", 0}}),
      Dom("elsewhere", 12, {{"/root", kPermRead}, {"/etc/shadow", kPermRead}})};
  auto reach = Reach(all, "start");
  ASSERT_EQ(reach.size(), 2u);
  LandlockPlan plan = PlanLandlock(reach, "/tmp/sb/mnt", kAbi, &host);
  EXPECT_EQ(Effective(plan, "/data/a"), kR);    // the helper's, held from the start
  EXPECT_EQ(Effective(plan, "/root/key"), 0u);  // an unreachable domain's
  EXPECT_EQ(Effective(plan, "/etc/shadow") & ll::kReadFile, 0u);
  ExpectNeverWider(plan, reach, host, "/tmp/sb/mnt");
  // helper's own /etc/shadow narrowing does not undo start's /etc grant elsewhere
  EXPECT_EQ(Effective(plan, "/etc/passwd"), kR);
}

TEST(LandlockPlan, UnconfinedOrNotEnforcingMeansNoRuleset) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {Dom("a", 10, {}, {"s"}), Dom("s", 0, {}), Dom("w", 12, {})};
  all[1].unconfined = true;
  all[2].level = Level::kWarning;
  LandlockPlan plan = PlanLandlock(Reach(all, "a"), "/m", kAbi, &host);
  EXPECT_FALSE(plan.confined);
  EXPECT_NE(plan.why_unconfined.find("unconfined"), std::string::npos);
  plan = PlanLandlock(Reach(all, "w"), "/m", kAbi, &host);
  EXPECT_FALSE(plan.confined);
  EXPECT_NE(plan.why_unconfined.find("warning"), std::string::npos);
  plan = PlanLandlock(Reach(all, "w"), "/m", 0, &host);
  EXPECT_FALSE(plan.confined);
}

TEST(LandlockPlan, NetworkAndScopes) {
  FakeHost host = StandardHost();
  std::vector<LandlockDomain> all = {Dom("a", 10, {}, {"b"}), Dom("b", 11, {}), Dom("c", 12, {})};
  all[1].network_ops = {"inet_socket_connect"};
  LandlockPlan plan = PlanLandlock(Reach(all, "a"), "/m", kAbi, &host);
  EXPECT_EQ(plan.handled_net, ll::kNetBindTcp);  // b may connect (some scope): supervisor
  EXPECT_EQ(plan.scoped, ll::kScopeAbstractUnix | ll::kScopeSignal);
  plan = PlanLandlock(Reach(all, "c"), "/m", kAbi, &host);
  EXPECT_EQ(plan.handled_net, ll::kNetBindTcp | ll::kNetConnectTcp);
  plan = PlanLandlock(Reach(all, "c"), "/m", 3, &host);
  EXPECT_EQ(plan.handled_net, 0u);
  EXPECT_EQ(plan.scoped, 0u);
}

TEST(LandlockWhy, HostPermsAndDecidingRules) {
  std::vector<LandlockDomain> all = {Dom("a", 10, {{"/etc", kPermRead}, {"/etc/shadow", 0}}, {"b"}),
                                     Dom("b", 11, {{"/etc/shadow", kPermWrite}})};
  auto reach = Reach(all, "a");
  std::vector<std::string> why;
  EXPECT_EQ(HostPermsAt(reach, "/etc/shadow", &why), kPermWrite);
  EXPECT_EQ(why, (std::vector<std::string>{"a: -r /etc/shadow ", "b: -r /etc/shadow w"}));
  why.clear();
  EXPECT_EQ(HostPermsAt(reach, "/etcetera", &why), kPermNone);  // whole components
  EXPECT_TRUE(why.empty());
}

}  // namespace
}  // namespace sptfs
