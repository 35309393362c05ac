// The session's I/O on /dev/fuse: libfuse's own (read, writev, splice), plus one fix to
// the INIT reply. libfuse 3.14 takes FUSE_CAP_HANDLE_KILLPRIV into conn.want (by default,
// and sptfs asks for it in OpInit) but never copies it into the flags of its INIT reply
// (lib/fuse_lowlevel.c, do_init: FUSE_HANDLE_KILLPRIV is missing from the list it
// translates), so the kernel never hears of it and keeps asking for attributes before
// every chown. UseFuseIo makes the session reply with FUSE_HANDLE_KILLPRIV (and its V2,
// which spares the GETXATTR of security.capability before most writes) set when the
// file system still wants it once init() ran (NoteInitWant); nothing else changes.
#pragma once

#include <fuse_lowlevel.h>

namespace sptfs {

// Gives mounted session `se` (after fuse_session_mount) this I/O; false on failure (the
// session then keeps libfuse's own, without the flag).
bool UseFuseIo(fuse_session* se);

// From init(): what the file system wants of the connection (conn->want, after init).
void NoteInitWant(uint64_t want);

}  // namespace sptfs
