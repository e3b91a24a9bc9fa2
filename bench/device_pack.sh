#!/usr/bin/env bash
# Packs what bench/device_run.sh needs on the GPU device machine into device-assets/
# (git-ignored, carried by the device tool): the inferd binary of build/, the shared
# libraries it uses that a bare CUDA image lacks, and the GPU peer script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
rm -rf device-assets; mkdir -p device-assets/lib
cp build/inferd device-assets/
for lib in libdnnl.so.2 libprotobuf.so.32 libturbojpeg.so.0 libspng.so.0 libboost_json.so.1.81.0 libOpenCL.so.1 \
           libgomp.so.1; do
  cp -L "$(ldd build/inferd | awk -v l=$lib '$1 == l {print $3}')" device-assets/lib/
done
cp ../shared/tools/peer_torch.py device-assets/
du -sh device-assets
