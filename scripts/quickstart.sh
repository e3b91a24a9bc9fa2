#!/usr/bin/env bash
# The README's first command: install, build, and classify a bundled photo with the
# bundled SqueezeNet 1.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/inferd classify models/squeezenet images/1.jpg
