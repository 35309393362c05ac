#!/bin/bash
# Every measurement issue 17 asks for, in one run on one quiet machine, one after the
# other, into one log: the mount workloads against native ext4, the like-for-like peers
# (passthrough_ll with xattrs and default_permissions, bindfs) and, when a fuse-3.14.0
# source tree is given, libfuse's passthrough_hp, and sptfs --io-uring (mount_bench.py
# turns the fuse module's enable_uring on for it, and back); the worker-thread matrix; a notified
# socket call in a world; 100,000 denied opens with allowed opens timed meanwhile; memory at 100,000 and 1,000,000 live inodes and after the
# kernel forgets them. The load average is logged before and after each part, so a run
# taken on a busy machine says so.
#
# Usage (root): bench/issue17_run.sh BUILD LOG [HP_SOURCE]
#   BUILD      a meson build dir of this tree (buildtype=release for numbers to quote)
#   LOG        where the whole output goes (also printed)
#   HP_SOURCE  optional fuse-3.14.0 source tree (apt-get source fuse3)
# Environment: REPEAT (runs per workload and target, default 5); DENIAL_RUNS (denial
# storm runs, default 3); MATRIX=0 skips the worker matrix; MEMORY=0 the memory part
# (which does not depend on load and can run on its own: bench/mount/inode_memory.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: $0 BUILD LOG [HP_SOURCE]}" && pwd)
log=${2:?usage: $0 BUILD LOG [HP_SOURCE]}
hp=${3:-}
repeat=${REPEAT:-5}

exec > >(tee "$log") 2>&1
stamp() { echo "== $1: $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

stamp "start, commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
hp_args=()
[[ -n $hp ]] && hp_args=(--hp-source "$hp")
python3 "$here/mount/mount_bench.py" --build "$build" --repeat "$repeat" --stat median \
  --only native,passthrough_ll-xattr-dp,bindfs,sptfs,sptfs-uring "${hp_args[@]}" \
  --workloads "create,open+read,tar,after drop,distinct"
stamp "mount workloads done"
# Half sizes: the matrix mounts 5 configurations and runs each with 1 and 8 clients.
if [[ ${MATRIX:-1} != 0 ]]; then
  python3 "$here/mount/threads_matrix.py" --build "$build" --repeat "$repeat" \
    --workers 1,2,4 --clients 1,8 --workloads orc,csu,tar --scale 0.5
  stamp "thread matrix done"
fi
python3 "$here/world/notified_call_bench.py" --build "$build" --runs "$repeat"
stamp "notified call done"
python3 "$here/denial_storm.py" --sptfs "$build/tools/sptfs/sptfs" --denials 100000 \
  --runs "${DENIAL_RUNS:-3}"
stamp "denial storm done"
if [[ ${MEMORY:-1} != 0 ]]; then
  python3 "$here/mount/inode_memory.py" --build "$build" --files 1000000 \
    --checkpoints 100000,1000000
fi
stamp "end"
