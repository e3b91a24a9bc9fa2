#!/usr/bin/env bash
# GPU serving benchmark (issue 14), one call on the GPU machine from the repository root with
# device-assets/ carried (bench/gpu_pack.sh): torchvision's ResNet-50, fp16, behind
#   1. inferd serve ([instances] count = $instances, default 4), once per --decodes mode:
#      "cpu" (the host's decoder threads), "gpu" (every JPEG decoded by nvJPEG straight into
#      the batch's input), "auto" (the GPU, the host's threads taking the overflow)
#   2. tools/peer_server.py (aiohttp, torchvision's nvJPEG decode, torch.compile, a batching loop)
# each driven by `inferd bench` with the ImageNet sample's JPEGs at the --levels concurrencies,
# and 3. the decode ceiling of the same photos (`inferd bench --decode`: CPU decoders, nvJPEG).
# Writes under $OUT (8 files, what one device call brings back): gpu.txt, inferd-MODE.jsonl
# per decode mode, metrics.txt (the server's histograms' sums and counts and the GPU gauges
# after each mode's load), peer.jsonl, decode.jsonl, log.txt; bench/write_serve_table.py
# makes the table.
# Options: --levels 1,8,64,256,1024 (concurrencies, issue 14's), --seconds 5 (per level), --max-batch 64
# (several, as 16,64: inferd runs each, inferd-MODE[-iN]-bM.jsonl; the peer takes the last),
# --parts inferd,peer,decode (what to run), --decodes cpu,auto,gpu, --instances 4 (contexts on
# the GPU; several, as 4,8,16, run each decode mode at each count: inferd-MODE-iN.jsonl),
# --decoders 1,2 (nvJPEG decoder threads of the decode ceiling; one line of decode.jsonl each),
# --client-threads 1 (event-loop threads of `inferd bench`, which shares the host: its own part
# in the tail is what more of them would show).
set -uo pipefail
out=${OUT:-/tmp/gpu-serve-out}; mkdir -p "$out"
levels=1,8,64,256,1024; seconds=5; max_batch=64; max_batches=64; parts=inferd,peer,decode; decodes=cpu,auto,gpu
instance_counts=${instances:-4}; decoders=1,2; client_threads=1
while [ $# -gt 0 ]; do
  case $1 in
    --levels) levels=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --max-batch) max_batches=$2; max_batch=${2##*,}; shift ;;
    --parts) parts=$2; shift ;;
    --decodes) decodes=$2; shift ;;
    --instances) instance_counts=$2; shift ;;
    --decoders) decoders=$2; shift ;;
    --client-threads) client_threads=$2; shift ;;
    *) echo "gpu_serve.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
part() { [[ ",$parts," == *",$1,"* ]]; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null  # c=1024: the peer server (Python) does not raise its own limit
log=$out/log.txt
. "$(dirname "$0")/gpu_env.sh"
photos=$INFERD_ASSETS/images/imagenet_sample
labels=$PWD/models/squeezenet/labels.txt

wait_ready() {  # URL, seconds
  for _ in $(seq $(($2 * 5))); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  echo "not ready: $1" >> "$log"; return 1
}
load() {  # URL NAME OUTFILE
  timeout $((seconds * 10 + 60)) $inferd bench -m POST --images "$photos" --sweep "$levels" -z ${seconds}s \
    --threads "$client_threads" \
    --warmup 1s --name "$2" --json --quiet "$1" >> "$3" 2>> "$log"
}

if part inferd; then
# 1. inferd: a model folder with torchvision's preprocessing (RGB, 0..1, ImageNet mean/std).
python3 tools/models/export_torchvision.py /tmp/nets --only resnet50 >> "$log" 2>&1
repo=/tmp/serve-repo; rm -rf $repo; mkdir -p $repo/resnet50/1
cp /tmp/nets/resnet50.onnx $repo/resnet50/1/model.onnx; cp "$labels" $repo/resnet50/labels.txt
cat > $repo/resnet50/config.toml <<TOML
max_batch = 64
[input]
width = 224
height = 224
resize = 256
scale = 0.00392156862745098
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
[output]
labels = "labels.txt"
softmax = true
[instances]
count = 4
backend = "cuda"
precision = "fp16"
TOML
for batch in ${max_batches//,/ }; do
for count in ${instance_counts//,/ }; do
for mode in ${decodes//,/ }; do
  name=$mode; [[ $instance_counts == *,* ]] && name=$name-i$count; [[ $max_batches == *,* ]] && name=$name-b$batch
  sed -i "/^decode = /d; s/^count = .*/count = $count/; s/^max_batch = .*/max_batch = $batch/" $repo/resnet50/config.toml
  echo "decode = \"$mode\"" >> $repo/resnet50/config.toml
  $inferd serve --model-repository $repo --port 18600 --quiet 2>> "$log" & server=$!
  wait_ready http://127.0.0.1:18600/v2/health/ready 240 && load http://127.0.0.1:18600/classify inferd-$name "$out/inferd-$name.jsonl"
  { echo "== decode = $name"; curl -s http://127.0.0.1:18600/metrics |
      grep -E '^inferd_(image_decode|compute|queue|batch_size|batch_stage|gpu)[a-z_]*(_sum|_count)?[{ ]' | grep -v _bucket; } >> "$out/metrics.txt"
  kill -TERM $server; wait $server; echo "inferd serve ($name) exit $?" >> "$log"
done
done
done
fi

# 2. the peer server.
if part peer; then
: > "$out/peer.jsonl"
python3 tools/peer_server.py --model resnet50 --port 18601 --labels "$labels" --max-batch $max_batch \
  >> "$log" 2>&1 & peer=$!
wait_ready http://127.0.0.1:18601/ready 300 && load http://127.0.0.1:18601/classify peer "$out/peer.jsonl"
kill -TERM $peer; wait $peer
fi

# 3. the decode ceiling of the same photos.
part decode && for t in ${decoders//,/ }; do
  timeout 60 $inferd bench --decode "$photos" --batch 128 --gpu-threads $t --json 2>> "$log"
done > "$out/decode.jsonl"
echo "gpu_serve.sh done" >> "$log"
