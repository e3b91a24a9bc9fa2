// The input quantization of an INT8 convolution on the GPU (kernels_quantize.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backends/cuda/cuda_kernels.h"

namespace inferd::cuda {

struct InputQuantizeParams {
  float scale = 1.0f;              // the grid's step (input_scale)
  float qmin = -128, qmax = 127;   // the grid (0..255 for an unsigned one)
  int offset = 0;                  // subtracted from each level: 128 stores 0..255 as int8
  int pad_h = 0, pad_w = 0;        // written out around the image as the level of 0 (-offset)
};

// y[n][h][w][c] (packed NHWC, int8, (H + 2 pad_h) x (W + 2 pad_w)) = the level of x's element
// minus p.offset, x any float dtype or int8 / uint8 levels already (int8_storage's: only the
// offset and the padding applied), any strides, rank 4 (NCHW dims); cudaErrorInvalidValue
// for another rank, a non-positive scale, negative pads or 2^32 elements and more.
cudaError_t launch_quantize_pad_nhwc(const ConstDeviceTensor& x, const InputQuantizeParams& p, int8_t* y,
                                     cudaStream_t stream);

}  // namespace inferd::cuda
