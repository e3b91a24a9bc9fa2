#include "support/op_test_harness.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>

#include "backends/api/registry.h"
#include "backends/reference/reference.h"
#include "core/quantize.h"
#include "support/reference_test_views.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

struct Config {
  const char* name;
  ViewSpec in, out;
};

constexpr int64_t kExtraChannels = 3;  // a channel slice is channels [1, 1 + C) of C + 3
const Config kConfigs[] = {
    {"nchw", {ViewLayout::kDense, 0}, {ViewLayout::kDense, 0}},
    {"nhwc", {ViewLayout::kPermuted, 0}, {ViewLayout::kPermuted, 0}},
    {"nhwc_slice_out", {ViewLayout::kPermuted, 0}, {ViewLayout::kPermuted, kExtraChannels}},
    {"nchw_slice_out", {ViewLayout::kDense, 0}, {ViewLayout::kDense, kExtraChannels}},
    {"nhwc_slice_in", {ViewLayout::kPermuted, kExtraChannels}, {ViewLayout::kPermuted, 0}},
    {"nchw_in_nhwc_out", {ViewLayout::kDense, 0}, {ViewLayout::kPermuted, 0}},
};

Shape at_batch(Shape s, int64_t batch) {
  if (!s.empty()) s[0] *= batch;
  return s;
}

uint32_t seed_of(const std::string& name, size_t input, int64_t batch) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across runs and platforms
  for (char ch : name) h = (h ^ static_cast<uint8_t>(ch)) * 16777619u;
  return h ^ static_cast<uint32_t>(input * 7919 + static_cast<size_t>(batch) * 104729);
}

// The graph value of an activation: dynamic batch, the config's layout, and (for a
// channel slice) an alias into a larger buffer, as the planner would record it.
ir::ValueId add_activation(ir::Graph& g, const std::string& name, const Shape& shape, const ViewSpec& spec,
                           DataType dtype) {
  const auto layout_of = [&](const Shape& s) {
    return spec.layout == ViewLayout::kPermuted && s.size() == 4 ? ir::Layout::kNHWC : ir::Layout::kNCHW;
  };
  ir::Value v;
  v.name = name;
  v.shape = shape;
  v.shape[0] = kDynamicDim;
  v.layout = layout_of(shape);
  v.dtype = dtype;
  if (spec.extra_channels > 0 && shape.size() >= 2) {
    ir::Value buffer = v;
    buffer.name = name + "_buffer";
    buffer.shape[1] += spec.extra_channels;
    v.alias_of = g.add_value(std::move(buffer));
    v.alias_channel_offset = 1;
  }
  return g.add_value(std::move(v));
}

// Rounds each channel along `axis` of `t` onto its int8 grid max|w| / 127 (the scales of
// core/quantize.h, which the INT8 kernels use).
void snap_to_int8_grid(Tensor& t, int axis) {
  const int64_t channels = t.shape()[static_cast<size_t>(axis)];
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < t.shape().size(); ++d) inner *= t.shape()[d];
  float* v = t.data<float>();
  const std::vector<float> scales = int8_axis_scales(v, t.size(), channels, inner);
  for (int64_t i = 0; i < t.size(); ++i) {
    const float scale = scales[static_cast<size_t>((i / inner) % channels)];
    v[i] = std::nearbyint(v[i] / scale) * scale;
  }
}

Tensor constant_of(const OpCase& c, size_t i) {
  const CaseInput& in = c.inputs[i];
  if (!in.ints.empty()) return Tensor::from_int64s(in.shape, in.ints);
  Tensor t = random_tensor(in.shape, seed_of(c.name, i, 0), in.lo, in.hi);
  if (in.int8_grid_axis >= 0) snap_to_int8_grid(t, in.int8_grid_axis);
  return t;
}

ConstTensorView dense_view(const Tensor& t) {
  return {t.raw(), t.shape(), dense_strides(t.shape()), t.dtype()};
}
TensorView dense_view(Tensor& t) {
  return {t.raw(), t.shape(), dense_strides(t.shape()), t.dtype()};
}

// bfloat16: the top half of an fp32, rounded to nearest even.
uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
float bf16_to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// `x` as the dtype under test stores it.
float round_to(DataType dtype, float x) {
  if (dtype == DataType::kFloat16) return half_to_float(float_to_half(x));
  if (dtype == DataType::kBFloat16) return bf16_to_float(float_to_bf16(x));
  return x;
}

void round_all(Tensor& t, DataType dtype) {
  for (float& x : t.floats()) x = round_to(dtype, x);
}

// A ViewBuffer's whole storage on the backend's device, in the dtype under test: the
// sentinel around the view travels too, so stray device writes show up after the copy back.
class DeviceCopy {
 public:
  static Result<DeviceCopy> of(const ViewBuffer& host, const BackendUnderTest& b, Stream& stream) {
    const Device& device = b.backend->device();
    const size_t count = host.storage().size(), width = element_size(b.dtype);
    std::vector<uint8_t> bytes(count * width);
    encode(host.storage(), b.dtype, bytes.data());
    DeviceCopy copy;
    ASSIGN_OR_RETURN(copy.buffer_, device.allocate(bytes.size(), device.working_memory()));
    RETURN_IF_ERROR(device.copy(copy.buffer_.data(), bytes.data(), bytes.size(), stream));
    RETURN_IF_ERROR(stream.synchronize());
    copy.view_ = host.view();
    copy.view_.data = static_cast<uint8_t*>(copy.buffer_.data()) + host.view_offset() * width;
    copy.view_.dtype = b.dtype;
    copy.view_.memory = copy.buffer_.kind();
    return copy;
  }
  // Copies the device storage back into `host` (the sentinel restored where it survived).
  Status read_into(ViewBuffer& host, const BackendUnderTest& b, Stream& stream) const {
    std::vector<uint8_t> bytes(buffer_.bytes());
    RETURN_IF_ERROR(b.backend->device().copy(bytes.data(), buffer_.data(), bytes.size(), stream));
    RETURN_IF_ERROR(stream.synchronize());
    decode(bytes.data(), b.dtype, host.storage());
    return Status::ok();
  }
  const TensorView& view() const { return view_; }

 private:
  static void encode(std::span<const float> from, DataType dtype, uint8_t* to) {
    for (float x : from) {
      if (dtype == DataType::kFloat32)
        std::memcpy(to, &x, 4), to += 4;
      else {
        const uint16_t h = dtype == DataType::kFloat16 ? float_to_half(x) : float_to_bf16(x);
        std::memcpy(to, &h, 2), to += 2;
      }
    }
  }
  static void decode(const uint8_t* from, DataType dtype, std::span<float> to) {
    const float sentinel = round_to(dtype, ViewBuffer::kSentinel);
    for (float& x : to) {
      if (dtype == DataType::kFloat32)
        std::memcpy(&x, from, 4), from += 4;
      else {
        uint16_t h;
        std::memcpy(&h, from, 2), from += 2;
        x = dtype == DataType::kFloat16 ? half_to_float(h) : bf16_to_float(h);
      }
      if (x == sentinel) x = ViewBuffer::kSentinel;
    }
  }
  Buffer buffer_;
  TensorView view_;
};

Result<std::unique_ptr<PackedOp>> pack_case(const BackendUnderTest& b, const OpCase& c, const Config& cfg,
                                            const std::vector<Tensor>& constants) {
  ir::Graph g;  // dies before the kernels run: a PackedOp must own what it needs
  ir::Node node;
  node.name = c.name;
  node.op = c.op;
  node.attrs = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const CaseInput& in = c.inputs[i];
    const std::string name = "in" + std::to_string(i);
    if (in.absent)
      node.inputs.push_back(ir::kNoValue);
    else if (in.constant)
      node.inputs.push_back(g.add_constant(name, constants[i]));
    else
      node.inputs.push_back(add_activation(g, name, in.shape, cfg.in, b.dtype));
  }
  for (size_t i = 0; i < c.outputs.size(); ++i)
    node.outputs.push_back(add_activation(g, "out" + std::to_string(i), c.outputs[i], cfg.out, b.dtype));
  EXPECT_TRUE(b.backend->supports(g, node));
  PackOptions options;
  options.precision = b.precision;
  options.choices = b.choices;
  return b.backend->pack(g, g.add_node(std::move(node)), options);
}

// Per element |got - want| <= tolerance * max(1, |want|), or (grid_step > 0) exactly one
// step off on at most 2 % of the elements; the worst errors in the message.
::testing::AssertionResult matches(const Tensor& got, const Tensor& want, float tolerance, float grid_step) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << "shape " << to_string(got.shape()) << " vs " << to_string(want.shape());
  float max_abs = 0, max_rel = 0;
  int64_t first_bad = -1, steps_off = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    const float g = got.floats()[i], w = want.floats()[i];
    const float err = std::isnan(g) || std::isnan(w) ? INFINITY : std::fabs(g - w);
    const float allowed = tolerance * std::max(1.0f, std::fabs(w));
    if (grid_step > 0 && !(err <= allowed) && std::fabs(err - grid_step) <= allowed) {
      ++steps_off;
      continue;
    }
    max_abs = std::max(max_abs, err);
    max_rel = std::max(max_rel, err / std::max(1.0f, std::fabs(w)));
    if (first_bad < 0 && !(err <= allowed)) first_bad = i;
  }
  if (steps_off * 50 > got.size())
    return ::testing::AssertionFailure() << steps_off << " of " << got.size() << " elements a grid step ("
                                         << grid_step << ") off: more than 2 %";
  if (first_bad < 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max_abs=" << max_abs << " max_rel=" << max_rel << " (tolerance " << tolerance
                                       << "); first bad element " << first_bad << ": " << got.floats()[first_bad]
                                       << " vs " << want.floats()[first_bad];
}

// Reshapes and enqueues `kernel` on `stream` with device copies of the views (or the host
// views themselves on a host device), then copies the outputs back.
Status run_kernel(Kernel& kernel, const BackendUnderTest& b, Stream& stream, const std::vector<ConstTensorView>& views,
                  std::vector<ViewBuffer>& in_buffers, std::vector<ViewBuffer>& out_buffers,
                  const std::vector<size_t>& buffer_of_input) {
  const Device& device = b.backend->device();
  std::vector<ConstTensorView> in = views;
  std::vector<TensorView> out;
  std::vector<DeviceCopy> in_copies, out_copies;
  const bool on_device = device.working_memory() == MemoryKind::kDevice;
  for (size_t i = 0; i < views.size(); ++i) {
    if (buffer_of_input[i] == SIZE_MAX) continue;
    if (!on_device) continue;
    ASSIGN_OR_RETURN(auto copy, DeviceCopy::of(in_buffers[buffer_of_input[i]], b, stream));
    in_copies.push_back(std::move(copy));
    in[i] = in_copies.back().view();
  }
  for (auto& buffer : out_buffers) {
    if (!on_device) {
      out.push_back(buffer.view());
      continue;
    }
    ASSIGN_OR_RETURN(auto copy, DeviceCopy::of(buffer, b, stream));
    out_copies.push_back(std::move(copy));
    out.push_back(out_copies.back().view());
  }
  RETURN_IF_ERROR(kernel.reshape(in, out));
  Buffer workspace;
  if (kernel.workspace_bytes() > 0) {
    ASSIGN_OR_RETURN(workspace, device.allocate(kernel.workspace_bytes(), device.working_memory()));
  }
  RETURN_IF_ERROR(kernel.enqueue(in, out, EnqueueContext{stream, workspace.data(), workspace.bytes()}));
  RETURN_IF_ERROR(stream.synchronize());
  for (size_t i = 0; i < out_copies.size(); ++i) RETURN_IF_ERROR(out_copies[i].read_into(out_buffers[i], b, stream));
  return Status::ok();
}

void run_batch(Kernel& kernel, const OpCase& c, const BackendUnderTest& b, Stream& stream, const Config& cfg,
               const std::vector<Tensor>& constants, int64_t batch) {
  SCOPED_TRACE(std::string("layout ") + cfg.name + ", batch " + std::to_string(batch));
  std::vector<Tensor> inputs;  // dense copies, for the reference kernel
  std::vector<ViewBuffer> in_buffers, out_buffers;
  std::vector<ConstTensorView> views, dense;
  std::vector<size_t> buffer_of_input;
  inputs.reserve(c.inputs.size());
  in_buffers.reserve(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const CaseInput& in = c.inputs[i];
    buffer_of_input.push_back(SIZE_MAX);
    if (in.absent) {
      views.emplace_back();
      dense.emplace_back();
      continue;
    }
    if (in.constant) {
      views.push_back(dense_view(constants[i]));
      dense.push_back(views.back());
      continue;
    }
    inputs.push_back(random_tensor(at_batch(in.shape, batch), seed_of(c.name, i, batch), in.lo, in.hi));
    round_all(inputs.back(), b.dtype);
    in_buffers.emplace_back(inputs.back().shape(), cfg.in);
    in_buffers.back().write(inputs.back());
    buffer_of_input.back() = in_buffers.size() - 1;
    views.push_back(in_buffers.back().view());
    dense.push_back(dense_view(inputs.back()));
  }
  std::vector<Tensor> expected;
  std::vector<TensorView> expected_views;
  for (const Shape& s : c.outputs) {
    expected.emplace_back(DataType::kFloat32, at_batch(s, batch));
    out_buffers.emplace_back(at_batch(s, batch), cfg.out);
  }
  for (auto& e : expected) expected_views.push_back(dense_view(e));
  ref::reference_kernel(c.op)(c.attrs, dense, expected_views);

  const Status ran = run_kernel(kernel, b, stream, views, in_buffers, out_buffers, buffer_of_input);
  ASSERT_TRUE(ran.is_ok()) << ran.message();
  const float tolerance = b.tolerance > 0 ? std::max(b.tolerance, c.tolerance) : c.tolerance;
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    EXPECT_TRUE(matches(out_buffers[i].read(), expected[i], tolerance, c.grid_step)) << "output " << i;
    EXPECT_EQ(out_buffers[i].sentinel_count(), out_buffers[i].outside_count()) << "a write landed outside output " << i;
  }
}

}  // namespace

ir::Attributes attrs(std::initializer_list<std::pair<const char*, ir::Attribute>> list) {
  ir::Attributes a;
  for (const auto& [name, value] : list) a.set(name, value);
  return a;
}

const BackendUnderTest& cpu_backend_under_test() {
  static const BackendUnderTest cpu{"cpu", create_backend("cpu", {}).value(), DataType::kFloat32, "fp32", 0, true, {}};
  return cpu;
}

void run_case(const OpCase& c, const BackendUnderTest& b) {
  SCOPED_TRACE("backend " + b.name);
  std::vector<Tensor> constants(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i].constant) constants[i] = constant_of(c, i);
  auto stream = b.backend->device().create_stream();
  ASSERT_TRUE(stream.is_ok()) << stream.status().message();
  for (const Config& cfg : kConfigs) {
    SCOPED_TRACE(std::string("layout ") + cfg.name);
    Result<std::unique_ptr<PackedOp>> packed = pack_case(b, c, cfg, constants);
    ASSERT_TRUE(packed.is_ok()) << packed.status().message();
    if (b.check_implementation) {
      EXPECT_EQ(packed.value()->implementation(), c.implementation);
    }
    Result<std::unique_ptr<Kernel>> kernel = packed.value()->create_kernel();
    ASSERT_TRUE(kernel.is_ok()) << kernel.status().message();
    std::vector<int64_t> batches = c.batches;
    batches.push_back(c.batches.front());  // back to the first shape: the cached per-shape state
    for (int64_t batch : batches) run_batch(*kernel.value(), c, b, **stream, cfg, constants, batch);
  }
}

}  // namespace inferd::test
