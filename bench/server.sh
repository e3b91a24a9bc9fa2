#!/usr/bin/env bash
# Server benchmarks with hey, on this machine, in one run:
#  - POST /v1/noop vs nginx answering a tiny body (c=8, c=64)
#  - POST /classify with images/2.jpg at c=1, 8, 32, dynamic batching on and off
# (The layers' cost over bare engine execution is bench/layer_cost.sh.)
# Every point runs once per round, rounds alternating, so that drift on a shared VM hits
# every endpoint; the tables take medians over rounds.
# Writes build/bench/server.jsonl and the tables into docs/benchmarks.md.
# Usage: bench/server.sh [--seconds S] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=10 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v hey >/dev/null || { echo "hey is missing: run scripts/setup.sh" >&2; exit 1; }
if ! command -v nginx >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
bash scripts/build.sh >/dev/null
out=build/bench; mkdir -p "$out"
jsonl=$out/server.jsonl; : > "$jsonl"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# nginx: 2 workers (one per core here), a 2-byte answer like /v1/noop's "{}".
ngx=$PWD/$out/nginx; nginx_noop_conf "$ngx" 18200 2
nginx -c "$ngx/nginx.conf" -g "daemon off;" & pids+=($!)

# Two repositories: batching on (config as shipped) and off (max_batch = 1).
for mode in on off; do
  repo=$out/repo_$mode/squeezenet; mkdir -p "$repo/1"
  cp models/squeezenet/labels.txt "$repo/"
  ln -sf "$PWD/models/squeezenet/1/model.onnx" "$repo/1/model.onnx"
  sed "s/^max_batch = .*/max_batch = $([ $mode = on ] && echo 32 || echo 1)/" models/squeezenet/config.toml > "$repo/config.toml"
done
./build/inferd serve --model-repository $out/repo_on --port 18201 --quiet & pids+=($!)
./build/inferd serve --model-repository $out/repo_off --port 18202 --quiet & pids+=($!)
for port in 18201 18202; do
  wait_ready $port
done

run() {  # name url concurrency [hey args...]
  local name=$1 url=$2 c=$3; shift 3
  echo "== $name c=$c" >&2
  hey -z "${seconds}s" -c "$c" "$@" "$url" > "$out/hey.txt"
  python3 bench/parse_hey.py "$out/hey.txt" "$name" "$c" >> "$jsonl"
}
for round in $(seq 1 "$rounds"); do
  for c in 8 64; do
    run nginx http://127.0.0.1:18200/noop $c -m POST
    run noop http://127.0.0.1:18201/v1/noop $c -m POST
  done
  for c in 1 8 32; do
    run classify_batching_on http://127.0.0.1:18201/classify $c -m POST -D images/2.jpg -T image/jpeg
    run classify_batching_off http://127.0.0.1:18202/classify $c -m POST -D images/2.jpg -T image/jpeg
  done
done
python3 bench/write_server_tables.py "$jsonl" docs/benchmarks.md "$rounds"
