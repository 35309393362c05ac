#!/bin/bash
# The whole test suite: installs what is missing, builds, runs `meson test`.
# Usage: scripts/test.sh [extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD=${BUILD:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"
