// The online half of `spt`: sends the command line to a running sptfs over its control
// socket (found by --socket PATH, --mount DIR, or the only daemon running) and prints
// the daemon's answer. -g/-s act on the file here, like spt-label. docs/spt.md.
#pragma once

// Same argv as main(); returns the exit code (the daemon's, or 1 if it cannot be
// reached, 2 on a usage error).
int RunSptOnline(int argc, char** argv);
