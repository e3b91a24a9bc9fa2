#!/usr/bin/env bash
# Runs test_gpu on the GPU machine with a gtest filter and a time limit, from the repository
# root with device-assets/ carried; when the tests outlive the limit, every thread's stack is
# written before they are killed (gdb or cuda-gdb where the machine has one, else each thread's
# kernel wait channel and the user-space frames /proc gives), so that a hang says where it is.
#   bash bench/gpu_tests.sh NAME SECONDS FILTER [VAR=VALUE ...]
# Writes $OUT/NAME.txt (the tests' output, then the stacks if any); prints its summary lines.
set -uo pipefail
name=$1 limit=$2 filter=$3; shift 3
out=${OUT:-/tmp/gpu-tests}; mkdir -p "$out"; log=$out/log.txt
. "$(dirname "$0")/gpu_env.sh"
file=$out/$name.txt
env "$@" stdbuf -oL $assets/test_gpu --gtest_filter="$filter" > "$file" 2>&1 & pid=$!
for ((t = 0; t < limit; ++t)); do kill -0 $pid 2>/dev/null || break; sleep 1; done
if kill -0 $pid 2>/dev/null; then
  echo "=== still running after $limit s: stacks" >> "$file"
  debugger=$(command -v gdb || command -v /usr/local/cuda/bin/cuda-gdb || true)
  if [ -n "$debugger" ]; then
    timeout 60 "$debugger" -p $pid -batch -ex 'thread apply all bt 25' >> "$file" 2>&1
  else
    for task in /proc/$pid/task/*; do
      echo "--- thread ${task##*/} wchan $(cat $task/wchan 2>/dev/null) syscall $(cut -d' ' -f1 $task/syscall 2>/dev/null)"
    done >> "$file"
  fi
  kill -KILL $pid
fi
wait $pid; echo "=== exit $?" >> "$file"
grep -E '^\[  (PASSED|FAILED) |^\[  FAILED  \]|agreement|^=== ' "$file" | sed "s/^/$name: /"
