// Why CMD could not be executed, when the policy refused it (docs/spt-run.md, "When CMD
// cannot be executed"). An exec can fail with EPERM although the domain may execute CMD:
// the kernel also exec-opens the ELF loader (PT_INTERP) or a script's "#!" interpreter,
// and the refusal of that file comes back as CMD's error. So:
//
//   world, CMD's process:  execvp fails with EPERM/EACCES -> ReportExecFailure(fd, ...)
//                          sends {errno, when, the file it tried} over the world's
//                          channel to spt-run and waits for spt-run's answer
//   spt-run, a thread:     ServeExecReports(fd, ...) asks the daemon `last-denial PID`
//                          for the world's last denial (while the world still lives),
//                          prints the line (ExecFailureLine) and answers; the process
//                          then exits 126 without a line of its own.
// If spt-run's end is closed (spt-run died, or could not start the thread), the process
// prints the plain line itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace sptfs {

struct ExecFailure {
  int err = 0;
  int64_t start_ms = 0;  // CLOCK_REALTIME just before the exec (denials before it are older)
  std::string path;      // the file the exec tried, symlinks resolved, as the world sees it
};

// World side (CMD's process, after execvp failed with `err`). Never returns.
[[noreturn]] void ReportExecFailure(int fd, const std::string& cmd, int err, int64_t start_ms);

// The file execvp runs for `cmd`: `cmd` if it has a '/', else the first PATH entry
// holding it; then realpath'd. Lookups only: nothing the policy records.
std::string ExecutedPath(const std::string& cmd);

int64_t RealtimeMs();

// `key=value` lines (the `last-denial` reply) -> map.
std::map<std::string, std::string> ParseDenial(const std::string& text);

// The one line spt-run prints for `failure` of `cmd`. `denial` is the daemon's answer
// (empty: none); `prefix` is where the tree is in the world ("" with --root, else the
// mount's path). The line names the denied file only when it is not CMD itself and was
// refused during this exec; else it is "spt-run: CMD: strerror".
std::string ExecFailureLine(const std::string& cmd, const ExecFailure& failure,
                            const std::map<std::string, std::string>& denial,
                            const std::string& prefix);

// spt-run side: serves the world's channel `fd` until the world closes it (its exec
// succeeded or it ended). `prefix` gives the prefix above, asked only on a failure.
void ServeExecReports(int fd, const std::string& socket, pid_t world, const std::string& cmd,
                      const std::function<std::string()>& prefix);

}  // namespace sptfs
