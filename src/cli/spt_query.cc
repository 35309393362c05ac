#include "cli/spt_query.h"

#include <charconv>

#include "cli/graph.h"
#include "policy/rule_parser.h"

namespace sptfs {

namespace {

// -d's argument: "" (all), a domain id, or a domain name.
int FindDisplayDomain(const std::string& arg, const CompiledPolicy& policy,
                      std::optional<DomainId>* only, std::string* err) {
  if (arg.empty()) return 0;
  DomainId id = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), id);
  const CompiledDomain* d = ec == std::errc() && end == arg.data() + arg.size()
                                ? policy.FindDomain(id)
                                : policy.FindDomain(arg);
  if (!d) {
    *err += "spt: unknown domain '" + arg + "' (expected a domain id or name, see spt -l)\n";
    return 1;
  }
  *only = d->id;
  return 0;
}

std::string KeywordsJson() {
  std::string out = "{\"keywords\":[";
  bool first = true;
  for (const Keyword& k : Keywords()) {
    out += std::string(first ? "" : ",") + "{\"word\":" + JsonQuote(k.word) +
           ",\"kind\":" + JsonQuote(k.kind) + ",\"summary\":" + JsonQuote(k.summary) + "}";
    first = false;
  }
  return out + "]}\n";
}

std::string NameIdJson(const std::string& name, uint32_t id) {
  return "{\"name\":" + JsonQuote(name) + ",\"id\":" + std::to_string(id) + "}\n";
}

int Lookup(const SptOptions& o, const CompiledPolicy& policy, std::string* out, std::string* err) {
  if (o.command == SptCommand::kLookupDomain) {
    const CompiledDomain* d = policy.FindDomain(o.argument);
    if (!d) {
      *err += "spt: unknown domain '" + o.argument + "' (expected a domain name, see spt -l)\n";
      return 1;
    }
    *out += o.json ? NameIdJson(d->name, d->id) : std::to_string(d->id) + "\n";
    return 0;
  }
  std::optional<LabelId> id = policy.FindLabel(o.argument);
  if (!id) {
    *err += "spt: unknown object label '" + o.argument + "' (expected a label name, see spt -l)\n";
    return 1;
  }
  *out += o.json ? NameIdJson(o.argument, *id) : std::to_string(*id) + "\n";
  return 0;
}

}  // namespace

int RunSptQuery(const SptOptions& o, const CompiledPolicy& policy, const LiveStates& live,
                std::string* out, std::string* err) {
  switch (o.command) {
    case SptCommand::kHelp:
      *out += SptHelpText();
      return 0;
    case SptCommand::kListLabels:
      *out += o.json ? LabelListJson(policy, live) : FormatLabelList(policy, live);
      return 0;
    case SptCommand::kStale:
      *out += o.json ? StaleRulesJson(policy, live) : FormatStaleRules(policy, live);
      return 0;
    case SptCommand::kKeywords:
      *out += o.json ? KeywordsJson() : FormatKeywords();
      return 0;
    case SptCommand::kLookupDomain:
    case SptCommand::kLookupObject:
      return Lookup(o, policy, out, err);
    case SptCommand::kDisplayPolicy: {
      std::optional<DomainId> only;
      if (int rc = FindDisplayDomain(o.argument, policy, &only, err); rc != 0) return rc;
      *out += o.json ? PolicyJson(policy, only, live) : FormatPolicy(policy, only, live);
      return 0;
    }
    case SptCommand::kGraph: {
      // --svg is rendered by the tool that prints (spt), from this DOT text.
      Status s = o.json ? TransitionGraphJson(policy, o.graph_domain, out)
                        : TransitionGraphDot(policy, o.graph_domain, out);
      if (!s.ok()) *err += "spt: " + s.message() + "\n";
      return s.ok() ? 0 : 1;
    }
    default:
      *err += "spt: " + std::string(SptCommandName(o.command)) + " is not a read-only query\n";
      return 1;
  }
}

}  // namespace sptfs
