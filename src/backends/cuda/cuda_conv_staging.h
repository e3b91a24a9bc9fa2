// The convolution's view plumbing (cuda_conv.cc): whether a view is packed, what alignment
// a pointer promises cuDNN's graph, and copies of strided or channel-short views into packed
// workspace buffers (cuDNN refuses strided inputs; its tensor-core kernels want 8 channels).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "backends/api/tensor_view.h"
#include "backends/cuda/cuda_conv_graph.h"
#include "core/status.h"

namespace inferd::cuda {

// Whether `strides` are the dense NHWC or NCHW strides of `shape`.
bool is_packed(const std::vector<int64_t>& strides, const std::vector<int64_t>& shape);
// The alignment (up to 16 bytes) a pointer has: what the graph may promise for it.
int64_t alignment_of(const void* p);
GraphTensorLayout graph_layout(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides);
// Copies `v` into `dst`, dense with `strides` (same dims and dtype).
Status stage(const ConstTensorView& v, const std::vector<int64_t>& strides, void* dst, cudaStream_t stream);
// Copies `v` into `dst` as packed NHWC of `channels` channels, the ones v lacks zero.
Status stage_padded(const ConstTensorView& v, int64_t channels, void* dst, cudaStream_t stream);

}  // namespace inferd::cuda
