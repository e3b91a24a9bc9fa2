#!/usr/bin/env bash
# Whether libgomp's wait policy changes a lone request's latency on the device host's 16
# cores (POST /classify, SqueezeNet, batching delay 0, 16 engine threads): the default,
# OMP_WAIT_POLICY=active and =passive, and GOMP_SPINCOUNT=1e7, two alternating rounds at
# c=1 and c=4. Runs THERE like bench/device_run.sh (device-assets/ carried); writes
# $OUT/latency2.jsonl (kept as bench/results/device-h100/wait_policy.jsonl).
set -uo pipefail
. bench/lib.sh
out=$OUT; assets=device-assets
export LD_LIBRARY_PATH=$PWD/$assets/lib
repo=/tmp/repo_latency; rm -rf $repo; cp -r models/squeezenet $repo
printf '[batching]\nmax_queue_delay_us = 0\n' >> $repo/config.toml
: > "$out/latency2.jsonl"
run() {  # NAME [VAR=value...]: the server runs with those environment variables
  local name=$1; shift
  env "$@" $assets/inferd serve $repo --port 18311 --quiet 2>/dev/null & server=$!
  wait_listening 18311
  for c in 1 4; do
  $assets/inferd bench -c $c -z 4s -m POST --images images --json --quiet http://127.0.0.1:18311/classify \
    2>/dev/null | sed "s/^{/{\"what\":\"$name\",/" >> "$out/latency2.jsonl"
  done
  kill -TERM $server; wait $server
}
for round in 1 2; do
run default
run active OMP_WAIT_POLICY=active
run passive OMP_WAIT_POLICY=passive
run spin_1e7 GOMP_SPINCOUNT=10000000
done
