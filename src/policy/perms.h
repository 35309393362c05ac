// Access permissions of a -r / -o rule and of a request: a subset of "rwx".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sptfs {

using Perms = uint8_t;
inline constexpr Perms kPermNone = 0;
inline constexpr Perms kPermRead = 1;
inline constexpr Perms kPermWrite = 2;
inline constexpr Perms kPermExec = 4;
inline constexpr Perms kPermAll = kPermRead | kPermWrite | kPermExec;

// Parses a subset of "rwx" in any order, each letter at most once; "" is no access.
// Returns false on any other character or a repeated letter.
bool ParsePerms(std::string_view text, Perms* out);

// Letters in canonical order "rwx"; "" for none.
std::string FormatPerms(Perms perms);

}  // namespace sptfs
