#!/usr/bin/env bash
# Configure (once) and build tern into a build directory (default: build).
#   scripts/build.sh [BUILD_DIR] [extra meson setup args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" -j"$(nproc)"
