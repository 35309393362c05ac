#include "domains/secure_env.h"

#include <array>

namespace sptfs {
namespace {

// Whole names.
constexpr std::array<std::string_view, 37> kNames = {
    // glibc's unsecure variables (secure mode unsets them before the program runs).
    "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH",
    "MALLOC_TRACE", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
    // Shells: files sourced at start, options that run code, exported functions.
    "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4",
    // Perl, Ruby, Node.
    "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH",
    // Python: module paths, startup files, and what imports or runs a module by name
    // (PYTHONWARNINGS imports a category's module, PYTHONBREAKPOINT calls a function,
    // PYTHONPYCACHEPREFIX is where compiled modules are read from). Not every PYTHON*
    // variable: PYTHONUNBUFFERED and the like change nothing that runs.
    "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONEXECUTABLE",
    "PYTHONPLATLIBDIR", "PYTHONINSPECT", "PYTHONBREAKPOINT", "PYTHONWARNINGS",
    "PYTHONPYCACHEPREFIX", "PYTHONCASEOK"};
// Prefixes: every loader option (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ...) and bash's
// exported functions (BASH_FUNC_name%%).
constexpr std::array<std::string_view, 2> kPrefixes = {"LD_", "BASH_FUNC_"};

bool Unsafe(std::string_view name) {
  for (std::string_view n : kNames) {
    if (name == n) return true;
  }
  for (std::string_view p : kPrefixes) {
    if (name.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace

std::string UnsafeVariable(std::string_view environ) {
  while (!environ.empty()) {
    size_t end = environ.find('\0');
    std::string_view entry = environ.substr(0, end);
    std::string_view name = entry.substr(0, entry.find('='));
    if (Unsafe(name)) return std::string(name);
    if (end == std::string_view::npos) break;
    environ.remove_prefix(end + 1);
  }
  return "";
}

}  // namespace sptfs
