# Sourced by the GPU machine's scripts (bench/gpu.sh, bench/gpu_serve.sh) from the repository
# root, with $out and $log set: unpacks bench/gpu_pack.sh's archives in device-assets/, points the
# loader at the libraries the binaries need, writes $out/gpu.txt (the machine) and sets $inferd.
assets=device-assets
if [ -f $assets/inferd-device.tar.xz ]; then  # bench/gpu_pack.sh's archives
  { xz -dc $assets/inferd-device.tar.xz | tar -C $assets -xf - && tar -C $assets -xf $assets/inferd-photos.tar; } ||
    { echo "cannot unpack device assets" >&2; exit 1; }
  rm -f $assets/inferd-device.tar.xz $assets/inferd-photos.tar
fi
# The cuDNN the binary was built against (9.19): PyTorch's wheel carries it; the machine's
# system cuDNN may be older. cuBLASLt, nvJPEG and NVML come from the CUDA install and the driver.
cudnn_dir=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "lib"))' 2>>"$log")
export LD_LIBRARY_PATH=$PWD/$assets/lib:${cudnn_dir:+$cudnn_dir:}/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1 INFERD_ASSETS=$PWD/$assets/assets INFERD_SOURCE_DIR=$PWD
inferd=$assets/inferd
{ nvidia-smi --query-gpu=name,driver_version,power.limit,memory.total,clocks.max.sm --format=csv
  grep -m1 'model name' /proc/cpuinfo; nproc; echo "cudnn: $cudnn_dir"; date -u; } > "$out/gpu.txt" 2>&1
