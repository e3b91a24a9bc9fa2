#!/usr/bin/env bash
# Configures (once) and builds into build/ with ninja and ccache: everything, or only the
# targets named (scripts/quickstart.sh builds just `inferd`; the tests come with test.sh).
# Usage: scripts/build.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
[ "${CI:-}" = "true" ] && extra+=(-DINFERD_WERROR=ON)
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}"
fi
if (($#)); then
  cmake --build build --target "$@"
else
  cmake --build build
fi
