#!/bin/sh
# Install the Debian packages the real-host guest tests (tests/guest) need.
# Idempotent: installs only what is missing. The kernel itself is not
# installed: tests/guest/build-base.sh downloads linux-image-*-amd64 with
# `apt-get download` into its cache and unpacks it with dpkg-deb.
set -eu
PKGS="qemu-system-x86 busybox-static nvme-cli fio mdadm e2fsprogs jq kmod
      iproute2 cpio gzip python3"
missing=""
for p in $PKGS; do
    dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing="$missing $p"
done
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if [ -n "$missing" ]; then
    echo "guest-deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # mdadm's postinst wants to configure things; keep it quiet
    $SUDO apt-get install -y -qq --no-install-recommends $missing
else
    echo "guest-deps: all packages present"
fi
# the kernel package must be resolvable for build-base.sh
if ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-[0-9]'; then
    echo "guest-deps: refreshing package lists (linux-image-amd64 not resolvable)"
    $SUDO apt-get update -qq
fi
