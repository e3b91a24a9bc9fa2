// Reference kernels for the ops that contract over a dimension: Conv, ConvTranspose,
// Gemm and MatMul (ONNX semantics). Sums accumulate in double so the oracle's own rounding
// stays far below the tolerances the optimised kernels are held to.
#include "backends/reference/reference_kernels.h"
#include <cmath>
#include <vector>

#include "core/quantize.h"

namespace inferd::ref {
namespace {

// An INT8 input (quantized_layer_folding): X is read rounded half to even onto the grid of
// `input_scale`, saturated to [qmin, qmax] around `input_zero_point`, as the FakeQuantize
// it replaces. 0: float X.
struct InputGrid {
  float scale = 0;
  float lo = -128, hi = 127;  // qmin and qmax less the zero point

  float read(float x) const { return scale > 0 ? quantized_level(x, scale, lo, hi) * scale : x; }
};

InputGrid input_grid(const ir::Attributes& attrs) {
  const auto zero_point = static_cast<float>(attrs.get_int("input_zero_point", 0));
  return {attrs.get_float("input_scale", 0.0f), static_cast<float>(attrs.get_int("input_qmin", -128)) - zero_point,
          static_cast<float>(attrs.get_int("input_qmax", 127)) - zero_point};
}

// A rounded output (output_quantization_fusion): Y rounded half to even onto the grid of
// `output_scale`, saturated to [qmin, qmax] around the zero point, as the FakeQuantize it
// replaces computes it. 0: Y as it is.
struct OutputGrid {
  float scale = 0;
  float lo = -128, hi = 127;  // qmin and qmax less the zero point

  float write(float y) const { return scale > 0 ? quantized_level(y, scale, lo, hi) * scale : y; }
};

OutputGrid output_grid(const ir::Attributes& attrs) {
  const auto zero_point = static_cast<float>(attrs.get_int("output_zero_point", 0));
  return {attrs.get_float("output_scale", 0.0f), static_cast<float>(attrs.get_int("output_qmin", -128)) - zero_point,
          static_cast<float>(attrs.get_int("output_qmax", 127)) - zero_point};
}

struct ConvParams {
  std::vector<int64_t> strides, pads, dilations;  // pads: top, left, bottom, right
  int64_t group = 1;
  InputGrid input;
  OutputGrid output;

  float read_x(float x) const { return input.read(x); }
};

ConvParams conv_params(const ir::Attributes& attrs) {
  return {attrs.get_ints("strides", {1, 1}), attrs.get_ints("pads", {0, 0, 0, 0}), attrs.get_ints("dilations", {1, 1}),
          attrs.get_int("group", 1), input_grid(attrs), output_grid(attrs)};
}

// sum over (ci, kh, kw) of x[n, c0 + ci, ih, iw] * w[m, ci, kh, kw], skipping taps
// that fall into the zero padding.
double conv_dot(const ConstTensorView& x, const ConstTensorView& w, const ConvParams& p, int64_t n, int64_t m,
                int64_t c0, int64_t oh, int64_t ow) {
  const int64_t in_h = x.shape[2], in_w = x.shape[3];
  const int64_t h0 = oh * p.strides[0] - p.pads[0], w0 = ow * p.strides[1] - p.pads[1];
  double acc = 0;
  for (int64_t ci = 0; ci < w.shape[1]; ++ci) {
    const float* x_plane = x.f32() + n * x.strides[0] + (c0 + ci) * x.strides[1];
    const float* w_plane = w.f32() + m * w.strides[0] + ci * w.strides[1];
    for (int64_t kh = 0; kh < w.shape[2]; ++kh) {
      const int64_t ih = h0 + kh * p.dilations[0];
      if (ih < 0 || ih >= in_h) continue;
      for (int64_t kw = 0; kw < w.shape[3]; ++kw) {
        const int64_t iw = w0 + kw * p.dilations[1];
        if (iw < 0 || iw >= in_w) continue;
        acc += static_cast<double>(p.read_x(x_plane[ih * x.strides[2] + iw * x.strides[3]])) *
               w_plane[kh * w.strides[2] + kw * w.strides[3]];
      }
    }
  }
  return acc;
}

// The batch dims of a matrix operand (all but the last two), for broadcasting.
template <typename View>
View batch_dims(const View& v) {
  const auto batch_rank = static_cast<std::ptrdiff_t>(v.shape.size() - 2);
  return {v.data, Shape(v.shape.begin(), v.shape.begin() + batch_rank),
          std::vector<int64_t>(v.strides.begin(), v.strides.begin() + batch_rank)};
}

}  // namespace

Tensor values_of_levels(const ConstTensorView& v, float scale) {
  Tensor t(DataType::kFloat32, v.shape, Tensor::Uninitialized{});
  const std::vector<int64_t> dense = dense_strides(v.shape);
  for (int64_t i = 0; i < t.size(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < v.shape.size(); ++d) offset += (i / dense[d]) % v.shape[d] * v.strides[d];
    const float level = v.dtype == DataType::kUint8 ? static_cast<const uint8_t*>(v.data)[offset]
                                                    : static_cast<const int8_t*>(v.data)[offset];
    t.data<float>()[i] = level * scale;
  }
  return t;
}

void write_levels(const Tensor& values, float scale, const TensorView& y) {
  const std::vector<int64_t> dense = dense_strides(y.shape);
  for (int64_t i = 0; i < values.size(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < y.shape.size(); ++d) offset += (i / dense[d]) % y.shape[d] * y.strides[d];
    const float level = std::nearbyint(values.data<float>()[i] / scale);
    if (y.dtype == DataType::kUint8)
      static_cast<uint8_t*>(y.data)[offset] = static_cast<uint8_t>(level);
    else
      static_cast<int8_t*>(y.data)[offset] = static_cast<int8_t>(level);
  }
}

namespace {

void conv_float(const ir::Attributes& attrs, Inputs in, Outputs out);

}  // namespace

// An INT8 convolution whose input or output holds levels rather than values (int8_storage)
// computes exactly what it computes over the values: levels are read as level x
// input_scale, and the output, rounded onto output_scale's grid (zero point 0), is stored as
// its levels.
void conv(const ir::Attributes& attrs, Inputs in, Outputs out) {
  if (!is_levels(in[0].dtype) && !is_levels(out[0].dtype)) return conv_float(attrs, in, out);
  std::vector<ConstTensorView> inputs(in.begin(), in.end());
  Tensor x_values;
  if (is_levels(in[0].dtype)) {
    x_values = values_of_levels(in[0], attrs.get_float("input_scale", 1.0f));
    inputs[0] = ConstTensorView(x_values.raw(), x_values.shape(), dense_strides(x_values.shape()));
  }
  if (!is_levels(out[0].dtype)) return conv_float(attrs, inputs, out);
  Tensor y_values(DataType::kFloat32, out[0].shape);
  const TensorView y(y_values.raw(), y_values.shape(), dense_strides(y_values.shape()));
  conv_float(attrs, inputs, std::span<const TensorView>(&y, 1));
  write_levels(y_values, attrs.get_float("output_scale", 1.0f), out[0]);
}

namespace {

// Y = grid(act(conv(X, W) + B + R)); X [N,C,H,W], W [M,C/group,KH,KW], B [M], R like Y.
void conv_float(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const ConstTensorView& w = in[1];
  const ConstTensorView* bias = optional_input(in, 2);
  const ConstTensorView* residual = optional_input(in, 3);
  const TensorView& y = out[0];
  const ConvParams p = conv_params(attrs);
  const Activation act = fused_act(attrs, /*op_owns_alpha_beta=*/false);
  const int64_t out_per_group = y.shape[1] / p.group;
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t m = 0; m < y.shape[1]; ++m) {
      const int64_t c0 = (m / out_per_group) * w.shape[1];  // first input channel of m's group
      for (int64_t oh = 0; oh < y.shape[2]; ++oh)
        for (int64_t ow = 0; ow < y.shape[3]; ++ow) {
          double acc = conv_dot(x, w, p, n, m, c0, oh, ow);
          if (bias) acc += bias->f32()[m * bias->strides[0]];
          if (residual) acc += at4(*residual, n, m, oh, ow);
          at4(y, n, m, oh, ow) = p.output.write(act(static_cast<float>(acc)));
        }
    }
}

}  // namespace

// Y = act(convtranspose(X, W) + B); X [N,Cin,H,W], W [Cin, Cout/group, KH, KW], B [Cout].
// Gathered per output: input pixel (ih, iw) lands on output row ih * stride - pad_top +
// kh * dilation, so output row oh receives tap kh from ih = (oh + pad_top - kh * dilation)
// / stride when that division is exact and ih is inside the input (likewise for columns).
// output_padding only adds rows/columns at the end, already in Y's shape.
void conv_transpose(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const ConstTensorView& w = in[1];
  const ConstTensorView* bias = optional_input(in, 2);
  const TensorView& y = out[0];
  const ConvParams p = conv_params(attrs);
  const Activation act = fused_act(attrs, /*op_owns_alpha_beta=*/false);
  const int64_t out_per_group = w.shape[1], in_per_group = x.shape[1] / p.group;
  // The input index along one spatial dim feeding output `o` through tap `k`, or -1.
  const auto source = [&](int64_t o, int64_t k, size_t d) -> int64_t {
    const int64_t scaled = o + p.pads[d] - k * p.dilations[d];
    if (scaled < 0 || scaled % p.strides[d] != 0) return -1;
    const int64_t i = scaled / p.strides[d];
    return i < x.shape[2 + d] ? i : -1;
  };
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t m = 0; m < y.shape[1]; ++m) {
      const int64_t c0 = (m / out_per_group) * in_per_group, mm = m % out_per_group;
      for (int64_t oh = 0; oh < y.shape[2]; ++oh)
        for (int64_t ow = 0; ow < y.shape[3]; ++ow) {
          double acc = bias ? bias->f32()[m * bias->strides[0]] : 0.0;
          for (int64_t kh = 0; kh < w.shape[2]; ++kh) {
            const int64_t ih = source(oh, kh, 0);
            if (ih < 0) continue;
            for (int64_t kw = 0; kw < w.shape[3]; ++kw) {
              const int64_t iw = source(ow, kw, 1);
              if (iw < 0) continue;
              for (int64_t ci = c0; ci < c0 + in_per_group; ++ci)
                acc += static_cast<double>(at4(x, n, ci, ih, iw)) * at4(w, ci, mm, kh, kw);
            }
          }
          at4(y, n, m, oh, ow) = act(static_cast<float>(acc));
        }
    }
}

// Y = act(alpha * A' B' + beta * C); A' = transA ? A^T : A (likewise B'), C
// broadcast unidirectionally to [M, N].
void gemm(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& a = in[0];
  const ConstTensorView& b = in[1];
  const ConstTensorView* c = optional_input(in, 2);
  const TensorView& y = out[0];
  const double alpha = attrs.get_float("alpha", 1.0f);
  const double beta = attrs.get_float("beta", 1.0f);
  const bool trans_a = attrs.get_int("transA", 0) != 0;
  const bool trans_b = attrs.get_int("transB", 0) != 0;
  const Activation act = fused_act(attrs, /*op_owns_alpha_beta=*/true);
  const InputGrid input = input_grid(attrs);  // an INT8 A, as for Conv
  // Element strides of A' along m and k, and of B' along k and n.
  const int64_t a_m = a.strides[trans_a ? 1 : 0], a_k = a.strides[trans_a ? 0 : 1];
  const int64_t b_k = b.strides[trans_b ? 1 : 0], b_n = b.strides[trans_b ? 0 : 1];
  const int64_t depth = a.shape[trans_a ? 0 : 1];
  for (int64_t m = 0; m < y.shape[0]; ++m)
    for (int64_t n = 0; n < y.shape[1]; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < depth; ++k)
        acc += static_cast<double>(input.read(a.f32()[m * a_m + k * a_k])) * b.f32()[k * b_k + n * b_n];
      double value = alpha * acc;
      if (c) {
        const int64_t idx[2] = {m, n};
        value += beta * c->f32()[broadcast_offset(*c, idx)];
      }
      y.f32()[m * y.strides[0] + n * y.strides[1]] = act(static_cast<float>(value));
    }
}

// numpy.matmul: [..., M, K] x [..., K, N] -> [..., M, N] with broadcast batch dims;
// a 1-D A acts as [1, K] and a 1-D B as [K, 1], the added dim absent from Y.
void matmul(const ir::Attributes&, Inputs in, Outputs out) {
  ConstTensorView a = in[0], b = in[1];
  TensorView y = out[0];
  const bool a_is_vector = a.shape.size() == 1, b_is_vector = b.shape.size() == 1;
  if (a_is_vector) a = {a.data, {1, a.shape[0]}, {0, a.strides[0]}};
  if (b_is_vector) b = {b.data, {b.shape[0], 1}, {b.strides[0], 0}};
  if (b_is_vector) {
    y.shape.push_back(1);
    y.strides.push_back(0);
  }
  if (a_is_vector) {
    y.shape.insert(y.shape.end() - 1, 1);
    y.strides.insert(y.strides.end() - 1, 0);
  }
  const size_t ra = a.shape.size(), rb = b.shape.size(), ry = y.shape.size();
  const ConstTensorView a_batch = batch_dims(a), b_batch = batch_dims(b);
  const TensorView y_batch = batch_dims(y);
  const int64_t depth = a.shape[ra - 1];
  for_each_index(y_batch.shape, [&](const std::vector<int64_t>& idx) {
    const float* as = a.f32() + broadcast_offset(a_batch, idx);
    const float* bs = b.f32() + broadcast_offset(b_batch, idx);
    float* ys = y.f32() + offset_of(y_batch, idx);
    for (int64_t m = 0; m < y.shape[ry - 2]; ++m)
      for (int64_t n = 0; n < y.shape[ry - 1]; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < depth; ++k)
          acc += static_cast<double>(as[m * a.strides[ra - 2] + k * a.strides[ra - 1]]) *
                 bs[k * b.strides[rb - 2] + n * b.strides[rb - 1]];
        ys[m * y.strides[ry - 2] + n * y.strides[ry - 1]] = static_cast<float>(acc);
      }
  });
}

}  // namespace inferd::ref
