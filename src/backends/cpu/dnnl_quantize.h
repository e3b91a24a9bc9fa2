// The INT8 input of a quantized layer (attrs input_scale / input_qmin / input_qmax, set by
// the quantized_layer_folding pass): the fp32 activation rounded onto its grid into a compact
// u8/s8 copy that oneDNN's integer primitives read. Shared by the INT8 convolution and
// inner product (dnnl_conv.cc, dnnl_gemm_int8.cc).
//
// Internal to the CPU backend.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "backends/cpu/dnnl_common.h"
#include "ir/graph.h"

namespace inferd::cpu {

// q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax): the formula of the
// reference kernels and of FakeQuantize, so the INT8 kernels compute what the simulated graph
// computes. A zero point other than 0 (an asymmetric grid: ONNX Runtime's uint8 activations
// that can be negative) only where int8_input_supported says so.
struct InputQuantization {
  float scale = 1, qmin = -128, qmax = 127, zero_point = 0;
  bool is_unsigned() const { return qmin >= 0; }
  dnnl::memory::data_type data_type() const {
    return is_unsigned() ? dnnl::memory::data_type::u8 : dnnl::memory::data_type::s8;
  }
};

// The node's INT8 input attributes, checked: a scale > 0, the int8 or uint8 range and a zero
// point inside it. `context` names the node in the error.
Result<InputQuantization> input_quantization(const ir::Attributes& attrs, const std::string& context);

// Whether the INT8 kernels take `node`'s INT8 input grid: with a zero point other than 0 only
// a Conv without padding, whose bias then carries the zero point's share of each output (one
// number per output channel: zero_point x the sum of the channel's weight levels); a padded
// tap reads level 0 there, which is not the value 0 on that grid.
bool int8_input_supported(const ir::Node& node);

// x (fp32, rank 1-4, any strides) quantized into `dst`: compact, with x's dimension order
// (dims sorted by stride), so that a channel slice or an NHWC tensor is read in memory order.
void quantize_input(const ConstTensorView& x, void* dst, const InputQuantization& q);

// A compact u8/s8 descriptor of x's dims in x's dimension order: what quantize_input writes.
dnnl::memory::desc quantized_desc_of(const ConstTensorView& x, dnnl::memory::data_type type);

// Adds the step that quantizes input 0 into `dst` (a scratch of quantized_desc_of(input 0)).
void add_input_quantization(Pipeline& pl, const dnnl::memory& dst, const InputQuantization& q);

// A convolution's output rounded onto the grid of the node's output_scale /
// output_zero_point / output_qmin / output_qmax (output_quantization_fusion), as post-ops
// after the activation's: x divided by scale, round half to even, clip to
// [qmin - zero_point, qmax - zero_point], times scale.
// oneDNN 2.6's post-op injector keeps one eltwise injector per algorithm, so a second
// eltwise step of an algorithm the activation already uses (linear, clip) would run with
// the first one's parameters: the division and the multiplication are binary post-ops over
// a scalar, the clip is clip_v2, which no activation uses.
class OutputRounding {
 public:
  // nullopt without the attributes; an error for a grid that is no grid.
  static Result<std::optional<OutputRounding>> of(const ir::Attributes& attrs, const std::string& context);

  // The rounding for a u8/s8 destination (int8_storage): the level itself, without the
  // final multiplication by the scale (oneDNN's conversion to the integer type is exact
  // on an integral value inside the clip).
  OutputRounding to_levels() const;

  // Appends the post-ops (four; three to levels); `ops` holds what comes before them (sum,
  // activation).
  void append_to(dnnl::post_ops& ops) const;
  // The scalars the binary post-ops read, as execution arguments; `first_index` is the
  // length `ops` had before append_to().
  void bind(Pipeline& pl, int first_index, std::vector<std::pair<int, dnnl::memory>>& args) const;

 private:
  std::shared_ptr<const std::array<float, 2>> factors_;  // the divisor and the factor: scale, scale
  float lo_ = 0, hi_ = 0;
  bool levels_ = false;
};

// A layer's weights on their int8 grid, as oneDNN's integer primitives take them.
struct Int8LayerWeights {
  std::vector<int8_t> levels;        // [outputs, per_output], in -127..127
  std::vector<float> output_scales;  // per output: the int32 sums back to the layer's units
  std::vector<float> bias;           // per output, divided by its output scale (oneDNN 2.6
                                     // applies output scales after the bias); zeros without one
};

// `w` is [outputs, per_output] fp32 on the per-output grid `weight_scales` (empty: max|w| /
// 127 per output, exact for the weights the quantized_layer_folding pass folds); `sum_scale`
// is what the sums carry besides the weight scale (the input scale; Gemm: alpha x it);
// `bias` has `outputs` values or is null.
Int8LayerWeights int8_layer_weights(const float* w, int64_t outputs, int64_t per_output,
                                    const std::vector<float>& weight_scales, float sum_scale, const float* bias);

// The s8 weights a primitive wants: the packing made for batch 1 when it fits, else a copy
// re-packed from the plain s8 weights (a packed s8 format carries its compensation, so it is
// never re-packed from another packing).
dnnl::memory int8_weights_as(Pipeline& pl, const PackedTensor& packed, const PackedTensor& plain,
                             const dnnl::memory::desc& want);

}  // namespace inferd::cpu
