#!/usr/bin/env bash
# inferd against ONNX Runtime on the CPU, on Q/DQ models ONNX Runtime's own quantizer made
# (tests/model/data/squeezenet1.1_ort_qdq_per_{tensor,channel}.onnx: uint8 activations with
# zero points, int8 weights per tensor or per channel; see that folder's README.md), beside
# the FP32 model in both engines. bench/engine_int8_cpu.sh compares the two on the Q/DQ files
# inferd writes; these are files inferd did not make. Rounds alternate the engines; each
# figure is the median of the rounds' medians. Prints a markdown table; raw lines in
# build/bench/ort_qdq_cpu.jsonl.
# Usage: bench/ort_qdq_cpu.sh [--min-seconds S] [--rounds N] [--batch 1,8]
set -euo pipefail
cd "$(dirname "$0")/.."
min_seconds=1 rounds=3 batches=1,8
while [ $# -gt 0 ]; do
  case $1 in
    --min-seconds) min_seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --batch) batches=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
threads=$(nproc)
bash scripts/build.sh inferd >/dev/null
work=build/bench/ort_qdq
mkdir -p "$work"
out=build/bench/ort_qdq_cpu.jsonl
: > "$out"
declare -A model=([fp32]=models/squeezenet/1/model.onnx
  [per_tensor]=tests/model/data/squeezenet1.1_ort_qdq_per_tensor.onnx
  [per_channel]=tests/model/data/squeezenet1.1_ort_qdq_per_channel.onnx)
variants="fp32 per_tensor per_channel"
for v in $variants; do
  ./build/inferd build "${model[$v]}" --backend cpu --max-batch 8 --report -o "$work/$v.plan" > "$work/$v.build.txt"
done
for round in $(seq 1 "$rounds"); do
  for v in $variants; do
    echo "== round $round: $v" >&2
    ./build/inferd bench --engine "$work/$v.plan" --json --no-power --batch "$batches" --threads "$threads" \
      --min-seconds "$min_seconds" | sed "s|\"model\":\"[^\"]*\"|\"model\":\"$v\",\"engine\":\"inferd\"|" >> "$out"
    node tools/ort/bench.js "${model[$v]}" --batch "$batches" --threads "$threads" --min-time-s "$min_seconds" |
      sed "s|\"model\":\"[^\"]*\"|\"model\":\"$v\",\"engine\":\"onnxruntime\"|" >> "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    ms = d.get("median_ms")
    if ms is None:
        continue
    rows.setdefault((d["model"], int(d["batch"]), d["engine"]), []).append(ms)
print("| model | batch | inferd ms | ONNX Runtime ms | inferd / ONNX Runtime |")
print("|---|---|---|---|---|")
for (m, b, e) in sorted(rows, key=lambda k: (k[0], k[1])):
    if e != "inferd" or (m, b, "onnxruntime") not in rows:
        continue
    i, o = statistics.median(rows[(m, b, e)]), statistics.median(rows[(m, b, "onnxruntime")])
    print(f"| {m} | {b} | {i:.2f} | {o:.2f} | **{i / o:.2f}** |")
PY
