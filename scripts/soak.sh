#!/bin/bash
# Long reliability runs on demand (docs/RELIABILITY.md). CI runs the short versions.
#   scripts/soak.sh fsx [OPS=1000000] [SEEDS=4] [DIRECT_OPS=OPS/10]
#                                                   fsx through a mount, one run per seed;
#                                                   then fsx --direct, confined, SEEDS runs
#   scripts/soak.sh load [SECONDS=600] [CLIENTS=8] the load test, longer and wider
#   scripts/soak.sh asan                            unit + integration tests, ASan+UBSan
#   scripts/soak.sh tsan [SECONDS=60]               the load test against a TSan daemon
#   scripts/soak.sh fuzz [SECONDS=3600]             scripts/fuzz.sh, every target
# Build directories: build-soak (plain), build-asan, build-tsan (made on first use).
# Figures are printed at the end; the load test also writes them to $BUILD/load.json.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
shift || true

setup() {  # setup DIR [meson options...]: configure once, then build (TARGETS: only those)
  local dir=$1
  shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbench=disabled "$@" >/dev/null || exit 1
  ninja -C "$dir" ${TARGETS:-} >/dev/null || { ninja -C "$dir" ${TARGETS:-} | tail -30; exit 1; }
}
LOAD_TOOLS="tools/sptfs/sptfs tools/spt/spt tools/spt-domain/spt-domain tools/spt-run/spt-run"

run_load() {  # run_load BUILD SECONDS CLIENTS
  SPTFS_LOAD_SECONDS=$2 SPTFS_LOAD_CLIENTS=$3 SPTFS_LOAD_REPORT=$1/load.json \
    SPTFS_BUILD=$1 SPTFS_SOURCE=$PWD PYTHONPATH=tests/lib:tests/integration/reliability \
    python3 tests/integration/reliability/test_load.py -v
}

case "$mode" in
  fsx)
    ops=${1:-1000000} seeds=${2:-4}
    direct=${3:-$((ops / 10))}
    setup build-soak
    SPTFS_FSX_OPS=$ops SPTFS_FSX_SEEDS=$seeds SPTFS_BUILD=build-soak SPTFS_SOURCE=$PWD \
      SPTFS_FSX_DIRECT_OPS=$direct SPTFS_FSX_DIRECT_SEEDS=$seeds \
      PYTHONPATH=tests/lib:tests/integration/reliability \
      python3 tests/integration/reliability/test_fsx.py -v
    ;;
  load)
    TARGETS=$LOAD_TOOLS setup build-soak
    run_load build-soak "${1:-600}" "${2:-8}"
    ;;
  asan)
    # werror=false: gcc 12 reports false maybe-uninitialized warnings in <regex> under
    # ASan; the plain build keeps -Werror.
    setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false
    # ASan's shadow memory and quarantine inflate RSS: the load test's bound is raised.
    # LeakSanitizer stops a process's threads with ptrace at exit, which spt-run's
    # seccomp filter forbids inside a world: the ASan-built vmx-standin that the
    # productLocker tests run confined would fail on that alone, so those run without
    # the leak check (every other program keeps it).
    san="abort_on_error=0"
    ubsan="halt_on_error=1:print_stacktrace=1"
    if [ $# -eq 0 ]; then
      SPTFS_LOAD_MAX_RSS_KB=2097152 ASAN_OPTIONS=detect_leaks=1:$san UBSAN_OPTIONS=$ubsan \
        meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
        --no-suite productlocker || exit 1
      ASAN_OPTIONS=detect_leaks=0:$san UBSAN_OPTIONS=$ubsan \
        meson test -C build-asan --print-errorlogs --timeout-multiplier 3 --suite productlocker
    else
      SPTFS_LOAD_MAX_RSS_KB=2097152 ASAN_OPTIONS=detect_leaks=1:$san UBSAN_OPTIONS=$ubsan \
        meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 "$@"
    fi
    ;;
  tsan)
    TARGETS=$LOAD_TOOLS setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dwerror=false
    # A race report makes the daemon exit 66; the test then fails on "daemon died".
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/tests/integration/reliability/tsan.supp" \
      run_load build-tsan "${1:-60}" 6
    ;;
  fuzz)
    scripts/fuzz.sh "${1:-3600}"
    ;;
  *)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
