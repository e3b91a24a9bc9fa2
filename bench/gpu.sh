#!/usr/bin/env bash
# The GPU engine's device run (issue 12), in one call on the GPU machine, from the
# repository root with device-assets/ carried (bench/gpu_pack.sh makes it here):
#   1. the gpu-labelled tests (every op and fused pattern vs the reference kernels in fp32
#      and fp16, models vs the CPU backend, fp16 vs fp32 on the ImageNet sample, graphs,
#      threads, plan round trip, errors)
#   2. inferd vs the GPU peer (../shared/tools/peer_torch.py), same run: per model the fp16
#      plan's build time, plan load time, batch-1 latency, batch-256 images/s and images/s/W
#   3. `inferd build --profile` per model (time per fused kernel), and inferd serve on the GPU
#   4. `inferd bench --decode` on the ImageNet sample: CPU decoders vs nvJPEG (decode.jsonl)
# Writes under $OUT: gpu.txt (machine), tests.txt, inferd.jsonl, peer.jsonl, passes.jsonl,
# profile.txt, serve.txt, decode.jsonl, log.txt. Options: --stages tests,engine,passes,peer,profile,serve,decode
# (default all; GPU_TEST_FILTER=gtest-filter runs some of the gpu tests), --models a,b, --peer-modes graphs,compile, --peer-batches 1,8,256,
# --profile-batch N (default 256: where throughput goes; 1 for latency), --arch torchvision|bvlc
# (the networks benchmarked: torchvision's own, exported on the device by
# tools/models/export_torchvision.py, the ones the peer runs; or gen_models.py's BVLC variants)
set -uo pipefail
out=${OUT:-/tmp/gpu-out}; mkdir -p "$out"
models=resnet50,googlenet,alexnet,mobilenetv2,squeezenet
stages=tests,engine,passes,peer,profile,serve,decode
peer_modes=graphs; peer_batches=1,8,256; profile_batch=256; arch=torchvision
while [ $# -gt 0 ]; do
  case $1 in
    --stages) stages=$2; shift ;;
    --models) models=$2; shift ;;
    --peer-modes) peer_modes=$2; shift ;;
    --peer-batches) peer_batches=$2; shift ;;
    --profile-batch) profile_batch=$2; shift ;;
    --arch) arch=$2; shift ;;
    *) echo "gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
stage() { [[ ",$stages," == *",$1,"* ]]; }
log=$out/log.txt
. "$(dirname "$0")/gpu_env.sh"

gen=/tmp/models; mkdir -p "$gen"
only=$(echo "$models" | tr ',' '\n' | grep -v squeezenet | paste -sd, -)
[ -n "$only" ] && python3 tools/models/gen_models.py "$gen" --only "$only" >> "$log" 2>&1
cp models/squeezenet/1/model.onnx "$gen/squeezenet.onnx"
# The benchmarked networks: torchvision's (what the peer runs), a generated one where the
# export fails (said in the log and in each row's "arch").
nets=/tmp/nets; mkdir -p "$nets"
if [ "$arch" = torchvision ] && { stage engine || stage profile || stage passes; }; then
  python3 tools/models/export_torchvision.py "$nets" --only "$models" >> "$log" 2>&1
fi
arch_of() { [ "$arch" = torchvision ] && [ -f "$nets/$1.onnx" ] && echo torchvision || echo bvlc; }
net_of() { [ "$(arch_of $1)" = torchvision ] && echo "$nets/$1.onnx" || echo "$gen/$1.onnx"; }

if stage tests; then
  INFERD_GENERATED_MODELS=$gen timeout 240 $assets/test_gpu ${GPU_TEST_FILTER:+--gtest_filter=$GPU_TEST_FILTER} > "$out/tests.txt" 2>&1
  echo "test_gpu exit $?" >> "$out/tests.txt"
fi

# inferd, fp16: build (algorithm timing included; with the profile stage, the plan is also
# profiled at --profile-batch, per fused kernel and summed per op and library, into
# profile.txt), plan load, then the engine at 1, 8, 256.
: > "$out/inferd.jsonl"; : > "$out/profile.txt"
for m in ${models//,/ }; do
  stage engine || stage profile || break
  plan=/tmp/$m.fp16.plan
  profile=""; stage profile && profile="--profile --profile-batch $profile_batch"
  echo "== $m" >> "$out/profile.txt"
  echo "network: $(net_of $m) ($(arch_of $m))" >> "$out/profile.txt"
  timeout 150 $inferd build "$(net_of $m)" --backend cuda --precision fp16 --max-batch 256 $profile -o "$plan" \
    >> "$out/profile.txt" 2>> "$log"
  build_ms=$(sed -n "s|^wrote $plan .*built in \([0-9]*\).*|\1|p" "$out/profile.txt" | tail -n 1)
  stage engine || continue
  timeout 120 $inferd bench --engine "$plan" --backend cuda --batch 1,8,256 --json --min-seconds 2 2>> "$log" |
    sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"arch\":\"$(arch_of $m)\",\"engine\":\"inferd\",\"plan_build_ms\":${build_ms:-0}|" >> "$out/inferd.jsonl"
done

# What horizontal fusion and concat elimination buy on the GPU: the same models built
# without each (kernel launches = nodes of the plan, from `inferd build`'s line).
: > "$out/passes.jsonl"
for m in googlenet squeezenet; do
  stage passes || break
  for off in none horizontal_conv_fusion concat_elimination concat_conv_merge horizontal_conv_fusion,concat_elimination; do
    flag=""; [ $off != none ] && flag="--disable-pass $off"
    nodes=$(timeout 120 $inferd build "$(net_of $m)" --backend cuda --precision fp16 --max-batch 256 $flag \
            -o /tmp/ablation.plan 2>> "$log" | sed -n 's/^wrote [^ ]* (\([0-9]*\) nodes.*/\1/p')
    timeout 60 $inferd bench --engine /tmp/ablation.plan --backend cuda --batch 1,256 --json --min-seconds 1 2>> "$log" |
      sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"disabled\":\"$off\",\"kernels\":${nodes:-0}|" >> "$out/passes.jsonl"
  done
done

if stage peer; then
  peer_models=$(echo "$models" | sed 's/mobilenetv2/mobilenet_v2/; s/squeezenet/squeezenet1_1/')
  timeout ${PEER_TIMEOUT:-400} python3 $assets/peer_torch.py "$peer_models" "$peer_batches" "$peer_modes" > "$out/peer.jsonl" 2>> "$log"
fi

# inferd serve on the GPU: the seed's rabbit, then a short /classify load at c=8.
stage serve && {
  $inferd serve models/squeezenet --backend cuda --precision fp16 --port 18400 --quiet 2>> "$log" & server=$!
  for i in $(seq 400); do curl -s localhost:18400/v2/health/ready >/dev/null && break; sleep 0.2; done
  curl -s -XPOST --data-binary @images/1.jpg localhost:18400/classify; echo
  timeout 30 $inferd bench -c 8 -z 5s -m POST --images images http://127.0.0.1:18400/classify 2>&1 | tail -n 12
  # The seed's empty servers: HTTP alone, then HTTP + an empty kernel and its synchronization.
  curl -s -XPOST 'localhost:18400/v1/noop?device=1'; echo
  for q in "" "?device=1"; do
    for c in 8 64; do
      echo "== /v1/noop$q c=$c"
      timeout 20 $inferd bench -c $c -z 3s -m POST "http://127.0.0.1:18400/v1/noop$q" 2>&1 | grep -E "requests|latency|status"
    done
  done
  kill -TERM $server; wait $server; echo "serve exit $?"
  # An instance group: 2 contexts on every GPU, under concurrent load; every answer must be
  # 200 and the rabbit must stay the rabbit.
  repo=/tmp/group-repo; rm -rf $repo; mkdir -p $repo; cp -r models/squeezenet $repo/
  printf '\n[instances]\ncount = 2\ngpus = "all"\nbackend = "cuda"\nprecision = "fp16"\n' >> $repo/squeezenet/config.toml
  $inferd serve --model-repository $repo --port 18401 --quiet 2>> "$log" & server=$!
  for i in $(seq 400); do curl -s localhost:18401/v2/health/ready >/dev/null && break; sleep 0.2; done
  echo "== instance group (2 per GPU, gpus = all)"
  timeout 30 $inferd bench -c 64 -z 5s -m POST --images images http://127.0.0.1:18401/v1/models/squeezenet/classify 2>&1 | tail -n 8
  curl -s -XPOST --data-binary @images/1.jpg localhost:18401/v1/models/squeezenet/classify | cut -c1-120; echo
  curl -s localhost:18401/metrics | grep -E "^inferd_(batch|queue_depth|gpu)" | head -n 12
  kill -TERM $server; wait $server; echo "group serve exit $?"
} > "$out/serve.txt" 2>&1
# The decode ceiling: JPEG decode + preprocess of the ImageNet sample, CPU decoders on every
# core against nvJPEG in batches of 128 (docs/gpu.md, "GPU decoding").
# Each GPU decoder count with nvJPEG's choice (the JPEG engines where the GPU has them) and
# with the CUDA cores only (INFERD_NVJPEG_BACKEND=default).
stage decode && for t in 1 2 4; do
  for b in "" default; do
    INFERD_NVJPEG_BACKEND=$b timeout 60 $inferd bench --decode "$INFERD_ASSETS/images/imagenet_sample" --batch 128 \
      --gpu-threads $t --json 2>> "$log"
  done
done > "$out/decode.jsonl"
echo "gpu.sh done" >> "$log"
