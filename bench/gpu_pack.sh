#!/usr/bin/env bash
# Packs what bench/gpu.sh needs on the GPU machine into device-assets/ (git-ignored, carried
# by the device tool): inferd, test_gpu and the cuDNN quantized-convolution probe built here
# with the CUDA backend, the shared libraries a bare CUDA image lacks, nginx, the GPU peer, and
# the shared test assets the gpu tests read (labels, photos, the ImageNet sample: never
# committed).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${INFERD_ASSETS:-../shared/assets}
cmake --build build --target inferd test_gpu bench_cudnn_quant_probe bench_nvjpeg_hang_probe >/dev/null
rm -rf device-assets; mkdir -p device-assets/lib device-assets/assets/images
cp build/inferd build/tests/test_gpu build/bench/bench_cudnn_quant_probe build/bench/bench_nvjpeg_hang_probe device-assets/
copy_libs() {  # BINARY DEST LIB...: the named libraries BINARY loads here, copied into DEST
  local binary=$1 dest=$2 lib path; shift 2
  for lib in "$@"; do
    path=$(ldd "$binary" | awk -v l=$lib '$1 == l {print $3}')
    [ -n "$path" ] && cp -L "$path" "$dest/"
  done
  return 0
}
copy_libs build/inferd device-assets/lib libdnnl.so.2 libprotobuf.so.32 libturbojpeg.so.0 libspng.so.0 \
  libboost_json.so.1.81.0 libOpenCL.so.1 libgomp.so.1
# nginx, for bench/gpu_overhead.sh's comparison (the device machine has none): the binary
# and the libraries it needs beyond the C library.
if command -v nginx >/dev/null; then
  mkdir -p device-assets/nginx/lib; cp "$(command -v nginx)" device-assets/nginx/
  copy_libs "$(command -v nginx)" device-assets/nginx/lib libpcre2-8.so.0 libssl.so.3 libcrypto.so.3 libcrypt.so.1 \
    libz.so.1
fi
cp ../shared/tools/peer_torch.py device-assets/
cp -r "$shared/labels" device-assets/assets/
for d in imagenet_sample seed_gre caffe winml opencv darknet misc; do
  [ -d "$shared/images/$d" ] && cp -r "$shared/images/$d" device-assets/assets/images/
done
# Two archives, under what a device call carries (64 MiB with the checkout): the binaries and
# libraries in xz with its x86 filter at preset 9e (16 -> 11 MiB against plain -6), the photos
# (already JPEG-compressed, 36 MiB) as a plain tar. bench/gpu_env.sh unpacks both first.
tar -C device-assets -cf - --exclude=./assets . | xz -T2 --x86 --lzma2=preset=9e > /tmp/inferd-device.tar.xz
tar -C device-assets -cf /tmp/inferd-photos.tar assets
rm -rf device-assets; mkdir -p device-assets; mv /tmp/inferd-device.tar.xz /tmp/inferd-photos.tar device-assets/
du -sh device-assets
