#!/usr/bin/env bash
# The server's own cost on the GPU machine (issue 14), in the call that ran bench/gpu_serve.sh
# (it leaves its model repository, /tmp/serve-repo: ResNet-50 fp16, decode = "gpu", the plan
# cached), from the repository root with device-assets/ carried (bench/gpu_pack.sh):
#   1. the seed's empty servers at c=8 and 64: POST /v1/noop (HTTP alone), POST
#      /v1/noop?device=1 (an empty CUDA kernel launched and waited for per request), and
#      nginx answering "{}" (the binary and libraries gpu_pack.sh carries), 3 s each
#   2. a lone /classify (c=1, 5 s, the ImageNet sample) with the server's metrics read before
#      and after: the client's latency against the server's own queue and instance time
#      for the same requests (bench/write_overhead_table.py makes the table)
# Writes under $OUT: overhead.jsonl, metrics-before.txt, metrics-after.txt, log.txt, gpu.txt.
set -uo pipefail
out=${OUT:-/tmp/gpu-overhead}; mkdir -p "$out"
log=$out/log.txt
. "$(dirname "$0")/gpu_env.sh"
. "$(dirname "$0")/lib.sh"
repo=/tmp/serve-repo
[ -d $repo ] || { echo "gpu_overhead.sh: run bench/gpu_serve.sh first (no $repo)" >> "$log"; exit 1; }
photos=$INFERD_ASSETS/images/imagenet_sample
jsonl=$out/overhead.jsonl; : > "$jsonl"

# Debian's nginx creates its temporary folders under /var/lib/nginx, which a bare machine lacks.
ngx=/tmp/gpu-overhead-nginx; mkdir -p /var/lib/nginx; nginx_noop_conf $ngx 18700 2
LD_LIBRARY_PATH=$PWD/device-assets/nginx/lib device-assets/nginx/nginx -c $ngx/nginx.conf -g "daemon off;" \
  >> "$log" 2>&1 & nginx=$!
sed -i 's/^max_batch = .*/max_batch = 8/; s/^count = .*/count = 8/' $repo/resnet50/config.toml
$inferd serve --model-repository $repo --port 18701 --quiet 2>> "$log" & server=$!
# The plan is cached by gpu_serve.sh; 120 s covers a rebuild all the same.
wait_ready 18701 120 2>> "$log" || { kill $server $nginx; exit 1; }
curl -s -XPOST 'http://127.0.0.1:18701/v1/noop?device=1' >> "$log"; echo >> "$log"

load() {  # NAME URL CONCURRENCY [bench args...]
  local name=$1 url=$2 c=$3; shift 3
  timeout 60 $inferd bench -c "$c" -z 3s --warmup 1s -m POST --name "$name" --json --quiet "$@" "$url" \
    >> "$jsonl" 2>> "$log"
}
for c in 8 64; do
  load nginx http://127.0.0.1:18700/noop $c
  load noop http://127.0.0.1:18701/v1/noop $c
  load noop-device 'http://127.0.0.1:18701/v1/noop?device=1' $c
done
metrics() { curl -s http://127.0.0.1:18701/metrics | grep -E '^inferd_(request|queue|compute|batch_stage|image_decode|answer_write|exchange)_duration_seconds_(sum|count)'; }
metrics > "$out/metrics-before.txt"
timeout 60 $inferd bench -c 1 -z 5s -m POST --images "$photos" --name classify-c1 --json --quiet \
  http://127.0.0.1:18701/classify >> "$jsonl" 2>> "$log"
metrics > "$out/metrics-after.txt"
kill -TERM $server $nginx; wait $server; echo "inferd serve exit $?" >> "$log"
echo "gpu_overhead.sh done" >> "$log"
