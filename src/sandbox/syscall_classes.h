// The syscall classes of `NAMESys grant` rules, as tables of Linux system call names
// (docs/syscall-classes.md). A call listed in no class belongs to genericSys, so every
// system call is in exactly one class. Pure data plus libseccomp's name lookup.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sptfs {

inline constexpr std::string_view kGenericSys = "genericSys";

struct SyscallClass {
  std::string_view name;                // "forkExecSys", ...
  std::vector<std::string_view> calls;  // Linux names, e.g. "execve"
};

// Every class but genericSys (which is "everything else"), in documentation order.
const std::vector<SyscallClass>& SyscallClasses();

// The class of system call `nr` on this architecture (genericSys if listed nowhere).
std::string_view ClassOfSyscall(int nr);

// The name of system call `nr` ("?" if libseccomp does not know it).
std::string SyscallName(int nr);

}  // namespace sptfs
