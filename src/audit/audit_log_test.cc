#include "audit/audit_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace sptfs {
namespace {

struct Fixture {
  CompiledDomain domain;
  CompiledPathRule rule;
  Decision decision;
  CallerInfo caller;
  AccessRecord record;

  Fixture() {
    domain.name = "globalVMDom";
    domain.id = 4;
    domain.level = Level::kEnforcing;
    rule.source.kind = RuleKind::kPath;
    rule.source.path = "/tmp";
    rule.source.perms = kPermRead | kPermWrite;
    rule.canonical = "/tmp";
    decision.verdict = Verdict::kDeny;
    decision.record = true;
    decision.domain = &domain;
    decision.path_rule = &rule;
    caller.identified = true;
    caller.pid = 1234;
    caller.tid = 1235;
    caller.uid = 0;
    caller.placed = true;
    caller.domain = 4;
    caller.comm = "vmx";
    caller.exe = "/bin/vmx";
    record.decision = &decision;
    record.requested = kPermExec;
    record.op = "open";
    record.caller = &caller;
    record.path = "/tmp/a";
    record.label = "unlabeled";
    record.generation = 7;
  }
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int CountLines(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

std::string TempPath(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  std::string base = std::string(dir ? dir : "/tmp") + "/audit_test." + std::to_string(getpid());
  mkdir(base.c_str(), 0700);
  std::string path = base + "/" + name;
  unlink(path.c_str());
  return path;
}

TEST(FormatAccessRecord, DeniedLineHasEveryField) {
  Fixture f;
  EXPECT_EQ(FormatAccessRecord(f.record, "1700000000.123"),
            "type=SPT_AVC msg=audit(1700000000.123): denied { execute } op=open pid=1234 "
            "tid=1235 comm=\"vmx\" exe=\"/bin/vmx\" uid=0 path=\"/tmp/a\" label=unlabeled "
            "domain=globalVMDom(4) level=enforcing rule=\"-r /tmp rw\" generation=7");
}

TEST(FormatAccessRecord, WarningNoRuleHintAndHexValues) {
  Fixture f;
  f.domain.level = Level::kWarning;
  f.decision.verdict = Verdict::kAllow;
  f.decision.warning = true;
  f.decision.path_rule = nullptr;
  f.decision.label_limited = true;
  f.record.requested = kPermRead | kPermWrite;
  f.record.path = "/tmp/a b";
  f.record.hint = "rule -r /productLocker now resolves to /vmfs/x";
  std::string line = FormatAccessRecord(f.record, "1.000");
  EXPECT_NE(line.find("): warning { read write } op=open"), std::string::npos) << line;
  EXPECT_NE(line.find(" path=2F746D702F612062 "), std::string::npos) << line;
  EXPECT_NE(line.find(" level=warning rule=\"no rule\" limited_by=label generation=7"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(" hint=\"rule -r /productLocker now resolves to /vmfs/x\""),
            std::string::npos)
      << line;
}

TEST(FormatAccessRecord, UnknownDomainAndUnidentifiedCaller) {
  Fixture f;
  f.decision.domain = nullptr;
  f.caller.identified = false;
  f.caller.domain = 99;
  f.record.label = "bad\nlabel";
  std::string line = FormatAccessRecord(f.record, "1.000");
  EXPECT_NE(line.find(" label=6261640A6C6162656C "), std::string::npos) << line;
  EXPECT_NE(line.find(" domain=unknown(99) level=enforcing"), std::string::npos) << line;
  EXPECT_NE(line.find(" caller=unidentified "), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(AuditValue, QuotesOrHexEncodes) {
  EXPECT_EQ(AuditValue("abc"), "\"abc\"");
  EXPECT_EQ(AuditValue("a\"b"), "612262");
  EXPECT_EQ(AuditText("-r /tmp rw"), "\"-r /tmp rw\"");
  EXPECT_EQ(AuditText("a\tb"), "610962");
  // A trailing backslash would escape the closing quote for readers that honour escapes.
  EXPECT_EQ(AuditValue("hide\\"), "686964655C");
  EXPECT_EQ(AuditText("a b\\"), "6120625C");
  EXPECT_EQ(AuditTime(1700000000005), "1700000000.005");
}

TEST(AuditLog, EventLineFormat) {
  std::string path = TempPath("events.log");
  std::unique_ptr<AuditLog> log;
  ASSERT_TRUE(AuditLog::Open(path, 0, &log).ok());
  log->Event("SPT_LEVEL", "domain=appDom(2) old=enforcing new=disabled");
  log->Flush();
  std::string text = ReadAll(path);
  EXPECT_EQ(text.rfind("type=SPT_LEVEL msg=audit(", 0), 0u) << text;
  EXPECT_NE(text.find("): domain=appDom(2) old=enforcing new=disabled\n"), std::string::npos);
  EXPECT_EQ(log->Stats().written, 1u);
}

TEST(AuditLog, RateLimitCountsAndReportsSuppressed) {
  std::string path = TempPath("rate.log");
  std::unique_ptr<AuditLog> log;
  ASSERT_TRUE(AuditLog::Open(path, 5, &log).ok());
  Fixture f;
  for (int i = 0; i < 50; ++i) log->Access(f.record);
  log->Flush();
  std::string text = ReadAll(path);
  int avc = CountLines(text, "type=SPT_AVC");
  // At most two one-second windows can be touched by the loop.
  EXPECT_GE(avc, 5);
  EXPECT_LE(avc, 10);
  AuditStats stats = log->Stats();
  EXPECT_EQ(stats.suppressed, static_cast<uint64_t>(50 - avc));
  EXPECT_GE(CountLines(text, "type=SPT_AUDIT_SUPPRESSED"), 1) << text;
  EXPECT_NE(text.find("total_suppressed=" + std::to_string(stats.suppressed)), std::string::npos);
}

TEST(AuditLog, QueueIsBoundedWhileWriterIsBlocked) {
  std::string path = TempPath("fifo");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  int reader = open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  std::unique_ptr<AuditLog> log;
  ASSERT_TRUE(AuditLog::Open(path, 0, 16, &log).ok());
  Fixture f;
  // A pipe holds 64 KiB; 5000 lines of ~200 bytes block the writer, then fill the queue.
  for (int i = 0; i < 5000; ++i) log->Access(f.record);
  AuditStats stats = log->Stats();
  // The writer blocked after ~64 KiB (a few hundred lines); the rest were dropped.
  EXPECT_GT(stats.suppressed, 4000u);
  // Unblock: drain the pipe until the log has written everything it kept.
  int fl = fcntl(reader, F_GETFL);
  fcntl(reader, F_SETFL, fl & ~O_NONBLOCK);
  std::string drained;
  std::thread drain([&] {
    char buf[65536];
    for (ssize_t n; (n = read(reader, buf, sizeof(buf))) > 0;) drained.append(buf, n);
  });
  log->Flush();
  stats = log->Stats();
  EXPECT_EQ(stats.lost, 0u);
  log.reset();  // closes the write end: the drain thread sees EOF
  drain.join();
  close(reader);
  // Every access line is either written or counted, never both, never neither.
  EXPECT_EQ(static_cast<uint64_t>(CountLines(drained, "type=SPT_AVC")) + stats.suppressed, 5000u);
  EXPECT_GE(CountLines(drained, "type=SPT_AUDIT_SUPPRESSED"), 1);
  unlink(path.c_str());
}

TEST(AuditLog, WriteFailuresAreCountedAsLost) {
  std::unique_ptr<AuditLog> log;
  ASSERT_TRUE(AuditLog::Open("/dev/full", 0, &log).ok());
  Fixture f;
  for (int i = 0; i < 3; ++i) log->Access(f.record);
  log->Event("SPT_POLICY_LOAD", "result=ok");
  log->Flush();
  AuditStats stats = log->Stats();
  EXPECT_EQ(stats.lost, 4u);
  EXPECT_EQ(stats.written, 0u);
}

TEST(AuditLog, UnopenablePathFailsWithThePath) {
  std::unique_ptr<AuditLog> log;
  Status s = AuditLog::Open("/nonexistent-dir/audit.log", 0, &log);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/audit.log"), std::string::npos) << s.message();
  EXPECT_EQ(log, nullptr);
}

}  // namespace
}  // namespace sptfs
