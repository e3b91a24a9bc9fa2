#include "cpu_backend_test_harness.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/reference.h"
#include "reference_test_views.h"
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
ir::ValueId add_activation(ir::Graph& g, const std::string& name, const Shape& shape, const ViewSpec& spec) {
  const auto layout_of = [&](const Shape& s) {
    return spec.layout == ViewLayout::kPermuted && s.size() == 4 ? ir::Layout::kNHWC : ir::Layout::kNCHW;
  };
  ir::Value v;
  v.name = name;
  v.shape = shape;
  v.shape[0] = kDynamicDim;
  v.layout = layout_of(shape);
  if (spec.extra_channels > 0 && shape.size() >= 2) {
    ir::Value buffer = v;
    buffer.name = name + "_buffer";
    buffer.shape[1] += spec.extra_channels;
    v.alias_of = g.add_value(std::move(buffer));
    v.alias_channel_offset = 1;
  }
  return g.add_value(std::move(v));
}

Tensor constant_of(const OpCase& c, size_t i) {
  const CaseInput& in = c.inputs[i];
  if (!in.ints.empty()) return Tensor::from_int64s(in.shape, in.ints);
  return random_tensor(in.shape, seed_of(c.name, i, 0), in.lo, in.hi);
}

TensorView dense_view(const Tensor& t) {
  return {const_cast<float*>(reinterpret_cast<const float*>(t.raw())), t.shape(), dense_strides(t.shape())};
}

Result<std::unique_ptr<PackedOp>> pack_case(const Backend& backend, const OpCase& c, const Config& cfg,
                                            const std::vector<Tensor>& constants) {
  ir::Graph g;  // dies before the kernels run: a PackedOp must own what it needs
  ir::Node node;
  node.name = c.name;
  node.op = c.op;
  node.attrs = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const CaseInput& in = c.inputs[i];
    const std::string name = "in" + std::to_string(i);
    if (in.absent) node.inputs.push_back(ir::kNoValue);
    else if (in.constant) node.inputs.push_back(g.add_constant(name, constants[i]));
    else node.inputs.push_back(add_activation(g, name, in.shape, cfg.in));
  }
  for (size_t i = 0; i < c.outputs.size(); ++i)
    node.outputs.push_back(add_activation(g, "out" + std::to_string(i), c.outputs[i], cfg.out));
  EXPECT_TRUE(backend.supports(g, node));
  return backend.pack(g, g.add_node(std::move(node)));
}

// Per element |got - want| <= tolerance * max(1, |want|); the worst errors in the message.
::testing::AssertionResult matches(const Tensor& got, const Tensor& want, float tolerance) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << "shape " << to_string(got.shape()) << " vs " << to_string(want.shape());
  float max_abs = 0, max_rel = 0;
  int64_t first_bad = -1;
  for (int64_t i = 0; i < got.size(); ++i) {
    const float g = got.floats()[i], w = want.floats()[i];
    const float err = std::isnan(g) || std::isnan(w) ? INFINITY : std::fabs(g - w);
    max_abs = std::max(max_abs, err);
    max_rel = std::max(max_rel, err / std::max(1.0f, std::fabs(w)));
    if (first_bad < 0 && !(err <= tolerance * std::max(1.0f, std::fabs(w)))) first_bad = i;
  }
  if (first_bad < 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max_abs=" << max_abs << " max_rel=" << max_rel << " (tolerance "
                                       << tolerance << "); first bad element " << first_bad << ": "
                                       << got.floats()[first_bad] << " vs " << want.floats()[first_bad];
}

void run_batch(Kernel& kernel, const OpCase& c, const Config& cfg, const std::vector<Tensor>& constants,
               int64_t batch) {
  SCOPED_TRACE(std::string("layout ") + cfg.name + ", batch " + std::to_string(batch));
  std::vector<Tensor> inputs;  // dense copies, for the reference kernel
  std::vector<ViewBuffer> in_buffers, out_buffers;
  std::vector<TensorView> views, dense, out_views;
  in_buffers.reserve(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const CaseInput& in = c.inputs[i];
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
    in_buffers.emplace_back(inputs.back().shape(), cfg.in);
    in_buffers.back().write(inputs.back());
    views.push_back(in_buffers.back().view());
    dense.push_back(dense_view(inputs.back()));
  }
  std::vector<Tensor> expected;
  std::vector<TensorView> expected_views;
  for (const Shape& s : c.outputs) {
    expected.emplace_back(DataType::kFloat32, at_batch(s, batch));
    out_buffers.emplace_back(at_batch(s, batch), cfg.out);
  }
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    expected_views.push_back(dense_view(expected[i]));
    out_views.push_back(out_buffers[i].view());
  }
  cpu::reference_kernel(c.op)(c.attrs, dense, expected_views);

  const Status reshaped = kernel.reshape(views, out_views);
  ASSERT_TRUE(reshaped.is_ok()) << reshaped.message();
  kernel.run(views, out_views);
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    EXPECT_TRUE(matches(out_buffers[i].read(), expected[i], c.tolerance)) << "output " << i;
    EXPECT_EQ(out_buffers[i].sentinel_count(), out_buffers[i].outside_count()) << "a write landed outside output " << i;
  }
}

}  // namespace

ir::Attributes attrs(std::initializer_list<std::pair<const char*, ir::Attribute>> list) {
  ir::Attributes a;
  for (const auto& [name, value] : list) a.set(name, value);
  return a;
}

void run_case(const OpCase& c) {
  const std::unique_ptr<Backend> backend = cpu::make_cpu_backend({});
  std::vector<Tensor> constants(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.inputs[i].constant) constants[i] = constant_of(c, i);
  for (const Config& cfg : kConfigs) {
    SCOPED_TRACE(std::string("layout ") + cfg.name);
    Result<std::unique_ptr<PackedOp>> packed = pack_case(*backend, c, cfg, constants);
    ASSERT_TRUE(packed.is_ok()) << packed.status().message();
    EXPECT_EQ(packed.value()->implementation(), c.implementation);
    Result<std::unique_ptr<Kernel>> kernel = packed.value()->create_kernel();
    ASSERT_TRUE(kernel.is_ok()) << kernel.status().message();
    std::vector<int64_t> batches = c.batches;
    batches.push_back(c.batches.front());  // back to the first shape: the cached pipeline
    for (int64_t batch : batches) run_batch(*kernel.value(), c, cfg, constants, batch);
  }
}

}  // namespace inferd::test
