#include "passes/concat_conv_split.h"

#include <algorithm>
#include <cstring>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

using ir::OpKind;

bool all_equal(const std::vector<int64_t>& values, int64_t expected) {
  return std::all_of(values.begin(), values.end(), [&](int64_t v) { return v == expected; });
}

// A Concat of float channels (axis 1 of 4-D values) whose copy could go away.
bool splittable_concat(const ir::Graph& g, const ir::Node& n) {
  if (n.op != OpKind::kConcat || n.outputs.size() != 1 || n.inputs.size() < 2) return false;
  if (n.attrs.get_int("in_place", 0) != 0) return false;  // already free
  const ir::Value& out = g.value(n.outputs[0]);
  if (out.shape.size() != 4 || out.is_constant() || out.alias_of != ir::kNoValue) return false;
  int64_t axis = n.attrs.get_int("axis", 1);
  if (axis < 0) axis += 4;
  if (axis != 1) return false;
  return std::all_of(n.inputs.begin(), n.inputs.end(), [&](ir::ValueId x) {
    if (x == ir::kNoValue) return false;
    const ir::Value& v = g.value(x);
    return v.dtype == DataType::kFloat32 && v.shape.size() == 4 && v.shape[1] > 0;
  });
}

// A Conv that only mixes channels (1x1 kernel, group 1, no padding, no dilation), so
// it distributes over a split of its input channels. Strides subsample every block alike.
bool pointwise_conv(const ir::Graph& g, const ir::Node& n) {
  if (n.op != OpKind::kConv || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  if (n.attrs.get_int("group", 1) != 1 || !all_equal(n.attrs.get_ints("pads", {0, 0, 0, 0}), 0) ||
      !all_equal(n.attrs.get_ints("dilations", {1, 1}), 1))
    return false;
  const Tensor* w = constant_of(g, n.inputs[1]);
  return w && w->dtype() == DataType::kFloat32 && w->shape().size() == 4 && w->shape()[2] == 1 &&
         w->shape()[3] == 1 && g.value(n.outputs[0]).dtype == DataType::kFloat32;
}

// The index of the Concat that Conv `conv_index` may be split over.
std::optional<size_t> concat_to_split(const ir::Graph& g, const UseIndex& uses, size_t conv_index) {
  const ir::Node& conv = g.nodes()[conv_index];
  if (!pointwise_conv(g, conv)) return std::nullopt;
  const ir::ValueId x = conv.inputs[0];
  const auto p = uses.producer(x);
  if (!p || uses.only_reader(g, x) != conv_index) return std::nullopt;  // also rules out graph outputs
  const ir::Node& concat = g.nodes()[*p];
  if (!splittable_concat(g, concat)) return std::nullopt;
  int64_t channels = 0;
  for (ir::ValueId in : concat.inputs) channels += g.value(in).shape[1];
  if (channels != constant_of(g, conv.inputs[1])->shape()[1]) return std::nullopt;
  return p;
}

// W[:, begin:end] of OIHW weights, as a dense tensor.
Tensor input_channel_slice(const Tensor& w, int64_t begin, int64_t end) {
  const Shape& s = w.shape();
  const int64_t spatial = s[2] * s[3];
  Tensor part(DataType::kFloat32, {s[0], end - begin, s[2], s[3]}, Tensor::Uninitialized{});
  const size_t row = static_cast<size_t>((end - begin) * spatial);
  for (int64_t o = 0; o < s[0]; ++o)
    std::memcpy(part.data<float>() + static_cast<size_t>(o) * row, w.data<float>() + (o * s[1] + begin) * spatial,
                row * sizeof(float));
  return part;
}

void drop_activation(ir::Attributes& attrs) {
  for (const char* key : {"activation", "activation_alpha", "activation_beta", "min", "max"}) attrs.erase(key);
}

// The chain replacing Conv(Concat(xs)): one Conv per Concat input, each adding the
// previous one's output as its residual. Adds the weight slices and partial sums to
// `g` (unused ones vanish at compaction if the chain is rejected).
std::vector<ir::Node> build_chain(ir::Graph& g, const std::vector<ir::ValueId>& xs, const ir::Node& conv) {
  std::vector<Tensor> weights;
  const Tensor& w = *constant_of(g, conv.inputs[1]);
  int64_t begin = 0;
  for (ir::ValueId x : xs) {
    const int64_t end = begin + g.value(x).shape[1];
    weights.push_back(input_channel_slice(w, begin, end));
    begin = end;
  }
  // Copies: adding values below invalidates references into the graph's values.
  const std::string w_name = g.value(conv.inputs[1]).name;
  const ir::Value out = g.value(conv.outputs[0]);
  std::vector<ir::Node> chain;
  ir::ValueId partial = input_or_none(conv, 3);
  for (size_t i = 0; i < xs.size(); ++i) {
    const std::string part = "_part" + std::to_string(i + 1);
    const bool last = i + 1 == xs.size();
    ir::Node n;
    n.op = OpKind::kConv;
    n.name = last ? conv.name : unique_node_name(g, conv.name + part);
    n.attrs = conv.attrs;
    const ir::ValueId wi = g.add_constant(unique_value_name(g, w_name + part), std::move(weights[i]));
    n.inputs = {xs[i], wi, i == 0 ? input_or_none(conv, 2) : ir::kNoValue, partial};
    while (n.inputs.back() == ir::kNoValue) n.inputs.pop_back();
    if (last) {
      n.outputs = conv.outputs;
    } else {
      drop_activation(n.attrs);  // act(a + b) is not act(a) + b: only the last one applies it
      ir::Value t;
      t.name = unique_value_name(g, out.name + part);
      t.dtype = out.dtype;
      t.shape = out.shape;
      partial = g.add_value(std::move(t));
      n.outputs = {partial};
    }
    chain.push_back(std::move(n));
  }
  return chain;
}

}  // namespace

Result<PassResult> ConcatConvSplit::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  const size_t count = g.nodes().size();
  std::vector<bool> erase(count, false);
  // Built once: a split replaces a Concat reading each part by one chain Conv reading it,
  // which only_reader() counts alike, and leaves every producer in place.
  const UseIndex uses(g);
  for (size_t i = 0; i < count; ++i) {
    const auto concat_index = concat_to_split(g, uses, i);
    if (!concat_index) continue;
    const ir::Node conv = g.nodes()[i];
    const std::vector<ir::ValueId> xs = g.nodes()[*concat_index].inputs;
    std::vector<ir::Node> chain = build_chain(g, xs, conv);
    if (!std::all_of(chain.begin(), chain.end(), [&](const ir::Node& n) { return ctx.node_supported(g, n); }))
      continue;
    std::string line = "split " + conv.name + " over " + g.nodes()[*concat_index].name + " ->";
    for (const auto& n : chain) line += " " + n.name;
    result.changes.push_back(line);
    // The last Conv takes the original's place; the others go to the end (appending
    // keeps the indices of this loop valid) and the sort below puts them in order.
    g.nodes()[i] = std::move(chain.back());
    chain.pop_back();
    for (auto& n : chain) g.add_node(std::move(n));
    detach(g.nodes()[*concat_index]);
    erase[*concat_index] = true;
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
