#!/usr/bin/env bash
# The benchmarks of the GPU device machine, in one run (issue 5). Runs THERE, from the
# repository root, with device-assets/ carried (bench/device_pack.sh makes it here):
#   device-assets/inferd, device-assets/lib/*.so   this machine's CPU build and its libraries
#   device-assets/peer_torch.py                      the GPU peer (../shared/tools)
# Writes JSON lines under $OUT: gpu.txt (nvidia-smi), peer_torch.jsonl, engine_cpu.jsonl.
# inferd has no GPU backend yet: its figures here are the CPU engine on the host's cores,
# next to PyTorch on the GPU; inferd's GPU figures come with the CUDA backend.
set -uo pipefail
out=${OUT:-/tmp/device-out}; mkdir -p "$out"
assets=device-assets
export LD_LIBRARY_PATH=$PWD/$assets/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,power.limit,memory.total --format=csv > "$out/gpu.txt" 2>&1
grep -m1 'model name' /proc/cpuinfo >> "$out/gpu.txt"; nproc >> "$out/gpu.txt"
ls /sys/class/powercap >> "$out/gpu.txt" 2>&1

gen=/tmp/models; mkdir -p "$gen"
python3 tools/models/gen_models.py "$gen" --only resnet50,googlenet,alexnet,mobilenetv2 > "$out/gen.txt" 2>&1

# The GPU peer: CUDA graphs (fp16, channels_last) for every model at batch 1, 8, 128, then
# torch.compile reduce-overhead for ResNet-50.
timeout 300 python3 $assets/peer_torch.py resnet50,googlenet,alexnet,mobilenet_v2 1,8,128 graphs \
  > "$out/peer_torch.jsonl" 2> "$out/peer_torch.err"
timeout 150 python3 $assets/peer_torch.py resnet50 1,128 compile >> "$out/peer_torch.jsonl" 2>> "$out/peer_torch.err"

# inferd's CPU engine on the host's cores, same models, same run.
threads=$(nproc)
: > "$out/engine_cpu.jsonl"
for m in squeezenet resnet50 googlenet alexnet mobilenetv2; do
  path=$gen/$m.onnx; [ $m = squeezenet ] && path=models/squeezenet/1/model.onnx
  timeout 120 $assets/inferd bench --engine "$path" --json --batch 1,8,64 --threads "$threads" --min-seconds 1 \
      2>> "$out/engine_cpu.err" | sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"engine\":\"inferd\"|" \
      >> "$out/engine_cpu.jsonl"
done
