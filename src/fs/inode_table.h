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
// hide what the backing directory has under that name. Memory: a node is 48 bytes in a chunk
// of kNodesPerChunk that is unmapped once all its nodes are forgotten, found through an
// intrusive hash (index_hash.h); names over Inode::kInlineName bytes take one heap block
// (docs/PERFORMANCE.md, issue 17 item 6). Thread-safe (one mutex, held briefly).
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/index_hash.h"

namespace sptfs {

class InodeTable;

// 48 bytes (static_assert in inode_table.cc; the layout and its cost per field are in
// docs/PERFORMANCE.md, issue 17 item 6). Allocated by the table from fixed chunks, so a
// node's address (its FUSE node id) never changes while it lives.
struct Inode {
  ino_t ino = 0;  // of the backing inode; virtual ones are numbered by the table
  // Guarded by the table's mutex (pinned nodes: set up before the mount, never changed).
  Inode* parent = nullptr;
  // O_PATH|O_NOFOLLOW of the backing inode, or -1 (see PathFd). Once set it stays until
  // the node goes, so a reader never sees it closed under it.
  std::atomic<int> fd{-1};
  // The backing st_dev. Linux encodes it in 32 bits (12-bit major, 20-bit minor); the
  // table refuses a lookup whose st_dev does not fit (EOVERFLOW) rather than truncate.
  uint32_t dev = 0;
  // Guarded by the table's mutex. kernel lookups + live children; saturates at kMaxRefs
  // (the node is then never freed: a count that overflowed cannot be trusted to reach 0).
  uint32_t refs : 31 = 0;
  uint32_t counted_fd : 1 = 0;  // its fd counts against the table's file fd budget
  uint32_t next = UINT32_MAX;   // the table's own: the hash chain (an index)
  int16_t map = -1;             // index of the map it belongs to; -1: virtual
  // Set when the node is made, never changed.
  uint8_t type_bits : 4 = 0;  // S_IFMT >> 12 of the backing inode (S_IFDIR for virtual ones)
  uint8_t virt : 1 = 0;       // a virtual directory or symlink: no backing inode at all
  uint8_t read_only : 1 = 0;  // its map is read-only (virtual nodes are too)
  uint8_t pinned : 1 = 0;     // exists for the whole mount (see InodeTable)

  static constexpr uint32_t kMaxRefs = (1u << 31) - 1;
  static constexpr size_t kInlineName = 12;

  bool is_virtual() const { return virt; }
  mode_t type() const { return static_cast<mode_t>(type_bits) << 12; }
  bool is_dir() const { return S_ISDIR(type()); }
  bool is_virtual_link() const { return virt && S_ISLNK(type()); }
  // The name it was last reached by under `parent` ("" for the root). Guarded by the
  // table's mutex like `parent` (stable for pinned nodes); valid until the next rename.
  std::string_view name() const;

 private:
  friend class InodeTable;
  void SetName(std::string_view name);  // frees the old one
  void FreeName();
  // Up to kInlineName bytes inline; longer: name_len_ is kHeapName and name_ starts with
  // a pointer to one heap block {uint32_t length; char bytes[]}.
  static constexpr uint8_t kHeapName = 0xFF;
  uint8_t name_len_ = 0;
  char name_[kInlineName] = {};
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

  // Pinned nodes' own data, out of the nodes (only they have it). Set up before the
  // mount and never changed after, so read without the lock.
  using OverlayMap = std::map<std::string, Inode*, std::less<>>;
  // The pinned child `name` of `parent`, or nullptr.
  Inode* Overlay(const Inode* parent, std::string_view name) const;
  // All pinned children of `parent` by name (empty for unpinned nodes).
  const OverlayMap& OverlayOf(const Inode* parent) const;
  // The target of a virtual symlink (AddPinnedLink); "" for any other node.
  const std::string& LinkTarget(const Inode* node) const;
  // Whether a lookup should open an fd for an inode like `st` and pass it to Found()
  // (directories and hard links; other files get one on first use, see OpenPath).
  static bool WantsFd(const struct stat& st);
  // Records one kernel lookup of the backing inode (`fd` or -1, `st`) reached as
  // (parent, name); takes ownership of `fd` (closed if not kept). nullptr (fd closed,
  // errno EOVERFLOW) if `st.st_dev` does not fit the node's 32 bits (see Inode::dev).
  // A node of the same (map, dev, ino) but another file type is of an inode that is gone
  // (its number reused behind the mount): it leaves the index, and `st` gets a new node.
  // nullptr (fd closed, errno ELOOP) if the node found is `parent` or one of its
  // ancestors (a backing tree that loops, as through a bind mount): never re-parented.
  Inode* Found(Inode* parent, std::string_view name, int fd, const struct stat& st);
  // `n` more kernel lookups of a node already known (pinned children, readdirplus ".").
  // Counts saturate at Inode::kMaxRefs: such a node is never freed.
  void Ref(Inode* node, uint64_t n = 1);
  // The kernel forgets `n` lookups; the node goes when nothing refers to it.
  void Forget(Inode* node, uint64_t n);
  // FORGET_MULTI: the same for each entry, taking the lock once per kForgetChunk
  // entries (a cache drop sends thousands; lookups wait at most one chunk).
  static constexpr size_t kForgetChunk = 64;
  void Forget(const fuse_forget_data* forgets, size_t count);
  // Before `name` under `parent` is unlinked: if the kernel knows its inode by a node
  // without fd, give the node one, so the file stays reachable while it is open.
  void KeepBeforeUnlink(Inode* parent, const char* name);
  // After a rename: the node of backing inode (dev, ino) in `map` now sits at (parent, name)
  // (not recorded if that would make the node its own ancestor).
  void Moved(int map, dev_t dev, ino_t ino, Inode* parent, std::string_view name);
  // Whether the directories that make `node`'s path (its ancestors, and itself if it is
  // a directory) are still where the table recorded them: each one's recorded (parent,
  // name) still names its inode on the backing store. 0, or ESTALE when one was moved
  // or removed behind the mount (its nodes would otherwise keep the old, maybe wider,
  // path). One fstatat per directory between `node` and the nearest pinned one.
  int VerifyPlace(const Inode* node) const;
  // Absolute path in the mounted tree ("/" for the root); with `child`, of that entry.
  std::string PathOf(const Inode* node, std::string_view child = {}) const;
  size_t size() const;  // real nodes (pinned ones included; virtual ones not)
  // Memory of the nodes: chunks of kNodesPerChunk nodes mapped now (a chunk whose nodes
  // are all freed is unmapped, except one kept spare), and the hash table's bucket array.
  static constexpr uint32_t kNodesPerChunk = 4096;
  size_t chunks() const;
  size_t bucket_bytes() const;
  // True once each time the nodes freed since the last true are at least kTrimNodes and
  // at least as many as remain: the moment to give freed memory back (glibc keeps freed
  // small blocks; a table that once held a million nodes kept about 250 MiB after the
  // kernel forgot them). So a table that empties gives back about log2(size) times.
  // When true, the pages of the chunks' free slots have just been given back too (a
  // chunk with one node left would otherwise keep all the pages it ever touched).
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
  // Fixed chunks of nodes, each mapped on its own (aligned to its size, so a node finds
  // its chunk's header by masking its address) and unmapped when all its nodes are free;
  // within a chunk, free nodes are marked in a bitmap (so their pages can be given back:
  // Trim). A node's index (chunk id
  // * kPerChunk + slot) is what the hash chains hold. Guarded by the table's mutex.
  class Slab {
   public:
    static constexpr uint32_t kPerChunk = kNodesPerChunk;
    Slab() = default;
    ~Slab();
    Slab(const Slab&) = delete;
    Slab& operator=(const Slab&) = delete;
    Inode* New();              // a default-constructed node; nullptr if out of memory
    void Delete(Inode* node);  // frees its name, then the node
    Inode* At(uint32_t index) const;
    void Trim();  // gives back the pages that hold only free slots
    uint32_t IndexOf(const Inode* node) const;
    size_t chunks() const { return mapped_; }

   private:
    struct Chunk;
    Chunk* NewChunk();
    void DropChunk(Chunk* c);
    static void TrimChunk(Chunk* c);
    std::vector<Chunk*> chunks_;  // by id; nullptr: given back (id in free_ids_)
    std::vector<uint32_t> free_ids_;
    std::vector<Chunk*> open_;  // chunks with a free node
    Chunk* spare_ = nullptr;    // one empty chunk kept, so a node made and forgotten
                                // at a chunk's edge does not map and unmap each time
    size_t mapped_ = 0;
  };
  struct Elems {  // what IndexHash needs of the nodes
    Slab* slab;
    uint32_t& Next(uint32_t i) const { return slab->At(i)->next; }
    uint64_t Hash(uint32_t i) const;
  };
  static uint64_t KeyHash(int map, uint64_t dev, uint64_t ino);
  Inode* FindLocked(int map, uint64_t dev, uint64_t ino) const;
  void EraseLocked(Inode* node);
  void InsertLocked(Inode* node);
  void RefLocked(Inode* node, uint64_t n);
  void UnrefLocked(Inode* node, uint64_t n);
  Inode* NewNode(int fd, int map, bool read_only);
  void AddVirtual(Inode* node);  // setup only: numbers `node`
  // The parent (referenced: Forget(parent, 1) when done) and name of a node without fd.
  Inode* ParentOf(const Inode* node, std::string* name) const;
  void SetParentLocked(Inode* node, Inode* parent, std::string_view name);
  // Whether `node` is `of` or one of its ancestors (re-parenting it under `of` would loop).
  bool AncestorOfLocked(const Inode* node, const Inode* of) const;

  bool KeepsFdLocked(const struct stat& st) const;
  // Gives `node` the verified fd `fd` if it has none and the budget allows; true if kept.
  bool AdoptFd(Inode* node, int fd);

  struct Pinned {
    OverlayMap overlay;
    std::string link;
  };
  Pinned& PinnedOf(const Inode* node) { return pinned_[node]; }  // setup only

  size_t file_fd_budget_;
  size_t file_fds_ = 0;  // fds held by nodes that are neither directories nor hard links
  size_t freed_since_trim_ = 0;
  std::atomic<size_t> held_fds_{0};  // fds held by all nodes
  mutable std::mutex mu_;
  Inode* root_ = nullptr;
  Slab slab_;
  Elems elems_{&slab_};
  IndexHash<Elems> nodes_{&elems_};  // real nodes, pinned ones included
  std::vector<Inode*> virtuals_;     // virtual nodes (in the slab, never freed)
  std::unordered_map<const Inode*, Pinned> pinned_;
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
