#!/usr/bin/env bash
# What the HTTP + decode + batching layers cost over bare engine execution at the same
# batch size, per model, on this machine (issue 3's "< 10 % at c=8").
# The load generator shares the cores, so throughput alone would overstate the cost: the
# figure is the server's own CPU time per request (utime + stime of its threads, from
# /proc, split by thread name: inferd-io, inferd-decode, inferd-exec with its OpenMP
# workers) against the engine's CPU time per image (threads x wall time) at the mean batch
# size the server formed (from /metrics). Rounds alternate server and engine runs; the
# table takes medians.
# Usage: bench/layer_cost.sh [--seconds S] [--rounds N] [--models "squeezenet resnet50"]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=10
rounds=3
models="squeezenet resnet50"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v hey >/dev/null || { echo "hey is missing: run scripts/setup.sh" >&2; exit 1; }
bash scripts/build.sh >/dev/null
out=build/bench; gen=build/generated_models; mkdir -p "$out" "$gen"
jsonl=$out/layer_cost.jsonl; : > "$jsonl"
threads=$(nproc)
port=18251
server=""
trap '[ -n "$server" ] && kill -TERM "$server" 2>/dev/null; wait 2>/dev/null || true' EXIT

# A repository holding MODEL with the bundled labels; SqueezeNet keeps its own config.
make_repo() {
  local m=$1 repo=$out/cost_repo/$1
  rm -rf "$repo"; mkdir -p "$repo/1"
  if [ "$m" = squeezenet ]; then
    cp models/squeezenet/config.toml models/squeezenet/labels.txt "$repo/"
    ln -s "$PWD/models/squeezenet/1/model.onnx" "$repo/1/model.onnx"
  else
    [ -f "$gen/$m.onnx" ] || /usr/bin/python3 tools/models/gen_models.py "$gen" --only "$m" >/dev/null
    ln -s "$PWD/$gen/$m.onnx" "$repo/1/model.onnx"
    cp models/squeezenet/labels.txt "$repo/"
    printf 'max_batch = 32\n[output]\nlabels = "labels.txt"\nsoftmax = false\n' > "$repo/config.toml"
  fi
  echo "$repo"
}
# CPU ticks per thread name of process $1: "name ticks" lines.
cpu_by_thread() {
  for t in /proc/"$1"/task/*; do echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done |
    awk '{s[$1] += $2} END {for (n in s) print n, s[n]}'
}
batch_totals() { curl -s "localhost:$port/metrics" | awk '/^inferd_batch_size_(sum|count)/ {printf "%s ", $2}'; }
hey_classify() { hey -z "$1" -c 8 -m POST -D images/2.jpg -T image/jpeg "http://127.0.0.1:$port/classify"; }

for m in $models; do
  repo=$(make_repo "$m")
  ./build/inferd serve "$repo" --port $port --quiet & server=$!
  wait_ready $port
  hey_classify 3s >/dev/null  # warm-up: plan cache, first batches
  for round in $(seq 1 "$rounds"); do
    echo "== $m round $round" >&2
    cpu0=$(cpu_by_thread $server); b0=$(batch_totals)
    hey_classify "${seconds}s" > "$out/hey.txt"
    cpu1=$(cpu_by_thread $server); b1=$(batch_totals)
    /usr/bin/python3 bench/parse_hey.py "$out/hey.txt" "$m" 8 > "$out/hey.json"
    batch=$(echo "$b0 $b1" | awk '{b = ($3 - $1) / ($4 - $2); printf "%d", (b < 1 ? 1 : b + 0.5)}')
    engine=$(./build/inferd bench --engine "$repo/1/model.onnx" --json --batch "$batch" --threads "$threads" \
               --min-seconds "$((seconds / 2))")
    /usr/bin/python3 - "$out/hey.json" "$engine" "$round" "$threads" "$(getconf CLK_TCK)" "$b0 $b1" \
        "$cpu0" "$cpu1" >> "$jsonl" <<'PY'
import json, sys
hey = json.load(open(sys.argv[1])); engine = json.loads(sys.argv[2])
round_, threads, tck = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s0, c0, s1, c1 = map(float, sys.argv[6].split())
ticks = lambda text: {l.split()[0]: int(l.split()[1]) for l in text.splitlines() if l.strip()}
before, after = ticks(sys.argv[7]), ticks(sys.argv[8])
requests = hey["status"].get("200", 0)
ms = lambda name: (after.get(name, 0) - before.get(name, 0)) * 1000.0 / tck / requests
print(json.dumps({"model": hey["name"], "round": round_, "requests": requests, "rps": hey["rps"],
                  "non_2xx": sum(n for c, n in hey["status"].items() if c != "200") + hey["errors"],
                  "mean_batch": (s1 - s0) / (c1 - c0), "engine_batch": engine["batch"],
                  "cpu_ms": {"io": ms("inferd-io"), "decode": ms("inferd-decode"), "exec": ms("inferd-exec"),
                             "total": sum(after.values()) * 1000.0 / tck / requests - sum(before.values()) * 1000.0 / tck / requests},
                  "engine_cpu_ms_per_image": threads * 1000.0 / engine["images_per_s"],
                  "engine_images_per_s": engine["images_per_s"]}))
PY
  done
  kill -TERM $server; wait $server 2>/dev/null || true; server=""
done
/usr/bin/python3 bench/write_layer_cost_table.py "$jsonl" docs/benchmarks.md
