#!/bin/bash
# Installs the Debian 12 packages sptfs needs to build, test and demo.
# Idempotent: installs only what is missing, so a second run is fast.
set -euo pipefail
PACKAGES=(meson ninja-build pkg-config g++ libfuse3-dev fuse3 libattr1-dev attr
          libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
          libcap-dev libseccomp-dev liburing-dev bindfs util-linux procps python3
          clang-tidy clang-format
          nginx)  # a real daemon for the learning-run test (docs/learning-nginx.md)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # nginx is for a test that runs its own copy confined; its package would start the
  # service at once. policy-rc.d (Debian's hook) says no, unless the host has its own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # debconf warns about apt-utils on a minimal system: noise, not an error.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null 2> >(grep -v "^debconf:" >&2)
fi
