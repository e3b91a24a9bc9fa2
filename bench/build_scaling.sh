#!/usr/bin/env bash
# Plan build time against node count (the hardening issue's "near-linear" check): builds
# chains of 1k, 10k and 100k nodes (Relu chains, and 1x1 Conv + BatchNorm + Relu chains,
# which exercise the folding and fusion passes) for the CPU backend and prints one row
# each: nodes, wall seconds of `inferd build` (import + passes + planning + writing), peak
# RSS. Usage: bash bench/build_scaling.sh [INFERD] (default build/inferd).
set -euo pipefail
cd "$(dirname "$0")/.."
inferd=${1:-build/inferd}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
echo "| model | nodes | build s | peak RSS MiB |"
echo "|---|---|---|---|"
for kind in relu convbn; do
  for nodes in 1000 10000 100000; do
    /usr/bin/python3 tools/models/chain_models.py "$dir/m.onnx" $kind $nodes
    /usr/bin/time -f "%e %M" -o "$dir/time" "$inferd" build "$dir/m.onnx" --backend cpu --max-nodes 0 \
      -o "$dir/m.plan" > /dev/null
    read -r seconds kib < "$dir/time"
    echo "| $kind chain | $nodes | $seconds | $((kib / 1024)) |"
  done
done
