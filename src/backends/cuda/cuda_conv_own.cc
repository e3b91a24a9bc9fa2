// The own convolution kernels as the Conv family runs and times them (kernels_nhwc.h):
// one entry point from a ConvSpec, so that the kernel and the tuner launch them alike.
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {

bool own_kernel_applies(const ConvSpec& s, ConvChoiceKind kind) {
  return (kind == ConvChoiceKind::kDepthwise && s.depthwise) || (kind == ConvChoiceKind::kDirect && s.direct);
}

Status launch_own_conv(ConvChoiceKind kind, const ConvSpec& s, const void* filter, const void* bias,
                       const ConstDeviceTensor& x, const ConstDeviceTensor* residual, const DeviceTensor& y,
                       cudaStream_t stream) {
  if (!own_kernel_applies(s, kind)) return internal_error("no own kernel of this kind runs this convolution");
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
  if (kind == ConvChoiceKind::kDepthwise) {
    CUDA_RETURN_IF_ERROR(launch_depthwise_conv_nhwc(x, filter, bias, residual, y, p, stream));
  } else {
    CUDA_RETURN_IF_ERROR(launch_direct_conv_nhwc(x, filter, bias, residual, y, p, stream));
  }
  return Status::ok();
}

}  // namespace inferd::cuda
