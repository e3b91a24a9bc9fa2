// The own convolution kernels as the Conv family runs and times them (kernels_nhwc.h):
// one entry point from a ConvSpec, so that the kernel and the tuner launch them alike.
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/kernels_int8_conv.h"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {

bool own_kernel_applies(const ConvSpec& s, ConvChoiceKind kind) {
  return (kind == ConvChoiceKind::kDepthwise && s.depthwise) || (kind == ConvChoiceKind::kDirect && s.direct);
}

namespace {

DepthwiseConvParams own_params(const ConvSpec& s, uint8_t variant, ConvChoiceKind kind) {
  DepthwiseConvParams p;
  p.kernel[0] = s.kernel_h;
  p.kernel[1] = s.kernel_w;
  p.strides[0] = s.stride_h;
  p.strides[1] = s.stride_w;
  p.pads[0] = s.pad_h;
  p.pads[1] = s.pad_w;
  p.dilations[0] = s.dilation_h;
  p.dilations[1] = s.dilation_w;
  p.act = s.act;
  p.channels = s.out_channels;
  if (kind == ConvChoiceKind::kDepthwise) p.strip_columns = variant == 0 ? 0 : 2 * variant;  // 1: 2 columns, 2: 4
  return p;
}

}  // namespace

uint8_t max_own_variant(ConvChoiceKind kind) {
  if (kind == ConvChoiceKind::kInt8Gemm) return kInt8ConvVariants - 1;
  return kind == ConvChoiceKind::kDepthwise ? 2 : 0;
}

std::string own_kernel_name(ConvChoiceKind kind, uint8_t variant) {
  if (kind == ConvChoiceKind::kInt8Gemm) return variant == 0 ? "cuda:int8_gemm_128x64" : "cuda:int8_gemm_128x128";
  if (kind == ConvChoiceKind::kDepthwise)
    return variant == 0 ? "cuda:depthwise_conv" : "cuda:depthwise_conv_strip" + std::to_string(2 * variant);
  return "cuda:direct_conv";
}

std::vector<uint8_t> own_kernel_variants(const ConvSpec& s, ConvChoiceKind kind) {
  // The strips need 16-byte packs of 8 channels; the launch falls back to
  // the general kernel where the views do not allow them, so this only skips timing what
  // cannot run.
  const bool half = element_size(s.dtype) == 2;
  if (kind == ConvChoiceKind::kDepthwise && half && s.kernel_h == 3 && s.kernel_w == 3 && s.dilation_h == 1 &&
      s.dilation_w == 1 && s.stride_h == s.stride_w && (s.stride_h == 1 || s.stride_h == 2) && s.out_channels % 8 == 0)
    return {0, 1, 2};
  return {0};
}

Status launch_own_conv(ConvChoiceKind kind, uint8_t variant, const ConvSpec& s, const void* filter, const void* bias,
                       const ConstDeviceTensor& x, const ConstDeviceTensor* residual, const DeviceTensor& y,
                       cudaStream_t stream) {
  if (!own_kernel_applies(s, kind)) return internal_error("no own kernel of this kind runs this convolution");
  if (variant > max_own_variant(kind)) return internal_error("unknown own-kernel variant " + std::to_string(variant));
  const DepthwiseConvParams p = own_params(s, variant, kind);
  if (kind == ConvChoiceKind::kDepthwise) {
    CUDA_RETURN_IF_ERROR(launch_depthwise_conv_nhwc(x, filter, bias, residual, y, p, stream));
  } else {
    CUDA_RETURN_IF_ERROR(launch_direct_conv_nhwc(x, filter, bias, residual, y, p, stream));
  }
  return Status::ok();
}

}  // namespace inferd::cuda
