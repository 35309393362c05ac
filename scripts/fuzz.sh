#!/bin/bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and fuzzes each for a set time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET=600] [TARGET...]   (targets: policy protocol label)
# New inputs go to build-fuzz/corpus-<target> (working corpus); crashes, hangs and leaks
# to build-fuzz/artifacts/. Copy a found input into fuzz/corpus/<target>/ once fixed:
# CI replays that directory (meson test --suite fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-600}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(policy protocol label)
BUILD=${FUZZ_BUILD:-build-fuzz}
if [ ! -f "$BUILD/build.ninja" ]; then
  CXX=clang++ CC=clang meson setup "$BUILD" -Dfuzz=enabled -Dfuzz_engine=libfuzzer \
    -Dtests=disabled -Dbench=disabled -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args=-fsanitize=fuzzer-no-link -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$BUILD" $(printf 'fuzz/fuzz_%s ' "${TARGETS[@]}")
mkdir -p "$BUILD/artifacts"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export SPTFS_SOURCE=$PWD
# One libFuzzer process per target, all targets at once (nice'd, so builds still run).
pids=()
for t in "${TARGETS[@]}"; do
  work="$BUILD/corpus-$t"
  mkdir -p "$work"
  echo "fuzz.sh: $t for ${SECONDS_PER}s, log $BUILD/fuzz-$t.log" >&2
  nice "$BUILD/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" -max_total_time="$SECONDS_PER" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$BUILD/artifacts/$t-" \
    -print_final_stats=1 >"$BUILD/fuzz-$t.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  t=${TARGETS[$i]}
  if wait "${pids[$i]}"; then r=ok; else r=FAILED; status=1; fi
  execs=$(grep -h "stat::number_of_executed_units" "$BUILD/fuzz-$t.log" | awk '{print $2}')
  echo "fuzz.sh: $t: $r, ${execs:-?} executions in ${SECONDS_PER}s, corpus $(ls "$BUILD/corpus-$t" | wc -l) files"
done
ls "$BUILD/artifacts" | sed 's/^/fuzz.sh: artifact /'
exit $status
