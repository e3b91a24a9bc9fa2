// Turning the runtime's tensor views into kernel arguments (cuda_kernels.h's
// BasicDeviceTensor), with the checks every CUDA op family makes first.
#pragma once

#include <string>

#include "backends/api/tensor_view.h"
#include "backends/cuda/cuda_kernels.h"
#include "core/status.h"

namespace inferd::cuda {

// `v` as a kernel argument, once it is known to be device memory of `dtype` and of a rank
// the kernels take; the error names `what` ("input 0").
template <typename View, typename Ptr>
Status bind_view(const View& v, DataType dtype, const std::string& what, BasicDeviceTensor<Ptr>* out) {
  if (v.memory != MemoryKind::kDevice) return invalid_argument(what + " is not in device memory");
  if (v.dtype != dtype) return invalid_argument(what + " is " + to_string(v.dtype) + ", expected " + to_string(dtype));
  if (!to_device_tensor(v, out))
    return unimplemented(what + " has rank " + std::to_string(v.shape.size()) + " (at most " +
                         std::to_string(kMaxDims) + ")");
  return Status::ok();
}

}  // namespace inferd::cuda
