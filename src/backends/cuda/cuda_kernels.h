// The CUDA backend's own kernels (kernels_*.cu), as host launch functions that the
// PackedOps of cuda_pointwise_ops.cc, cuda_pool_ops.cc and cuda_data_ops.cc call.
//
// Every launcher enqueues on `stream` and returns cudaGetLastError() after its launches
// (cudaErrorInvalidValue, without launching, for arguments it cannot handle). Launchers
// never allocate and never synchronize, so that they can be captured into CUDA graphs.
// Tensors are passed as DeviceTensor: a device pointer, an element type, and up to
// kMaxDims logical dims (NCHW order for 4-D) with physical strides in elements, so NHWC
// tensors and channel slices of a larger buffer are ordinary arguments. Arithmetic is
// fp32 in registers whatever the storage type (fp32, fp16, bf16).
//
// Semantics are those of the reference kernels (src/backends/reference/*.cc).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "core/tensor.h"
#include "ir/activation.h"

namespace inferd::cuda {

inline constexpr int kMaxDims = 6;

// A strided tensor as a kernel argument (trivially copyable, so it goes into kernel
// parameter space as it is). Ptr is void* for tensors written, const void* for tensors read.
template <typename Ptr>
struct BasicDeviceTensor {
  Ptr data = nullptr;
  DataType dtype = DataType::kFloat32;
  int rank = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  int64_t size() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= dims[d];
    return n;
  }
};
using DeviceTensor = BasicDeviceTensor<void*>;
using ConstDeviceTensor = BasicDeviceTensor<const void*>;

// The DeviceTensor of a TensorView / ConstTensorView (any type with data, dtype, shape and
// strides); false when its rank exceeds kMaxDims or shape and strides disagree.
template <typename View, typename Ptr>
bool to_device_tensor(const View& v, BasicDeviceTensor<Ptr>* out) {
  if (v.shape.size() > size_t{kMaxDims} || v.strides.size() != v.shape.size()) return false;
  out->data = v.data;
  out->dtype = v.dtype;
  out->rank = static_cast<int>(v.shape.size());
  for (int d = 0; d < out->rank; ++d) {
    out->dims[d] = v.shape[static_cast<size_t>(d)];
    out->strides[d] = v.strides[static_cast<size_t>(d)];
  }
  return true;
}

// Whether `dtype` is one of the activation types the arithmetic kernels take.
inline bool is_float_activation(DataType dtype) {
  return dtype == DataType::kFloat32 || dtype == DataType::kFloat16 || dtype == DataType::kBFloat16;
}

// ---- loop nests (host helpers shared by the launchers, kernels_data.cu) ---------------
// An elementwise loop over one logical shape that several operands index with their own
// strides. Operand 0 is the one written: dims are ordered by its strides (outermost
// first), so consecutive threads write consecutive addresses; dims of size 1 are dropped
// and neighbours contiguous in every operand are merged (a dense copy becomes one dim).
inline constexpr int kMaxOperands = 9;  // an output and up to 8 inputs
struct LoopNest {
  int rank = 1;  // >= 1; a scalar is one dim of size 1
  int64_t dims[kMaxDims] = {1};
  int64_t strides[kMaxOperands][kMaxDims] = {};
  int64_t size() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= dims[d];
    return n;
  }
  // Whether every operand walks memory contiguously in the loop's order.
  bool contiguous(int operands) const;
};
// `strides[k]` points at operand k's `rank` strides (0 for a broadcast dim).
LoopNest make_loop_nest(int rank, const int64_t* dims, const int64_t* const* strides, int operands);

// ---- pointwise (kernels_pointwise.cu) -------------------------------------------------
enum class Combine : uint8_t { kAdd, kMul, kMax };
inline constexpr int kMaxEltwiseInputs = 8;

// y = act(x0 op x1 op ... op xn-1), for 1 <= count. Inputs broadcast against y's shape
// as numpy does (aligned to the right; a dim of 1 repeats). All tensors share y's dtype
// (fp32/fp16/bf16). With one input this is the standalone activation. More than
// kMaxEltwiseInputs inputs are combined in several passes through y (in y's precision).
// y may be one of the inputs (same strides): every element is read before it is written.
cudaError_t launch_eltwise(const ConstDeviceTensor* inputs, int count, Combine op, const ir::Activation& act,
                           const DeviceTensor& y, cudaStream_t stream);

// y = x * scale[c] + shift[c] along dim `channel_dim`, scale and shift fp32 device arrays
// of y.dims[channel_dim] entries (inference BatchNormalization, folded at pack time).
cudaError_t launch_channel_affine(const ConstDeviceTensor& x, const DeviceTensor& y, int channel_dim,
                                  const float* scale, const float* shift, cudaStream_t stream);

// ---- pooling, normalisation, softmax (kernels_pool.cu) --------------------------------
// 2-D max / average pooling of 4-D [N,C,H,W] tensors. pads: top, left, bottom, right; the
// output shape already reflects ceil_mode. Average: the divisor counts the taps inside the
// padded input with count_include_pad, else the taps inside the input (reference_pool.cc).
struct Pool2dParams {
  int kernel[2] = {1, 1};
  int strides[2] = {1, 1};
  int pads[4] = {0, 0, 0, 0};
  int dilations[2] = {1, 1};
  bool count_include_pad = false;
};
cudaError_t launch_max_pool2d(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p,
                              cudaStream_t stream);
cudaError_t launch_avg_pool2d(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p,
                              cudaStream_t stream);
// The mean over H and W of a 4-D x; y is [N,C,1,1].
// One block of one thread that does nothing (Device::enqueue_empty_kernel).
cudaError_t launch_empty_kernel(cudaStream_t stream);

cudaError_t launch_global_avg_pool(const ConstDeviceTensor& x, const DeviceTensor& y, cudaStream_t stream);

// ONNX LRN across dim 1: y = x / (bias + alpha / size * sum of x^2 over channels
// [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta. within_channel (Caffe's
// WITHIN_CHANNEL, 4-D x, odd size): the sum runs over the size x size spatial window
// centred on the pixel (zero padded) and alpha is divided by size^2.
struct LrnParams {
  int size = 1;
  float alpha = 1e-4f, beta = 0.75f, bias = 1.0f;
  bool within_channel = false;
};
cudaError_t launch_lrn(const ConstDeviceTensor& x, const DeviceTensor& y, const LrnParams& p, cudaStream_t stream);

// Softmax over dim `axis` (normalised, >= 0), or with legacy_2d over all dims >= axis as
// one row. The row maximum is subtracted before exp().
cudaError_t launch_softmax(const ConstDeviceTensor& x, const DeviceTensor& y, int axis, bool legacy_2d,
                           cudaStream_t stream);

// ---- transposed convolution (kernels_conv_transpose.cu) --------------------------------
// ONNX ConvTranspose of 4-D [N,Cin,H,W] x into [N,Cout,OH,OW] y (any strides, same float
// dtype): y = act(sum over the taps that reach each output + bias). `weights` are fp32 on
// the device, dense [Cin, Cout/group, kH, kW]; `bias` fp32 [Cout] or null. pads: top, left,
// bottom, right (output_padding is already in y's shape).
struct ConvTransposeParams {
  int kernel[2] = {1, 1};
  int strides[2] = {1, 1};
  int pads[4] = {0, 0, 0, 0};
  int dilations[2] = {1, 1};
  int group = 1;
  ir::Activation act;
};
cudaError_t launch_conv_transpose2d(const ConstDeviceTensor& x, const float* weights, const float* bias,
                                    const DeviceTensor& y, const ConvTransposeParams& p, cudaStream_t stream);

// ---- data movement (kernels_data.cu) ----------------------------------------------------
// y[i] = x[i] for every logical index of their common shape, converting between fp32,
// fp16 and bf16; equal dtypes of any element size 1, 2, 4 or 8 are copied bit for bit.
// Dense copies of equal dtypes become one cudaMemcpyAsync.
cudaError_t launch_copy(const ConstDeviceTensor& x, const DeviceTensor& y, cudaStream_t stream);
// The first `count` elements of dense x to dense y in row-major order (Reshape, Flatten,
// ...: shapes differ but both are contiguous), converting dtypes as launch_copy does.
cudaError_t launch_flat_copy(const void* x, DataType x_dtype, void* y, DataType y_dtype, int64_t count,
                             cudaStream_t stream);

// ---- image preprocessing (kernels_preprocess.cu) ---------------------------------------
// Decoded 8-bit interleaved RGB (src_height x src_width x 3 as stored, rows `src_row_bytes`
// apart, on the device) -> sample `batch_index` of a 4-D [N,3,H,W] network input y (any
// strides, fp32/fp16/bf16). `orientation` is the EXIF orientation (1..8, as
// image::apply_exif_orientation): the kernel reads the stored pixels through it, so the
// image it resizes is the oriented one (5..8 swap its sides) without a rotated copy; the
// resize plan below is in the oriented image's coordinates. The image is (virtually)
// resized to resized_width x resized_height and
// the y.dims[3] x y.dims[2] window at (crop_x, crop_y) of that is kept (image::ResizeCrop
// gives these); output channel c is source channel source_channel[c], mapped
// v -> v * gain[c] + bias[c] (gain = scale / std, bias = -mean / std). The resampling is
// Pillow's antialiased bilinear, 8-bit for 8-bit identical to image::resample_to_planes.
struct PreprocessParams {
  int src_width = 0, src_height = 0, src_row_bytes = 0;
  int orientation = 1;
  int resized_width = 0, resized_height = 0;
  int crop_x = 0, crop_y = 0;
  int source_channel[3] = {0, 1, 2};
  float gain[3] = {1, 1, 1};
  float bias[3] = {0, 0, 0};
  int batch_index = 0;
};
cudaError_t launch_preprocess(const uint8_t* rgb, const PreprocessParams& p, const DeviceTensor& y,
                              cudaStream_t stream);

// ---- pack-time helpers (not launchers: these allocate and synchronize) ----------------
// Copies `count` host floats into new device memory (*device, release with cudaFree) as
// `dtype` (fp32, fp16 or bf16, rounded to nearest even).
cudaError_t upload_floats(const float* host, int64_t count, DataType dtype, void** device);

// Device memory a PackedOp owns (its constants), freed with it.
struct DeviceFree {
  void operator()(void* p) const { cudaFree(p); }
};
using DeviceMemory = std::unique_ptr<void, DeviceFree>;

}  // namespace inferd::cuda
