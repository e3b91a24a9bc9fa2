#include "passes/qdq_folding.h"

#include <cmath>

#include "core/fp8.h"
#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

struct QuantParams {
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int64_t axis = 1;
  DataType dtype = DataType::kInt8;
  bool operator==(const QuantParams&) const = default;
};

QuantParams params_of(const ir::Node& n) {
  QuantParams p;
  if (auto it = n.attrs.all().find("scales"); it != n.attrs.all().end())
    if (const auto* v = std::get_if<std::vector<float>>(&it->second)) p.scales = *v;
  p.zero_points = n.attrs.get_ints("zero_points");
  p.axis = p.scales.size() > 1 ? n.attrs.get_int("axis", 1) : 0;
  p.dtype = static_cast<DataType>(n.attrs.get_int("dtype", static_cast<int64_t>(DataType::kInt8)));
  return p;
}

double quantized_value(const Tensor& q, size_t i) {
  switch (q.dtype()) {
    case DataType::kInt8: return q.data<int8_t>()[i];
    case DataType::kUint8: return q.data<uint8_t>()[i];
    case DataType::kFloat8E4m3:
      return e4m3_to_float(q.data<uint8_t>()[i]);  // zero point 0 (the importer's check)
    default: return static_cast<double>(q.data<int64_t>()[i]);
  }
}

// (q - zero_point) * scale, the parameters per slice along `axis` when there are several.
Tensor dequantized(const Tensor& q, const QuantParams& p) {
  Tensor out(DataType::kFloat32, q.shape(), Tensor::Uninitialized{});
  const Shape& s = q.shape();
  // Shape inference checked the axis against the rank; a negative one counts from the end.
  const auto axis = static_cast<size_t>(p.axis < 0 ? p.axis + static_cast<int64_t>(s.size()) : p.axis);
  int64_t inner = 1;
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  const int64_t channels = p.scales.size() > 1 ? s[axis] : 1;
  for (size_t i = 0; i < static_cast<size_t>(q.size()); ++i) {
    const size_t k = p.scales.size() > 1 ? static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels) : 0;
    out.data<float>()[i] =
        static_cast<float>((quantized_value(q, i) - static_cast<double>(p.zero_points[k])) * p.scales[k]);
  }
  return out;
}

// The DequantizeLinear nodes reading Q's output, when they are all its readers, share Q's
// parameters and Q's output is not a graph output; else why not.
Result<std::vector<size_t>> matching_dequantizers(const ir::Graph& g, const UseIndex& index, size_t q) {
  const ir::Node& n = g.nodes()[q];
  const ir::ValueId out = n.outputs[0];
  if (g.is_graph_output(out)) return unimplemented(describe(g, n) + ": an int8 graph output (dequantize it)");
  std::vector<size_t> readers = index.consumers(out);
  for (size_t r : readers) {
    const ir::Node& dq = g.nodes()[r];
    if (dq.op != ir::OpKind::kDequantizeLinear)
      return unimplemented(describe(g, n) + ": its int8 output is read by " + describe(g, dq) +
                           " (only DequantizeLinear may read it)");
    if (!(params_of(dq) == params_of(n)))
      return unimplemented(describe(g, n) + " and " + describe(g, dq) + " quantize with different parameters");
  }
  return readers;
}

}  // namespace

Result<PassResult> QdqFolding::run(ir::Graph& g, const PassContext&) const {
  PassResult result;
  UseIndex index(g);
  std::vector<bool> erase(g.nodes().size(), false);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (erase[i]) continue;  // a DequantizeLinear folded with its QuantizeLinear
    ir::Node& n = g.nodes()[i];
    if (n.op == ir::OpKind::kDequantizeLinear) {
      const Tensor* q = constant_of(g, n.inputs[0]);
      if (q == nullptr) continue;  // read from a QuantizeLinear: handled with it
      const ir::ValueId weights = g.add_constant(unique_value_name(g, g.value(n.outputs[0]).name + "_dequantized"),
                                                 dequantized(*q, params_of(n)));
      g.replace_uses(n.outputs[0], weights);
      detach(n);
      erase[i] = true;
      result.changes.push_back("dequantized constant " + g.value(weights).name);
    } else if (n.op == ir::OpKind::kQuantizeLinear) {
      const QuantParams p = params_of(n);
      if (p.scales.size() != 1) return unimplemented(describe(g, n) + ": per-channel quantization of an activation");
      ASSIGN_OR_RETURN(std::vector<size_t> readers, matching_dequantizers(g, index, i));
      // One FakeQuantize in Q's place, writing the float value every DQ's readers read: a
      // DQ's output that is a graph output (its name must survive), else Q's own.
      ir::ValueId out = n.outputs[0];
      for (size_t r : readers)
        if (g.is_graph_output(g.nodes()[r].outputs[0])) out = g.nodes()[r].outputs[0];
      n.outputs[0] = out;
      g.value(out).dtype = g.value(n.inputs[0]).dtype;
      for (size_t r : readers) {
        if (g.nodes()[r].outputs[0] != out) g.replace_uses(g.nodes()[r].outputs[0], out);
        detach(g.nodes()[r]);
        erase[r] = true;
      }
      const bool uint8 = p.dtype == DataType::kUint8;
      n.op = ir::OpKind::kFakeQuantize;
      n.attrs = {};
      n.attrs.set("scale", p.scales[0]);
      if (p.dtype == DataType::kFloat8E4m3) {
        n.attrs.set("format", std::string("e4m3"));  // saturating, as the importer requires
      } else {
        n.attrs.set("zero_point", p.zero_points[0]);
        n.attrs.set("qmin", int64_t{uint8 ? 0 : -128});
        n.attrs.set("qmax", int64_t{uint8 ? 255 : 127});
      }
      result.changes.push_back("fake-quantized " + g.value(out).name + " (" + std::to_string(readers.size()) +
                               " DequantizeLinear folded)");
    }
  }
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    if (erase[i]) continue;
    if (n.op == ir::OpKind::kDequantizeLinear)
      return unimplemented(describe(g, n) + ": dequantizes a computed int8 tensor that no QuantizeLinear made");
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
