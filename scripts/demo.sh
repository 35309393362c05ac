#!/bin/bash
# The README's main job: reproduce ESXi's productLocker failure and its fix on a
# mounted sptfs tree, as a narrated transcript (docs/productlocker.md explains it).
#
#   scripts/demo.sh            (as root, on Debian 12; installs what it needs)
#
# Steps: build; make the sample tree (scripts/make-sample-tree.py) in a temp dir; mount
# it; run the vmx stand-in in globalVMDom under `spt-run --root` and open
# /vmimages/tools-isoimages/windows.iso (works); re-point /productLocker to the
# datastore, and show the daemon's SPT_STALE_RULE warning written that moment and
# `spt --stale`; open again (EPERM, FileIOResult=2); show the audit record, `spt -d4`
# (the rule still on the old compiled path), `spt --why` and `spt -p --dry-run`;
# `spt -p`; open again (works).
# Exit status 0 only if every step behaved as expected. Everything is unmounted and
# removed afterwards, also on failure or Ctrl-C. BUILD=dir picks the build directory
# (default build); KEEP=1 keeps the temp dir for a look afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${BUILD:-build}
UUID=5d3fb5c5-3146d212-4263-8030e03bdef0
DATASTORE=/vmfs/volumes/$UUID/productLocker
ISO=/vmimages/tools-isoimages/windows.iso
WORK=""
DAEMON=""
MNT=""

say() { printf '\n==> %s\n' "$*"; }
die() {
  printf '\nDEMO FAILED: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; then
    kill -TERM "$DAEMON" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$MNT" ] && mountpoint -q "$MNT" 2>/dev/null; then
    fusermount3 -u -q "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
  fi
  if [ -n "$WORK" ] && [ -z "${KEEP:-}" ]; then
    rm -rf "$WORK"
  elif [ -n "$WORK" ]; then
    echo "(kept $WORK)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

# Runs a command, showing it and its output (indented); its status is left in RC, its
# output in OUT.
run() {
  printf '  $ %s\n' "$*"
  OUT=$("$@" 2>&1)
  RC=$?
  [ -n "$OUT" ] && printf '%s\n' "$OUT" | sed 's/^/    /'
  return 0
}
# check "what was expected" CONDITION (a shell test, evaluated now)
check() {
  if eval "$2"; then
    printf '  ok: %s\n' "$1"
  else
    die "$1 (exit status $RC)"
  fi
}
need() {
  [ -x "$BUILD/tools/$1/$1" ] || die "$BUILD/tools/$1/$1 is missing: $2 has not landed or did not build, so the scenario cannot run"
}

[ "$(id -u)" = 0 ] || die "run as root (sptfs mounts with allow_other and spt-run chroots)"
say "Installing what is missing (scripts/install-deps.sh) and building in $BUILD/"
bash scripts/install-deps.sh || die "scripts/install-deps.sh failed"
if [ ! -f "$BUILD/build.ninja" ]; then meson setup "$BUILD" >/dev/null || die "meson setup failed"; fi
# Only the programs the scenario runs; `scripts/test.sh` builds and tests everything.
# ninja's own progress lines are shown, indented; a failure is reported by need() below.
ninja -C "$BUILD" tools/sptfs/sptfs tools/spt/spt tools/spt-run/spt-run tools/vmx-standin/vmx-standin 2>&1 |
  sed 's/^/    /' || echo "  (the build failed; see the lines above)"
need sptfs "the filesystem (issue 3)"
need spt "the spt tool (issue 2)"
need spt-run "spt-run (issue 4)"
need vmx-standin "the vmx stand-in"
BUILD=$(realpath "$BUILD")
export PATH="$BUILD/tools/spt:$BUILD/tools/spt-run:$BUILD/tools/sptfs:$PATH"

say "Making the sample ESXi-like tree (scripts/make-sample-tree.py)"
WORK=$(mktemp -d /tmp/sptfs-demo.XXXXXX)
MNT=$WORK/esx
mkdir -p "$MNT"
run env SPTFS_BUILD="$BUILD" python3 scripts/make-sample-tree.py "$WORK"
check "sample tree made" '[ $RC = 0 ]'

say "Mounting it at $MNT with the sample policy (policies/esxi)"
sptfs --config "$WORK/sptfs.toml" "$MNT" -f >"$WORK/sptfs.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; kill -0 $DAEMON 2>/dev/null || break; sleep 0.1; done
mountpoint -q "$MNT" || { cat "$WORK/sptfs.log"; die "sptfs did not mount $MNT"; }
run ls "$MNT"
run readlink "$MNT/vmimages/tools-isoimages"
run readlink "$MNT/productLocker"
check "/productLocker points at the local locker" '[ "$OUT" = /locker/packages/vmtoolsRepo ]'
if [ -L /lib ] && [ "$(readlink /lib)" = usr/lib ]; then
  # Merged /usr: the map of host /lib is the host's symlink in the tree (docs/sptfs.md).
  run readlink "$MNT/lib"
  check "/lib is the link usr/lib, as on the host" '[ "$OUT" = usr/lib ]'
fi

vmx() { run spt-run -D globalVMDom --mount "$MNT" --root -- /bin/vmx "$ISO"; }

say "1. The VM (vmx stand-in, domain globalVMDom, chrooted into the tree) opens the Tools ISO"
vmx
check "the ISO opens" '[ $RC = 0 ] && [[ $OUT == *"Opened Tools ISO /locker/packages/vmtoolsRepo/vmtools/windows.iso"* ]]'

say "2. The administrator moves the product locker to a shared datastore"
run ln -sfn "$DATASTORE" "$MNT/productLocker"
run readlink "$MNT/productLocker"
check "/productLocker now points at the datastore" '[ "$OUT" = "$DATASTORE" ]'
# The daemon's watch warns the moment the link moves: wait (up to 2 s) for its record,
# polling rather than a fixed sleep (ln may unlink first, so wait for the final target).
for _ in $(seq 20); do grep -qF "now=\"$DATASTORE\"" "$WORK/audit.log" 2>/dev/null && break; sleep 0.1; done
run grep -F "type=SPT_STALE_RULE" "$WORK/audit.log"
check "the daemon warned at once: -r /productLocker r is stale, fix spt -p" \
  '[ $RC = 0 ] && [[ $OUT == *"rule=\"-r /productLocker r\""* ]] && [[ $OUT == *"now=\"$DATASTORE\""* ]] && [[ $OUT == *"globalVMDom(4)"* ]] && [[ $OUT == *"fix=\"spt -p\""* ]]'
run spt --mount "$MNT" --stale
check "spt --stale lists the rule and where it resolves now" \
  '[ $RC = 0 ] && [[ $OUT == *"globalVMDom(4) -r /productLocker r"* ]] && [[ $OUT == *"now resolves to: $DATASTORE"* ]]'

say "3. The VM opens the ISO again: the policy still has the rule on the old path"
vmx
check "the open fails with EPERM and vmx logs FileIOResult=2" \
  '[ $RC != 0 ] && [[ $OUT == *"Failed to open Tools ISO $DATASTORE/vmtools/windows.iso (FileIOResult=2)."* ]] && [[ $OUT == *"Operation not permitted"* ]]'

say "4. The audit log records the denial"
# The audit writer is a thread: wait (up to 5 s) for the record rather than a fixed sleep.
for _ in $(seq 50); do grep -qF "path=\"$DATASTORE/vmtools/windows.iso\"" "$WORK/audit.log" 2>/dev/null && break; sleep 0.1; done
run grep -F "path=\"$DATASTORE/vmtools/windows.iso\"" "$WORK/audit.log"
check "a denial record for the datastore path in globalVMDom" \
  '[ $RC = 0 ] && [[ $OUT == *"denied { read }"* ]] && [[ $OUT == *"domain=globalVMDom(4)"* ]]'

say "5. spt -d4: the /productLocker rule is still compiled to the old target"
run spt --mount "$MNT" -d4
check "-d4 shows -r /locker/packages/vmtoolsRepo r" '[ $RC = 0 ] && [[ $OUT == *"-r /locker/packages/vmtoolsRepo r"* ]]'

say "6. spt --why explains the denial"
# The expected text holds backticks: keep it in a variable, since check() evals its
# condition and backticks there would run `spt -p` (a reload) instead of matching it.
HINT_RELOAD='`spt -p` would change the answer'
run spt --mount "$MNT" --why --domain globalVMDom "$ISO" r
check "deny, with the stale rule and the hint that spt -p would change the answer" \
  '[ $RC = 0 ] && [[ $OUT == deny:* ]] && [[ $OUT == *"/productLocker now resolves to $DATASTORE"* ]] && [[ $OUT == *"$HINT_RELOAD"* ]]'

say "7. Before the fix: what would a reload change? (spt -p --dry-run, nothing is loaded)"
# Kept in a variable: check() evals its condition (see step 6).
MOVED="-r /productLocker r: /locker/packages/vmtoolsRepo → $DATASTORE"
run spt --mount "$MNT" -p --dry-run
check "the dry run shows the moved rule and exits 1, as diff does" '[ $RC = 1 ] && [[ $OUT == *"$MOVED"* ]]'

say "8. The fix from the seed: reload the policy (secpolicytools -p)"
run spt --mount "$MNT" -p
check "the policy reloads" '[ $RC = 0 ]'
run spt --mount "$MNT" -d4
check "-d4 now shows the datastore path" '[[ $OUT == *"-r $DATASTORE r"* ]]'
run spt --mount "$MNT" -p --dry-run
check "a dry run now finds nothing to change (exit 0)" '[ $RC = 0 ] && [[ $OUT == *"no changes"* ]]'

say "9. The VM opens the ISO again"
vmx
check "the ISO opens from the datastore" '[ $RC = 0 ] && [[ $OUT == *"Opened Tools ISO $DATASTORE/vmtools/windows.iso"* ]]'

say "10. What rules would have avoided the denial (spt --suggest over the audit log)"
run spt --suggest "$WORK/audit.log"
check "a -r rule for exactly the denied file" '[ $RC = 0 ] && [[ $OUT == *"-r $DATASTORE/vmtools/windows.iso r"* ]]'

printf '\nDEMO PASSED: the productLocker failure and its fix were reproduced.\n'
