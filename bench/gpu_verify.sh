#!/usr/bin/env bash
# What this tree changed on the GPU and has not yet run there, in one device call from the
# repository root with device-assets/ carried (bash bench/gpu_pack.sh makes it here), each
# step given what is left of a time budget so that the call ends inside its limit:
#   1. the gpu tests that cover the changes: every op case (the elementwise kernels' 16-byte
#      path, INT8 convolutions, FakeQuantize), SqueezeNet INT8 and FP8, GPU decoding and
#      serving (nvJPEG states made per chunk size when a decoder opens)
#   2. GPU serving, 8 instances, GPU decoding, max batch 8 and 16, inferd and the peer
#      server (the tail at 64 connections, which stalled for seconds when each batch size
#      made its nvJPEG state on first use)
#   3. ResNet-50 INT8 against fp16 and the torch.compile peer (the layer clock at the max batch)
# Writes under $OUT: decode.txt, ops.txt (the tests), serve.tgz (bench/gpu_serve.sh's files), int8.tgz
# (bench/gpu_int8.sh's files), log.txt. Options: --budget SECONDS (default 540).
set -uo pipefail
out=${OUT:-/tmp/gpu-verify}; mkdir -p "$out"
budget=540
while [ $# -gt 0 ]; do
  case $1 in
    --budget) budget=$2; shift ;;
    *) echo "gpu_verify.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
log=$out/log.txt
. "$(dirname "$0")/gpu_env.sh"
start=$SECONDS
left() { echo $((budget - (SECONDS - start))); }
say() { echo "$* at $((SECONDS - start)) s" | tee -a "$log"; }

# Each group in a process of its own (bench/gpu_tests.sh): nvJPEG's hardware decoder hung in
# a process that had run a plan before (docs/gpu.md, "Known issues").
OUT=$out bash bench/gpu_tests.sh decode 60 'GpuJpegDecode*:GpuServing*' | tee -a "$log"
OUT=$out bash bench/gpu_tests.sh ops $(($(left) < 200 ? $(left) : 200)) '*CudaOps*:*GpuInt8*:*GpuFp8*' | tee -a "$log"
say "tests done"

if [ "$(left)" -gt 200 ]; then
  OUT=/tmp/verify-serve timeout $(($(left) - 120)) bash bench/gpu_serve.sh --parts inferd,peer --decodes gpu \
    --instances 8 --max-batch 8,16 --seconds 3 >> "$log" 2>&1
  say "gpu_serve.sh exit $?"
  tar -C /tmp -czf "$out/serve.tgz" verify-serve
fi

if [ "$(left)" -gt 100 ]; then
  OUT=/tmp/verify-int8 timeout $(($(left) - 10)) bash bench/gpu_int8.sh --stages resnet50,peer >> "$log" 2>&1
  say "gpu_int8.sh exit $?"
  tar -C /tmp -czf "$out/int8.tgz" verify-int8
fi
