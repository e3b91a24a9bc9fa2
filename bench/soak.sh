#!/usr/bin/env bash
# Soak test (issue 6): mixed good and bad traffic against one server for a while, then the
# checks: the server never crashed (alive throughout, exits 0 on SIGTERM), no good request
# was lost or answered wrongly (tools/soak/soak_client.py checks every answer), RSS grew
# < 5 % after warm-up, and no file descriptor leaked (count with no client connected,
# before and after).
# Usage: bench/soak.sh [--seconds S] (default 600; .ci/run uses 60) [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=600 threads=8
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bash scripts/build.sh >/dev/null
out=build/soak; mkdir -p "$out"
port=18271
./build/inferd serve models/squeezenet --port $port --quiet > "$out/server.log" 2>&1 & server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
wait_ready $port
./build/inferd classify models/squeezenet images/*.jpg --top 1 --json |
  /usr/bin/python3 -c 'import json,sys; print(json.dumps({(r:=json.loads(l))["image"]: r["top"][0]["label"] for l in sys.stdin}))' \
  > "$out/expected.json"
rss_kib() { awk '/^VmRSS/ {print $2}' /proc/$server/status; }
fds() { ls /proc/$server/fd | wc -l; }

# Warm-up: the batcher meets most batch sizes (each new one builds its oneDNN primitives).
warmup=$((seconds / 5 > 10 ? seconds / 5 : 10))
/usr/bin/python3 tools/soak/soak_client.py $port $warmup "$threads" "$out/expected.json" > "$out/warmup.json" ||
  { echo "soak: warm-up failed: $(cat "$out/warmup.json")" >&2; exit 1; }
sleep 1  # closed client connections leave the server's fd table
rss0=$(rss_kib); fd0=$(fds)
status=0
/usr/bin/python3 tools/soak/soak_client.py $port "$seconds" "$threads" "$out/expected.json" > "$out/soak.json" || status=1
sleep 1
kill -0 $server 2>/dev/null || { echo "soak: FAIL: the server died; log: $out/server.log" >&2; exit 1; }
rss1=$(rss_kib); fd1=$(fds)
kill -TERM $server; wait $server; exit_code=$?; trap - EXIT
/usr/bin/python3 - "$out/soak.json" "$rss0" "$rss1" "$fd0" "$fd1" "$exit_code" "$seconds" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rss0, rss1, fd0, fd1, code, secs = map(int, sys.argv[2:8])
growth = 100.0 * (rss1 - rss0) / rss0
checks = {"no good request lost or wrong": r["lost"] == 0 and r["wrong"] == 0,
          f"RSS growth {growth:+.1f}% < 5%": growth < 5.0,
          f"file descriptors {fd0} -> {fd1}": fd1 <= fd0,
          f"exit code on SIGTERM {code}": code == 0}
print(f"soak: {secs} s, {r['requests']} requests ({r['requests'] / secs:.0f}/s), by kind {r['by_kind']}")
for name, ok in checks.items():
    print(f"  {'ok  ' if ok else 'FAIL'} {name}")
if r["examples"]:
    print("  examples:", r["examples"])
sys.exit(0 if all(checks.values()) else 1)
PY
