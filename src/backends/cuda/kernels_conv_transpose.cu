// ONNX ConvTranspose (semantics: reference_conv.cc's conv_transpose) as a direct gather:
// one thread per output element sums, over the kernel taps whose source input position
// is integral and inside the input, the input channels of the output's group times the
// weight. Input pixel ih lands on output row ih * stride - pad_top + kh * dilation, so
// output row oh takes tap kh from ih = (oh + pad_top - kh * dilation) / stride when that
// divides exactly (likewise for columns).
//
// Not tuned: transposed convolutions are rare in the classifiers inferd serves (FCN- and
// GAN-style upsampling heads). Threads are ordered by y's memory order (outermost stride
// first), so writes are coalesced in NCHW and NHWC alike; x and the fp32 weights are read
// through the caches.
#include <algorithm>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"

namespace inferd::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

struct ConvTransposeArgs {
  // y's dims in its memory order (outermost first) and which logical dim (N, C, H, W) each is.
  int64_t order_dims[4];
  int order_axis[4];
  int64_t xs[4], ys[4];  // strides in elements, logical order
  int in_h, in_w, out_per_group, in_per_group;
  ConvTransposeParams p;
};

// The input index along one spatial dim that feeds output `o` through tap `k`, or -1.
__device__ __forceinline__ int source_index(int o, int k, int pad, int stride, int dilation, int in) {
  const int scaled = o + pad - k * dilation;
  if (scaled < 0 || scaled % stride != 0) return -1;
  const int i = scaled / stride;
  return i < in ? i : -1;
}

template <typename T>
__global__ void conv_transpose_kernel(const T* __restrict__ x, const float* __restrict__ w,
                                      const float* __restrict__ bias, T* __restrict__ y,
                                      const __grid_constant__ ConvTransposeArgs a, int64_t total) {
  const ConvTransposeParams& p = a.p;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t idx[4];
    int64_t rest = i;
    for (int d = 3; d >= 0; --d) {
      idx[a.order_axis[d]] = rest % a.order_dims[d];
      rest /= a.order_dims[d];
    }
    const int64_t n = idx[0];
    const int m = int(idx[1]), oh = int(idx[2]), ow = int(idx[3]);
    const int group = m / a.out_per_group, mm = m % a.out_per_group;
    const int c0 = group * a.in_per_group;
    float acc = bias ? bias[m] : 0.0f;
    for (int kh = 0; kh < p.kernel[0]; ++kh) {
      const int ih = source_index(oh, kh, p.pads[0], p.strides[0], p.dilations[0], a.in_h);
      if (ih < 0) continue;
      for (int kw = 0; kw < p.kernel[1]; ++kw) {
        const int iw = source_index(ow, kw, p.pads[1], p.strides[1], p.dilations[1], a.in_w);
        if (iw < 0) continue;
        const T* pixel = x + n * a.xs[0] + ih * a.xs[2] + iw * a.xs[3];
        // w[ci][mm][kh][kw], dense [Cin, Cout/group, kH, kW].
        const float* tap = w + (int64_t(c0) * a.out_per_group + mm) * p.kernel[0] * p.kernel[1] +
                           kh * p.kernel[1] + kw;
        const int64_t w_channel_step = int64_t(a.out_per_group) * p.kernel[0] * p.kernel[1];
        for (int c = 0; c < a.in_per_group; ++c)
          acc = fmaf(to_float(pixel[int64_t(c0 + c) * a.xs[1]]), tap[c * w_channel_step], acc);
      }
    }
    y[n * a.ys[0] + m * a.ys[1] + oh * a.ys[2] + ow * a.ys[3]] = from_float<T>(ir::apply_activation(p.act, acc));
  }
}

bool fits_int(int64_t v) { return v >= 0 && v <= (int64_t{1} << 30); }

}  // namespace

cudaError_t launch_conv_transpose2d(const ConstDeviceTensor& x, const float* weights, const float* bias,
                                    const DeviceTensor& y, const ConvTransposeParams& p, cudaStream_t stream) {
  if (x.rank != 4 || y.rank != 4 || x.dtype != y.dtype || x.dims[0] != y.dims[0] || p.group < 1 ||
      x.dims[1] % p.group != 0 || y.dims[1] % p.group != 0 || weights == nullptr)
    return cudaErrorInvalidValue;
  for (int d = 1; d < 4; ++d)
    if (!fits_int(x.dims[d]) || !fits_int(y.dims[d])) return cudaErrorInvalidValue;
  const int64_t total = y.size();
  if (total <= 0) return cudaSuccess;
  ConvTransposeArgs a{};
  // Dims by descending stride: consecutive threads write consecutive addresses.
  int order[4] = {0, 1, 2, 3};
  std::stable_sort(order, order + 4, [&](int l, int r) { return y.strides[l] > y.strides[r]; });
  for (int d = 0; d < 4; ++d) {
    a.order_axis[d] = order[d];
    a.order_dims[d] = y.dims[order[d]];
    a.xs[d] = x.strides[d];
    a.ys[d] = y.strides[d];
  }
  a.in_h = int(x.dims[2]);
  a.in_w = int(x.dims[3]);
  a.in_per_group = int(x.dims[1] / p.group);
  a.out_per_group = int(y.dims[1] / p.group);
  a.p = p;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks));
  const bool known = with_float_type(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    conv_transpose_kernel<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(x.data), weights, bias,
                                                              static_cast<T*>(y.data), a, total);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace inferd::cuda
