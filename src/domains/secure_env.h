// What an exec transition must not carry into the target domain: the variables that
// make the new program load or run code, or write files, chosen by the caller. Pure.
//
// The list: every variable glibc's dynamic loader drops in secure mode (AT_SECURE:
// setuid programs), see glibc's unsecvars.h, plus the loader's own LD_ options, plus the
// preload and startup hooks of the interpreters a "#!" target may run (sh, bash,
// python, perl, ruby, node) that load code or run it. docs/THREAT-MODEL.md, "Who is calling".
#pragma once

#include <string>
#include <string_view>

namespace sptfs {

// The name of the first unsafe variable in `environ` (NUL-separated NAME=value
// strings, as /proc/<pid>/environ gives them), or "" if there is none.
std::string UnsafeVariable(std::string_view environ);

}  // namespace sptfs
