#!/usr/bin/env bash
# The README's first command: install, build, serve the bundled SqueezeNet 1.1 and
# classify a bundled photo through the HTTP API (then once more without a server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh inferd  # the tests are built by scripts/test.sh
port=${INFERD_PORT:-8000}
./build/inferd serve models/squeezenet --port "$port" --quiet &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "localhost:$port/v2/health/ready" >/dev/null && break
  sleep 0.1
done
echo "\$ curl -XPOST --data-binary @images/1.jpg localhost:$port/classify"
curl -sf -XPOST --data-binary @images/1.jpg -H "Content-Type: image/jpeg" "localhost:$port/classify"
echo
echo "\$ ./build/inferd classify models/squeezenet images/1.jpg"
./build/inferd classify models/squeezenet images/1.jpg
