#include "policy/perms.h"

namespace sptfs {

bool ParsePerms(std::string_view text, Perms* out) {
  Perms perms = kPermNone;
  for (char c : text) {
    Perms bit = c == 'r' ? kPermRead : c == 'w' ? kPermWrite : c == 'x' ? kPermExec : kPermNone;
    if (bit == kPermNone || (perms & bit) != 0) return false;  // unknown or repeated letter
    perms |= bit;
  }
  *out = perms;
  return true;
}

std::string FormatPerms(Perms perms) {
  std::string text;
  if (perms & kPermRead) text += 'r';
  if (perms & kPermWrite) text += 'w';
  if (perms & kPermExec) text += 'x';
  return text;
}

}  // namespace sptfs
