// The Conv/Gemm epilogue kernel (cuda_epilogue.h). Memory bound: one read of t (and of r),
// one write of y per element, so the work is in keeping the accesses coalesced: the flat
// index walks the output in its physical order (channel fastest for NHWC), and offsets
// use 32-bit arithmetic whenever every tensor fits (64-bit division costs ~3x more).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/device_math.cuh"

namespace inferd::cuda {
namespace {


// The loop dims in physical order (slowest first) and each tensor's strides permuted to
// match; `channel_pos` is where the channel dim sits in that order (1 for NCHW, 3 for NHWC).
template <typename Index>
struct LoopParams {
  Index dims[4];
  Index t_strides[4], r_strides[4], y_strides[4];
  int channel_pos;
};

template <typename T, typename Index>
__global__ void epilogue_kernel(LoopParams<Index> p, const T* t, const T* __restrict__ bias, const T* r, T* y,
                                ir::Activation act, Index total) {
  const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    Index rest = i;
    const Index i3 = rest % p.dims[3];
    rest /= p.dims[3];
    const Index i2 = rest % p.dims[2];
    rest /= p.dims[2];
    const Index i1 = rest % p.dims[1];
    const Index i0 = rest / p.dims[1];
    // t and r may alias y (no __restrict__ on them): each thread reads its own element
    // before writing it, and no other thread touches that element.
    float v = to_float(t[i0 * p.t_strides[0] + i1 * p.t_strides[1] + i2 * p.t_strides[2] + i3 * p.t_strides[3]]);
    if (bias) v += to_float(bias[p.channel_pos == 3 ? i3 : i1]);
    if (r) v += to_float(r[i0 * p.r_strides[0] + i1 * p.r_strides[1] + i2 * p.r_strides[2] + i3 * p.r_strides[3]]);
    y[i0 * p.y_strides[0] + i1 * p.y_strides[1] + i2 * p.y_strides[2] + i3 * p.y_strides[3]] =
        from_float<T>(ir::apply_activation(act, v));
  }
}

// Largest element offset a tensor with these dims and strides reaches.
int64_t max_offset(const int64_t* dims, const int64_t* strides) {
  int64_t off = 0;
  for (int d = 0; d < 4; ++d) off += (dims[d] - 1) * strides[d];
  return off;
}

template <typename T, typename Index>
Status launch_typed(const EpilogueArgs& a, cudaStream_t stream, int64_t total) {
  static constexpr int kNchwOrder[4] = {0, 1, 2, 3}, kNhwcOrder[4] = {0, 2, 3, 1};
  const int* order = a.channels_last ? kNhwcOrder : kNchwOrder;
  LoopParams<Index> p{};
  for (int d = 0; d < 4; ++d) {
    p.dims[d] = static_cast<Index>(a.dims[order[d]]);
    p.t_strides[d] = static_cast<Index>(a.t_strides[order[d]]);
    p.r_strides[d] = static_cast<Index>(a.residual ? a.r_strides[order[d]] : 0);
    p.y_strides[d] = static_cast<Index>(a.y_strides[order[d]]);
  }
  p.channel_pos = a.channels_last ? 3 : 1;
  constexpr int kThreads = 256;
  // Enough blocks to fill the GPU several times over; the grid-stride loop covers the rest.
  const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, int64_t{1} << 20);
  epilogue_kernel<T, Index><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      p, static_cast<const T*>(a.t), static_cast<const T*>(a.bias), static_cast<const T*>(a.residual),
      static_cast<T*>(a.y), a.act, static_cast<Index>(total));
  return cuda_status(cudaGetLastError(), "epilogue_kernel<<<>>>");
}

template <typename T>
Status launch_for_type(const EpilogueArgs& a, cudaStream_t stream, int64_t total) {
  // Strides are non-negative for every view the runtime makes; 32-bit indexing when the
  // flat index and every offset stay below 2^31.
  const int64_t limit = int64_t{1} << 31;
  const bool small = total < limit && max_offset(a.dims, a.t_strides) < limit &&
                     max_offset(a.dims, a.y_strides) < limit &&
                     (!a.residual || max_offset(a.dims, a.r_strides) < limit);
  return small ? launch_typed<T, uint32_t>(a, stream, total) : launch_typed<T, uint64_t>(a, stream, total);
}

}  // namespace

Status launch_epilogue(const EpilogueArgs& args, cudaStream_t stream) {
  const int64_t total = args.dims[0] * args.dims[1] * args.dims[2] * args.dims[3];
  if (total <= 0) return Status::ok();
  switch (args.dtype) {
    case DataType::kFloat32:
      return launch_for_type<float>(args, stream, total);
    case DataType::kFloat16:
      return launch_for_type<__half>(args, stream, total);
    case DataType::kBFloat16:
      return launch_for_type<__nv_bfloat16>(args, stream, total);
    default:
      return unimplemented(std::string("epilogue on ") + to_string(args.dtype) + " tensors");
  }
}

}  // namespace inferd::cuda
