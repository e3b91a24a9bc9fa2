#!/usr/bin/env bash
# Compares two inferd binaries' CPU engines (before/after a change) on the same models,
# alternating A and B per model and round so that drift on a shared VM hits both; prints
# per model and batch the median batch latency of each over the rounds and B/A.
# Usage: bench/engine_ab.sh BIN_A BIN_B [--rounds N] [--batch 1,8,32] [--min-seconds S]
#                           [--models "squeezenet resnet50 ..."]
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2; shift 2
rounds=3 batches=1,8,32 min_seconds=2 models="squeezenet resnet50 googlenet alexnet mobilenetv2"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --batch) batches=$2; shift 2 ;;
    --min-seconds) min_seconds=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
gen=build/generated_models; mkdir -p "$gen"
out=$(mktemp); trap 'rm -f "$out"' EXIT
for round in $(seq 1 "$rounds"); do
  for m in $models; do
    path=$gen/$m.onnx
    [ "$m" = squeezenet ] && path=models/squeezenet/1/model.onnx
    [ -f "$path" ] || /usr/bin/python3 tools/models/gen_models.py "$gen" --only "$m" >/dev/null
    for side in A B; do
      bin=$a; [ $side = B ] && bin=$b
      "$bin" bench --engine "$path" --json --batch "$batches" --min-seconds "$min_seconds" 2>/dev/null |
        sed "s|^{|{\"side\":\"$side\",\"name\":\"$m\",|" >> "$out"
    done
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cells = {}
for r in rows:
    cells.setdefault((r["name"], r["batch"]), {}).setdefault(r["side"], []).append(r["median_ms"])
print("| model | batch | A ms | B ms | B/A |")
print("|---|---|---|---|---|")
for (name, batch), sides in sorted(cells.items()):
    ma, mb = statistics.median(sides["A"]), statistics.median(sides["B"])
    print(f"| {name} | {batch} | {ma:.3f} | {mb:.3f} | {mb / ma:.2f} |")
PY
