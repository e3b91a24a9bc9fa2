#!/usr/bin/env bash
# Issue 16's device run (INT8 on the GPU), in one call on the GPU machine from the repository
# root with device-assets/ carried (bench/gpu_pack.sh makes it here):
#   1. bench_cudnn_quant_probe: which quantized convolution graphs cuDNN runs, built by the
#      backend's own graph code, how fast against fp16, and whether they are right
#   2. the INT8 gpu tests: the op harness's INT8 convolution cases against the reference
#      kernels (fp32 and fp16 activations, every view layout) and SqueezeNet's INT8 accuracy
#      on the GPU (tests/gpu/gpu_int8_test.cc)
#   3. torchvision's ResNet-50 calibrated on 100 images of the ImageNet sample: the plan with
#      INT8 convolutions and fp16 elsewhere (`--precision fp16 --calibration`, the clock
#      choosing per layer) against the fp16 plan and the INT8 plan with levels between layers
#      (INFERD_CUDA_INT8_LEVELS=1), `inferd bench --engine` at batch 1, 8 and 256, and the
#      torch.compile fp16 peer in the same run
#   4. the bundled SqueezeNet quantized by ONNX Runtime's own quantizer (tools/ort/
#      quantize_qdq.py, QDQ, per tensor and per channel) on the same 100 images: files to keep
#      in tests/model/data for the test against ONNX Runtime on a model inferd did not make
# Writes under $OUT: gpu.txt, probe.jsonl, tests.txt, build_{int8,fp16,int8levels}.txt, inferd.jsonl,
# peer.jsonl, ort_qdq/*.onnx, log.txt. Options: --stages probe,tests,resnet50,peer,ortqdq
# (default all).
set -uo pipefail
out=${OUT:-/tmp/gpu-int8}; mkdir -p "$out"
stages=probe,tests,resnet50,peer,ortqdq
while [ $# -gt 0 ]; do
  case $1 in
    --stages) stages=$2; shift ;;
    *) echo "gpu_int8.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
stage() { [[ ",$stages," == *",$1,"* ]]; }
log=$out/log.txt
. "$(dirname "$0")/gpu_env.sh"

# The calibration set of tests/support/squeezenet_int8.cc: of the ImageNet sample sorted by
# name, the images whose index mod 10 is 0-2, 100 of them (the other 234 evaluate).
calib=/tmp/calibration; rm -rf $calib; mkdir -p $calib
ls "$INFERD_ASSETS/images/imagenet_sample" | grep -i '\.jpe\?g$' | LC_ALL=C sort | awk '(NR - 1) % 10 < 3' | head -100 |
  while read -r f; do ln -s "$INFERD_ASSETS/images/imagenet_sample/$f" "$calib/$f"; done

if stage probe; then
  timeout 240 $assets/bench_cudnn_quant_probe --batch 256 > "$out/probe.jsonl" 2>> "$log"
  echo "probe exit $?" >> "$log"
fi

if stage tests; then
  timeout 240 $assets/test_gpu --gtest_filter='*int8conv*:*GpuInt8*:*GpuFp8*:*fake_quantize*' > "$out/tests.txt" 2>&1
  echo "test_gpu exit $?" >> "$out/tests.txt"
fi

: > "$out/inferd.jsonl"
if stage resnet50; then
  nets=/tmp/nets; mkdir -p $nets
  python3 tools/models/export_torchvision.py $nets --only resnet50 >> "$log" 2>&1
  # int8: the default INT8 plan; int8levels: the same calibration with INT8 levels between
  # layers and rounded outputs on the GPU (INFERD_CUDA_INT8_LEVELS=1, off by default:
  # src/backends/cuda/cuda_conv_int8.h), to see what the own kernel makes of them.
  for variant in int8 fp16 int8levels; do
    plan=/tmp/resnet50.$variant.plan
    # --profile: each layer's time in the plan at batch 256, beside the clock's own times
    flags="--profile --profile-batch 256" levels=0
    [ $variant = int8 ] && flags="$flags --calibration $calib --report"
    [ $variant = int8levels ] && flags="$flags --calibration-cache /tmp/resnet50.int8.plan.calib --report" levels=1
    INFERD_CUDA_INT8_LEVELS=$levels timeout 420 $inferd build $nets/resnet50.onnx --backend cuda --precision fp16 \
      --max-batch 256 $flags -o $plan > "$out/build_$variant.txt" 2>> "$log"
    echo "build $variant exit $?" >> "$log"
    # (a plan with levels loads only with the switch on: the backend packs its layers at load)
    INFERD_CUDA_INT8_LEVELS=$levels timeout 90 $inferd bench --engine $plan --backend cuda --batch 1,8,256 --json \
      --min-seconds 2 2>> "$log" |
      sed "s|\"model\":\"[^\"]*\"|\"model\":\"resnet50\",\"variant\":\"$variant\"|" >> "$out/inferd.jsonl"
  done
fi

if stage peer; then
  timeout 300 python3 $assets/peer_torch.py resnet50 1,8,256 compile > "$out/peer.jsonl" 2>> "$log"
  echo "peer exit $?" >> "$log"
fi
if stage ortqdq; then
  mkdir -p "$out/ort_qdq"
  for mode in tensor channel; do
    flag=""; [ $mode = channel ] && flag=--per-channel
    timeout 120 python3 tools/ort/quantize_qdq.py models/squeezenet/1/model.onnx $calib \
      "$out/ort_qdq/squeezenet1.1_ort_qdq_per_$mode.onnx" $flag >> "$log" 2>&1
    echo "quantize_qdq $mode exit $?" >> "$log"
  done
fi
echo "gpu_int8.sh done" >> "$log"
