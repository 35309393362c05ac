// The `spt` command line (secpolicytools' options plus sptfs' own long options),
// parsed into SptOptions. Pure: no I/O, so the daemon can parse argv sent over the
// control socket with the same code. Grammar and exit codes: docs/spt.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sptfs {

enum class SptCommand {
  kNone,           // no command given
  kHelp,           // -h, --help
  kReset,          // -r, --reset
  kLoadPolicy,     // -p[DIR], --load-policy[=DIR]
  kDisplayPolicy,  // -d [N|NAME], --display-policy[=N]
  kLookupDomain,   // -D NAME
  kLookupObject,   // -O NAME
  kListLabels,     // -l
  kKeywords,       // -k
  kGetLabel,       // -g FILE
  kSetLabel,       // -s FILE -L LABEL
  kSetTag,         // -T STRING -L LABEL
  kNewDomain,      // -N NAME
  kDeleteDomain,   // -C NAME
  kCheck,          // --check DIR
  kWhy,            // --why OPERANDS...
  kSuggest,        // --suggest OPERANDS...
  kImport,         // --import OPERANDS...
  kPs,             // --ps
  kGraph,          // --graph [--domain D] [--svg FILE]
  kVersion,        // --version
  kStale,          // --stale: rules whose source path now resolves elsewhere
  kAuditMark,      // --audit-mark TEXT: a line of the caller's in the audit log
};

struct SptOptions {
  SptCommand command = SptCommand::kNone;
  // The command's argument: the NAME/FILE/STRING/DIR of -D -O -g -s -T -N -C --check,
  // the TEXT of --audit-mark; the directory of -p ("" = default); the domain (id or name) of -d (""
  // = all).
  std::string argument;
  std::string label;                  // -L, with -s and -T
  std::vector<std::string> operands;  // words after --why, --suggest, --import
  bool json = false;                  // --json
  bool dry_run = false;               // --dry-run, with -p: show what a load would change
  std::string log;                    // --log AUDITLOG, with -p --dry-run: replay it
  std::string policy_dir;             // --policy DIR: offline, on this policy set
  std::string root;                   // --root DIR: tree for path resolution ("" = none)
  std::string mount;                  // --mount DIR: which mounted sptfs to talk to
  std::string socket;                 // --socket PATH: control socket to talk to
  std::string graph_domain;           // --domain D, with --graph ("" = all domains)
  std::string svg;                    // --svg FILE, with --graph: render with Graphviz
};

// `args` are the words after the program name. Usage errors come back as Invalid with
// a one-line message (no "spt: " prefix); *out is untouched then.
Status ParseSptArgs(const std::vector<std::string>& args, SptOptions* out);

// The seed's `secpolicytools -h` text byte for byte, then sptfs' own long options.
std::string SptHelpText();

// "-l", "--check", ...: how the command is spelled, for messages.
std::string_view SptCommandName(SptCommand command);

// True for the read-only commands RunSptQuery answers (-h -l -d -D -O -k --graph --stale).
bool IsSptQuery(SptCommand command);

}  // namespace sptfs
