// Channels-last fast paths of the windowed ops (kernels_nhwc.cu): pooling and LRN, which
// the general launchers of kernels_pool.cu try first; and the own convolution kernels that
// the Conv kernel runs instead of cuDNN where they were timed faster (cuda_conv.cc):
// depthwise (kernels_nhwc.cu) and direct over few input channels (kernels_direct_conv.cu).
#pragma once

#include <cuda_runtime.h>

#include "backends/cuda/cuda_kernels.h"
#include "ir/activation.h"

namespace inferd::cuda {

// cudaErrorNotSupported, without launching, when x or y is not channels-last (channel
// stride 1, rank 4) or the thread count needs 64-bit indices: the caller takes its
// general kernel then.
cudaError_t launch_pool2d_nhwc(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p, bool max,
                               cudaStream_t stream);
cudaError_t launch_lrn_nhwc(const ConstDeviceTensor& x, const DeviceTensor& y, const LrnParams& p, cudaStream_t stream);

// Packed NHWC y of `channels` channels (a multiple of 8, above x's) from a 4-D x of any
// strides: x's channels, then zeros. What a convolution over few channels (an RGB image)
// reads, so that the library's tensor-core kernels take it.
cudaError_t launch_pad_channels_nhwc(const ConstDeviceTensor& x, void* y, int64_t channels, cudaStream_t stream);

// y = act(depthwise_conv(x, filter) + bias + residual), one filter per channel (group =
// channels, one output channel each). filter: [kernel_h][kernel_w][channels], bias:
// [channels] or null, both in y's dtype; residual: null or shaped like y. x, y and the
// residual must be channels-last (cudaErrorInvalidValue otherwise); the residual may be y.
// The geometry the own convolution kernels share.
struct DirectConvParams {
  int kernel[2] = {1, 1};
  int strides[2] = {1, 1};
  int pads[2] = {0, 0};  // top, left (the bottom/right ones follow from the output size)
  int dilations[2] = {1, 1};
  ir::Activation act;
};
struct DepthwiseConvParams : DirectConvParams {
  int channels = 0;
  // 0: one output pixel per thread (any window). 2 or 4: a strip of that many output
  // columns per thread, for 3x3 windows of stride 1 or 2 and dilation 1 on fp16/bf16 data
  // whose channels, pointers and pixel strides allow 16-byte packs; other convolutions run
  // the per-pixel kernel whatever this says (cudaErrorInvalidValue for other values).
  int strip_columns = 0;
};
cudaError_t launch_depthwise_conv_nhwc(const ConstDeviceTensor& x, const void* filter, const void* bias,
                                       const ConstDeviceTensor* residual, const DeviceTensor& y,
                                       const DepthwiseConvParams& p, cudaStream_t stream);

// y = act(conv(x, filter) + bias + residual), group 1, on channels-last x, y and residual
// (cudaErrorInvalidValue otherwise). filter: [kernel_h][kernel_w][C][M] in y's dtype, M
// (output channels) fastest; bias: [M] or null. Meant for few input channels (the work per
// output is C x kernel_h x kernel_w multiply-adds on the CUDA cores).
cudaError_t launch_direct_conv_nhwc(const ConstDeviceTensor& x, const void* filter, const void* bias,
                                    const ConstDeviceTensor* residual, const DeviceTensor& y, const DirectConvParams& p,
                                    cudaStream_t stream);

}  // namespace inferd::cuda
