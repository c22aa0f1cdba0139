#!/usr/bin/env bash
# Sets up a fresh machine, builds, and starts the drive with its embedded
# default: subsystem nqn.2026-11.io.frankendrive:drive0, one 1 GiB RAM
# namespace on 127.0.0.1:4420 (discovery on 8009).  Arguments are passed on
# to frankendrive (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec ./build/tools/frankendrive "$@"
