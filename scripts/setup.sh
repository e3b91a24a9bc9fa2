#!/usr/bin/env bash
# Installs everything inferd's build, tests and benchmarks need on Debian 12.
# Idempotent and non-interactive; the README quick start and .ci/run both call it.
# INFERD_SETUP_NO_NODE=1 leaves out Node.js and the npm packages (ONNX Runtime for the CPU
# benchmarks, the Kubernetes validator): what a build of the inferd program alone (the
# container images' build stage) does without.
set -euo pipefail
no_node="${INFERD_SETUP_NO_NODE:-0}"
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl
  libdnnl-dev                                # oneDNN 2.6: CPU conv/gemm/pool kernels
  libonnx-dev protobuf-compiler libprotobuf-dev  # onnx.proto + protoc for the importer
  libturbojpeg0-dev libjpeg62-turbo-dev libspng-dev  # image decode
  libjpeg-turbo-progs                        # jpegtran: tools/bad_inputs/make_corpus.py
  libboost1.81-dev libboost-json1.81-dev     # HTTP server (Beast/Asio), KServe JSON
  libgtest-dev libgmock-dev libbenchmark-dev # tests and benchmarks
  prometheus                                 # promtool checks the /metrics exposition in tests
  hey                                        # load generator for the server benchmarks
  clang libclang-rt-dev                      # libFuzzer harnesses (scripts/fuzz.sh)
  python3 python3-onnx python3-numpy         # tools/models generator
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodesource's nodejs bundles npm and conflicts with Debian's npm: add them only when absent.
[ "$no_node" = 1 ] || command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "$no_node" = 1 ] && exit 0

# ONNX Runtime for Node, CPU only: the post-install CUDA download is skipped.
if [ ! -d tools/ort/node_modules/onnxruntime-node ]; then
  (cd tools/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi

# The Kubernetes schema validator of tests/deploy/k8s.sh (pinned by its package-lock.json).
if [ ! -d tests/deploy/validate/node_modules/kubernetes-models ]; then
  (cd tests/deploy/validate && npm ci --no-audit --no-fund --loglevel=error)
fi
