// Elementwise kernels: standalone activations, Add/Mul/Sum with numpy broadcasting and
// an optional fused activation, and the per-channel affine map of BatchNormalization.
//
// One kernel covers them all: a loop nest (make_loop_nest) over the output's shape in
// the output's memory order, where a broadcast input simply has stride 0. Dense
// operands of one layout collapse to a single dim and take a path without index math;
// a per-channel operand (bias-like [1,C,1,1] against NHWC) collapses to two dims.
// Activations go through ir::apply_activation, the function the CPU kernels use.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"

namespace inferd::cuda {
namespace {

// The loop nest plus the inputs, by value in kernel parameter space. Operand 0 of the
// nest is y, operand k + 1 is input k.
template <int kIn>
struct EltwiseArgs {
  int rank = 1, count = 1;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kIn + 1][kMaxDims] = {};
  const void* x[kIn] = {};
  Combine op = Combine::kAdd;
  ir::Activation act;
};

// Element offsets of linear index i of the loop nest in each of kOps operands.
template <int kOps, typename Index, typename Args>
__device__ __forceinline__ void nest_offsets(const Args& a, Index i, int64_t (&off)[kOps]) {
#pragma unroll
  for (int k = 0; k < kOps; ++k) off[k] = 0;
#pragma unroll
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d >= a.rank) continue;
    const Index dim = Index(a.dims[d]);
    const Index q = i / dim;
    const int64_t c = int64_t(i - q * dim);
    i = q;
#pragma unroll
    for (int k = 0; k < kOps; ++k) off[k] += c * a.strides[k][d];
  }
}

// kContiguous: every operand is dense in the loop's order (offsets equal the index).
// Index is uint32_t when the element count allows: 32-bit division is far cheaper.
template <typename T, int kIn, bool kContiguous, typename Index>
__global__ void eltwise_kernel(const __grid_constant__ EltwiseArgs<kIn> a, T* __restrict__ y, Index total) {
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += Index(gridDim.x) * blockDim.x) {
    int64_t off[kIn + 1];
    if constexpr (kContiguous) {
#pragma unroll
      for (int k = 0; k <= kIn; ++k) off[k] = int64_t(i);
    } else {
      nest_offsets<kIn + 1>(a, i, off);
    }
    float acc = to_float(static_cast<const T*>(a.x[0])[off[1]]);
#pragma unroll
    for (int k = 1; k < kIn; ++k) {
      if (k >= a.count) break;
      const float v = to_float(static_cast<const T*>(a.x[k])[off[k + 1]]);
      acc = a.op == Combine::kAdd ? acc + v : a.op == Combine::kMul ? acc * v : fmaxf(acc, v);
    }
    y[off[0]] = from_float<T>(ir::apply_activation(a.act, acc));
  }
}

// The dense path in packs of V elements (one 16-byte access per operand for fp16 at V = 8):
// one element per thread moved 2-byte fp16 values and ran at about 40 % of the memory's
// bandwidth (a FakeQuantize over ResNet-50's 56x56x256 activations at batch 256 took 0.18
// ms on an H100). The same arithmetic per element as eltwise_kernel.
template <typename T, int kIn, int V>
__global__ void eltwise_packed_kernel(const __grid_constant__ EltwiseArgs<kIn> a, T* __restrict__ y,
                                      uint32_t packs) {
  for (uint32_t p = blockIdx.x * blockDim.x + threadIdx.x; p < packs; p += gridDim.x * blockDim.x) {
    const size_t base = size_t(p) * V;
    float acc[V];
    load_floats<T, V>(static_cast<const T*>(a.x[0]) + base, acc);
#pragma unroll
    for (int k = 1; k < kIn; ++k) {
      if (k >= a.count) break;
      float v[V];
      load_floats<T, V>(static_cast<const T*>(a.x[k]) + base, v);
#pragma unroll
      for (int e = 0; e < V; ++e)
        acc[e] = a.op == Combine::kAdd ? acc[e] + v[e] : a.op == Combine::kMul ? acc[e] * v[e] : fmaxf(acc[e], v[e]);
    }
#pragma unroll
    for (int e = 0; e < V; ++e) acc[e] = ir::apply_activation(a.act, acc[e]);
    store_floats<T, V>(y + base, acc);
  }
}

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

unsigned grid_for(int64_t total) {
  return static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks));
}

// Input strides aligned to y's dims (numpy broadcasting): false when shapes disagree.
bool broadcast_strides(const ConstDeviceTensor& x, const DeviceTensor& y, int64_t* strides) {
  if (x.rank > y.rank) return false;
  const int lead = y.rank - x.rank;
  for (int d = 0; d < y.rank; ++d) {
    const int xd = d - lead;
    if (xd < 0 || x.dims[xd] == 1) {
      strides[d] = 0;
    } else if (x.dims[xd] == y.dims[d]) {
      strides[d] = x.strides[xd];
    } else {
      return false;
    }
  }
  return true;
}

// The widest pack every dense operand's address and the element count allow (1: none).
template <typename T, int kIn>
int dense_pack_width(const EltwiseArgs<kIn>& args, const T* y, int64_t total) {
  const void* pointers[kIn + 1] = {y};
  for (int k = 0; k < args.count; ++k) pointers[k + 1] = args.x[k];
  const int64_t count[1] = {total};
  return pack_width(int(sizeof(T)), pointers, args.count + 1, count, 1);
}

template <typename T, int kIn>
cudaError_t launch_typed(const EltwiseArgs<kIn>& args, bool contiguous, T* y, int64_t total, cudaStream_t stream) {
  const unsigned grid = grid_for(total);
  const int width = contiguous ? dense_pack_width(args, y, total) : 1;
  if (width > 1 && total / width <= int64_t{UINT32_MAX}) {
    with_pack_width(width, [&](auto v) {
      constexpr int V = decltype(v)::value;
      if constexpr (V > 1)
        eltwise_packed_kernel<T, kIn, V><<<grid_for(total / V), kThreads, 0, stream>>>(args, y, uint32_t(total / V));
    });
    return cudaGetLastError();
  }
  if (total > int64_t{UINT32_MAX})
    contiguous ? eltwise_kernel<T, kIn, true, uint64_t><<<grid, kThreads, 0, stream>>>(args, y, uint64_t(total))
               : eltwise_kernel<T, kIn, false, uint64_t><<<grid, kThreads, 0, stream>>>(args, y, uint64_t(total));
  else
    contiguous ? eltwise_kernel<T, kIn, true, uint32_t><<<grid, kThreads, 0, stream>>>(args, y, uint32_t(total))
               : eltwise_kernel<T, kIn, false, uint32_t><<<grid, kThreads, 0, stream>>>(args, y, uint32_t(total));
  return cudaGetLastError();
}

// One pass over at most kIn inputs (count of them).
template <int kIn>
cudaError_t launch_pass(const ConstDeviceTensor* inputs, int count, Combine op, const ir::Activation& act,
                        const DeviceTensor& y, cudaStream_t stream) {
  int64_t aligned[kIn][kMaxDims];
  const int64_t* strides[kIn + 1] = {y.strides};
  for (int k = 0; k < count; ++k) {
    if (inputs[k].dtype != y.dtype || !broadcast_strides(inputs[k], y, aligned[k])) return cudaErrorInvalidValue;
    strides[k + 1] = aligned[k];
  }
  const LoopNest nest = make_loop_nest(y.rank, y.dims, strides, count + 1);
  EltwiseArgs<kIn> args;
  args.rank = nest.rank;
  args.count = count;
  args.op = op;
  args.act = act;
  for (int d = 0; d < nest.rank; ++d) {
    args.dims[d] = nest.dims[d];
    for (int k = 0; k <= count; ++k) args.strides[k][d] = nest.strides[k][d];
  }
  for (int k = 0; k < count; ++k) args.x[k] = inputs[k].data;
  const bool contiguous = nest.contiguous(count + 1);
  const int64_t total = y.size();
  switch (y.dtype) {
    case DataType::kFloat32:
      return launch_typed(args, contiguous, static_cast<float*>(y.data), total, stream);
    case DataType::kFloat16:
      return launch_typed(args, contiguous, static_cast<__half*>(y.data), total, stream);
    case DataType::kBFloat16:
      return launch_typed(args, contiguous, static_cast<__nv_bfloat16*>(y.data), total, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

// BatchNormalization: y = x * scale[c] + shift[c]. Operand 2 of the nest is the channel
// index (stride 1 along the channel dim, 0 elsewhere).
template <typename T, typename Index>
__global__ void channel_affine_kernel(const __grid_constant__ EltwiseArgs<2> a, const float* __restrict__ scale,
                                      const float* __restrict__ shift, T* __restrict__ y, Index total) {
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += Index(gridDim.x) * blockDim.x) {
    int64_t off[3];
    nest_offsets<3>(a, i, off);
    const float v = to_float(static_cast<const T*>(a.x[0])[off[1]]);
    y[off[0]] = from_float<T>(fmaf(v, scale[off[2]], shift[off[2]]));
  }
}

}  // namespace

cudaError_t launch_eltwise(const ConstDeviceTensor* inputs, int count, Combine op, const ir::Activation& act,
                           const DeviceTensor& y, cudaStream_t stream) {
  if (count < 1 || y.rank > kMaxDims) return cudaErrorInvalidValue;
  if (y.size() <= 0) return cudaSuccess;
  if (count == 1) return launch_pass<1>(inputs, 1, op, act, y, stream);
  if (count == 2) return launch_pass<2>(inputs, 2, op, act, y, stream);
  // Wide sums: the first pass writes y from kMaxEltwiseInputs inputs, each further pass
  // folds y and up to kMaxEltwiseInputs - 1 more inputs back into y; only the last
  // pass applies the activation.
  const ir::Activation none;
  int done = std::min(count, kMaxEltwiseInputs);
  cudaError_t err = launch_pass<kMaxEltwiseInputs>(inputs, done, op, done == count ? act : none, y, stream);
  ConstDeviceTensor batch[kMaxEltwiseInputs];
  while (err == cudaSuccess && done < count) {
    const int take = std::min(count - done, kMaxEltwiseInputs - 1);
    batch[0] = {y.data, y.dtype, y.rank, {}, {}};
    std::copy(y.dims, y.dims + kMaxDims, batch[0].dims);
    std::copy(y.strides, y.strides + kMaxDims, batch[0].strides);
    std::copy(inputs + done, inputs + done + take, batch + 1);
    done += take;
    err = launch_pass<kMaxEltwiseInputs>(batch, take + 1, op, done == count ? act : none, y, stream);
  }
  return err;
}

cudaError_t launch_channel_affine(const ConstDeviceTensor& x, const DeviceTensor& y, int channel_dim,
                                  const float* scale, const float* shift, cudaStream_t stream) {
  if (x.rank != y.rank || x.dtype != y.dtype || channel_dim < 0 || channel_dim >= y.rank) return cudaErrorInvalidValue;
  for (int d = 0; d < y.rank; ++d)
    if (x.dims[d] != y.dims[d]) return cudaErrorInvalidValue;
  const int64_t total = y.size();
  if (total <= 0) return cudaSuccess;
  int64_t channel_strides[kMaxDims] = {};
  channel_strides[channel_dim] = 1;
  const int64_t* strides[3] = {y.strides, x.strides, channel_strides};
  const LoopNest nest = make_loop_nest(y.rank, y.dims, strides, 3);
  EltwiseArgs<2> args;
  args.rank = nest.rank;
  for (int d = 0; d < nest.rank; ++d) {
    args.dims[d] = nest.dims[d];
    for (int k = 0; k < 3; ++k) args.strides[k][d] = nest.strides[k][d];
  }
  args.x[0] = x.data;
  const unsigned grid = grid_for(total);
  const bool small = total <= int64_t{UINT32_MAX};
  auto launch = [&](auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    if (small)
      channel_affine_kernel<T, uint32_t><<<grid, kThreads, 0, stream>>>(args, scale, shift, out, uint32_t(total));
    else
      channel_affine_kernel<T, uint64_t><<<grid, kThreads, 0, stream>>>(args, scale, shift, out, uint64_t(total));
    return cudaGetLastError();
  };
  switch (y.dtype) {
    case DataType::kFloat32:
      return launch(static_cast<float*>(y.data));
    case DataType::kFloat16:
      return launch(static_cast<__half*>(y.data));
    case DataType::kBFloat16:
      return launch(static_cast<__nv_bfloat16*>(y.data));
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace inferd::cuda
