// DomainTracker against real processes: forks, PID namespaces (we run as root), pid
// reuse forced through ns_last_pid, a daemon restart through the state file.
#include "domains/tracker.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "domains/proc_events.h"
#include "domains/proc_reader.h"
#include "domains/test_procs.h"

namespace sptfs {
namespace {

using testing::ExecShell;
using testing::ForkOuter;
using testing::ForkRun;
using testing::OuterPid;
using testing::ProcTree;
using testing::Report;
using testing::WaitGo;

constexpr DomainId kDefault = 42;

// The parent of `pid` once `wanted(parent)` holds (the process was orphaned and
// reparented), or 0 if that has not happened within 10 s or `pid` is gone.
pid_t WaitForParent(pid_t pid, const std::function<bool(pid_t)>& wanted) {
  ProcReader reader;
  for (int i = 0; i < 10000; ++i) {
    ProcStat st;
    if (!reader.ReadStat(pid, &st)) return 0;
    if (wanted(st.ppid)) return st.ppid;
    usleep(1000);
  }
  return 0;
}

std::unique_ptr<DomainTracker> NewTracker(const std::string& state = "",
                                          StateWriter write = nullptr) {
  std::unique_ptr<DomainTracker> t;
  Status s = DomainTracker::Open(state, &t, std::move(write));
  EXPECT_TRUE(s.ok()) << s.ToString();
  return t;
}

// A world as spt-run makes it: a new PID namespace; its first process reports its pid,
// then runs `body`.
std::unique_ptr<ProcTree> World(std::function<void(int, int)> body) {
  return std::make_unique<ProcTree>([body](int report, int go) {
    if (unshare(CLONE_NEWPID) != 0) _exit(2);
    ForkRun([=] {
      Report(report, OuterPid());
      body(report, go);
    });
  });
}

// Forks from the test into the PID namespace of `pid` (as nsenter does); the child
// reports its own child's pid. Returns the process to kill afterwards.
pid_t EnterAndFork(pid_t pid, int* report_read) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t helper = ForkRun([&] {
    int ns = open(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), O_RDONLY);
    if (ns < 0 || setns(ns, CLONE_NEWPID) != 0) _exit(2);
    Report(fds[1], ForkRun([] {}));
  });
  close(fds[1]);
  *report_read = fds[0];
  return helper;
}

pid_t ReadPid(int fd) {
  pid_t p = -1;
  if (read(fd, &p, sizeof p) != sizeof p) return -1;
  return p;
}

void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(Tracker, UnidentifiableCallers) {
  auto t = NewTracker();
  EXPECT_FALSE(t->Identify(0, kDefault).identified);
  EXPECT_FALSE(t->Identify(-5, kDefault).identified);
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  EXPECT_FALSE(t->Identify(gone, kDefault).identified);
}

TEST(Tracker, UnplacedGetsDefault) {
  auto t = NewTracker();
  CallerInfo c = t->Identify(getpid(), kDefault);
  EXPECT_TRUE(c.identified);
  EXPECT_FALSE(c.placed);
  EXPECT_EQ(c.domain, kDefault);
  EXPECT_EQ(c.pid, getpid());
  EXPECT_EQ(c.uid, getuid());
  EXPECT_FALSE(c.comm.empty());
  EXPECT_FALSE(c.exe.empty());
  EXPECT_EQ(t->Identify(getpid(), 7).domain, 7u);  // cached, default still honoured
}

TEST(Tracker, PlacedProcessAndLaterChildren) {
  auto t = NewTracker();
  ProcTree p([](int report, int go) {
    WaitGo(go);
    Report(report, ForkOuter([] {}));
  });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  p.Go();
  pid_t child = p.Next();
  ASSERT_GT(child, 0);
  for (pid_t pid : {p.pid(), child}) {
    CallerInfo c = t->Identify(pid, kDefault);
    EXPECT_TRUE(c.placed) << pid;
    EXPECT_EQ(c.domain, 7u) << pid;
  }
  EXPECT_FALSE(t->Identify(getpid(), kDefault).placed);  // the parent is not placed
}

TEST(Tracker, PlaceErrors) {
  auto t = NewTracker();
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  EXPECT_EQ(t->Place(gone, 1).code(), Status::Code::kNotFound);
  // A thread that is not its process's leader cannot be placed. The thread publishes
  // its tid and stays alive until the test has tried, so the tid is live when asked.
  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};
  std::thread thread([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    tid.notify_all();
    done.wait(false);
  });
  tid.wait(0);
  ASSERT_NE(tid.load(), getpid());
  Status s = t->Place(tid, 1);
  done = true;
  done.notify_all();
  thread.join();
  EXPECT_EQ(s.code(), Status::Code::kInvalid) << s.ToString();
}

TEST(Tracker, ThreadsAreTheirProcess) {
  auto t = NewTracker();
  ASSERT_TRUE(t->Place(getpid(), 5).ok());
  CallerInfo c;
  std::thread th([&] { c = t->Identify(static_cast<pid_t>(syscall(SYS_gettid)), kDefault); });
  th.join();
  EXPECT_TRUE(c.identified);
  EXPECT_EQ(c.pid, getpid());
  EXPECT_NE(c.tid, getpid());
  EXPECT_EQ(c.domain, 5u);
}

TEST(Tracker, WorldHoldsOrphansAndDoubleForks) {
  auto t = NewTracker();
  auto w = World([](int report, int go) {
    WaitGo(go);
    pid_t middle = ForkRun([report] {
      Report(report, ForkOuter([] {}));
      _exit(0);  // the grandchild is orphaned to the world's first process
    });
    waitpid(middle, nullptr, 0);
    Report(report, 0);
  });
  pid_t init = w->Next();
  ASSERT_GT(init, 0);
  ASSERT_TRUE(t->Place(init, 9).ok());
  w->Go();
  pid_t orphan = w->Next();
  ASSERT_EQ(w->Next(), 0);  // its parent has exited
  CallerInfo c = t->Identify(orphan, kDefault);
  EXPECT_TRUE(c.placed);
  EXPECT_EQ(c.domain, 9u);
  EXPECT_EQ(t->Identify(init, kDefault).domain, 9u);
}

// CallerInfo::world names the placement (last-denial keys each world's record by it).
TEST(Tracker, EachPlacedWorldHasItsOwnSerial) {
  auto t = NewTracker();
  auto a = World([](int report, int go) {
    WaitGo(go);
    Report(report, ForkOuter([] {}));
  });
  auto b = World([](int, int) {});
  pid_t a_init = a->Next(), b_init = b->Next();
  ASSERT_GT(a_init, 0);
  ASSERT_GT(b_init, 0);
  ASSERT_TRUE(t->Place(a_init, 9).ok());
  ASSERT_TRUE(t->Place(b_init, 9).ok());
  a->Go();
  pid_t a_child = a->Next();
  ASSERT_GT(a_child, 0);
  uint64_t world_a = t->Identify(a_init, kDefault).world;
  EXPECT_NE(world_a, 0u);
  EXPECT_EQ(t->Identify(a_child, kDefault).world, world_a);
  EXPECT_NE(t->Identify(b_init, kDefault).world, world_a);
  EXPECT_NE(t->Identify(b_init, kDefault).world, 0u);
  EXPECT_EQ(t->Identify(getpid(), kDefault).world, 0u);  // the test is in no world
  // A new placement of the namespace is a new world: nothing kept of the old one is its.
  ASSERT_TRUE(t->Place(a_init, 9).ok());
  EXPECT_NE(t->Identify(a_child, kDefault).world, world_a);
}

TEST(Tracker, EnteringTheWorldsNamespaceConfines) {
  auto t = NewTracker();
  auto w = World([](int, int) {});
  pid_t init = w->Next();
  ASSERT_TRUE(t->Place(init, 9).ok());
  int fd = -1;
  pid_t helper = EnterAndFork(init, &fd);
  pid_t inside = ReadPid(fd);
  close(fd);
  ASSERT_GT(inside, 0);
  // Its parent (helper) is outside every world: only the namespace says where it is.
  EXPECT_EQ(t->Identify(inside, kDefault).domain, 9u);
  EXPECT_FALSE(t->Identify(helper, kDefault).placed);
  Reap(inside);
  Reap(helper);
}

TEST(Tracker, NestedNamespaceStaysInItsWorld) {
  auto t = NewTracker();
  auto w = World([](int report, int go) {
    WaitGo(go);
    ForkRun([report] {
      if (unshare(CLONE_NEWPID) != 0) _exit(2);
      Report(report, ForkOuter([report] { Report(report, OuterPid()); }));
    });
  });
  pid_t init = w->Next();
  ASSERT_TRUE(t->Place(init, 9).ok());
  w->Go();
  pid_t nested_init = w->Next();
  ASSERT_GT(nested_init, 0);
  ASSERT_EQ(w->Next(), nested_init);
  EXPECT_EQ(t->Identify(nested_init, kDefault).domain, 9u);
  // Entering only the nested namespace from outside still lands in the world.
  int fd = -1;
  pid_t helper = EnterAndFork(nested_init, &fd);
  pid_t inside = ReadPid(fd);
  close(fd);
  ASSERT_GT(inside, 0);
  CallerInfo c = t->Identify(inside, kDefault);
  EXPECT_TRUE(c.placed);
  EXPECT_EQ(c.domain, 9u);
  Reap(inside);
  Reap(helper);
}

// Forces the next fork to get `pid` (root only); true if it did.
bool ForkWithPid(pid_t pid, pid_t* out) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    FILE* f = fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (f == nullptr) return false;
    fprintf(f, "%d", pid - 1);
    fclose(f);
    pid_t p = ForkRun([] {});
    if (p == pid) {
      *out = p;
      return true;
    }
    Reap(p);
  }
  return false;
}

// Forks a child that gets the freed id `id` (skips the test if that cannot be forced):
// it was placed by nobody, so it must be in the default domain.
void ExpectNewProcessWithIdIsNotPlaced(DomainTracker* t, pid_t id) {
  pid_t again = 0;
  if (!ForkWithPid(id, &again)) GTEST_SKIP() << "could not force pid reuse";
  CallerInfo c = t->Identify(again, kDefault);
  EXPECT_TRUE(c.identified);
  EXPECT_FALSE(c.placed);
  EXPECT_EQ(c.domain, kDefault);
  Reap(again);
}

TEST(Tracker, ReusedPidDoesNotInherit) {
  auto t = NewTracker();
  pid_t first = ForkRun([] {});
  ASSERT_TRUE(t->Place(first, 7).ok());
  EXPECT_EQ(t->Identify(first, kDefault).domain, 7u);
  // Start times count clock ticks (10 ms): a pid cannot come round again within one
  // tick without the privileged ns_last_pid this test uses, so wait for the next tick.
  usleep(30000);
  Reap(first);
  ExpectNewProcessWithIdIsNotPlaced(t.get(), first);
}

// A process whose second thread reports its id and then, on Go(), ends (exec = false)
// or replaces the whole process by exec'ing `sleep` (exec = true: the kernel gives the
// exec'ing thread the process id, and its own id is free with no exit event for it).
std::unique_ptr<ProcTree> ThreadThatGoes(bool exec) {
  return std::make_unique<ProcTree>([exec](int report, int go) {
    std::thread th([=] {
      Report(report, static_cast<pid_t>(syscall(SYS_gettid)));
      WaitGo(go);
      if (exec) execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
    });
    th.join();
  });
}

// The cache of thread ids (kept valid by process events) must not hand the domain of a
// thread that is gone to a new process that got its id.
void ExpectReusedThreadIdIsNotConfined(bool exec) {
  auto t = NewTracker();
  auto proc = ThreadThatGoes(exec);
  pid_t tid = proc->Next();
  ASSERT_GT(tid, 0);
  ASSERT_TRUE(t->Place(proc->pid(), 7).ok());
  ASSERT_EQ(t->Identify(tid, kDefault).domain, 7u);  // cached now
  usleep(30000);  // the next clock tick: start times differ (see ReusedPidDoesNotInherit)
  proc->Go();
  std::string task = "/proc/" + std::to_string(proc->pid()) + "/task/" + std::to_string(tid);
  for (int i = 0; i < 500 && access(task.c_str(), F_OK) == 0; ++i) usleep(2000);
  ASSERT_NE(access(task.c_str(), F_OK), 0) << "the thread did not go";
  ExpectNewProcessWithIdIsNotPlaced(t.get(), tid);
}

TEST(Tracker, ReusedIdOfEndedThreadDoesNotInherit) { ExpectReusedThreadIdIsNotConfined(false); }

TEST(Tracker, ReusedIdOfThreadThatExecedDoesNotInherit) { ExpectReusedThreadIdIsNotConfined(true); }

// Polls until `tid` is in `domain` (a transition settles when the exec is done).
bool EventuallyIn(DomainTracker* t, pid_t tid, DomainId domain) {
  for (int i = 0; i < 200; ++i) {
    CallerInfo c = t->Identify(tid, kDefault);
    if (c.placed && c.domain == domain) return true;
    usleep(10000);
  }
  return false;
}

TEST(Tracker, TransitionWaitsForTheExecThenMovesProcessAndLaterChildren) {
  auto t = NewTracker();
  ProcTree p([](int report, int go) {
    Report(report, ForkOuter([] {}));  // forked before the exec
    WaitGo(go);
    ExecShell(report, go, "sleep 100 & echo $!; read x; exec sleep 100");
  });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  pid_t early = p.Next();
  ASSERT_TRUE(t->Transition(p.pid(), 8).ok());
  EXPECT_EQ(t->Identify(p.pid(), kDefault).domain, 7u);  // the exec has not happened yet
  p.Go();
  pid_t late = std::stoi(p.ReadLine());
  EXPECT_EQ(t->Identify(late, kDefault).domain, 8u);
  EXPECT_EQ(t->Identify(p.pid(), kDefault).domain, 8u);
  EXPECT_EQ(t->Identify(early, kDefault).domain, 7u);
  p.GoLine();
}

// While a transition is pending, answers go the slow way, which drains process events
// twice; events that name the asking thread (here: it renames itself all the time) drop
// its cache entry in between. The answer must stay right (and, under ASan, nothing
// may touch the dropped entry).
TEST(Tracker, AnswersStayRightWhileEventsDropCacheEntries) {
  if (!ProcEvents::Open()) GTEST_SKIP() << "no process events (needs root, CONFIG_PROC_EVENTS)";
  auto t = NewTracker();
  ASSERT_TRUE(t->Place(getpid(), 5).ok());
  pid_t waiting = ForkRun([] {});  // never execs: its transition stays pending
  ASSERT_TRUE(t->Transition(waiting, 8).ok());
  std::atomic<pid_t> renamer_tid{0};
  std::atomic<bool> stop{false};
  std::thread renamer([&] {
    renamer_tid = static_cast<pid_t>(syscall(SYS_gettid));
    for (int i = 0; !stop; ++i) {
      prctl(PR_SET_NAME, i % 2 ? "spt-a" : "spt-b");
      usleep(20);  // often enough to fall between two drains, not to flood the queue
    }
  });
  while (renamer_tid == 0) usleep(100);
  int wrong = 0;
  for (int i = 0; i < 20000; ++i) {
    CallerInfo c = t->Identify(renamer_tid, kDefault);
    if (!c.identified || c.domain != 5u) ++wrong;
  }
  stop = true;
  renamer.join();
  Reap(waiting);
  EXPECT_EQ(wrong, 0);
}

TEST(Tracker, FailedExecMovesNothing) {
  char path[] = "/tmp/sptfs-noexec-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd,
                  "\x7f"
                  "ELF garbage",
                  12),
            12);
  close(fd);
  chmod(path, 0755);
  auto t = NewTracker();
  std::string bad = path;
  ProcTree p([bad](int report, int go) {
    WaitGo(go);
    execl(bad.c_str(), bad.c_str(), static_cast<char*>(nullptr));  // fails: ENOEXEC
    Report(report, errno);
    Report(report, ForkOuter([] {}));
  });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  ASSERT_TRUE(t->Transition(p.pid(), 8).ok());
  p.Go();
  EXPECT_EQ(p.Next(), ENOEXEC);
  pid_t child = p.Next();
  EXPECT_EQ(t->Identify(p.pid(), kDefault).domain, 7u);
  EXPECT_EQ(t->Identify(child, kDefault).domain, 7u);
  unlink(path);
}

// The gate holds the thread at the end of its exec attempt; a thread that is not in an
// exec ends its "attempt" at once (the hold stops it in its read): nothing moves, and
// nothing stays pending for a later exec.
TEST(Tracker, ExecTransitionBelongsToOneExecAttempt) {
  if (geteuid() != 0) GTEST_SKIP() << "the exec gate needs CAP_SYS_PTRACE";
  auto t = NewTracker();
  ProcTree p([](int report, int go) {
    WaitGo(go);
    ExecShell(report, go, "echo started; read x; exec sleep 100");
  });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  std::atomic<int> reports{0};
  std::string why;
  ExecTarget target;
  target.interpreter = "/bin/sh";
  ASSERT_TRUE(t->ExecTransition(p.pid(), 8, target, [&](const std::string& w) {
                 why = w;
                 ++reports;
               }).ok());
  for (int i = 0; i < 500 && reports == 0; ++i) usleep(2000);
  ASSERT_EQ(reports, 1);
  EXPECT_EQ(why, "the exec failed");
  p.Go();
  ASSERT_EQ(p.ReadLine(), "started");
  EXPECT_EQ(t->Identify(p.pid(), kDefault).domain, 7u);
  p.GoLine();
}

// Issue 20.1: a non-leader thread's exec ends the old leader with an exit event whose
// thread id is the process id; the process lives on and keeps its record.
TEST(Tracker, ExecFromNonLeaderThreadKeepsTheProcess) {
  if (!ProcEvents::Open()) GTEST_SKIP() << "no process events (needs root, CONFIG_PROC_EVENTS)";
  auto t = NewTracker();
  ProcTree p([](int report, int go) {
    WaitGo(go);
    std::thread([report] {
      Report(report, static_cast<pid_t>(syscall(SYS_gettid)));
      execl("/bin/sleep", "sleep", "100", static_cast<char*>(nullptr));
    }).detach();
    sptfs::testing::SleepForever();
  });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  p.Go();
  ASSERT_GT(p.Next(), 0);
  ProcReader reader;
  ProcStat st;
  for (int i = 0; i < 500 && (!reader.ReadStat(p.pid(), &st) || st.comm != "sleep"); ++i) {
    usleep(2000);
  }
  ASSERT_EQ(st.comm, "sleep");
  EXPECT_EQ(t->Identify(p.pid(), kDefault).domain, 7u);
  pid_t child = ForkRun([] {});  // a later request drains again: still there
  EXPECT_EQ(t->Identify(p.pid(), kDefault).domain, 7u);
  Reap(child);
}

// Issue 20.2: the leader ends first (SYS_exit) while another thread runs: the process
// keeps its domain until that thread ends too.
TEST(Tracker, LeaderExitingFirstKeepsTheProcessUntilItsLastThread) {
  if (!ProcEvents::Open()) GTEST_SKIP() << "no process events (needs root, CONFIG_PROC_EVENTS)";
  auto t = NewTracker();
  ProcTree p([](int report, int go) {
    WaitGo(go);
    std::thread([report] {
      Report(report, static_cast<pid_t>(syscall(SYS_gettid)));
      sptfs::testing::SleepForever();
    }).detach();
    usleep(50000);
    syscall(SYS_exit, 0);
  });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  p.Go();
  pid_t thread = p.Next();
  ProcReader reader;
  ProcStat st;
  for (int i = 0; i < 500 && reader.ReadStat(p.pid(), &st) && st.state != 'Z'; ++i) usleep(2000);
  ASSERT_EQ(st.state, 'Z');
  CallerInfo c = t->Identify(thread, kDefault);
  EXPECT_TRUE(c.placed);
  EXPECT_EQ(c.domain, 7u);
}

TEST(Tracker, TransitionInsideWorldAndOrphanKeepsIt) {
  auto t = NewTracker();
  auto w = World([](int report, int go) {
    ForkRun([report, go] {
      Report(report, OuterPid());
      WaitGo(go);
      // The grandchild prints its own pid (outer: /proc is the test's), the middle
      // process waits for a line, then exits and orphans it.
      ExecShell(report, go,
                "( ( read -r a r < /proc/self/stat; echo $a; exec sleep 100 ) & read x ); "
                "echo orphaned; exec sleep 100");
    });
  });
  pid_t init = w->Next();
  ASSERT_TRUE(t->Place(init, 9).ok());
  pid_t worker = w->Next();
  ASSERT_TRUE(t->Transition(worker, 8).ok());
  w->Go();
  pid_t grandchild = std::stoi(w->ReadLine());
  ProcStat before;
  ASSERT_TRUE(ProcReader().ReadStat(grandchild, &before));
  EXPECT_EQ(t->Identify(grandchild, kDefault).domain, 8u);  // seen while its parent lives
  w->GoLine();
  ASSERT_EQ(w->ReadLine(), "orphaned");
  // The middle process has exited: the grandchild now has another parent, and the
  // tracker must not take it for a new, unseen process.
  pid_t adopter = WaitForParent(grandchild, [&](pid_t p) { return p != before.ppid; });
  ASSERT_GT(adopter, 0) << "the grandchild was never orphaned";
  EXPECT_NE(adopter, worker);
  EXPECT_EQ(t->Identify(grandchild, kDefault).domain, 8u);
  EXPECT_EQ(t->Identify(worker, kDefault).domain, 8u);
  EXPECT_EQ(t->Identify(init, kDefault).domain, 9u);
}

// With process events a double fork's grandchild keeps the transitioned domain even if
// nobody saw it before its parent exited.
TEST(Tracker, OrphanNeverSeenKeepsTransitionedDomain) {
  if (!ProcEvents::Open()) GTEST_SKIP() << "no process events (needs root, CONFIG_PROC_EVENTS)";
  auto t = NewTracker();
  auto w = World([](int report, int go) {
    ForkRun([report, go] {
      Report(report, OuterPid());
      WaitGo(go);
      ExecShell(report, go,
                "( ( read -r a r < /proc/self/stat; echo $a; exec sleep 100 ) & ); "
                "echo orphaned; exec sleep 100");
    });
  });
  pid_t init = w->Next();
  ASSERT_TRUE(t->Place(init, 9).ok());
  pid_t worker = w->Next();
  ASSERT_TRUE(t->Transition(worker, 8).ok());
  w->Go();
  // The two lines come in either order.
  std::string a = w->ReadLine(), b = w->ReadLine();
  if (a == "orphaned") std::swap(a, b);
  ASSERT_EQ(b, "orphaned");
  pid_t grandchild = std::stoi(a);
  // The middle process exits at once: the grandchild is reparented to the world's
  // first process (the namespace's pid 1).
  ASSERT_EQ(WaitForParent(grandchild, [&](pid_t p) { return p == init; }), init)
      << "the grandchild was never orphaned";
  EXPECT_EQ(t->Identify(grandchild, kDefault).domain, 8u);
  EXPECT_EQ(t->Identify(init, kDefault).domain, 9u);
}

TEST(Tracker, TransitionOfUnplacedProcess) {
  auto t = NewTracker();
  ProcTree p([](int, int go) {
    WaitGo(go);
    execl("/bin/sleep", "sleep", "100", static_cast<char*>(nullptr));
  });
  ASSERT_TRUE(t->Transition(p.pid(), 3).ok());
  EXPECT_FALSE(t->Identify(p.pid(), kDefault).placed);
  p.Go();
  EXPECT_TRUE(EventuallyIn(t.get(), p.pid(), 3));
  EXPECT_EQ(t->Transition(0, 3).code(), Status::Code::kNotFound);
}

TEST(Tracker, ListAndWorldCounts) {
  auto t = NewTracker();
  auto w = World([](int report, int) {
    Report(report, ForkOuter([] {}));
    Report(report, ForkOuter([] {}));
  });
  pid_t init = w->Next();
  ASSERT_TRUE(t->Place(init, 9).ok());
  std::set<pid_t> expected{init, w->Next(), w->Next()};
  std::set<pid_t> listed;
  for (const ConfinedProcess& p : t->List()) {
    if (p.domain == 9) listed.insert(p.pid);
  }
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(t->WorldCounts()[9], 3);
}

class TrackerStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sptfs-tracker-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/domains.state";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(TrackerStateTest, RestartKeepsWorldsAndTransitions) {
  auto w = World([](int report, int go) {
    Report(report, ForkOuter([go] {
             WaitGo(go);
             execl("/bin/sleep", "sleep", "100", static_cast<char*>(nullptr));
           }));
  });
  pid_t init = w->Next();
  pid_t worker = w->Next();
  {
    auto t = NewTracker(path_);
    ASSERT_TRUE(t->Place(init, 9).ok());
    ASSERT_TRUE(t->Transition(worker, 8).ok());
    w->Go();
    ASSERT_TRUE(EventuallyIn(t.get(), worker, 8));
  }
  auto t = NewTracker(path_);
  EXPECT_EQ(t->Identify(init, kDefault).domain, 9u);
  EXPECT_EQ(t->Identify(worker, kDefault).domain, 8u);
  w.reset();  // the world ends; a restart forgets it
  for (pid_t pid : {init, worker}) {
    ProcReader reader;
    ProcStat st;
    for (int i = 0; i < 200 && reader.ReadStat(pid, &st) && st.state != 'Z'; ++i) usleep(10000);
  }
  t = NewTracker(path_);
  std::ifstream in(path_);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("world "), std::string::npos) << all;
  EXPECT_EQ(all.find("proc "), std::string::npos) << all;
}

TEST_F(TrackerStateTest, CorruptStateFailsOpen) {
  std::ofstream(path_) << "sptfs-domains 1 boot=x\nworld nonsense\n";
  std::unique_ptr<DomainTracker> t;
  // Another boot's file is ignored even if broken after the header...
  EXPECT_TRUE(DomainTracker::Open(path_, &t).ok());
  std::ifstream id("/proc/sys/kernel/random/boot_id");
  std::string boot;
  id >> boot;
  std::ofstream(path_) << "sptfs-domains 1 boot=" << boot << "\nworld nonsense\n";
  t.reset();
  Status s = DomainTracker::Open(path_, &t);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path_ + ":2:"), std::string::npos) << s.message();
  EXPECT_EQ(t, nullptr);
}

// A state writer as slow as the test wants: writes the file as the daemon does, but
// while held, each write waits until Release() (a disk that hangs). Shared with the
// tracker's writer, which may run until the tracker is gone.
class SlowWriter {
 public:
  explicit SlowWriter(std::string path) : path_(std::move(path)) {}
  static StateWriter Of(const std::shared_ptr<SlowWriter>& w) {
    return [w](const TrackerState& state) { return w->Write(state); };
  }
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // True once a write waits in Hold(), within 10 s.
  bool WaitBlocked() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return blocked_; });
  }

 private:
  Status Write(const TrackerState& state) {
    std::unique_lock lock(mu_);
    blocked_ = held_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    lock.unlock();
    return SaveTrackerState(path_, CurrentBootId(), state);
  }
  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false, blocked_ = false;
};

// Issue 15.4: a request never waits for a state file write. Place() waits for its own
// write (held here), with no lock held: meanwhile others are answered, also about the
// process being placed, and a transition begins.
TEST_F(TrackerStateTest, SlowSaveHoldsNoRequest) {
  auto writer = std::make_shared<SlowWriter>(path_);
  auto t = NewTracker(path_, SlowWriter::Of(writer));
  ProcTree placed([](int, int) {});
  ProcTree other([](int, int) {});
  writer->Hold();
  auto place = std::async(std::launch::async, [&] { return t->Place(placed.pid(), 7); });
  bool blocked = writer->WaitBlocked();
  auto answers = std::async(std::launch::async, [&] {
    CallerInfo c = t->Identify(placed.pid(), kDefault);
    Status s = t->Transition(other.pid(), 8);
    return std::make_pair(c, s);
  });
  bool answered = answers.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  bool place_done = place.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  writer->Release();
  EXPECT_TRUE(blocked) << "Place did not write the state file";
  EXPECT_TRUE(answered) << "Identify or Transition waited for the state file write";
  EXPECT_FALSE(place_done) << "Place returned before its placement was written";
  auto [c, transition] = answers.get();
  EXPECT_TRUE(c.placed);
  EXPECT_EQ(c.domain, 7u);
  EXPECT_TRUE(transition.ok()) << transition.ToString();
  EXPECT_TRUE(place.get().ok());
}

// A placed process forks `n` children that each fork a grandchild and exit at once (a
// storm of double forks: every grandchild an orphan nobody asked about). Returns the
// grandchildren's pids once all are forked.
std::vector<pid_t> DoubleForkStorm(ProcTree* p, int n) {
  p->Go();
  std::vector<pid_t> out;
  for (int i = 0; i < n; ++i) out.push_back(p->Next());
  return out;
}

void DoubleForks(int report, int go, int n) {
  WaitGo(go);
  for (int i = 0; i < n; ++i) {
    pid_t middle = ForkRun([report] {
      Report(report, ForkRun([] {}));
      _exit(0);
    });
    waitpid(middle, nullptr, 0);
  }
}

// The records in the state file, by pid: (domain, kind).
std::map<pid_t, std::pair<DomainId, ProcKind>> SavedProcs(const std::string& path) {
  TrackerState state;
  std::map<pid_t, std::pair<DomainId, ProcKind>> out;
  if (!LoadTrackerState(path, CurrentBootId(), &state).ok()) return out;
  for (const ProcRecord& r : state.procs) out[r.pid] = {r.domain, r.kind};
  return out;
}

int CountInherited(const std::map<pid_t, std::pair<DomainId, ProcKind>>& saved,
                   const std::vector<pid_t>& pids, DomainId domain) {
  int n = 0;
  for (pid_t pid : pids) {
    auto it = saved.find(pid);
    n += it != saved.end() && it->second == std::make_pair(domain, ProcKind::kInherited);
  }
  return n;
}

constexpr int kStorm = 40;

// Issue 15.4: the tracker's own thread reads the events of a fork storm as they come and
// the saver writes the records they make, with no request at all; the last write of
// the burst has them all. Then every orphan is identified in its parent's domain.
TEST_F(TrackerStateTest, DrainerThreadRecordsAForkStormWithoutRequests) {
  if (!ProcEvents::Open()) GTEST_SKIP() << "no process events (needs root, CONFIG_PROC_EVENTS)";
  auto t = NewTracker(path_);
  ProcTree p([](int report, int go) { DoubleForks(report, go, kStorm); });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  std::vector<pid_t> orphans = DoubleForkStorm(&p, kStorm);
  int saved = 0;
  for (int i = 0; i < 1000 && saved < kStorm; ++i) {
    saved = CountInherited(SavedProcs(path_), orphans, 7);
    if (saved < kStorm) usleep(10000);
  }
  EXPECT_EQ(saved, kStorm) << "records of the storm missing from the state file";
  for (pid_t pid : orphans) {
    CallerInfo c = t->Identify(pid, kDefault);
    EXPECT_TRUE(c.placed) << pid;
    EXPECT_EQ(c.domain, 7u) << pid;
  }
}

// Issue 15.4: what happened before the tracker is destroyed is in the state file when
// the destructor returns (a daemon restart must find the latest state): the events
// still queued are read, and the write a storm's records wait for is not skipped.
TEST_F(TrackerStateTest, DestructionWritesTheLastRecordsOfABurst) {
  if (!ProcEvents::Open()) GTEST_SKIP() << "no process events (needs root, CONFIG_PROC_EVENTS)";
  auto t = NewTracker(path_);
  ProcTree p([](int report, int go) { DoubleForks(report, go, kStorm); });
  ASSERT_TRUE(t->Place(p.pid(), 7).ok());
  std::vector<pid_t> orphans = DoubleForkStorm(&p, kStorm);
  t.reset();  // at once: no request, the saver may not have written yet
  EXPECT_EQ(CountInherited(SavedProcs(path_), orphans, 7), kStorm);
  t = NewTracker(path_);  // a restart
  for (pid_t pid : orphans) EXPECT_EQ(t->Identify(pid, kDefault).domain, 7u) << pid;
}

}  // namespace
}  // namespace sptfs
