#!/usr/bin/env bash
# Builds inferd with sanitizers and runs tests under them (issue 6; .ci/run calls both):
#   scripts/sanitize.sh address   ASan + UBSan, the unit, ops and server tests (build-asan/)
#   scripts/sanitize.sh thread    TSan, the batcher and server tests (build-tsan/)
# Any sanitizer report fails the run (halt_on_error / exitcode).
# OpenMP: Debian's libgomp and oneDNN are not built with TSan, so their internal
# synchronisation would be reported as races; the TSan run uses one engine thread
# (OMP_NUM_THREADS=1), which leaves every thread of ours (I/O, decode, batcher, execution)
# in play and the OpenMP runtime out of it.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitize.sh address|thread}
case "$kind" in
  address) dir=build-asan sanitize="address,undefined" labels="unit|ops|server" ;;
  thread) dir=build-tsan sanitize="thread" labels="server" ;;
  *) echo "usage: scripts/sanitize.sh address|thread" >&2; exit 2 ;;
esac
# Line tables only (-g1): a report's stack still names files and lines, and the build takes
# about 40 % less time than with full debug information (a Beast-heavy file: 53 s -> 32 s).
if [ ! -f $dir/build.ninja ]; then
  cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERD_SANITIZE="$sanitize" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
fi
# Only the test executables whose labels run (tests/CMakeLists.txt: one suite per folder,
# `inferd_test_suite(DIR LABEL ...)`): not the benchmarks, nor suites of other labels.
targets=$(sed -nE "s/^ *inferd_test_suite\(([a-z_]+) ($labels)( .*)?\)$/test_\1/p" tests/CMakeLists.txt)
known=$(ninja -C $dir -t targets all | sed -nE 's/^(test_[a-z_]+): phony$/\1/p')
build=()
for t in $targets; do grep -qx "$t" <<<"$known" && build+=("$t"); done
((${#build[@]})) || { echo "sanitize.sh: no test executable has the labels $labels" >&2; exit 1; }
cmake --build $dir --target "${build[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:exitcode=66
[ "$kind" = thread ] && export OMP_NUM_THREADS=1
ctest --test-dir $dir --output-on-failure -L "$labels" -j2 --timeout 600
