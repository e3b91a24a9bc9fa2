#!/usr/bin/env bash
# The README's second command: build and run every test except the gpu, slow and docker ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -LE "gpu|slow|docker" -j2 "$@"
