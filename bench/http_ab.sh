#!/usr/bin/env bash
# The HTTP path of two inferd binaries side by side, and nginx where one is found: POST
# /v1/noop (the server's whole HTTP path with no model work) against nginx answering the same
# 2-byte body, at 8 and 64 connections, ROUNDS rounds alternating the servers so that drift
# in the machine hits all alike. Each server gets IO_THREADS I/O threads (nginx as many
# worker processes). Run from the repository root:
#   bash bench/http_ab.sh OLD_INFERD NEW_INFERD [ROUNDS] [SECONDS]
#   bash bench/http_ab.sh INFERD - [ROUNDS] [SECONDS]      (one binary, against nginx only)
# Env: NGINX (the nginx binary; default: device-assets/nginx/nginx, then nginx on PATH),
# IO_THREADS (default 2), OUT (default /tmp/http-ab). Writes $OUT/http_ab.jsonl (inferd bench's
# JSON lines, "name" = nginx / old / new, or inferd with one binary) and $OUT/log.txt, and
# prints each one's median req/s and p99.
set -uo pipefail
old=$1 new=$2 rounds=${3:-3} seconds=${4:-3}
out=${OUT:-/tmp/http-ab}; mkdir -p "$out"; jsonl=$out/http_ab.jsonl; : > "$jsonl"
work=$(mktemp -d)  # the model repository and nginx's files: not results
threads=${IO_THREADS:-2}
. "$(dirname "$0")/lib.sh"
pids=()
trap 'kill ${pids[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

nginx_bin=${NGINX:-}
[ -z "$nginx_bin" ] && [ -x device-assets/nginx/nginx ] && nginx_bin=device-assets/nginx/nginx
[ -z "$nginx_bin" ] && nginx_bin=$(command -v nginx || true)
if [ -n "$nginx_bin" ]; then
  mkdir -p /var/lib/nginx 2>/dev/null  # its default temp folders (the device machine has none)
  ngx=$work/nginx; nginx_noop_conf "$ngx" 18800 "$threads"
  LD_LIBRARY_PATH=$(dirname "$nginx_bin")/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "$nginx_bin" -c "$ngx/nginx.conf" -g "daemon off;" 2>> "$out/log.txt" & pids+=($!)
fi

repo=$work/repo/squeezenet; mkdir -p "$repo/1"
cp models/squeezenet/labels.txt models/squeezenet/config.toml "$repo/"
cp models/squeezenet/1/model.onnx "$repo/1/"  # a link out of the folder is refused
"$old" serve --model-repository "$work/repo" --port 18801 --io-threads "$threads" --quiet 2>> "$out/log.txt" & pids+=($!)
if [ "$new" = - ]; then new=$old only_one=1 first=inferd; else only_one= first=old; fi
[ -z "$only_one" ] &&
  { "$new" serve --model-repository "$work/repo" --port 18802 --io-threads "$threads" --quiet 2>> "$out/log.txt" & pids+=($!); }
wait_listening 18801 && { [ -n "$only_one" ] || wait_listening 18802; } || exit 1

load() {  # NAME PORT PATH CONCURRENCY
  timeout 60 "$new" bench -c "$4" -z "${seconds}s" --warmup 1s -m POST --name "$1" --json --quiet \
    "http://127.0.0.1:$2$3" >> "$jsonl" 2>> "$out/log.txt"
}
for round in $(seq 1 "$rounds"); do
  for c in 8 64; do
    [ -n "$nginx_bin" ] && load nginx-c$c 18800 /noop $c
    load $first-c$c 18801 /v1/noop $c
    [ -z "$only_one" ] && load new-c$c 18802 /v1/noop $c
  done
done
# Median req/s and p99 per name.
python3 - "$jsonl" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "rps" in r: runs.setdefault(r["name"], []).append(r)
for name, rs in runs.items():
    print(f"{name:10s} median {statistics.median(r['rps'] for r in rs):9.0f} req/s  "
          f"p99 {statistics.median(r['latency_ms']['p99'] for r in rs):.3f} ms  ({len(rs)} runs)")
PY
