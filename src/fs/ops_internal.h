// What the ops_*.cc files share, and nothing else: the request-to-node accessors, the
// lookup every entry-making op ends with, and the checks and labelling of new objects.
// Defined in ops_common.cc (the one-liners here). Each op is declared once below so that
// sptfs_ops.cc can build the operation table; callers outside src/fs use SptFs::Ops().
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <string>

#include "fs/access_check.h"
#include "fs/inode_table.h"
#include "fs/sptfs_ops.h"

namespace sptfs::ops {

inline SptFs& Fs(fuse_req_t req) { return *static_cast<SptFs*>(fuse_req_userdata(req)); }
inline Inode* Node(fuse_req_t req, fuse_ino_t ino) { return Fs(req).table().Get(ino); }
// Path-only calls (chmod, truncate, the *xattr family) reach an O_PATH fd through here.
inline std::string ProcPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

int StatNode(const InodeTable& table, const Inode* node, struct stat* st);

// Closes the backing fd of a file handle and gives its slot back to the budget (in that
// order of bookkeeping: the slot goes before the number can be reused).
void CloseHandle(SptFs& fs, int fd);

// Why a change under `parent` cannot happen at all (before any policy check), or 0.
int CannotChange(const InodeTable& table, const Inode* parent, const char* name);
// The parent of an entry `name` to make or remove, or nullptr once the request has been
// answered with why it cannot change (CannotChange).
Inode* ChangeableParent(fuse_req_t req, fuse_ino_t parent_ino, const char* name);

// Looks `name` up under `parent` and counts one kernel lookup. ENOENT leaves e->ino 0
// (a negative entry the kernel may cache).
int DoLookup(SptFs& fs, Inode* parent, const char* name, fuse_entry_param* e);
// Replies err, or the entry; a reply the kernel never got (interrupted) drops the lookup
// DoLookup counted for it.
void ReplyEntryOrErr(fuse_req_t req, int err, const fuse_entry_param& e);

// The label a new object at `path` gets, and whether the caller may make it.
int CheckNew(SptFs& fs, const Subject& s, const std::string& path, Perms perms, const char* op,
             ResolvedLabel* label);

// Setuid and setgid bits in `mode` that `had` lacks: a confined caller may add them (on
// create, mknod, mkdir, chmod) only with its domain's file_setid capability, so nothing
// it makes can run with its owner's rights for the host. 0, or EPERM (recorded).
int CheckSetid(SptFs& fs, const Subject& s, const std::string& path, const ResolvedLabel& label,
               mode_t mode, mode_t had, const char* op);

// Writes the default label of a new object (as the daemon, after CallerCreds ended) and
// drops any cached label of a recycled inode number; 0 or the errno (the caller removes
// the object: left unlabelled it would get more than its default label allows). Under a
// user.* label attribute, FIFOs, sockets, devices and symlinks stay unlabelled (Linux
// refuses user.* attributes on them; their data is never opened through sptfs, and a
// symlink's access goes by its target); symlinks are best effort under any attribute.
int LabelNew(SptFs& fs, const Inode* node, int data_fd, const ResolvedLabel& label);

// ops_init.cc
void OpInit(void* userdata, fuse_conn_info* conn);

// ops_entry.cc
void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets);
void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
void OpReadlink(fuse_req_t req, fuse_ino_t ino);

// ops_make.cc
void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);

// ops_remove.cc
void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name);

// ops_rename_link.cc
void OpRename(fuse_req_t req, fuse_ino_t parent_ino, const char* name, fuse_ino_t newparent_ino,
              const char* newname, unsigned int flags);
void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_ino, const char* newname);

// ops_open.cc
void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpCreate(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode,
              fuse_file_info* fi);

// ops_io.cc
void OpRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi);
void OpWriteBuf(fuse_req_t req, fuse_ino_t, fuse_bufvec* in, off_t off, fuse_file_info* fi);
void OpFlush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi);
void OpRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi);
void OpFsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi);
void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                 fuse_file_info* fi);
void OpCopyFileRange(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, fuse_file_info* fi_out, size_t len,
                     int flags);
void OpLseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi);

// ops_dir.cc
void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void OpReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi);
void OpFsyncdir(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi);

// ops_statfs.cc
void OpStatfs(fuse_req_t req, fuse_ino_t ino);

// ops_xattr.cc
void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags);
void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name);

}  // namespace sptfs::ops
