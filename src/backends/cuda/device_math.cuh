// Device helpers every kernels_*.cu file shares: conversion between the storage types
// (fp32, fp16, bf16) and the fp32 the arithmetic runs in, the storage type of a dtype, and
// packs of V neighbouring elements moved as one 4-, 8- or 16-byte access.
//
// Why packs: the activations are NHWC, so the V channels of one pixel are contiguous. A
// thread that loads 8 fp16 channels in one 16-byte access issues an eighth of the memory
// instructions of one that loads them one by one; the windowed kernels (pooling, LRN,
// depthwise convolution) were bound by exactly that instruction count (GoogLeNet's max
// pools at 43 % of its batch-256 time on the H200, 2026-12-03).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "core/tensor.h"

namespace inferd::cuda {

__device__ __forceinline__ float to_float(float v) {
  return v;
}
__device__ __forceinline__ float to_float(__half v) {
  return __half2float(v);
}
__device__ __forceinline__ float to_float(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// V elements of T loaded or stored as one access (the address must be sizeof(Pack)-aligned).
template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <typename T, int V>
__device__ __forceinline__ void load_floats(const T* p, float (&out)[V]) {
  const Pack<T, V> pack = *reinterpret_cast<const Pack<T, V>*>(p);
#pragma unroll
  for (int i = 0; i < V; ++i) out[i] = to_float(pack.v[i]);
}

template <typename T, int V>
__device__ __forceinline__ void store_floats(T* p, const float (&in)[V]) {
  Pack<T, V> pack;
#pragma unroll
  for (int i = 0; i < V; ++i) pack.v[i] = from_float<T>(in[i]);
  *reinterpret_cast<Pack<T, V>*>(p) = pack;
}

// Calls fn(T{}) with T the storage type of a float activation dtype; false for others.
template <typename Fn>
bool with_float_type(DataType dtype, Fn&& fn) {
  switch (dtype) {
    case DataType::kFloat32:
      fn(float{});
      return true;
    case DataType::kFloat16:
      fn(__half{});
      return true;
    case DataType::kBFloat16:
      fn(__nv_bfloat16{});
      return true;
    default:
      return false;
  }
}

// The widest pack (elements, at most 16 bytes) that every offset in `offsets` (elements)
// and the pointers' byte addresses allow for elements of `element_bytes`.
inline int pack_width(int element_bytes, const void* const* pointers, int pointer_count, const int64_t* offsets,
                      int offset_count) {
  int width = 16 / element_bytes;
  while (width > 1) {
    const int64_t bytes = int64_t{width} * element_bytes;
    bool ok = true;
    for (int i = 0; ok && i < pointer_count; ++i) ok = reinterpret_cast<uintptr_t>(pointers[i]) % bytes == 0;
    for (int i = 0; ok && i < offset_count; ++i) ok = offsets[i] % width == 0;
    if (ok) break;
    width /= 2;
  }
  return width;
}

// Calls fn(std::integral_constant<int, V>{}) for V in 8, 4, 2, 1 equal to `width`.
template <typename Fn>
void with_pack_width(int width, Fn&& fn) {
  switch (width) {
    case 8:
      fn(std::integral_constant<int, 8>{});
      break;
    case 4:
      fn(std::integral_constant<int, 4>{});
      break;
    case 2:
      fn(std::integral_constant<int, 2>{});
      break;
    default:
      fn(std::integral_constant<int, 1>{});
      break;
  }
}

}  // namespace inferd::cuda
