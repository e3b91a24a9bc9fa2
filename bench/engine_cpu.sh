#!/usr/bin/env bash
# Runs the CPU engine benchmark for every model side by side with ONNX Runtime
# (onnxruntime-node) on this machine, in one run, and writes the results table to
# docs/benchmarks.md (between the engine-cpu markers).
# Each round runs both engines on every model, alternating, so that drift on a shared
# VM hits both; the table takes the median over rounds.
# Usage: bench/engine_cpu.sh [--min-seconds S] [--rounds N] [--models "squeezenet resnet50 ..."]
#                            [--batch 1,8,32] (the table reads batch 1, 8 and 32; run_all.sh sweeps)
set -euo pipefail
cd "$(dirname "$0")/.."
min_seconds=3
rounds=3
batches=1,8,32
models="squeezenet resnet50 googlenet alexnet mobilenetv2"
while [ $# -gt 0 ]; do
  case "$1" in
    --min-seconds) min_seconds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --batch) batches=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
threads=$(nproc)
bash scripts/build.sh >/dev/null
gen=build/generated_models
mkdir -p "$gen" build/bench
out=build/bench/engine_cpu.jsonl
: > "$out"
for m in $models; do
  if [ "$m" != squeezenet ] && [ ! -f "$gen/$m.onnx" ]; then
    /usr/bin/python3 tools/models/gen_models.py "$gen" --only "$m" >/dev/null
  fi
done
for round in $(seq 1 "$rounds"); do
  for m in $models; do
    if [ "$m" = squeezenet ]; then path=models/squeezenet/1/model.onnx; else path=$gen/$m.onnx; fi
    echo "== round $round: $m" >&2
    ./build/inferd bench --engine "$path" --json --batch "$batches" --threads "$threads" --min-seconds "$min_seconds" |
      sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"engine\":\"inferd\"|" >> "$out"
    node tools/ort/bench.js "$path" --batch "$batches" --threads "$threads" --min-time-s "$min_seconds" |
      sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"engine\":\"onnxruntime\"|" >> "$out"
  done
done
/usr/bin/python3 bench/write_engine_table.py "$out" docs/benchmarks.md
