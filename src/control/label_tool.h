// What spt-label (and `spt -g` / `spt -s`) do, over mounted and backing paths.
//
// A FILE inside a mounted sptfs (per /proc/self/mountinfo, fstype fuse.sptfs) is read and
// labelled through the mount's label attribute, so the daemon decides (file_relabel) and
// checks the label against the live policy; the attribute's name and the default labels
// come from the daemon (control commands `info`, `label check`, `label default`).
// Any other FILE is a backing path: its attribute is read and written directly, and
// setting or restoring needs --policy DIR to check labels offline (--root DIR says which
// tree directory the path stands for; default: the path as is). docs/spt-label.md.
#pragma once

#include <string>
#include <vector>

namespace sptfs {

enum class LabelMode { kGet, kSet, kRestore };

struct LabelToolOptions {
  LabelMode mode = LabelMode::kGet;
  std::vector<std::string> files;
  std::string label;       // kSet
  bool recursive = false;  // -R: directories and everything below them (no symlinks)
  bool json = false;       // --json: [{"path":..,"label":..}] instead of text lines
  std::string socket;      // --socket PATH: the daemon for mounted FILEs
  std::string mount;       // --mount DIR: same, by mount
  std::string policy_dir;  // --policy DIR: check labels offline (backing paths)
  std::string root;        // --root DIR: backing directory that is the tree's "/"
  std::string xattr;       // --xattr NAME: backing paths (default: DefaultLabelXattr())
};

// Prints results on stdout and "<prog>: ..." errors on stderr; a recursive run shows a
// file count on stderr while stderr is a terminal. Exit code: 0 all done, 1 some FILE
// failed (the others are still done), 2 usage.
int RunLabelTool(const LabelToolOptions& options, const char* prog);

}  // namespace sptfs
