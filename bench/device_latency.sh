#!/usr/bin/env bash
# Where a lone request's time goes on the device host's 16 cores (POST /classify, SqueezeNet,
# c=1): the engine alone at batch 1, /v1/noop (HTTP alone), and /classify, for several
# engine thread counts. Runs THERE like bench/device_run.sh (device-assets/ carried);
# writes $OUT/latency.jsonl.
set -uo pipefail
. bench/lib.sh
out=${OUT:-/tmp/device-out}; mkdir -p "$out"
assets=device-assets
export LD_LIBRARY_PATH=$PWD/$assets/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
repo=/tmp/repo_latency; rm -rf $repo; cp -r models/squeezenet $repo
printf '[batching]\nmax_queue_delay_us = 0\n' >> $repo/config.toml
: > "$out/latency.jsonl"
for threads in 16 8 4 2 1; do
  $assets/inferd bench --engine models/squeezenet/1/model.onnx --json --batch 1 --threads $threads --min-seconds 2 \
      2>/dev/null | sed "s/^{/{\"what\":\"engine\",\"threads\":$threads,/" >> "$out/latency.jsonl"
  $assets/inferd serve $repo --port 18310 --threads $threads --quiet 2>/dev/null & server=$!
  wait_listening 18310
  for what in noop classify; do
    path=/classify; [ $what = noop ] && path=/v1/noop
    for c in 1 16; do
      $assets/inferd bench -c $c -z 4s -m POST --images images --json --quiet "http://127.0.0.1:18310$path" \
          2>/dev/null | sed "s/^{/{\"what\":\"$what\",\"threads\":$threads,/" >> "$out/latency.jsonl"
    done
  done
  kill -TERM $server; wait $server
done
