// Parses spt's command line by hand (getopt keeps global state, and the daemon parses
// argv from many clients at once). Short options take their value attached ("-d4") or
// as the next word; long ones as "--opt=value" or the next word.
#include "cli/spt_options.h"

#include <optional>

namespace sptfs {

namespace {

enum class Arg { kNone, kRequired, kOptional };  // kOptional: attached, or a next non-option word

// What an option sets: a command, or a modifier field.
enum class Field {
  kCommand,
  kLabel,
  kJson,
  kDryRun,
  kLog,
  kPolicy,
  kRoot,
  kMount,
  kSocket,
  kGraphDomain,
  kSvg
};

struct OptionDef {
  char short_name;  // 0: long only
  std::string_view long_name;
  Arg arg;
  Field field;
  SptCommand command;
};

constexpr OptionDef kOptions[] = {
    {'r', "reset", Arg::kNone, Field::kCommand, SptCommand::kReset},
    {'p', "load-policy", Arg::kOptional, Field::kCommand, SptCommand::kLoadPolicy},
    {'d', "display-policy", Arg::kOptional, Field::kCommand, SptCommand::kDisplayPolicy},
    {'D', "lookup-domain", Arg::kRequired, Field::kCommand, SptCommand::kLookupDomain},
    {'O', "lookup-object", Arg::kRequired, Field::kCommand, SptCommand::kLookupObject},
    {'l', "list-labels", Arg::kNone, Field::kCommand, SptCommand::kListLabels},
    {'k', "keywords", Arg::kNone, Field::kCommand, SptCommand::kKeywords},
    {'g', "get-label", Arg::kRequired, Field::kCommand, SptCommand::kGetLabel},
    {'s', "set-label", Arg::kRequired, Field::kCommand, SptCommand::kSetLabel},
    {'L', "label", Arg::kRequired, Field::kLabel, SptCommand::kNone},
    {'T', "set-tag", Arg::kRequired, Field::kCommand, SptCommand::kSetTag},
    {'N', "new-dom", Arg::kRequired, Field::kCommand, SptCommand::kNewDomain},
    {'C', "del-dom", Arg::kRequired, Field::kCommand, SptCommand::kDeleteDomain},
    {'h', "help", Arg::kNone, Field::kCommand, SptCommand::kHelp},
    {0, "check", Arg::kRequired, Field::kCommand, SptCommand::kCheck},
    {0, "why", Arg::kNone, Field::kCommand, SptCommand::kWhy},
    {0, "suggest", Arg::kNone, Field::kCommand, SptCommand::kSuggest},
    {0, "import", Arg::kNone, Field::kCommand, SptCommand::kImport},
    {0, "ps", Arg::kNone, Field::kCommand, SptCommand::kPs},
    {0, "graph", Arg::kNone, Field::kCommand, SptCommand::kGraph},
    {0, "domain", Arg::kRequired, Field::kGraphDomain, SptCommand::kNone},
    {0, "svg", Arg::kRequired, Field::kSvg, SptCommand::kNone},
    {0, "version", Arg::kNone, Field::kCommand, SptCommand::kVersion},
    {0, "stale", Arg::kNone, Field::kCommand, SptCommand::kStale},
    {0, "audit-mark", Arg::kRequired, Field::kCommand, SptCommand::kAuditMark},
    {0, "dry-run", Arg::kNone, Field::kDryRun, SptCommand::kNone},
    {0, "log", Arg::kRequired, Field::kLog, SptCommand::kNone},
    {0, "json", Arg::kNone, Field::kJson, SptCommand::kNone},
    {0, "policy", Arg::kRequired, Field::kPolicy, SptCommand::kNone},
    {0, "root", Arg::kRequired, Field::kRoot, SptCommand::kNone},
    {0, "mount", Arg::kRequired, Field::kMount, SptCommand::kNone},
    {0, "socket", Arg::kRequired, Field::kSocket, SptCommand::kNone},
};

bool TakesOperands(SptCommand c) {
  return c == SptCommand::kWhy || c == SptCommand::kSuggest || c == SptCommand::kImport;
}

class Parser {
 public:
  explicit Parser(const std::vector<std::string>& args) : args_(args) {}

  Status Run(SptOptions* out) {
    bool options_done = false;
    for (i_ = 0; i_ < args_.size(); ++i_) {
      const std::string& word = args_[i_];
      Status s;
      if (options_done || word.size() < 2 || word[0] != '-') {
        opts_.operands.push_back(word);
      } else if (word == "--") {
        options_done = true;
      } else if (word[1] == '-') {
        s = Long(word.substr(2));
      } else {
        s = Short(word);
      }
      if (!s.ok()) return s;
    }
    // `-p --dry-run DIR`: -p saw an option next, so DIR came as an operand.
    if (opts_.command == SptCommand::kLoadPolicy && opts_.dry_run && opts_.argument.empty() &&
        opts_.operands.size() == 1) {
      opts_.argument = opts_.operands[0];
      opts_.operands.clear();
    }
    if (Status s = Check(); !s.ok()) return s;
    *out = std::move(opts_);
    return Status::Ok();
  }

 private:
  Status Long(const std::string& body) {
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    for (const OptionDef& def : kOptions) {
      if (def.long_name != name) continue;
      if (eq != std::string::npos) {
        if (def.arg == Arg::kNone) return Status::Invalid("option --" + name + " takes no value");
        return Apply(def, "--" + name, body.substr(eq + 1));
      }
      return Apply(def, "--" + name, NextValue(def.arg));
    }
    return Status::Invalid("unknown option '--" + name + "' (see spt -h)");
  }

  Status Short(const std::string& word) {
    for (const OptionDef& def : kOptions) {
      if (def.short_name == 0 || def.short_name != word[1]) continue;
      std::string spelled = word.substr(0, 2);
      if (word.size() > 2) {
        if (def.arg == Arg::kNone) {
          return Status::Invalid("unexpected '" + word.substr(2) + "' after " + spelled +
                                 " (one option per word)");
        }
        return Apply(def, spelled, word.substr(2));
      }
      return Apply(def, spelled, NextValue(def.arg));
    }
    return Status::Invalid("unknown option '" + word.substr(0, 2) + "' (see spt -h)");
  }

  // The next word as the option's value, when the option takes one.
  std::optional<std::string> NextValue(Arg arg) {
    if (arg == Arg::kNone) return std::nullopt;
    bool has_next = i_ + 1 < args_.size();
    if (arg == Arg::kOptional && (!has_next || args_[i_ + 1].empty() || args_[i_ + 1][0] == '-')) {
      return std::string();
    }
    if (!has_next) return std::nullopt;
    return args_[++i_];
  }

  Status Apply(const OptionDef& def, const std::string& spelled, std::optional<std::string> value) {
    if (def.arg == Arg::kRequired && !value) {
      return Status::Invalid("option " + spelled + " needs a value");
    }
    std::string v = value.value_or("");
    switch (def.field) {
      case Field::kCommand:
        if (opts_.command != SptCommand::kNone && opts_.command != def.command) {
          return Status::Invalid(std::string(SptCommandName(opts_.command)) + " and " + spelled +
                                 " given together (one command at a time)");
        }
        opts_.command = def.command;
        opts_.argument = v;
        return Status::Ok();
      case Field::kLabel:
        opts_.label = v;
        return Status::Ok();
      case Field::kJson:
        opts_.json = true;
        return Status::Ok();
      case Field::kDryRun:
        opts_.dry_run = true;
        return Status::Ok();
      case Field::kLog:
        opts_.log = v;
        return Status::Ok();
      case Field::kPolicy:
        opts_.policy_dir = v;
        return Status::Ok();
      case Field::kRoot:
        opts_.root = v;
        return Status::Ok();
      case Field::kMount:
        opts_.mount = v;
        return Status::Ok();
      case Field::kSocket:
        opts_.socket = v;
        return Status::Ok();
      case Field::kGraphDomain:
        opts_.graph_domain = v;
        return Status::Ok();
      case Field::kSvg:
        opts_.svg = v;
        return Status::Ok();
    }
    return Status::Ok();
  }

  Status Check() const {
    bool needs_label =
        opts_.command == SptCommand::kSetLabel || opts_.command == SptCommand::kSetTag;
    if (needs_label && opts_.label.empty()) {
      return Status::Invalid(std::string(SptCommandName(opts_.command)) + " needs -L LABEL");
    }
    if (!needs_label && !opts_.label.empty()) {
      return Status::Invalid("-L is only used with -s or -T");
    }
    bool graph = opts_.command == SptCommand::kGraph;
    if (!graph && (!opts_.graph_domain.empty() || !opts_.svg.empty())) {
      return Status::Invalid(std::string(opts_.svg.empty() ? "--domain" : "--svg") +
                             " is only used with --graph");
    }
    if (graph && opts_.json && !opts_.svg.empty()) {
      return Status::Invalid("--svg and --json given together (expected one output form)");
    }
    if (opts_.dry_run && opts_.command != SptCommand::kLoadPolicy) {
      return Status::Invalid("--dry-run is only used with -p");
    }
    if (!opts_.log.empty() && !opts_.dry_run) {
      return Status::Invalid("--log is only used with -p --dry-run");
    }
    if (!opts_.operands.empty() && !TakesOperands(opts_.command)) {
      return Status::Invalid("unexpected argument '" + opts_.operands[0] + "'");
    }
    return Status::Ok();
  }

  const std::vector<std::string>& args_;
  size_t i_ = 0;
  SptOptions opts_;
};

}  // namespace

Status ParseSptArgs(const std::vector<std::string>& args, SptOptions* out) {
  return Parser(args).Run(out);
}

std::string_view SptCommandName(SptCommand command) {
  switch (command) {
    case SptCommand::kNone:
      return "(no command)";
    case SptCommand::kHelp:
      return "-h";
    case SptCommand::kReset:
      return "-r";
    case SptCommand::kLoadPolicy:
      return "-p";
    case SptCommand::kDisplayPolicy:
      return "-d";
    case SptCommand::kLookupDomain:
      return "-D";
    case SptCommand::kLookupObject:
      return "-O";
    case SptCommand::kListLabels:
      return "-l";
    case SptCommand::kKeywords:
      return "-k";
    case SptCommand::kGetLabel:
      return "-g";
    case SptCommand::kSetLabel:
      return "-s";
    case SptCommand::kSetTag:
      return "-T";
    case SptCommand::kNewDomain:
      return "-N";
    case SptCommand::kDeleteDomain:
      return "-C";
    case SptCommand::kCheck:
      return "--check";
    case SptCommand::kWhy:
      return "--why";
    case SptCommand::kSuggest:
      return "--suggest";
    case SptCommand::kImport:
      return "--import";
    case SptCommand::kPs:
      return "--ps";
    case SptCommand::kGraph:
      return "--graph";
    case SptCommand::kVersion:
      return "--version";
    case SptCommand::kStale:
      return "--stale";
    case SptCommand::kAuditMark:
      return "--audit-mark";
  }
  return "?";
}

bool IsSptQuery(SptCommand c) {
  return c == SptCommand::kHelp || c == SptCommand::kListLabels ||
         c == SptCommand::kDisplayPolicy || c == SptCommand::kLookupDomain ||
         c == SptCommand::kLookupObject || c == SptCommand::kKeywords || c == SptCommand::kGraph ||
         c == SptCommand::kStale;
}

std::string SptHelpText() {
  // The seed's text, byte for byte (trailing spaces included), then ours.
  return R"(Usage: secpolicytools <options> 
   -r|--reset                                Reset all policy rules.
   -p|--load-policy[policy dir]              Load a predefined policy.
                                             A default dir of /etc/vmware/secpolicy
                                             will be used.
   -d|--display-policy                       Display the current policy.
   -D|--lookup-domain <label>                Lookup the value of a domain label.
   -O|--lookup-object <label>                Lookup the value of an object label.
   -l|--list-labels                          List all valid domains and objects 
   -k|--keywords                             List all policy keywords.
   -g|--get-label <file>                     Get the object label for a file.
   -s|--set-label <file> -L|--label <label>  Set the object label for a file.
   -T|--set-tag <string> -L|--label <label>  Add VMCI service access to privileged VM with label.
   -N|--new-dom <label>                      Create domain for privileged VM with label.
   -C|--del-dom <label>                      Delete domain for privileged VM with label.
   -h|--help                                 Show this message.
   There are additional options in esxcli system secpolicy.
sptfs options:
   --policy <dir>                            Work offline on the policy set in <dir>.
   --root <dir>                              Resolve rule paths in the tree at <dir>.
   --check <dir>                             Validate the policy set in <dir>.
   --json                                    Print -l, -d, -D, -O, -k as JSON.
   --mount <dir>                             Talk to the sptfs mounted at <dir>.
   --socket <path>                           Talk to the sptfs control socket <path>.
   --why [--host] <domain> <path> [rwx]      Explain the decision for an access.
   --suggest [<audit log>...]                Suggest rules for denied or warned accesses.
   --import <file> [--out <dir>]             Turn secpolicytools -d output into domain files.
   --ps                                      List confined processes and their domains.
   --graph [--domain <d>] [--svg <file>]     Print domain transitions as a Graphviz graph.
   --version                                 Print the program's name and version.
   --stale                                   List rules whose path now resolves elsewhere.
   -p [<dir>] --dry-run [--log <audit log>]  Show what loading the policy would change.
   --audit-mark <text>                       Write <text> to the audit log (SPT_USER).
)";
}

}  // namespace sptfs
