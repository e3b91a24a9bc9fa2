#!/usr/bin/env bash
# The benchmarks of the GPU device machine, in one run (issue 5). Runs THERE, from the
# repository root, with device-assets/ carried (bench/device_pack.sh makes it here):
#   device-assets/inferd, device-assets/lib/*.so   this machine's CPU build and its libraries
#   device-assets/peer_torch.py                      the GPU peer (../shared/tools)
# Writes under $OUT (the device tool returns 8 files at most): gpu.txt (nvidia-smi),
# log.txt (every stderr), peer_torch.jsonl, engine_cpu.jsonl (inferd and
# ONNX Runtime on the host's CPU), sweep.jsonl (/classify latency vs throughput there).
# inferd has no GPU backend yet: its figures here are the CPU engine on the host's cores,
# next to PyTorch on the GPU; inferd's GPU figures come with the CUDA backend.
set -uo pipefail
. bench/lib.sh
out=${OUT:-/tmp/device-out}; mkdir -p "$out"
assets=device-assets
export LD_LIBRARY_PATH=$PWD/$assets/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,power.limit,memory.total --format=csv > "$out/gpu.txt" 2>&1
grep -m1 'model name' /proc/cpuinfo >> "$out/gpu.txt"; nproc >> "$out/gpu.txt"
ls /sys/class/powercap >> "$out/gpu.txt" 2>&1

gen=/tmp/models; mkdir -p "$gen"
python3 tools/models/gen_models.py "$gen" --only resnet50,googlenet,alexnet,mobilenetv2 >> "$out/log.txt" 2>&1

# inferd's CPU engine and ONNX Runtime 1.30 (Python there; bench.js's settings) on the
# host's cores, alternating per model, same run.
threads=$(nproc)
: > "$out/engine_cpu.jsonl"
for m in squeezenet resnet50 googlenet alexnet mobilenetv2; do
  path=$gen/$m.onnx; [ $m = squeezenet ] && path=models/squeezenet/1/model.onnx
  timeout 150 $assets/inferd bench --engine "$path" --json --batch 1,8,128 --threads "$threads" --min-seconds 1 \
      2>> "$out/log.txt" | sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"engine\":\"inferd\"|" \
      >> "$out/engine_cpu.jsonl"
  timeout 150 python3 tools/ort/bench.py "$path" --batch 1,8,128 --threads "$threads" --min-time-s 1 \
      2>> "$out/log.txt" | sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"engine\":\"onnxruntime\"|" \
      >> "$out/engine_cpu.jsonl"
done

# The server on the host's cores: a /classify concurrency sweep (inferd bench, the seed photos)
# for the bundled SqueezeNet and for ResNet-50 (random weights, the bundled labels).
repo=/tmp/repo; rm -rf $repo; mkdir -p $repo/resnet50/1
cp -r models/squeezenet $repo/
cp $gen/resnet50.onnx $repo/resnet50/1/model.onnx; cp models/squeezenet/labels.txt $repo/resnet50/
printf 'max_batch = 32\n[output]\nlabels = "labels.txt"\nsoftmax = false\n' > $repo/resnet50/config.toml
: > "$out/sweep.jsonl"
for m in squeezenet resnet50; do
  $assets/inferd serve $repo/$m --port 18300 --quiet 2>> "$out/log.txt" & server=$!
  wait_listening 18300
  timeout 200 $assets/inferd bench --sweep 1,2,4,8,16,32,64,128 -z 4s -m POST --images images --json --quiet \
      http://127.0.0.1:18300/classify 2>> "$out/log.txt" | sed "s/^{/{\"model\":\"$m\",/" >> "$out/sweep.jsonl"
  kill -TERM $server; wait $server
done

# The GPU peer: CUDA graphs (fp16, channels_last) for every model at batch 1, 8, 128, then
# torch.compile reduce-overhead for ResNet-50.
timeout 300 python3 $assets/peer_torch.py resnet50,googlenet,alexnet,mobilenet_v2 1,8,128 graphs \
  > "$out/peer_torch.jsonl" 2>> "$out/log.txt"
timeout 150 python3 $assets/peer_torch.py resnet50 1,128 compile >> "$out/peer_torch.jsonl" 2>> "$out/log.txt"
