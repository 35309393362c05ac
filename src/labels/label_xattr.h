// Reading and writing the object label attribute of a backing file.
//
// A file's label is the text of one extended attribute (trusted.spt.label when running
// as root, user.spt.label otherwise; configurable). Absent means "unlabeled". The raw
// text is returned as stored; what it means under a policy is label_resolver.h's job.
// These functions are what spt-label and the FUSE daemon share.
#pragma once

#include <string>

#include "util/status.h"

namespace sptfs {

// "trusted.spt.label" if the process is root, else "user.spt.label".
std::string DefaultLabelXattr();

// The virtual attribute a mount answers next to the label attribute `xattr` (its name
// plus ".source"): where a file's label comes from, one of the kLabelSource* words.
// Never stored; spt-label -g reads it to say that a label is computed (docs/spt-label.md).
std::string LabelSourceXattr(const std::string& xattr);
inline constexpr const char* kLabelSourceStored = "stored";      // the attribute itself
inline constexpr const char* kLabelSourceComputed = "computed";  // default-labels, read-only map
inline constexpr const char* kLabelSourceNone = "none";          // unlabeled

// The raw attribute of a file. `present` is false (and `value` empty) if the file has
// no such attribute. Values longer than kMaxLabelBytes are read as garbage (truncated).
struct RawLabel {
  bool present = false;
  std::string value;
};
inline constexpr size_t kMaxLabelBytes = 255;

// By path. `follow`: follow a final symlink (like getxattr) or not (like lgetxattr).
Status ReadLabel(const std::string& path, const std::string& xattr, bool follow, RawLabel* out);
Status WriteLabel(const std::string& path, const std::string& xattr, bool follow,
                  const std::string& label);
// Removing an absent label is not an error.
Status RemoveLabel(const std::string& path, const std::string& xattr, bool follow);

// By an fd (any kind, O_PATH included): goes through /proc/self/fd/N, which names the
// inode itself (a symlink's own attributes for an O_PATH|O_NOFOLLOW fd of a link).
Status ReadLabelFd(int fd, const std::string& xattr, RawLabel* out);
Status WriteLabelFd(int fd, const std::string& xattr, const std::string& label);

}  // namespace sptfs
