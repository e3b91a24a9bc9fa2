#include "backends/cuda/cuda_conv_staging.h"

#include <algorithm>
#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {

bool is_packed(const std::vector<int64_t>& strides, const std::vector<int64_t>& shape) {
  return strides == packed_strides(shape, true) || strides == packed_strides(shape, false);
}

int64_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  int64_t align = 16;
  while (align > 1 && a % static_cast<uintptr_t>(align) != 0) align /= 2;
  return align;
}

GraphTensorLayout graph_layout(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  GraphTensorLayout l;
  std::copy_n(dims.begin(), 4, l.dims.begin());
  std::copy_n(strides.begin(), 4, l.strides.begin());
  return l;
}

Status stage(const ConstTensorView& v, const std::vector<int64_t>& strides, void* dst, cudaStream_t stream) {
  ConstDeviceTensor from;
  if (!to_device_tensor(v, &from))
    return internal_error("Conv cannot stage a view of rank " + std::to_string(v.shape.size()));
  DeviceTensor to;
  to.data = dst;
  to.dtype = v.dtype;
  to.rank = from.rank;
  for (int d = 0; d < to.rank; ++d) {
    to.dims[d] = from.dims[d];
    to.strides[d] = strides[static_cast<size_t>(d)];
  }
  CUDA_RETURN_IF_ERROR(launch_copy(from, to, stream));
  return Status::ok();
}

Status stage_padded(const ConstTensorView& v, int64_t channels, void* dst, cudaStream_t stream) {
  ConstDeviceTensor from;
  if (!to_device_tensor(v, &from) || from.rank != 4)
    return internal_error("Conv cannot stage a view of rank " + std::to_string(v.shape.size()));
  CUDA_RETURN_IF_ERROR(launch_pad_channels_nhwc(from, dst, channels, stream));
  return Status::ok();
}

}  // namespace inferd::cuda
