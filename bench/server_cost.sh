#!/usr/bin/env bash
# The server's own cost for a lone request (issue 14: under 0.1 ms over decode + engine), on
# any backend: `inferd serve MODEL` (the model folder's config), then
#   1. POST /v1/noop at c=1 (HTTP and the client alone)
#   2. POST /classify at c=1 over the bundled photos, the server's metrics read before and
#      after: the client's latency against the server's own stages for the same requests
#      (handler to answer, host decode, batch queue, instance)
# `python3 bench/write_overhead_table.py $OUT` prints the breakdown.
# Usage: bench/server_cost.sh [--model DIR] [--threads N] [--seconds S] [--inferd PATH]
#        [--images DIR] [--port P]; writes $OUT/overhead.jsonl and metrics-{before,after}.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
model=models/squeezenet threads=0 seconds=5 inferd=build/inferd images=images port=18720
while (($#)); do
  case $1 in
    --model) model=$2 ;;
    --threads) threads=$2 ;;
    --seconds) seconds=$2 ;;
    --inferd) inferd=$2 ;;
    --images) images=$2 ;;
    --port) port=$2 ;;
    *) echo "usage: $0 [--model DIR] [--threads N] [--seconds S] [--inferd PATH] [--images DIR] [--port P]" >&2; exit 2 ;;
  esac
  shift 2
done
out=${OUT:-/tmp/server-cost}; mkdir -p "$out"
# The batching delay defaults to 0: a lone request runs at once (what the cost at c=1 is about).
"$inferd" serve "$model" --port "$port" --threads "$threads" --quiet 2>> "$out/log.txt" & server=$!
trap 'kill $server 2>/dev/null' EXIT
wait_ready "$port" 120
jsonl=$out/overhead.jsonl; : > "$jsonl"
"$inferd" bench -c 1 -z 3s --warmup 1s -m POST --name noop --json --quiet "http://127.0.0.1:$port/v1/noop" >> "$jsonl"
# Warm the decode and engine paths before the measured window (first-touch pages, caches).
"$inferd" bench -c 1 -z 1s -m POST --images "$images" --quiet "http://127.0.0.1:$port/classify" > /dev/null
metrics() {
  curl -s "http://127.0.0.1:$port/metrics" |
    grep -E '^inferd_(request|queue|compute|batch_stage|image_decode|answer_write|exchange)_duration_seconds_(sum|count)'
}
metrics > "$out/metrics-before.txt"
"$inferd" bench -c 1 -z "${seconds}s" -m POST --images "$images" --name classify-c1 --json --quiet \
  "http://127.0.0.1:$port/classify" >> "$jsonl"
metrics > "$out/metrics-after.txt"
kill -TERM $server; wait $server
python3 bench/write_overhead_table.py "$out"
