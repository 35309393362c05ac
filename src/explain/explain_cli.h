// The explain commands of the `spt` tool (tools/spt/spt_main.cc calls this), with the
// file and xattr I/O they need around the pure functions of why.h, suggest.h, import.h:
//   spt [--policy DIR [--root TREE]] --suggest [--glob] [--dontaudit] [AUDIT_LOG...|-]
//                                               rules for recorded denials (stdin if none)
//   spt --import FILE|- [--out DIR]             domain TOML from `secpolicytools -d` text
//   spt --policy DIR [--root TREE] --why ...    offline --why (why_command.h operands);
//                                               labels are read from TREE's xattrs
// Online --why (no --policy) is answered by the daemon (why_daemon.h).
// Call RewriteExplainArgs (why_command.h) on argv before ParseSptArgs.
#pragma once

#include <string>

#include "cli/spt_options.h"

namespace sptfs {

inline constexpr int kExplainNotHere = -1;  // the command is not answered locally

bool IsExplainCommand(SptCommand command);

// Exit code (0 ok, 1 error, 2 usage) or kExplainNotHere. Output appended to *out,
// messages ("spt: ...\n") to *err.
int RunExplainCli(const SptOptions& options, std::string* out, std::string* err);

}  // namespace sptfs
