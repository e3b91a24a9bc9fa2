#!/usr/bin/env bash
# Builds inferd's libFuzzer harnesses (tests/fuzz) with clang, ASan and UBSan in
# build-fuzz, then runs each harness for a bounded time, one after the other.
#
#   scripts/fuzz.sh [--seconds N] [--build-dir DIR] [--no-build] [HARNESS...]
#
# HARNESS: onnx_import plan_load image_preprocess http_request kserve_request model_config
# (default: all). Each run starts from the seeds (tests/fuzz/corpus/<harness>; plan_load also
# from plans built from the ONNX seeds by build/inferd, or $INFERD) plus what earlier runs
# found (DIR/fuzz-corpus/<harness>, kept between runs). A crash, hang, leak
# or out-of-memory leaves its input in DIR/fuzz-artifacts/<harness>/ and makes the script
# exit 1 (after running the other harnesses); reproduce it with
#   DIR/fuzz/fuzz_<harness> DIR/fuzz-artifacts/<harness>/crash-...
# The one-line-per-harness summary is printed at the end and written to
# DIR/fuzz-summary.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=60
BUILD_DIR="$ROOT/build-fuzz"
BUILD=1
ALL=(onnx_import plan_load image_preprocess http_request kserve_request model_config)
HARNESSES=()

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECONDS_EACH="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) HARNESSES+=("$1"); shift ;;
  esac
done
[[ ${#HARNESSES[@]} -eq 0 ]] && HARNESSES=("${ALL[@]}")
if ! [[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: --seconds needs a positive integer, got '$SECONDS_EACH'" >&2
  exit 2
fi

# Per harness: the largest input worth trying (bytes) and, where one helps, a dictionary.
max_len() {
  case "$1" in
    onnx_import|plan_load) echo 16384 ;;  # the seeds are 0.5-7 KB models and plans
    image_preprocess) echo 65536 ;;        # room for a PNG whose zlib stream inflates 1000x
    http_request) echo 32768 ;;            # past the 16 KiB header limit
    kserve_request) echo 16384 ;;
    model_config) echo 4096 ;;
  esac
}
# Per harness: the most one input may take (libFuzzer -timeout, seconds; a slower input is
# a failure). Decode cost is a bug class here: a 200 KB progressive JPEG once took 12-14 s,
# so the image harness gets room for the worst input the decode bounds allow (2^30
# pixel-scans, ~1-3 s with sanitizers) and no more; the others are far quicker.
input_timeout() {
  case "$1" in
    image_preprocess) echo 10 ;;
    http_request) echo 10 ;;  # a pipelined input may classify up to 16 images
    *) echo 5 ;;
  esac
}
dictionary() {
  case "$1" in
    onnx_import) echo onnx ;;
    plan_load) echo plan ;;
    http_request) echo http ;;
    kserve_request) echo kserve ;;
    model_config) echo toml ;;
  esac
}

for h in "${HARNESSES[@]}"; do
  if [[ -z "$(max_len "$h")" ]]; then
    echo "fuzz.sh: unknown harness '$h' (one of: ${ALL[*]})" >&2
    exit 2
  fi
done

start=$(date +%s)
if [[ $BUILD -eq 1 ]]; then
  # RelWithDebInfo without -DNDEBUG: asserts stay on, stack traces have lines (line tables,
  # -g1: what a report needs, built in about 40 % less time than full debug information).
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DINFERD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1" >/dev/null
  targets=()
  for h in "${HARNESSES[@]}"; do targets+=("fuzz_$h"); done
  ninja -C "$BUILD_DIR" -j 2 "${targets[@]}"
fi
build_seconds=$(( $(date +%s) - start ))

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
summary="$BUILD_DIR/fuzz-summary.txt"
: >"$summary"
failed=0

# The value of "key: N" on the last libFuzzer status line that has it.
last_stat() { grep -oE "$1: [0-9]+" "$2" | tail -1 | grep -oE '[0-9]+' || echo 0; }
final_stat() { grep -oE "stat::$1: *[0-9]+" "$2" | tail -1 | grep -oE '[0-9]+$' || echo 0; }

# Plans to start plan_load from: built now from the ONNX seeds by an inferd of this source
# (a plan carries the engine version and format, so committed ones would go stale). Without
# them the harness starts from the hand-kept regression inputs only, which the loader
# rejects early: 60 s reached a coverage of 227-1,011 where these seeds give ~4,500.
plan_seeds="$BUILD_DIR/fuzz-seeds/plan_load"
inferd_bin=${INFERD:-$ROOT/build/inferd}
rm -rf "$plan_seeds"; mkdir -p "$plan_seeds"
if [[ " ${HARNESSES[*]} " != *" plan_load "* ]]; then
  :  # not fuzzed this run
elif [[ -x "$inferd_bin" ]]; then
  for m in squeezenet_like resnet_like mlp_ops opset7_ir3; do
    "$inferd_bin" build "$ROOT/tests/fuzz/corpus/onnx_import/$m.onnx" --backend cpu -o "$plan_seeds/$m.plan" >/dev/null 2>&1 ||
      echo "fuzz.sh: could not build the plan seed $m with $inferd_bin" >&2
  done
else
  echo "fuzz.sh: no inferd at $inferd_bin (set INFERD): plan_load starts from its hand-kept seeds only" >&2
fi

for h in "${HARNESSES[@]}"; do
  exe="$BUILD_DIR/fuzz/fuzz_$h"
  corpus="$BUILD_DIR/fuzz-corpus/$h"
  artifacts="$BUILD_DIR/fuzz-artifacts/$h"
  log="$BUILD_DIR/fuzz-logs/$h.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  args=(-max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" -rss_limit_mb=2048 -timeout="$(input_timeout "$h")"
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  dict=$(dictionary "$h")
  [[ -n "$dict" ]] && args+=(-dict="$ROOT/tests/fuzz/dictionaries/$dict.dict")
  echo "== fuzz_$h: ${SECONDS_EACH}s (log: $log)"
  rc=0
  seeds=("$ROOT/tests/fuzz/corpus/$h")
  [[ $h == plan_load ]] && seeds+=("$plan_seeds")
  "$exe" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  execs=$(final_stat number_of_executed_units "$log")
  rate=$(final_stat average_exec_per_sec "$log")
  rss=$(final_stat peak_rss_mb "$log")
  cov=$(last_stat cov "$log")
  ft=$(last_stat ft "$log")
  units=$(last_stat corp "$log")  # inputs libFuzzer keeps (the folder also holds superseded ones)
  pcs=$(grep -m1 -oE '\(([0-9]+) inline 8-bit counters' "$log" | grep -oE '[0-9]+' | head -1 || echo 0)
  status=ok
  if [[ $rc -ne 0 ]]; then
    status="FAILED(rc=$rc)"
    failed=1
    grep -E "^==[0-9]+==ERROR|runtime error|fuzz invariant broken|ALARM|out-of-memory|Test unit written" "$log" |
      sort -u | head -5 || true
  fi
  line=$(printf '%-16s %-13s execs=%-9s exec/s=%-6s cov=%-12s ft=%-6s corpus=%-5s peak_rss=%sMB' \
    "$h" "$status" "$execs" "$rate" "$cov/$pcs" "$ft" "$units" "$rss")
  echo "$line" | tee -a "$summary"
done

total=$(( $(date +%s) - start ))
echo "fuzz.sh: build ${build_seconds}s, total ${total}s, ${SECONDS_EACH}s per harness; summary in $summary"
echo "== summary"
cat "$summary"
exit $failed
