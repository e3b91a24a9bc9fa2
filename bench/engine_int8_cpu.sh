#!/usr/bin/env bash
# INT8 against FP32 on the CPU backend, per model, in one run on this machine, and the
# table between the engine-int8-cpu markers of docs/benchmarks.md.
# Each model is built three times: FP32, INT8 calibrated (inferd build --precision int8
# --calibration; each layer INT8 or float by the build's clock), and INT8 with every layer
# that can be INT8 (--int8-layers all), and the default with every value stored fp32
# (--disable-pass int8_storage: no INT8 tensors between layers). SqueezeNet, the one real model, calibrates on 100 images of the ImageNet
# sample (../shared/assets) with mixed precision at 97 % top-1 agreement, as its accuracy
# test does (images/ when the assets are absent); the generated models have random weights,
# so they calibrate on images/ with every layer INT8 (--int8-agreement 0): their figures are
# speed only. Each calibration is also written out as an ONNX Q/DQ model (inferd quantize,
# the same table), which inferd builds and ONNX Runtime (tools/ort/bench.js) runs with its
# own INT8 kernels: the two engines on the same quantized model. Rounds alternate the plans
# and engines so that drift on a shared VM hits all of them.
# Usage: bench/engine_int8_cpu.sh [--min-seconds S] [--rounds N] [--models "..."] [--batch 1,8,32]
set -euo pipefail
cd "$(dirname "$0")/.."
min_seconds=2
rounds=3
batches=1,8,32
models="squeezenet resnet50 googlenet alexnet mobilenetv2"
while [ $# -gt 0 ]; do
  case "$1" in
    --min-seconds) min_seconds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --batch) batches=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
threads=$(nproc)
bash scripts/build.sh inferd >/dev/null  # the benchmark runs the CLI alone
gen=build/generated_models
work=build/bench/int8
mkdir -p "$gen" "$work"
out=build/bench/engine_int8_cpu.jsonl
: > "$out"
sample="${INFERD_ASSETS:-../shared/assets}/images/imagenet_sample"
for m in $models; do
  if [ "$m" = squeezenet ]; then
    path=models/squeezenet
    if [ -d "$sample" ]; then
      calib="$work/squeezenet-calibration"
      rm -rf "$calib" && mkdir -p "$calib"
      # The accuracy test's 100: every image whose index (sorted) mod 10 is 0-2.
      LC_ALL=C ls "$sample" | grep -i '\.jpe\?g$' | LC_ALL=C sort | awk 'NR % 10 <= 3 && NR % 10 >= 1' | head -100 |
        while read -r f; do ln -s "$(realpath "$sample/$f")" "$calib/$f"; done
      calibrate=(--calibration "$calib")
    else
      echo "no $sample: SqueezeNet calibrates on images/" >&2
      calibrate=(--calibration images)
    fi
  else
    [ -f "$gen/$m.onnx" ] || /usr/bin/python3 tools/models/gen_models.py "$gen" --only "$m" >/dev/null
    path=$gen/$m.onnx
    calibrate=(--calibration images --int8-agreement 0)
  fi
  rm -f "$work/$m-int8.plan.calib"
  ./build/inferd build "$path" --backend cpu --max-batch 32 -o "$work/$m-fp32.plan" >/dev/null
  ./build/inferd build "$path" --backend cpu --max-batch 32 --precision int8 "${calibrate[@]}" \
    -o "$work/$m-int8.plan" >/dev/null
  # The same table with every layer INT8 that can be (--int8-layers all), against the
  # default above, which keeps a layer float where the build's clock says so.
  ./build/inferd build "$path" --backend cpu --max-batch 32 --precision int8 \
    --calibration-cache "$work/$m-int8.plan.calib" --int8-layers all -o "$work/$m-int8all.plan" >/dev/null
  # And the default without INT8 tensors between layers (every value fp32): what they buy.
  ./build/inferd build "$path" --backend cpu --max-batch 32 --precision int8 \
    --calibration-cache "$work/$m-int8.plan.calib" --disable-pass int8_storage -o "$work/$m-int8f32.plan" >/dev/null
  ./build/inferd quantize "$path" -o "$work/$m-qdq.onnx" --calibration-cache "$work/$m-int8.plan.calib" >/dev/null
  ./build/inferd build "$work/$m-qdq.onnx" --backend cpu --max-batch 32 -o "$work/$m-qdq.plan" >/dev/null
done
for round in $(seq 1 "$rounds"); do
  for m in $models; do
    for precision in fp32 int8 int8all int8f32 qdq; do
      echo "== round $round: $m $precision" >&2
      ./build/inferd bench --engine "$work/$m-$precision.plan" --json --no-power --batch "$batches" \
        --threads "$threads" --min-seconds "$min_seconds" |
        sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"precision\":\"$precision\"|" >> "$out"
    done
    echo "== round $round: $m qdq on ONNX Runtime" >&2
    node tools/ort/bench.js "$work/$m-qdq.onnx" --batch "$batches" --threads "$threads" --min-time-s "$min_seconds" |
      sed "s|\"model\":\"[^\"]*\"|\"model\":\"$m\",\"precision\":\"ort-qdq\"|" >> "$out"
  done
done
for m in $models; do  # how much of each INT8 plan runs INT8 convolutions
  int8=$(grep -c '^int8\|^uint8' "$work/$m-int8.plan.calib" || true)
  total=$(tail -n +2 "$work/$m-int8.plan.calib" | wc -l)
  echo "{\"model\":\"$m\",\"int8_activations\":$int8,\"activations\":$total}" >> "$out"
done
/usr/bin/python3 bench/write_int8_table.py "$out" docs/benchmarks.md
