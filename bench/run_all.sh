#!/usr/bin/env bash
# Every benchmark of this machine in one run, peers side by side, then the tables in
# docs/benchmarks.md and the SVG plots in docs/img/:
#  1. the engine alone vs ONNX Runtime, every model, batch 1..256 (bench/engine_cpu.sh)
#  2. the server: noop vs nginx, /classify batching on/off (bench/server.sh, hey)
#  3. inferd bench vs hey driving /v1/noop (the load generator's own overhead)
#  4. /classify latency vs throughput: an inferd bench concurrency sweep, batching on and off
#  5. the server layers' cost over the engine (bench/layer_cost.sh)
#  6. per-layer times (inferd build --profile) of SqueezeNet and ResNet-50
# Usage: bench/run_all.sh [--seconds S] [--rounds N] [--quick] [--skip-engine]
#   --quick: fewer batch sizes, models and seconds (a few minutes; for trying the pipeline)
#   --skip-engine: keep step 1's results from the last run (build/bench/engine_cpu.jsonl,
#     the engine table in the docs) and redo the rest: about 10 of the 27 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=10 rounds=1 engine=1
batches=1,2,4,8,16,32,64,128  # 128: the whitepaper's large batch
models="squeezenet resnet50 googlenet alexnet mobilenetv2"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --quick) seconds=3 batches=1,8,32 models="squeezenet resnet50"; shift ;;
    --skip-engine) engine=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bash scripts/build.sh >/dev/null
out=build/bench; mkdir -p "$out" docs/img
server=""
trap '[ -n "$server" ] && kill -TERM "$server" 2>/dev/null; wait 2>/dev/null || true' EXIT

if [ $engine = 1 ]; then
  echo "== 1. engine vs ONNX Runtime" >&2
  bash bench/engine_cpu.sh --batch "$batches" --rounds "$rounds" --min-seconds 1 --models "$models" >/dev/null
elif [ ! -s "$out/engine_cpu.jsonl" ]; then
  echo "--skip-engine: no $out/engine_cpu.jsonl from an earlier run" >&2; exit 2
fi
echo "== 2. server vs nginx, batching on/off" >&2
bash bench/server.sh --seconds "$seconds" --rounds "$rounds" >/dev/null

port=18261
echo "== 3. inferd bench vs hey on /v1/noop" >&2
./build/inferd serve models/squeezenet --port $port --quiet & server=$!
wait_ready $port
: > "$out/loadgen.jsonl"
for c in 8 64; do
  for tool in hey inferd; do
    if [ $tool = hey ]; then
      hey -z "${seconds}s" -c $c -m POST "http://127.0.0.1:$port/v1/noop" > "$out/hey.txt"
      /usr/bin/python3 bench/parse_hey.py "$out/hey.txt" hey $c >> "$out/loadgen.jsonl"
    else
      ./build/inferd bench -z "${seconds}s" -c $c -m POST --json --quiet "http://127.0.0.1:$port/v1/noop" |
        sed 's/^{/{"tool":"inferd",/' >> "$out/loadgen.jsonl"
    fi
  done
done
kill -TERM $server; wait $server 2>/dev/null || true; server=""

echo "== 4. /classify concurrency sweep" >&2
: > "$out/sweep.jsonl"
for round in $(seq 1 "$rounds"); do
  for mode in on off; do
    ./build/inferd serve "$out/repo_$mode/squeezenet" --port $port --quiet & server=$!  # repos made by server.sh
    wait_ready $port
    ./build/inferd bench --sweep 1,2,4,8,16,32,64 -z "$((seconds / 2 > 0 ? seconds / 2 : 1))s" -m POST \
        --images images --json --quiet "http://127.0.0.1:$port/classify" |
      sed "s/^{/{\"batching\":\"$mode\",/" >> "$out/sweep.jsonl"
    kill -TERM $server; wait $server 2>/dev/null || true; server=""
  done
done

echo "== 5. server layers' cost" >&2
bash bench/layer_cost.sh --seconds "$seconds" --rounds "$rounds" >/dev/null

echo "== 6. per-layer profiles" >&2
./build/inferd build models/squeezenet -o "$out/squeezenet.plan" --profile > "$out/profile_squeezenet.txt"
./build/inferd build build/generated_models/resnet50.onnx -o "$out/resnet50.plan" --profile > "$out/profile_resnet50.txt"
rm -f "$out"/*.plan

/usr/bin/python3 bench/write_run_all.py "$out" docs/benchmarks.md docs/img
