#!/usr/bin/env bash
# Configures (once) and builds inferd into build/ with ninja and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
[ "${CI:-}" = "true" ] && extra+=(-DINFERD_WERROR=ON)
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}"
fi
cmake --build build
