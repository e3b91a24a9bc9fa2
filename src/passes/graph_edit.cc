#include "passes/graph_edit.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>
#include <utility>

namespace inferd::passes {

std::optional<size_t> only_reader(const ir::Graph& g, ir::ValueId id) {
  if (id == ir::kNoValue || g.is_graph_output(id)) return std::nullopt;
  const auto readers = g.consumers(id);
  if (readers.size() != 1) return std::nullopt;
  const auto& ins = g.nodes()[readers[0]].inputs;
  if (std::count(ins.begin(), ins.end(), id) != 1) return std::nullopt;
  return readers[0];
}

UseIndex::UseIndex(const ir::Graph& g) : producer_(g.value_count(), -1), readers_(g.value_count()) {
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (ir::ValueId id : nodes[i].outputs)
      if (id != ir::kNoValue && producer_[static_cast<size_t>(id)] < 0) producer_[static_cast<size_t>(id)] = int64_t(i);
    for (ir::ValueId id : nodes[i].inputs) {
      if (id == ir::kNoValue) continue;
      auto& readers = readers_[static_cast<size_t>(id)];
      if (readers.empty() || readers.back() != i) readers.push_back(i);  // a node reading twice counts once
    }
  }
}

std::optional<size_t> UseIndex::producer(ir::ValueId id) const {
  if (id == ir::kNoValue || static_cast<size_t>(id) >= producer_.size() || producer_[static_cast<size_t>(id)] < 0)
    return std::nullopt;
  return static_cast<size_t>(producer_[static_cast<size_t>(id)]);
}

const std::vector<size_t>& UseIndex::consumers(ir::ValueId id) const {
  static const std::vector<size_t> kNone;
  if (id == ir::kNoValue || static_cast<size_t>(id) >= readers_.size()) return kNone;
  return readers_[static_cast<size_t>(id)];
}

std::optional<size_t> UseIndex::only_reader(const ir::Graph& g, ir::ValueId id) const {
  if (id == ir::kNoValue || g.is_graph_output(id)) return std::nullopt;
  const auto& readers = consumers(id);
  if (readers.size() != 1) return std::nullopt;
  const auto& ins = g.nodes()[readers[0]].inputs;
  if (std::count(ins.begin(), ins.end(), id) != 1) return std::nullopt;
  return readers[0];
}

void UseIndex::set_producer(ir::ValueId id, size_t node) {
  if (id == ir::kNoValue) return;
  if (static_cast<size_t>(id) >= producer_.size()) {
    producer_.resize(static_cast<size_t>(id) + 1, -1);
    readers_.resize(static_cast<size_t>(id) + 1);
  }
  producer_[static_cast<size_t>(id)] = static_cast<int64_t>(node);
}

const Tensor* constant_of(const ir::Graph& g, ir::ValueId id) {
  if (id == ir::kNoValue) return nullptr;
  const auto& v = g.value(id);
  return v.is_constant() ? &*v.constant : nullptr;
}

ir::ValueId input_or_none(const ir::Node& n, size_t index) {
  return index < n.inputs.size() ? n.inputs[index] : ir::kNoValue;
}

namespace {
template <typename Taken>
std::string first_free_name(const std::string& base, Taken taken) {
  if (!taken(base)) return base;
  for (int i = 2;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!taken(candidate)) return candidate;
  }
}
}  // namespace

std::string unique_value_name(const ir::Graph& g, const std::string& base) {
  return g.unique_value_name(base);
}

std::string unique_node_name(const ir::Graph& g, const std::string& base) {
  std::unordered_set<std::string> names;
  for (const auto& n : g.nodes()) names.insert(n.name);
  return first_free_name(base, [&](const std::string& s) { return names.count(s) != 0; });
}

void detach(ir::Node& n) {
  n.inputs.clear();
  n.outputs.clear();
}

void absorb_into_producer(ir::Graph& g, UseIndex& uses, size_t producer, size_t absorbed, ir::Node fused,
                          std::vector<bool>& erase) {
  uses.set_producer(fused.outputs[0], producer);
  g.nodes()[producer] = std::move(fused);
  detach(g.nodes()[absorbed]);
  erase[absorbed] = true;
}

void erase_nodes(ir::Graph& g, const std::vector<bool>& erase) {
  auto& nodes = g.nodes();
  std::vector<ir::Node> kept;
  kept.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    if (i >= erase.size() || !erase[i]) kept.push_back(std::move(nodes[i]));
  nodes = std::move(kept);
}

Status restore_invariants(ir::Graph& g, std::string_view pass) {
  // Sort before compacting: sorting checks every read has a writer, and compaction
  // relies on the node list being final.
  Status s = g.sort_topologically();
  if (!s.is_ok())
    return internal_error("pass " + std::string(pass) + " left a broken graph: " + s.message());
  g.compact();
  return Status::ok();
}

bool stackable_conv(const ir::Graph& g, const ir::Node& n) {
  if (n.op != ir::OpKind::kConv || n.inputs.empty() || n.outputs.size() != 1) return false;
  if (n.attrs.get_int("group", 1) != 1 || input_or_none(n, 3) != ir::kNoValue) return false;
  const Tensor* w = constant_of(g, input_or_none(n, 1));
  if (!w || w->dtype() != DataType::kFloat32 || w->shape().size() != 4) return false;
  const ir::ValueId b = input_or_none(n, 2);
  const Tensor* bias = constant_of(g, b);
  if (b != ir::kNoValue && (!bias || bias->dtype() != DataType::kFloat32 || bias->size() != w->shape()[0]))
    return false;
  const Shape& out = g.value(n.outputs[0]).shape;
  return out.size() == 4 && out[1] == w->shape()[0];
}

namespace {
// Copies OIHW `src` into output channels [first, first + O) of `dst` ([*, C, kh, kw]), each
// kernel `top` rows and `left` columns into the larger window.
void embed_kernels(const Tensor& src, Tensor& dst, int64_t first, int64_t top, int64_t left) {
  const Shape& s = src.shape();
  const int64_t kh = dst.shape()[2], kw = dst.shape()[3];
  const float* from = src.data<float>();
  float* to = dst.data<float>();
  if (s[2] == kh && s[3] == kw) {  // the same window: one block
    std::memcpy(to + first * s[1] * kh * kw, from, src.byte_size());
    return;
  }
  for (int64_t oc = 0; oc < s[0] * s[1]; ++oc)  // (output, input) channel pairs, in order
    for (int64_t r = 0; r < s[2]; ++r)
      std::memcpy(to + ((first * s[1] + oc) * kh + top + r) * kw + left, from + (oc * s[2] + r) * s[3],
                  static_cast<size_t>(s[3]) * sizeof(float));
}
}  // namespace

std::pair<Tensor, std::optional<Tensor>> stacked_conv_parameters(const ir::Graph& g,
                                                                 const std::vector<const ir::Node*>& convs, int64_t kh,
                                                                 int64_t kw) {
  int64_t out_channels = 0;
  bool any_bias = false;
  for (const ir::Node* c : convs) {
    out_channels += constant_of(g, c->inputs[1])->shape()[0];
    any_bias = any_bias || input_or_none(*c, 2) != ir::kNoValue;
  }
  const int64_t in_channels = constant_of(g, convs[0]->inputs[1])->shape()[1];
  Tensor w(DataType::kFloat32, {out_channels, in_channels, kh, kw});  // zero-filled
  std::optional<Tensor> b;
  if (any_bias) b.emplace(DataType::kFloat32, Shape{out_channels});
  int64_t first = 0;
  for (const ir::Node* c : convs) {
    const Tensor& cw = *constant_of(g, c->inputs[1]);
    embed_kernels(cw, w, first, (kh - cw.shape()[2]) / 2, (kw - cw.shape()[3]) / 2);
    if (const Tensor* cb = constant_of(g, input_or_none(*c, 2)))
      std::memcpy(b->data<float>() + first, cb->raw(), cb->byte_size());
    first += cw.shape()[0];
  }
  return {std::move(w), std::move(b)};
}

std::string merged_names(const std::vector<const ir::Node*>& convs) {
  std::string names;
  for (const ir::Node* c : convs) names += (names.empty() ? "" : "||") + c->name;
  return names;
}

std::string value_label(const ir::Graph& g, ir::ValueId id) {
  const auto& v = g.value(id);
  return v.name + to_string(v.shape);
}

}  // namespace inferd::passes
