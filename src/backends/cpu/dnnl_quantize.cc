#include "backends/cpu/dnnl_quantize.h"

#include <algorithm>
#include <limits>

#include "core/quantize.h"

namespace inferd::cpu {
namespace {

template <typename Q>
void quantize_as(const ConstTensorView& x, Q* dst, const InputQuantization& q) {
  // x padded to rank 4 with leading dims of size 1 (outermost: the largest strides).
  const size_t pad = 4 - x.shape.size();
  int64_t shape[4], strides[4];
  for (size_t d = 0; d < 4; ++d) {
    shape[d] = d < pad ? 1 : x.shape[d - pad];
    strides[d] = d < pad ? std::numeric_limits<int64_t>::max() : x.strides[d - pad];
  }
  int order[4] = {0, 1, 2, 3};
  std::stable_sort(order, order + 4, [&](int a, int b) { return strides[a] > strides[b]; });
  int64_t dense[4];
  for (int k = 3, step = 1; k >= 0; --k) dense[order[k]] = step, step *= static_cast<int>(shape[order[k]]);
  const float* src = x.f32();
  const int64_t n0 = shape[order[0]], n1 = shape[order[1]], n2 = shape[order[2]], n3 = shape[order[3]];
  const int64_t s0 = strides[order[0]], s1 = strides[order[1]], s2 = strides[order[2]], s3 = strides[order[3]];
  const int64_t d0 = dense[order[0]], d1 = dense[order[1]], d2 = dense[order[2]];
  const float lo = q.qmin - q.zero_point, hi = q.qmax - q.zero_point;
  const auto quantize = [&](float v) { return static_cast<Q>(quantized_level(v, q.scale, lo, hi) + q.zero_point); };
  for (int64_t i0 = 0; i0 < n0; ++i0)
    for (int64_t i1 = 0; i1 < n1; ++i1)
      for (int64_t i2 = 0; i2 < n2; ++i2) {
        const float* row = src + i0 * s0 + i1 * s1 + i2 * s2;  // a padded dim's index is always 0
        Q* out = dst + i0 * d0 + i1 * d1 + i2 * d2;
        if (s3 == 1) {  // the common case, a loop the compiler vectorizes
          for (int64_t i3 = 0; i3 < n3; ++i3) out[i3] = quantize(row[i3]);
        } else {
          for (int64_t i3 = 0; i3 < n3; ++i3) out[i3] = quantize(row[i3 * s3]);
        }
      }
}

}  // namespace

Result<InputQuantization> input_quantization(const ir::Attributes& attrs, const std::string& context) {
  const InputQuantization q{attrs.get_float("input_scale", 0), static_cast<float>(attrs.get_int("input_qmin", -128)),
                            static_cast<float>(attrs.get_int("input_qmax", 127)),
                            static_cast<float>(attrs.get_int("input_zero_point", 0))};
  const bool int8_range = q.qmin == -128 && q.qmax == 127, uint8_range = q.qmin == 0 && q.qmax == 255;
  if (!(q.scale > 0) || !(int8_range || uint8_range) || q.zero_point < q.qmin || q.zero_point > q.qmax)
    return invalid_argument(
        context + ": an INT8 input needs input_scale > 0, the int8 or uint8 range and a zero point inside it");
  return q;
}

bool int8_input_supported(const ir::Node& node) {
  if (node.attrs.get_int("input_zero_point", 0) == 0) return true;
  const std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  return node.op == ir::OpKind::kConv && std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
}

Result<std::optional<OutputRounding>> OutputRounding::of(const ir::Attributes& attrs, const std::string& context) {
  if (!attrs.has("output_scale")) return std::optional<OutputRounding>();
  const float scale = attrs.get_float("output_scale", 0);
  const auto zero_point = static_cast<float>(attrs.get_int("output_zero_point", 0));
  const auto qmin = static_cast<float>(attrs.get_int("output_qmin", -128)),
             qmax = static_cast<float>(attrs.get_int("output_qmax", 127));
  if (!(scale > 0) || !(qmin < qmax))
    return invalid_argument(context + ": a rounded output needs output_scale > 0 and output_qmin < output_qmax");
  OutputRounding r;
  r.factors_ = std::make_shared<const std::array<float, 2>>(std::array<float, 2>{scale, scale});
  r.lo_ = qmin - zero_point;
  r.hi_ = qmax - zero_point;
  return std::optional<OutputRounding>(std::move(r));
}

namespace {
dnnl::memory::desc scalar_desc() { return {{1, 1, 1, 1}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nchw}; }
}  // namespace

OutputRounding OutputRounding::to_levels() const {
  OutputRounding r = *this;
  r.levels_ = true;
  return r;
}

void OutputRounding::append_to(dnnl::post_ops& ops) const {
  // x / scale, not x * (1 / scale): the two differ in the last bit, which moves a value
  // lying within it of a half level to the other level; the division is what the reference
  // kernels, FakeQuantize and the INT8 input quantization compute, so a rounding moved into
  // a convolution, or a value stored as levels (int8_storage), stays bit for bit the same.
  ops.append_binary(dnnl::algorithm::binary_div, scalar_desc());
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_round, 0.0f, 0.0f);
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip_v2, lo_, hi_);
  if (!levels_) ops.append_binary(dnnl::algorithm::binary_mul, scalar_desc());
}

void OutputRounding::bind(Pipeline& pl, int first_index, std::vector<std::pair<int, dnnl::memory>>& args) const {
  args.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(first_index) | DNNL_ARG_SRC_1,
                    pl.bind_fixed(scalar_desc(), &(*factors_)[0]));
  if (!levels_)
    args.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(first_index + 3) | DNNL_ARG_SRC_1,
                      pl.bind_fixed(scalar_desc(), &(*factors_)[1]));
}

void quantize_input(const ConstTensorView& x, void* dst, const InputQuantization& q) {
  if (q.is_unsigned())
    quantize_as(x, static_cast<uint8_t*>(dst), q);
  else
    quantize_as(x, static_cast<int8_t*>(dst), q);
}

dnnl::memory::desc quantized_desc_of(const ConstTensorView& x, dnnl::memory::data_type type) {
  const dnnl::memory::desc compact = compact_desc_of(x);
  const dnnl::memory::dims strides(compact.data.format_desc.blocking.strides,
                                   compact.data.format_desc.blocking.strides + compact.data.ndims);
  return dnnl::memory::desc(compact.dims(), type, strides);
}

void add_input_quantization(Pipeline& pl, const dnnl::memory& dst, const InputQuantization& q) {
  pl.add_custom(q.is_unsigned() ? "quantize:u8" : "quantize:s8",
                [dst, q](Inputs i, Outputs) { quantize_input(i[0], dst.get_data_handle(), q); });
}

Int8LayerWeights int8_layer_weights(const float* w, int64_t outputs, int64_t per_output,
                                    const std::vector<float>& weight_scales, float sum_scale, const float* bias) {
  const std::vector<float> w_scales = weight_scales.empty() ? int8_channel_scales(w, outputs, per_output) : weight_scales;
  Int8LayerWeights q;
  q.levels.resize(static_cast<size_t>(outputs * per_output));
  q.output_scales.resize(static_cast<size_t>(outputs));
  q.bias.assign(static_cast<size_t>(outputs), 0.0f);
  for (size_t m = 0; m < static_cast<size_t>(outputs); ++m) {
    const float w_scale = w_scales[m];
    const size_t row = m * static_cast<size_t>(per_output);
    for (size_t k = 0; k < static_cast<size_t>(per_output); ++k)
      q.levels[row + k] = static_cast<int8_t>(quantized_level(w[row + k], w_scale, -127.0f, 127.0f));
    q.output_scales[m] = sum_scale * w_scale;
    if (bias) q.bias[m] = bias[m] / q.output_scales[m];
  }
  return q;
}

dnnl::memory int8_weights_as(Pipeline& pl, const PackedTensor& packed, const PackedTensor& plain,
                             const dnnl::memory::desc& want) {
  return want == packed.desc ? pl.bind_fixed(packed.desc, packed.buffer->data()) : pl.weights_as(plain, want);
}

}  // namespace inferd::cpu
