// The server and its commands over a real Unix socket, with a small policy set on disk
// and an in-memory tree. No FUSE mount and no tracker: every caller is in the policy's
// default domain, so the policy's default_domain decides what the caller may do.
#include "control/server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "control/client.h"
#include "control/socket_io.h"

namespace sptfs {
namespace {

namespace stdfs = std::filesystem;

void WriteFile(const stdfs::path& path, const std::string& text) {
  stdfs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A policy set whose processes run in `default_domain` (superDom: unconfined).
void WritePolicy(const stdfs::path& dir, const std::string& default_domain) {
  WriteFile(dir / "policy.toml", "default_domain = \"" + default_domain +
                                     "\"\n[[label]]\nname = \"appObj\"\nid = 3117\n");
  WriteFile(dir / "domains/superDom.toml", "name = \"superDom\"\nid = 0\nunconfined = true\n");
  WriteFile(dir / "domains/boxDom.toml",
            "name = \"boxDom\"\nid = 1\nlevel = \"enforcing\"\nrules = [\n  \"-r /tmp rw\",\n]\n");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() / ("control_test." + std::to_string(getpid()));
    stdfs::remove_all(dir_);
    WritePolicy(dir_ / "policy", "superDom");
    tree_.AddDirectory("/tmp");
    std::vector<std::string> warnings;
    ASSERT_TRUE(holder_.Reload((dir_ / "policy").string(), tree_, &warnings).ok());
    ASSERT_TRUE(AuditLog::Open((dir_ / "audit.log").string(), 0, &audit_).ok());
    ctx_.policy = &holder_;
    ctx_.audit = audit_.get();
    ctx_.tree = &tree_;
    ctx_.label_xattr = "user.spt.label";
    socket_ = (dir_ / "control.sock").string();
    Status s = ControlServer::Start(socket_, &ctx_, &server_);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    audit_.reset();
    stdfs::remove_all(dir_);
  }

  void Restart(const ControlLimits& limits) {
    server_->Stop();
    server_.reset();
    Status s = ControlServer::Start(socket_, &ctx_, limits, &server_);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  Reply Call(const std::vector<std::string>& argv) {
    Reply reply;
    Status s = CallDaemon(socket_, argv, &reply);
    EXPECT_TRUE(s.ok()) << s.message();
    return reply;
  }

  int Connect() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_.c_str());
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  }

  // A connection made with this thread's effective uid set to `uid`: the raw system
  // call changes this thread only, and SO_PEERCRED records the connecting thread's.
  int ConnectAs(uid_t uid) {
    EXPECT_EQ(syscall(SYS_setresuid, -1, uid, -1), 0);
    int fd = Connect();
    EXPECT_EQ(syscall(SYS_setresuid, -1, 0, -1), 0);
    return fd;
  }

  // The reply on `fd`, waiting at most 10 s for it (exit code -1: none came).
  static Reply ReplyOn(int fd) {
    EXPECT_TRUE(SetTimeouts(fd, 10000).ok());
    std::string payload;
    Reply reply{-1, "", ""};
    if (ReadFrame(fd, kMaxReplyBytes, &payload).ok()) {
      EXPECT_TRUE(DecodeReply(payload, &reply).ok());
    }
    return reply;
  }

  // Sends raw bytes, returns the decoded reply (or an empty one with exit code -1).
  Reply Raw(const std::string& bytes) {
    int fd = Connect();
    EXPECT_TRUE(WriteAll(fd, bytes).ok());
    std::string payload;
    Reply reply{-1, "", ""};
    if (ReadFrame(fd, kMaxReplyBytes, &payload).ok()) {
      EXPECT_TRUE(DecodeReply(payload, &reply).ok());
    }
    close(fd);
    return reply;
  }

  void ExpectStillServing() {
    Reply r = Call({"domain", "list"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("Domain Name  Enforcement Level\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\nboxDom       enforcing\n"), std::string::npos) << r.out;
  }

  std::string AuditText() {
    audit_->Flush();
    return ReadAll((dir_ / "audit.log").string());
  }

  stdfs::path dir_;
  MemoryTree tree_;
  PolicyHolder holder_;
  std::unique_ptr<AuditLog> audit_;
  DaemonContext ctx_;
  std::string socket_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ServerTest, DomainListAndUnknownCommand) {
  ExpectStillServing();
  Reply r = Call({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown control command \"frobnicate\""), std::string::npos) << r.err;
}

TEST_F(ServerTest, BadMessagesGetAnErrorAndTheServerGoesOn) {
  Reply r = Raw(std::string("\0\0\0\x10GET / HTTP/1.1\r\n", 20));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("magic"), std::string::npos) << r.err;
  r = Raw(std::string("\x00\x10\x00\x00", 4));  // 1 MiB announced
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("too large"), std::string::npos) << r.err;
  r = Raw(std::string("\0\0\0\0", 4));
  EXPECT_NE(r.err.find("empty frame"), std::string::npos) << r.err;
  // Disconnect mid-request: 100 bytes announced, 3 sent.
  int fd = Connect();
  ASSERT_TRUE(WriteAll(fd, std::string("\0\0\0\x64SPT", 7)).ok());
  close(fd);
  ExpectStillServing();
}

TEST_F(ServerTest, StalledClientDoesNotBlockOthers) {
  int fd = Connect();  // sends nothing
  ExpectStillServing();
  close(fd);
}

TEST_F(ServerTest, LevelChangesAreAppliedAndAudited) {
  Reply r = Call({"domain", "set", "-n", "boxDom", "-l", "warning"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(holder_.Current()->FindDomain("boxDom")->level, Level::kWarning);
  r = Call({"domain", "set", "--all", "-l", "disabled"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(holder_.Current()->FindDomain("boxDom")->level, Level::kDisabled);
  std::string audit = AuditText();
  EXPECT_NE(audit.find("domain=boxDom(1) old=enforcing new=warning"), std::string::npos) << audit;
  EXPECT_NE(audit.find("domain=boxDom(1) old=warning new=disabled all=1"), std::string::npos);
  EXPECT_NE(audit.find("domain=superDom(0) old=enforcing new=disabled all=1"), std::string::npos);
  r = Call({"domain", "set", "-n", "nosuchDom", "-l", "warning"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown domain \"nosuchDom\""), std::string::npos) << r.err;
  r = Call({"domain", "set", "-n", "boxDom", "-l", "loud"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected enforcing, warning or disabled"), std::string::npos);
}

TEST_F(ServerTest, FailedReloadChangesNothingAndSaysWhere) {
  uint64_t gen = holder_.Current()->generation();
  WriteFile(dir_ / "broken/policy.toml", "default_domain = \"superDom\"\n");
  WriteFile(dir_ / "broken/domains/superDom.toml",
            "name = \"superDom\"\nid = 0\nunconfined = true\n");
  WriteFile(dir_ / "broken/domains/boxDom.toml",
            "name = \"boxDom\"\nid = 1\nrules = [\n  \"-r /tmp rwz\",\n]\n");
  Reply r = Call({"spt", "-p", (dir_ / "broken").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("boxDom.toml:4"), std::string::npos) << r.err;
  EXPECT_EQ(holder_.Current()->generation(), gen);
  r = Call({"spt", "-p", (dir_ / "vanished").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vanished"), std::string::npos) << r.err;
  EXPECT_EQ(holder_.Current()->generation(), gen);
  r = Call({"spt", "-p", "relative/dir"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(AuditText().find("type=SPT_POLICY_LOAD"), std::string::npos);
  EXPECT_NE(AuditText().find("result=failed"), std::string::npos);
  r = Call({"spt", "-p"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(holder_.Current()->generation(), gen + 1);
}

TEST_F(ServerTest, RuntimeDomainsAndTags) {
  Reply r = Call({"spt", "-N", "vmDom7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CompiledDomain* d = holder_.Current()->FindDomain("vmDom7");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->runtime);
  EXPECT_EQ(Call({"spt", "-N", "vmDom7"}).exit_code, 1);
  EXPECT_EQ(Call({"spt", "-T", "vmci-svc-1", "-L", "vmDom7"}).exit_code, 0);
  EXPECT_NE(Call({"domain", "tags"}).out.find("vmci-svc-1"), std::string::npos);
  EXPECT_EQ(Call({"spt", "-T", "x", "-L", "nosuchDom"}).exit_code, 1);
  r = Call({"spt", "-C", "boxDom"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("defined by the policy set"), std::string::npos) << r.err;
  EXPECT_EQ(Call({"spt", "-C", "vmDom7"}).exit_code, 0);
  EXPECT_EQ(holder_.Current()->FindDomain("vmDom7"), nullptr);
  EXPECT_EQ(Call({"domain", "tags"}).out.find("vmci-svc-1"), std::string::npos);
  std::string audit = AuditText();
  EXPECT_NE(audit.find("type=SPT_DOMAIN_NEW"), std::string::npos);
  EXPECT_NE(audit.find("type=SPT_DOMAIN_DEL"), std::string::npos);
}

TEST_F(ServerTest, QueriesGoThroughTheCore) {
  Reply r = Call({"spt", "-l"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("appObj"), std::string::npos) << r.out;
  r = Call({"spt", "-d", "1"});
  EXPECT_NE(r.out.find("Domain Name: boxDom Domain ID :1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WorldRefCount: 0"), std::string::npos) << r.out;
  EXPECT_EQ(Call({"label", "check", "appObj"}).exit_code, 0);
  EXPECT_EQ(Call({"label", "check", "nopeObj"}).exit_code, 1);
}

TEST_F(ServerTest, ConfinedCallerCannotMutate) {
  WritePolicy(dir_ / "confined", "boxDom");
  ASSERT_EQ(Call({"spt", "-p", (dir_ / "confined").string()}).exit_code, 0);
  uint64_t gen = holder_.Current()->generation();
  for (const std::vector<std::string>& argv : {std::vector<std::string>{"spt", "-p"},
                                               {"spt", "-r"},
                                               {"spt", "-N", "x"},
                                               {"domain", "set", "-n", "boxDom", "-l", "disabled"},
                                               {"place", "1", "boxDom"}}) {
    Reply r = Call(argv);
    EXPECT_EQ(r.exit_code, 77) << argv[0] << " " << argv[1];
    EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  }
  EXPECT_EQ(holder_.Current()->generation(), gen);
  EXPECT_EQ(holder_.Current()->FindDomain("boxDom")->level, Level::kEnforcing);
  EXPECT_NE(AuditText().find("type=SPT_CONTROL_DENIED"), std::string::npos);
  ExpectStillServing();  // queries stay open
}

// `spt --audit-mark`: a line after every record queued before it, for root in any
// domain (here a confined default domain); others and bad texts are refused.
TEST_F(ServerTest, AuditMarkFollowsWhatCameBefore) {
  WritePolicy(dir_ / "confined", "boxDom");
  ASSERT_EQ(Call({"spt", "-p", (dir_ / "confined").string()}).exit_code, 0);
  for (int i = 0; i < 200; ++i) audit_->Event("SPT_TEST", "n=" + std::to_string(i));
  Reply r = Call({"spt", "--audit-mark", "mark one"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string audit = AuditText();
  size_t mark = audit.find("type=SPT_USER");
  ASSERT_NE(mark, std::string::npos) << audit;
  EXPECT_NE(audit.find("text=\"mark one\"", mark), std::string::npos) << audit;
  EXPECT_NE(audit.find("caller_domain=boxDom(1)", mark), std::string::npos) << audit;
  EXPECT_LT(audit.find("n=199"), mark);
  EXPECT_EQ(Call({"spt", "--audit-mark", ""}).exit_code, 2);
  EXPECT_EQ(Call({"spt", "--audit-mark", std::string(1025, 'x')}).exit_code, 2);
  std::string request;
  ASSERT_TRUE(EncodeRequest({"spt", "--audit-mark", "not root"}, &request).ok());
  int fd = ConnectAs(65534);
  ASSERT_TRUE(WriteAll(fd, request).ok());
  r = ReplyOn(fd);
  close(fd);
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_EQ(AuditText().find("not root"), std::string::npos);
}

// `sandbox session`: one connection serves sandbox requests one after another, holds no
// admission slot (so sessions never lock administrators out), and is bounded by its
// own limit; only a caller that may place processes gets one.
TEST_F(ServerTest, SessionsServeManyRequestsOutsideTheSlots) {
  ControlLimits limits;
  limits.admission = AdmissionLimits{2, 1, 2, 2, 0};
  limits.sessions = 3;
  Restart(limits);
  std::vector<std::unique_ptr<ControlSession>> sessions;
  for (int i = 0; i < 3; ++i) {
    sessions.push_back(std::make_unique<ControlSession>(socket_));
    for (int n = 0; n < 3; ++n) {
      Reply r;
      ASSERT_TRUE(sessions.back()->Call({"sandbox", "domains"}, &r).ok()) << i;
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_NE(r.out.find("boxDom"), std::string::npos) << r.out;
    }
  }
  // Three sessions are open on a server of two slots: an administrator still gets in.
  ExpectStillServing();
  sessions.push_back(std::make_unique<ControlSession>(socket_));
  Reply r;
  Status s = sessions.back()->Call({"sandbox", "domains"}, &r);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("3 sessions open"), std::string::npos) << s.message();
  // Inside a session only sandbox requests are served; anything else ends it.
  int fd = Connect();
  std::string open, other;
  ASSERT_TRUE(EncodeRequest({"sandbox", "session"}, &open).ok());
  ASSERT_TRUE(EncodeRequest({"spt", "-r"}, &other).ok());
  sessions.clear();  // gives the sessions back, as the server sees the hang-ups
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {  // slots and sessions come free as the accept thread sees connections end
    r = WriteAll(fd, open).ok() ? ReplyOn(fd) : Reply{75, "", "refused at accept"};
    if (r.exit_code != 75 || std::chrono::steady_clock::now() > deadline) break;
    close(fd);
    fd = Connect();
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  char passed = 0;
  ASSERT_EQ(recv(fd, &passed, 1, 0), 1);
  EXPECT_EQ(passed, 'N');  // this daemon shares no epoch
  ASSERT_TRUE(WriteAll(fd, other).ok());
  r = ReplyOn(fd);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only sandbox requests"), std::string::npos) << r.err;
  EXPECT_EQ(recv(fd, &passed, 1, 0), 0);  // and closed
  close(fd);
  // A caller that may not place processes gets no session.
  fd = ConnectAs(65534);
  ASSERT_TRUE(WriteAll(fd, open).ok());
  EXPECT_EQ(ReplyOn(fd).exit_code, 77);
  close(fd);
  ExpectStillServing();
}

TEST_F(ServerTest, SecondServerOnTheSameSocketIsRefused) {
  std::unique_ptr<ControlServer> other;
  Status s = ControlServer::Start(socket_, &ctx_, &other);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("another sptfs daemon"), std::string::npos) << s.message();
  ExpectStillServing();
}

// A request trickled one byte every 50 ms never times out a single recv, but the
// request as a whole has a deadline (slowloris, issue 15 item 1).
TEST_F(ServerTest, WholeRequestHasADeadlineHoweverSlowlyItTrickles) {
  ControlLimits limits;
  limits.request_deadline_ms = 300;
  Restart(limits);
  int fd = Connect();
  ASSERT_TRUE(WriteAll(fd, std::string("\0\0\x03\xe8", 4)).ok());  // 1000 bytes announced
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 200 && !cut; ++i) {  // up to 10 s of trickle
    cut = send(fd, "S", 1, MSG_NOSIGNAL) != 1;
    pollfd p{fd, POLLIN, 0};
    char c;
    if (!cut && poll(&p, 1, 50) > 0) cut = recv(fd, &c, 1, 0) <= 0;
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(cut) << "the server kept a trickling connection for 10 s";
  EXPECT_LT(took, std::chrono::seconds(3));
  close(fd);
  ExpectStillServing();
}

// Ordinary callers (here: uids that are neither root nor the daemon's) cannot take the
// reserved slots, are limited per uid, and wait in the queue instead of being refused.
TEST_F(ServerTest, ReservedSlotsPerUidLimitsAndTheQueue) {
  ControlLimits limits;
  limits.admission = AdmissionLimits{4, 2, 2, 8, 4};
  Restart(limits);
  std::string request;
  ASSERT_TRUE(EncodeRequest({"domain", "list"}, &request).ok());
  int held1 = ConnectAs(65534), held2 = ConnectAs(65534);  // the ordinary slots
  int over = ConnectAs(65534);
  Reply r = ReplyOn(over);
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_NE(r.err.find("uid 65534 already has 2 connections"), std::string::npos) << r.err;
  close(over);
  int queued = ConnectAs(65533);  // no ordinary slot is free: it waits
  ASSERT_TRUE(WriteAll(queued, request).ok());
  ExpectStillServing();                        // root in superDom: a reserved slot
  int admin1 = Connect(), admin2 = Connect();  // now every slot is taken
  auto waiting_admin = std::async(std::launch::async, [this] { return Call({"info"}); });
  EXPECT_EQ(waiting_admin.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  close(admin1);  // frees a slot the queued ordinary caller may not take, the admin may
  EXPECT_EQ(waiting_admin.get().exit_code, 0);
  close(held1);  // frees an ordinary slot: the queued caller is served
  r = ReplyOn(queued);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("boxDom"), std::string::npos);
  for (int fd : {held2, admin2, queued}) close(fd);
  ExpectStillServing();
}

// accept() failing with EMFILE used to leave the connection in the backlog and poll
// again at once, for ever (a busy loop, and the client never heard back). Now the
// client is told, and the server goes on once descriptors are free again.
TEST_F(ServerTest, AcceptOutOfDescriptorsAnswersBusyAndRecovers) {
  int clients[2] = {socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
                    socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
  ASSERT_EQ(errno, EMFILE);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_.c_str());
  Reply replies[2];
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(connect(clients[i], reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    replies[i] = ReplyOn(clients[i]);
  }
  for (int fd : fillers) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  for (const Reply& r : replies) {
    EXPECT_EQ(r.exit_code, 75);
    EXPECT_NE(r.err.find("out of file descriptors"), std::string::npos) << r.err;
  }
  for (int fd : clients) close(fd);
  ExpectStillServing();
}

// A connection made by a process that has exited speaks for nobody, even though the
// pid SO_PEERCRED recorded may belong to another process by now (issue 12 item 4).
TEST_F(ServerTest, ConnectionOfAnExitedProcessIsUnidentified) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, socket_.c_str());
  pid_t child = fork();
  if (child == 0) {
    _exit(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string request;
  ASSERT_TRUE(EncodeRequest({"domain", "set", "-n", "boxDom", "-l", "disabled"}, &request).ok());
  ASSERT_TRUE(WriteAll(fd, request).ok());
  Reply r = ReplyOn(fd);
  close(fd);
  EXPECT_EQ(r.exit_code, 77) << r.err;
  EXPECT_NE(r.err.find("the caller cannot be identified"), std::string::npos) << r.err;
  EXPECT_EQ(holder_.Current()->FindDomain("boxDom")->level, Level::kEnforcing);
  ExpectStillServing();
}

// Stop() with connections open, some waiting in the queue, returns and frees nothing
// under them (run under ASan/TSan in CI).
TEST_F(ServerTest, StopWithOpenAndQueuedConnections) {
  ControlLimits limits;
  limits.admission = AdmissionLimits{2, 0, 8, 8, 8};
  Restart(limits);
  std::vector<int> fds;
  for (int i = 0; i < 6; ++i) fds.push_back(Connect());  // 2 served (silent), 4 queued
  server_->Stop();
  for (int fd : fds) {
    char c;
    EXPECT_TRUE(SetTimeouts(fd, 10000).ok());
    EXPECT_LE(recv(fd, &c, 1, 0), 0);  // cut, not left hanging
    close(fd);
  }
}

}  // namespace
}  // namespace sptfs
