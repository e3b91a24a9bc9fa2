#include "builder/qdq_export.h"

#include <cmath>
#include <map>
#include <set>

#include "import/onnx/onnx_tensor.h"
#include "onnx.pb.h"

namespace inferd {
namespace {

constexpr int64_t kMinOpset = 13;     // DequantizeLinear's per-channel axis
constexpr int64_t kFp8Opset = 19;     // Q/DQ of FLOAT8E4M3FN
constexpr int64_t kFp8IrVersion = 9;  // the IR version that has the float8 types

struct Exporter {
  onnx::ModelProto model;
  std::string name;
  std::map<std::string, const CalibrationTable::Entry*> entries;
  std::map<std::string, onnx::TensorProto*> initializers;
  std::map<std::string, float> activation_scale;  // of the activations quantized so far
  std::set<std::string> weights_done;
  // The nodes added, placed at the end: weight and bias DQs (reading initializers) in front
  // of the graph's nodes, an activation's Q and DQ right after the node producing it.
  std::vector<onnx::NodeProto> front;
  std::map<std::string, std::vector<onnx::NodeProto>> after;
  std::vector<std::string> lines;
  std::set<std::string> float_layers, float_layers_seen;  // config.toml's quantization.float_layers

  Status run();
  Status quantize_layer(onnx::NodeProto& node, ir::OpKind op);
  std::string quantized_activation(const std::string& x, const CalibrationTable::Entry& e);
  Result<std::vector<float>> quantize_weights(onnx::NodeProto& node, ir::OpKind op, bool e4m3);
  void use_fp8_opset();
  Status quantize_bias(onnx::NodeProto& node, float x_scale, const std::vector<float>& w_scales);
  static onnx::NodeProto make_node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                                   int64_t axis = 0, bool has_axis = false);
  Status order_nodes();
  void drop_unread_initializers();
  onnx::TensorProto& add_initializer(const std::string& tensor, int type, std::vector<int64_t> dims);
};

// A node's name, or its first output's where it has none (converted Caffe models).
std::string layer_name(const onnx::NodeProto& n) { return !n.name().empty() || n.output_size() == 0 ? n.name() : n.output(0); }

int64_t int_attr(const onnx::NodeProto& n, const std::string& attr, int64_t fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == attr) return a.i();
  return fallback;
}

onnx::NodeProto Exporter::make_node(const std::string& op, std::vector<std::string> inputs, const std::string& output,
                                   int64_t axis, bool has_axis) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(output + "_node");
  for (auto& i : inputs) n.add_input(i);
  n.add_output(output);
  if (has_axis) {
    auto* a = n.add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  return n;
}

onnx::TensorProto& Exporter::add_initializer(const std::string& tensor, int type, std::vector<int64_t> dims) {
  onnx::TensorProto* t = model.mutable_graph()->add_initializer();
  t->set_name(tensor);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  initializers[tensor] = t;
  return *t;
}

int zero_point_type(const CalibrationTable::Entry& e) {
  if (e.is_e4m3()) return onnx_import::kOnnxFloat8E4m3fn;
  return e.is_unsigned() ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8;
}

// x -> Q -> DQ once per activation, whichever layers read it; returns the DQ output's name.
std::string Exporter::quantized_activation(const std::string& x, const CalibrationTable::Entry& e) {
  const std::string dq = x + "_DequantizeLinear_Output";
  if (activation_scale.count(x)) return dq;
  const float scale = e.threshold > 0 ? e.scale() : 1.0f;
  add_initializer(x + "_scale", onnx::TensorProto::FLOAT, {}).add_float_data(scale);
  add_initializer(x + "_zero_point", zero_point_type(e), {}).add_int32_data(0);  // float8: its bits, 0
  after[x].push_back(make_node("QuantizeLinear", {x, x + "_scale", x + "_zero_point"}, x + "_QuantizeLinear_Output"));
  after[x].push_back(make_node("DequantizeLinear", {x + "_QuantizeLinear_Output", x + "_scale", x + "_zero_point"}, dq));
  activation_scale[x] = scale;
  lines.push_back(x + ": " + std::string(e.kind()) + " scale " + std::to_string(scale));
  return dq;
}

// W -> int8 levels (E4M3 codes for an FP8 layer) + per-channel scales -> DQ; the layer
// reads the DQ. Returns the scales.
Result<std::vector<float>> Exporter::quantize_weights(onnx::NodeProto& node, ir::OpKind op, bool e4m3) {
  const std::string w = node.input(1);
  const auto it = initializers.find(w);
  if (it == initializers.end())
    return unimplemented("node '" + layer_name(node) + "': its weights '" + w + "' are not an initializer");
  ASSIGN_OR_RETURN(const Tensor weights, onnx_import::read_tensor(*it->second, "initializer '" + w + "'", ""));
  if (weights.dtype() != DataType::kFloat32 || weights.shape().size() < 2)
    return unimplemented("node '" + layer_name(node) + "': weights '" + w + "' are not a float matrix or filter");
  const int axis = quantized_weight_axis(op, int_attr(node, "transB", 0), int_attr(node, "group", 1));
  std::vector<float> scales;
  std::string codes;  // one byte per element (int32_data would take a varint each)
  if (e4m3) {
    const E4m3Weights q = e4m3_weights(weights.data<float>(), weights.shape(), axis);
    scales = q.scales;
    codes.assign(q.codes.begin(), q.codes.end());
  } else {
    const Int8Weights q = int8_weights(weights.data<float>(), weights.shape(), axis);
    scales = q.scales;
    codes.assign(q.levels.begin(), q.levels.end());
  }
  // A weight read by several layers is written once: all of one kind, as a table is all
  // INT8 or all FP8 (CalibrationTable::check_kind).
  const std::string quantized = w + "_quantized";
  if (weights_done.insert(w).second) {
    const int type = e4m3 ? onnx_import::kOnnxFloat8E4m3fn : onnx::TensorProto::INT8;
    add_initializer(quantized, type, weights.shape()).set_raw_data(codes);
    const std::vector<int64_t> per_channel =
        axis < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(scales.size())};
    onnx::TensorProto& scale = add_initializer(w + "_scale", onnx::TensorProto::FLOAT, per_channel);
    for (float v : scales) scale.add_float_data(v);
    onnx::TensorProto& zero = add_initializer(w + "_zero_point", type, per_channel);
    for (size_t c = 0; c < scales.size(); ++c) zero.add_int32_data(0);
    front.push_back(make_node("DequantizeLinear", {quantized, w + "_scale", w + "_zero_point"},
                              w + "_DequantizeLinear_Output", axis, axis >= 0));
  }
  node.set_input(1, w + "_DequantizeLinear_Output");
  return scales;
}

// A Conv's or Gemm's bias as int32 on the grid x_scale x w_scale[c] (what an INT8 kernel
// accumulates in); ConvTranspose's and a per-tensor weight's bias stay float.
Status Exporter::quantize_bias(onnx::NodeProto& node, float x_scale, const std::vector<float>& w_scales) {
  if (node.input_size() < 3 || node.input(2).empty() || w_scales.size() < 2) return Status::ok();
  const std::string b = node.input(2);
  const auto it = initializers.find(b);
  if (it == initializers.end()) return Status::ok();
  ASSIGN_OR_RETURN(const Tensor bias, onnx_import::read_tensor(*it->second, "initializer '" + b + "'", ""));
  if (bias.dtype() != DataType::kFloat32 || bias.shape().size() != 1 ||
      bias.size() != static_cast<int64_t>(w_scales.size()))
    return Status::ok();
  const std::string tag = b + "_" + layer_name(node);  // one bias may serve layers of different input scales
  onnx::TensorProto& levels = add_initializer(tag + "_quantized", onnx::TensorProto::INT32, bias.shape());
  onnx::TensorProto& scales = add_initializer(tag + "_scale", onnx::TensorProto::FLOAT, bias.shape());
  onnx::TensorProto& zero = add_initializer(tag + "_zero_point", onnx::TensorProto::INT32, bias.shape());
  std::string raw;  // little-endian int32, as ONNX's raw_data
  for (size_t c = 0; c < w_scales.size(); ++c) {
    const float scale = x_scale * w_scales[c];
    const auto level = static_cast<int32_t>(std::nearbyint(bias.data<float>()[c] / scale));
    for (int byte = 0; byte < 4; ++byte) raw.push_back(static_cast<char>((static_cast<uint32_t>(level) >> (8 * byte)) & 0xff));
    scales.add_float_data(scale);
    zero.add_int32_data(0);
  }
  levels.set_raw_data(raw);
  front.push_back(make_node("DequantizeLinear", {tag + "_quantized", tag + "_scale", tag + "_zero_point"},
                            tag + "_DequantizeLinear_Output", 0, true));
  node.set_input(2, tag + "_DequantizeLinear_Output");
  return Status::ok();
}

Status Exporter::quantize_layer(onnx::NodeProto& node, ir::OpKind op) {
  if (node.input_size() < 2) return Status::ok();
  const std::string x = node.input(0);
  if (initializers.count(x)) return Status::ok();  // a constant input: not an activation
  const auto it = entries.find(x);
  if (it == entries.end())
    return invalid_argument("the calibration table has no entry for '" + x + "', the input of node '" + layer_name(node) +
                            "': it was made for another model (calibrate again)");
  if (!it->second->int8) {
    lines.push_back(layer_name(node) + ": float (its input's quantization error was too large: mixed precision)");
    return Status::ok();
  }
  if (float_layers.count(layer_name(node))) {
    float_layers_seen.insert(layer_name(node));
    lines.push_back(layer_name(node) + ": float (quantization.float_layers)");
    return Status::ok();
  }
  const bool e4m3 = it->second->is_e4m3();
  if (e4m3) use_fp8_opset();
  node.set_input(0, quantized_activation(x, *it->second));
  ASSIGN_OR_RETURN(const std::vector<float> w_scales, quantize_weights(node, op, e4m3));
  // FP8 layers accumulate in float: their biases stay float, as FP8 recipes keep them.
  if (op != ir::OpKind::kConvTranspose && !e4m3) RETURN_IF_ERROR(quantize_bias(node, activation_scale[x], w_scales));
  lines.push_back(layer_name(node) + (e4m3 ? ": e4m3 weights, " : ": int8 weights, ") +
                  std::to_string(w_scales.size()) + " channel scales");
  return Status::ok();
}

// FP8 Q/DQ needs opset 19. A model of an older opset (13 at least, the export's minimum)
// moves to it as it is: of the operators inferd imports (and so of any model it calibrated),
// none changed meaning from 13 to 19; the new attributes and inputs default to the old
// behaviour (BatchNormalization's training_mode, Reshape's allowzero, Shape's start/end,
// Pad's axes, AveragePool's dilations). The Reduce operators, whose axes became an input in
// opset 18, are not imported.
void Exporter::use_fp8_opset() {
  if (model.ir_version() < kFp8IrVersion) model.set_ir_version(kFp8IrVersion);
  for (auto& o : *model.mutable_opset_import())
    if ((o.domain().empty() || o.domain() == "ai.onnx") && o.version() < kFp8Opset) o.set_version(kFp8Opset);
}

Status Exporter::run() {
  int64_t opset = 0;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  if (opset < kMinOpset)
    return unimplemented("opset " + std::to_string(opset) + ": explicit per-channel quantization needs opset " +
                         std::to_string(kMinOpset) + " or newer (convert the model first)");
  for (auto& t : *model.mutable_graph()->mutable_initializer()) initializers[t.name()] = &t;
  for (auto& node : *model.mutable_graph()->mutable_node()) {
    const std::string& type = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx") continue;
    if (type == "Conv") RETURN_IF_ERROR(quantize_layer(node, ir::OpKind::kConv));
    if (type == "ConvTranspose") RETURN_IF_ERROR(quantize_layer(node, ir::OpKind::kConvTranspose));
    if (type == "Gemm") RETURN_IF_ERROR(quantize_layer(node, ir::OpKind::kGemm));
  }
  for (const std::string& layer : float_layers)
    if (!float_layers_seen.count(layer))
      return invalid_argument("quantization.float_layers names '" + layer +
                              "', which is no Conv, ConvTranspose or Gemm of the model");
  return order_nodes();
}

// The graph's nodes in order, with the added ones where they can be read: ONNX requires the
// node list sorted topologically.
Status Exporter::order_nodes() {
  auto* nodes = model.mutable_graph()->mutable_node();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> ordered;
  for (auto& n : front) *ordered.Add() = std::move(n);
  auto place_after = [&](const std::string& value) {
    const auto it = after.find(value);
    if (it == after.end()) return;
    for (auto& n : it->second) *ordered.Add() = std::move(n);
    after.erase(it);
  };
  for (const auto& input : model.graph().input()) place_after(input.name());
  for (auto& n : *nodes) {
    const std::vector<std::string> outputs(n.output().begin(), n.output().end());
    *ordered.Add() = std::move(n);
    for (const auto& o : outputs) place_after(o);
  }
  if (!after.empty())
    return internal_error("Q/DQ export: nothing produces '" + after.begin()->first + "', which a quantize node reads");
  nodes->Swap(&ordered);
  drop_unread_initializers();
  return Status::ok();
}

// The float weights and biases the DQs replaced: nothing reads them any more.
void Exporter::drop_unread_initializers() {
  std::set<std::string> read;
  for (const auto& n : model.graph().node())
    for (const auto& i : n.input()) read.insert(i);
  for (const auto& o : model.graph().output()) read.insert(o.name());
  auto* all = model.mutable_graph()->mutable_initializer();
  for (int i = all->size() - 1; i >= 0; --i)
    if (!read.count(all->Get(i).name())) all->DeleteSubrange(i, 1);
  initializers.clear();  // pointed into the field just edited
}

}  // namespace

Result<QdqExport> export_qdq_onnx(std::span<const uint8_t> onnx_bytes, const CalibrationTable& table,
                                  const std::string& name, const std::set<std::string>& float_layers) {
  Exporter e;
  e.name = name;
  e.float_layers = float_layers;
  if (onnx_bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !e.model.ParseFromArray(onnx_bytes.data(), static_cast<int>(onnx_bytes.size())))
    return data_loss(name + ": not a valid ONNX model");
  bool int8 = false, fp8 = false;
  for (const auto& entry : table.entries) {
    e.entries[entry.value] = &entry;
    if (entry.int8) (entry.is_e4m3() ? fp8 : int8) = true;
  }
  if (int8 && fp8) return invalid_argument(name + ": the calibration table mixes INT8 and FP8 entries");
  if (Status s = e.run(); !s.is_ok()) return s.with_context(name);
  QdqExport out;
  const std::string bytes = e.model.SerializeAsString();
  out.model.assign(bytes.begin(), bytes.end());
  out.lines = std::move(e.lines);
  return out;
}

}  // namespace inferd
