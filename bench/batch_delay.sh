#!/usr/bin/env bash
# What the dynamic batcher's max_queue_delay_us buys on this machine: POST /classify
# (SqueezeNet, the seed photos) swept over concurrency with the delay at 0 (the default)
# and 2000 us, and with batching off (max_batch 1), in alternating rounds; medians go to
# docs/benchmarks.md between the batch-delay markers.
# Usage: bench/batch_delay.sh [--seconds S] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=4 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bash scripts/build.sh >/dev/null
out=build/bench/batch_delay; rm -rf "$out"; mkdir -p "$out"
port=18271 server=""
trap '[ -n "$server" ] && kill -TERM "$server" 2>/dev/null; wait 2>/dev/null || true' EXIT
# Variant name -> the [batching] settings it adds to the shipped config.
declare -A settings=([delay_0]="max_queue_delay_us = 0" [delay_2000]="max_queue_delay_us = 2000" [off]="")
for v in delay_0 delay_2000 off; do
  repo=$out/$v/squeezenet; mkdir -p "$repo/1"
  ln -s "$PWD/models/squeezenet/1/model.onnx" "$repo/1/model.onnx"
  cp models/squeezenet/labels.txt "$repo/"
  if [ $v = off ]; then
    sed 's/^max_batch = .*/max_batch = 1/' models/squeezenet/config.toml > "$repo/config.toml"
  else
    { cat models/squeezenet/config.toml; printf '[batching]\n%s\n' "${settings[$v]}"; } > "$repo/config.toml"
  fi
done
for round in $(seq 1 "$rounds"); do
  for v in delay_0 delay_2000 off; do
    echo "== round $round: $v" >&2
    ./build/inferd serve "$out/$v/squeezenet" --port $port --quiet 2>/dev/null & server=$!
    wait_ready $port
    ./build/inferd bench --sweep 1,2,4,8,32 -z "${seconds}s" -m POST --images images --json --quiet \
        "http://127.0.0.1:$port/classify" | sed "s/^{/{\"variant\":\"$v\",/" >> "$out/sweep.jsonl"
    kill -TERM $server; wait $server 2>/dev/null || true; server=""
  done
done
/usr/bin/python3 bench/write_batch_delay_table.py "$out/sweep.jsonl" docs/benchmarks.md "$rounds"
