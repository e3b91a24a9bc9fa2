#!/usr/bin/env bash
# The SDK as a user gets it: installs the build to a temporary prefix, builds examples/
# out of tree against the installed CMake package (shared and static libinferd) and with
# pkg-config alone, runs each, and checks what they print.
# Usage: tests/sdk/examples.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for h in inferd status network builder runtime parsers image; do
  test -f "$prefix/include/inferd/$h.h" || { echo "FAIL: include/inferd/$h.h not installed"; exit 1; }
done

check() {  # check NAME OUTPUT PATTERN
  if ! grep -q "$3" <<<"$2"; then
    echo "FAIL: $1 did not print '$3'; it printed:"; echo "$2"; exit 1
  fi
  echo "ok   $1"
}

run_examples() {  # run_examples BUILD_FOLDER LABEL
  local out
  out=$("$1/define_network" cpu)
  check "define_network ($2)" "$out" "same answers after deserialize"
  out=$("$1/classify" "$src/models/squeezenet/1/model.onnx" "$src/models/squeezenet/labels.txt" \
        "$src/images/1.jpg" caffe)
  check "classify ($2)" "$out" "^0\.92.. *n02328150 Angora"
}

for kind in shared static; do
  static=OFF; [ $kind = static ] && static=ON
  cmake -S "$src/examples" -B "$work/build-$kind" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$prefix" -DINFERD_STATIC=$static >/dev/null
  cmake --build "$work/build-$kind" >/dev/null
  run_examples "$work/build-$kind" "find_package, $kind"
done

# pkg-config only, C++17: what a Makefile user would write.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
mkdir -p "$work/pc"
# shellcheck disable=SC2046
c++ -std=c++17 -O1 "$src/examples/define_network.cc" -o "$work/pc/define_network" $(pkg-config --cflags --libs inferd)
# shellcheck disable=SC2046
c++ -std=c++17 -O1 "$src/examples/classify.cc" -o "$work/pc/classify" $(pkg-config --cflags --libs inferd)
run_examples "$work/pc" "pkg-config, shared"

# A bad model is an error message and exit 1, not a crash.
if out=$("$work/build-shared/classify" "$src/README.md" "$src/models/squeezenet/labels.txt" "$src/images/1.jpg" caffe 2>&1); then
  echo "FAIL: classify accepted README.md as a model"; exit 1
fi
check "classify refuses a file that is not a model" "$out" "^classify: .*README.md"
