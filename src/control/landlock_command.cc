#include "control/landlock_command.h"

#include "sandbox/landlock_rules.h"

namespace sptfs {

Reply LandlockCommand(const CompiledPolicy& policy, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "domains") return Reply{2, "", "usage: landlock domains\n"};
  std::string out;
  for (const CompiledDomain& d : policy.domains()) {
    out += "domain " + d.name + " " + std::to_string(d.id) + " " + std::string(LevelName(d.level)) +
           (d.unconfined ? " unconfined\n" : " confined\n");
    for (const Rule& r : d.rules) {
      // -r as written: Landlock reads the rule path as a host path, not the tree's.
      if (IsLandlockRule(r)) out += r.ToString() + "\n";
    }
  }
  return Reply{0, out, ""};
}

}  // namespace sptfs
