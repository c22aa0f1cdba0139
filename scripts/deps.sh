#!/usr/bin/env bash
# Installs the Debian 12 packages that build and test frankendrive
# (tshark checks that stock Wireshark decodes nvmedump's pcapng).
# Idempotent; does nothing when everything is present already.
set -euo pipefail

BUILD_PKGS=(build-essential meson ninja-build pkg-config liburing-dev libisal-dev
	libcmocka-dev libjson-c-dev clang tshark)

missing=()
for p in "${BUILD_PKGS[@]}" "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
