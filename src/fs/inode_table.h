// The inode table: one node per backing inode the kernel knows about (keyed by map,
// device and inode number), each with the (parent, name) it was last reached by, so the
// node's path in the mounted tree can be rebuilt for policy decisions even after its
// directory was renamed. Directories and files with several links always keep an O_PATH
// fd. Other files are looked up with one fstatat and no fd; the first call that needs
// an fd (PathFd) opens one through the parent's fd and name, checks it is the same
// inode, and the node keeps it while fewer than `file_fd_budget` such fds are open. So a
// scan of many files costs one call per lookup, a file that is worked on costs no
// reopen per call, and a tree of millions of files does not need millions of fds (the fd
// limit is often 20,000 and cannot always be raised). Lookup
// counts and forget live here and nowhere else. Pinned nodes (the root, virtual directories, map
// roots and the real directories leading to them) exist for the whole mount; their overlay children
// hide what the backing directory has under that name. Thread-safe (one mutex, held briefly).
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sptfs {

struct Inode {
  // O_PATH|O_NOFOLLOW of the backing inode, or -1 (see PathFd). Once set it stays until
  // the node goes, so a reader never sees it closed under it.
  std::atomic<int> fd{-1};
  bool virt = false;  // a virtual directory: no backing inode at all
  dev_t dev = 0;
  ino_t ino = 0;           // of the backing inode; virtual ones are numbered by the table
  mode_t type = 0;         // S_IFMT bits of the backing inode (S_IFDIR for virtual ones)
  int map = -1;            // index of the map it belongs to; -1: virtual
  bool read_only = false;  // its map is read-only (virtual directories are too)
  bool pinned = false;
  bool counted_fd = false;  // its fd counts against the table's file fd budget

  // Guarded by the table's mutex.
  uint64_t refs = 0;  // kernel lookups + live children
  Inode* parent = nullptr;
  std::string name;
  std::map<std::string, Inode*, std::less<>> overlay;  // pinned children by name

  // A virtual symlink (type S_IFLNK): a map whose source is a host symlink (merged /usr,
  // mount_config.h TreeLinks). Its target, relative; set up before the mount, never changed.
  std::string link;

  bool is_virtual() const { return virt; }
  bool is_dir() const { return S_ISDIR(type); }
  bool is_virtual_link() const { return virt && S_ISLNK(type); }
};

class InodeTable {
 public:
  explicit InodeTable(size_t file_fd_budget = 0) : file_fd_budget_(file_fd_budget) {}
  ~InodeTable();
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // Setup (before the mount): the root and pinned nodes. Takes ownership of `fd`.
  Inode* MakeRoot(int fd, int map, bool read_only);  // fd -1: virtual root
  Inode* AddPinned(Inode* parent, const std::string& name, int fd, int map, bool read_only);
  // A virtual symlink `name` -> `target` under `parent` (read-only, unlabeled).
  Inode* AddPinnedLink(Inode* parent, const std::string& name, const std::string& target);

  // Setup: how many fds plain files may hold (see the top of this file).
  void set_file_fd_budget(size_t n) { file_fd_budget_ = n; }

  Inode* root() const { return root_; }
  Inode* Get(fuse_ino_t ino) const {
    return ino == FUSE_ROOT_ID ? root_ : reinterpret_cast<Inode*>(ino);
  }
  fuse_ino_t IdOf(const Inode* node) const {
    return node == root_ ? FUSE_ROOT_ID : reinterpret_cast<fuse_ino_t>(node);
  }

  // The pinned child `name` of `parent`, or nullptr.
  Inode* Overlay(Inode* parent, std::string_view name);
  // Whether a lookup should open an fd for an inode like `st` and pass it to Found()
  // (directories and hard links; other files get one on first use, see OpenPath).
  static bool WantsFd(const struct stat& st);
  // Records one kernel lookup of the backing inode (`fd` or -1, `st`) reached as
  // (parent, name); takes ownership of `fd` (closed if not kept).
  Inode* Found(Inode* parent, const std::string& name, int fd, const struct stat& st);
  // One more kernel lookup of a node already known (pinned children, readdirplus ".").
  void Ref(Inode* node);
  // The kernel forgets `n` lookups; the node goes when nothing refers to it.
  void Forget(Inode* node, uint64_t n);
  // FORGET_MULTI: the same for each entry, taking the lock once per kForgetChunk
  // entries (a cache drop sends thousands; lookups wait at most one chunk).
  static constexpr size_t kForgetChunk = 64;
  void Forget(const fuse_forget_data* forgets, size_t count);
  // Before `name` under `parent` is unlinked: if the kernel knows its inode by a node
  // without fd, give the node one, so the file stays reachable while it is open.
  void KeepBeforeUnlink(Inode* parent, const char* name);
  // After a rename: the node of backing inode (dev, ino) in `map` now sits at (parent, name).
  void Moved(int map, dev_t dev, ino_t ino, Inode* parent, const std::string& name);
  // Whether the directories that make `node`'s path (its ancestors, and itself if it is
  // a directory) are still where the table recorded them: each one's recorded (parent,
  // name) still names its inode on the backing store. 0, or ESTALE when one was moved
  // or removed behind the mount (its nodes would otherwise keep the old, maybe wider,
  // path). One fstatat per directory between `node` and the nearest pinned one.
  int VerifyPlace(const Inode* node) const;
  // Absolute path in the mounted tree ("/" for the root); with `child`, of that entry.
  std::string PathOf(const Inode* node, std::string_view child = {}) const;
  size_t size() const;
  // True once each time the nodes freed since the last true are at least kTrimNodes and
  // at least as many as remain: the moment to give freed memory back (glibc keeps freed
  // small blocks; a table that once held a million nodes kept about 250 MiB after the
  // kernel forgot them). So a table that empties gives back about log2(size) times.
  static constexpr size_t kTrimNodes = 10000;
  bool TakeTrimHint();
  // O_PATH fds the nodes hold now (directories, hard links, cached plain files, pinned
  // nodes): what the descriptor budget (fd_budget.h) counts outside the handles.
  size_t held_fds() const { return held_fds_.load(std::memory_order_relaxed); }
  // Up to `max` entries (parent id, name) of unpinned nodes that hold an fd, from the
  // `skip`-th such node on (wrapping around): asking the kernel to drop them
  // (fd_reclaim.h) makes it forget the nodes it no longer uses, and their fds close.
  // Successive calls with a growing `skip` get past entries the kernel keeps in use.
  std::vector<std::pair<fuse_ino_t, std::string>> FdHolders(size_t max, size_t skip = 0) const;

  // An O_PATH fd of `node` for one call: its own, or one opened through its parent and
  // checked to still be the same inode (else ESTALE), which the node then keeps if the
  // budget allows (*owned = false) or the caller closes (*owned = true). 0 or an errno.
  int OpenPath(const Inode* node, int* fd, bool* owned) const;
  // The same for the two hot calls, one system call each when the node has no fd:
  // stat without following, and opening the data (flags as for open(2); always through a
  // verified O_PATH fd of the node, so flags such as O_TRUNC reach only the decided inode).
  int Stat(const Inode* node, struct stat* st) const;
  int OpenData(const Inode* node, int flags, int* fd) const;

 private:
  struct Key {
    int map;
    dev_t dev;
    ino_t ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<ino_t>()(k.ino) ^ (std::hash<dev_t>()(k.dev) << 1) ^ k.map;
    }
  };
  void UnrefLocked(Inode* node, uint64_t n);
  void AddVirtual(Inode* node);  // setup only: owns `node` and numbers it
  // The parent (referenced: Forget(parent, 1) when done) and name of a node without fd.
  Inode* ParentOf(const Inode* node, std::string* name) const;
  void SetParentLocked(Inode* node, Inode* parent, const std::string& name);

  bool KeepsFdLocked(const struct stat& st) const;
  // Gives `node` the verified fd `fd` if it has none and the budget allows; true if kept.
  bool AdoptFd(Inode* node, int fd);

  size_t file_fd_budget_;
  size_t file_fds_ = 0;  // fds held by nodes that are neither directories nor hard links
  size_t freed_since_trim_ = 0;
  std::atomic<size_t> held_fds_{0};  // fds held by all nodes
  mutable std::mutex mu_;
  Inode* root_ = nullptr;
  std::unordered_map<Key, Inode*, KeyHash> nodes_;  // real nodes, pinned ones included
  std::vector<Inode*> virtuals_;                    // owned virtual nodes
};

// RAII over InodeTable::OpenPath.
class PathFd {
 public:
  PathFd(const InodeTable& table, const Inode* node) { err_ = table.OpenPath(node, &fd_, &owned_); }
  ~PathFd() {
    if (owned_) close(fd_);
  }
  PathFd(const PathFd&) = delete;
  PathFd& operator=(const PathFd&) = delete;
  int fd() const { return fd_; }
  int error() const { return err_; }  // 0 if fd() is usable

 private:
  int fd_ = -1;
  bool owned_ = false;
  int err_ = 0;
};

}  // namespace sptfs
