// opendir, readdir(plus), releasedir, fsyncdir: listings (opendir asks for r). A
// directory with map points in it is listed once at opendir with them merged in; any
// other is read from its backing stream as the kernel asks.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fs/ops_internal.h"

namespace sptfs::ops {
namespace {

// An open directory: the backing stream, or for a directory with map points in it (the
// virtual ones included) a listing taken at opendir with the map points merged in.
struct DirHandle {
  struct Entry {
    std::string name;
    ino_t ino;
    unsigned char type;
  };
  DIR* dp = nullptr;
  off_t offset = 0;
  dirent* entry = nullptr;  // read but not yet returned (the buffer was full)
  bool merged = false;
  std::vector<Entry> listing;  // when merged: served with offsets 1..n
  bool charged = false;        // holds a slot of `world` in the descriptor budget
  uint64_t world = 0;
  ~DirHandle() {
    if (dp) closedir(dp);
  }
};

// Backing entries plus the map points the backing directory does not have.
void MergeListing(const InodeTable& table, const Inode* node, DirHandle* d) {
  d->merged = true;
  std::set<std::string, std::less<>> seen;
  if (d->dp) {
    while (dirent* e = readdir(d->dp)) {
      d->listing.push_back({e->d_name, e->d_ino, e->d_type});
      seen.insert(e->d_name);
    }
  } else {
    d->listing.push_back({".", node->ino, DT_DIR});
    d->listing.push_back({"..", node->parent ? node->parent->ino : node->ino, DT_DIR});
  }
  for (auto& [name, child] : table.OverlayOf(node)) {
    unsigned char type = child->is_virtual_link() ? DT_LNK : DT_DIR;
    if (!seen.count(name)) d->listing.push_back({name, child->ino, type});
  }
}

DirHandle* Dir(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

// Adds one entry; false when the buffer is full. With `plus`, a lookup is counted for it
// (and undone if it does not fit).
bool AddEntry(fuse_req_t req, Inode* parent, const char* name, ino_t ino, unsigned char type,
              off_t next, bool plus, std::vector<char>* buf, size_t* used) {
  SptFs& fs = Fs(req);
  char* p = buf->data() + *used;
  size_t room = buf->size() - *used;
  size_t n;
  bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
  if (!plus) {
    struct stat st {};
    st.st_ino = ino;
    st.st_mode = static_cast<mode_t>(type) << 12;
    n = fuse_add_direntry(req, p, room, name, &st, next);
  } else {
    fuse_entry_param e{};
    if (dot) {
      e.attr.st_ino = ino;
      e.attr.st_mode = static_cast<mode_t>(type) << 12;
    } else if (DoLookup(fs, parent, name, &e) != 0) {
      return true;  // vanished meanwhile: skip it
    }
    n = fuse_add_direntry_plus(req, p, room, name, &e, next);
    if (n > room && e.ino) fs.table().Forget(fs.table().Get(e.ino), 1);
  }
  if (n > room) return false;
  *used += n;
  return true;
}

void ReadMerged(fuse_req_t req, Inode* node, DirHandle* d, off_t off, bool plus,
                std::vector<char>* buf, size_t* used) {
  for (size_t i = static_cast<size_t>(off); i < d->listing.size(); ++i) {
    const DirHandle::Entry& e = d->listing[i];
    if (!AddEntry(req, node, e.name.c_str(), e.ino, e.type, static_cast<off_t>(i + 1), plus, buf,
                  used)) {
      return;
    }
  }
}

// 0, or the errno of a failed read of the backing stream.
int ReadBacking(fuse_req_t req, Inode* node, DirHandle* d, off_t off, bool plus,
                std::vector<char>* buf, size_t* used) {
  if (off != d->offset) {
    seekdir(d->dp, off);
    d->entry = nullptr;
    d->offset = off;
  }
  while (true) {
    if (!d->entry) {
      errno = 0;
      d->entry = readdir(d->dp);
      if (!d->entry) return errno;  // 0 at the end
    }
    dirent* e = d->entry;
    if (!AddEntry(req, node, e->d_name, e->d_ino, e->d_type, e->d_off, plus, buf, used)) return 0;
    d->entry = nullptr;
    d->offset = e->d_off;
  }
}

void DoReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
               bool plus) {
  Inode* node = Node(req, ino);
  std::vector<char> buf(size);
  size_t used = 0;
  int err = plus ? Fs(req).table().VerifyPlace(node) : 0;  // entries get nodes: as lookup
  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  if (Dir(fi)->merged) {
    ReadMerged(req, node, Dir(fi), off, plus, &buf, &used);
  } else {
    err = ReadBacking(req, node, Dir(fi), off, plus, &buf, &used);
  }
  // Entries read before an error are returned; the kernel then asks again from the
  // failed position, and that call reports the error instead of an early end.
  if (err && used == 0) {
    fuse_reply_err(req, err);
  } else {
    fuse_reply_buf(req, buf.data(), used);
  }
}

}  // namespace

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  SptFs& fs = Fs(req);
  Inode* node = Node(req, ino);
  Subject s;
  fs.checker().Begin(req, &s);
  if (!s.free) {
    ResolvedLabel label = fs.checker().LabelOf(*s.policy, node, fs.table());
    if (int err = fs.checker().Check(s, fs.table().PathOf(node), label, kPermRead, "opendir")) {
      fuse_reply_err(req, err);
      return;
    }
  }
  auto dir = std::make_unique<DirHandle>();
  if (!node->is_virtual()) {
    if (int err = fs.AcquireHandle(s, &dir->world)) {
      fuse_reply_err(req, err);
      return;
    }
    dir->charged = true;
    int fd = openat(node->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(dir->dp = fdopendir(fd))) {
      int err = errno;
      if (fd >= 0) close(fd);
      fs.budget().Release(dir->world);
      fuse_reply_err(req, err);
      return;
    }
  }
  if (!fs.table().OverlayOf(node).empty() || node->is_virtual()) {
    MergeListing(fs.table(), node, dir.get());
  }
  fi->fh = reinterpret_cast<uint64_t>(dir.get());
  if (fuse_reply_open(req, fi) == 0) {
    (void)dir.release();  // the kernel owns it now (fh)
  } else if (dir->charged) {
    fs.budget().Release(dir->world);
  }
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  DoReaddir(req, ino, size, off, fi, false);
}
void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  DoReaddir(req, ino, size, off, fi, true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  DirHandle* d = Dir(fi);
  if (d->charged) Fs(req).budget().Release(d->world);
  delete d;
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  DirHandle* d = Dir(fi);
  if (!d->dp) {
    fuse_reply_err(req, 0);
    return;
  }
  int fd = dirfd(d->dp);
  int rc = datasync ? fdatasync(fd) : fsync(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

}  // namespace sptfs::ops
