// The INT8 input of a quantized layer (attrs input_scale / input_qmin / input_qmax, set by
// the quantized_layer_folding pass): the fp32 activation rounded onto its grid into a compact
// u8/s8 copy that oneDNN's integer primitives read. Shared by the INT8 convolution and
// inner product (dnnl_conv.cc, dnnl_gemm_int8.cc).
//
// Internal to the CPU backend.
#pragma once

#include <cstdint>

#include "backends/cpu/dnnl_common.h"
#include "ir/graph.h"

namespace inferd::cpu {

// q = clamp(round_half_even(x / scale), qmin, qmax): the formula of the reference kernels
// and of FakeQuantize, so the INT8 kernels compute what the simulated graph computes.
struct InputQuantization {
  float scale = 1, qmin = -128, qmax = 127;
  bool is_unsigned() const { return qmin >= 0; }
  dnnl::memory::data_type data_type() const {
    return is_unsigned() ? dnnl::memory::data_type::u8 : dnnl::memory::data_type::s8;
  }
};

// The node's INT8 input attributes, checked: a scale > 0 and the int8 or uint8 range.
// `context` names the node in the error.
Result<InputQuantization> input_quantization(const ir::Attributes& attrs, const std::string& context);

// x (fp32, rank 1-4, any strides) quantized into `dst`: compact, with x's dimension order
// (dims sorted by stride), so that a channel slice or an NHWC tensor is read in memory order.
void quantize_input(const ConstTensorView& x, void* dst, const InputQuantization& q);

// A compact u8/s8 descriptor of x's dims in x's dimension order: what quantize_input writes.
dnnl::memory::desc quantized_desc_of(const ConstTensorView& x, dnnl::memory::data_type type);

// Adds the step that quantizes input 0 into `dst` (a scratch of quantized_desc_of(input 0)).
void add_input_quantization(Pipeline& pl, const dnnl::memory& dst, const InputQuantization& q);

}  // namespace inferd::cpu
