#include "builder/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "core/fp8.h"
#include "core/quantize.h"

namespace inferd {
namespace {

bool quantized_layer(const ir::Node& n) {
  return n.op == ir::OpKind::kConv || n.op == ir::OpKind::kConvTranspose || n.op == ir::OpKind::kGemm;
}

// KL(P || Q) of the first `kept` bins, the bins above folded into the last one (P), against
// those bins quantized to `levels` levels and expanded back over their non-empty bins (Q).
double clipping_divergence(const std::vector<double>& bins, int kept, int levels) {
  std::vector<double> p(bins.begin(), bins.begin() + kept), q(static_cast<size_t>(kept), 0.0);
  double outliers = 0;
  for (size_t i = static_cast<size_t>(kept); i < bins.size(); ++i) outliers += bins[i];
  const double per_level = static_cast<double>(kept) / levels;
  for (int level = 0; level < levels; ++level) {
    const int start = static_cast<int>(std::floor(level * per_level));
    const int end = level == levels - 1 ? kept : static_cast<int>(std::floor((level + 1) * per_level));
    double total = 0;
    int filled = 0;
    for (int k = start; k < end; ++k) {
      total += p[static_cast<size_t>(k)];
      filled += p[static_cast<size_t>(k)] > 0;
    }
    for (int k = start; k < end && filled > 0; ++k)
      if (p[static_cast<size_t>(k)] > 0) q[static_cast<size_t>(k)] = total / filled;
  }
  p.back() += outliers;
  double p_sum = 0, q_sum = 0;
  for (size_t k = 0; k < p.size(); ++k) p_sum += p[k], q_sum += q[k];
  if (p_sum <= 0 || q_sum <= 0) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    if (p[k] <= 0) continue;
    const double pk = p[k] / p_sum, qk = std::max(q[k] / q_sum, 1e-12);  // outliers in an empty last bin
    kl += pk * std::log(pk / qk);
  }
  return kl;
}

float entropy_threshold(const ActivationHistogram& h, int levels) {
  // The first bin holds every exact zero (half of a ReLU's outputs): merged with its
  // neighbours into the first quantization level, that spike would dominate the divergence
  // of every wide candidate and push the choice toward heavy clipping (SqueezeNet's top-1
  // agreement with FP32 fell to 56 %). It counts as its neighbour does, as NVIDIA's
  // pytorch-quantization does it.
  std::vector<double> bins = h.bins();
  bins[0] = bins[1];
  int best = kCalibrationBins;
  double best_kl = std::numeric_limits<double>::infinity();
  for (int kept = levels; kept <= kCalibrationBins; ++kept) {
    const double kl = clipping_divergence(bins, kept, levels);
    if (kl < best_kl) best_kl = kl, best = kept;
  }
  return static_cast<float>(best) * h.bin_width();
}

float percentile_threshold(const ActivationHistogram& h, double percentile) {
  double total = 0;
  for (double b : h.bins()) total += b;
  const double wanted = total * percentile / 100.0;
  double seen = 0;
  for (int i = 0; i < kCalibrationBins; ++i) {
    seen += h.bins()[static_cast<size_t>(i)];
    if (seen >= wanted) return static_cast<float>(i + 1) * h.bin_width();
  }
  return h.max_abs();
}

// Replaces the constant weights of `n` by their int8 grid values, one scale per output
// channel: Conv [M, C/g, kH, kW] and Gemm's B ([N, K] with transB, else [K, N]) per M / N;
// ConvTranspose [C, M/g, kH, kW] per M when group = 1, else per tensor.
// With `e4m3`, onto per-channel FP8 E4M3 grids instead (scale max|w| / 448).
void quantize_weights(ir::Graph& g, const ir::Node& n, bool e4m3) {
  if (n.inputs.size() < 2 || n.inputs[1] == ir::kNoValue || !g.value(n.inputs[1]).is_constant()) return;
  Tensor& w = *g.value(n.inputs[1]).constant;
  if (w.dtype() != DataType::kFloat32 || w.shape().size() < 2) return;
  const int axis = quantized_weight_axis(n.op, n.attrs.get_int("transB", 0), n.attrs.get_int("group", 1));
  float* v = w.data<float>();
  if (e4m3) {
    const E4m3Weights q = e4m3_weights(v, w.shape(), axis);
    for (int64_t i = 0; i < w.size(); ++i)
      v[i] = e4m3_to_float(q.codes[static_cast<size_t>(i)]) * q.scales[q.channel_of(i)];
    return;
  }
  const Int8Weights q = int8_weights(v, w.shape(), axis);
  for (int64_t i = 0; i < w.size(); ++i) v[i] = q.levels[static_cast<size_t>(i)] * q.scales[q.channel_of(i)];
}

}  // namespace

int quantized_weight_axis(ir::OpKind op, int64_t trans_b, int64_t group) {
  if (op == ir::OpKind::kGemm && trans_b == 0) return 1;  // B is [K, N]
  if (op == ir::OpKind::kConvTranspose) return group == 1 ? 1 : -1;  // [C_in, C_out / group, ...]
  return 0;
}

WeightChannels weight_channels(const Shape& shape, int axis) {
  WeightChannels c;
  c.channels = axis < 0 ? 1 : shape[static_cast<size_t>(axis)];
  c.inner = axis < 0 ? element_count(shape) : 1;
  for (size_t d = static_cast<size_t>(std::max(axis, 0)) + 1; axis >= 0 && d < shape.size(); ++d) c.inner *= shape[d];
  return c;
}

Int8Weights int8_weights(const float* w, const Shape& shape, int axis) {
  Int8Weights q;
  static_cast<WeightChannels&>(q) = weight_channels(shape, axis);
  const int64_t size = element_count(shape);
  q.scales = int8_axis_scales(w, size, q.channels, q.inner);
  q.levels.resize(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i)
    q.levels[static_cast<size_t>(i)] = static_cast<int8_t>(quantized_level(w[i], q.scales[q.channel_of(i)], -127, 127));
  return q;
}

E4m3Weights e4m3_weights(const float* w, const Shape& shape, int axis) {
  E4m3Weights q;
  static_cast<WeightChannels&>(q) = weight_channels(shape, axis);
  const int64_t size = element_count(shape);
  const std::vector<float> max_abs = axis_max_abs(w, size, q.channels, q.inner);
  for (float m : max_abs) q.scales.push_back(e4m3_scale(m));
  q.codes.resize(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) q.codes[static_cast<size_t>(i)] = e4m3_code(w[i] / q.scales[q.channel_of(i)]);
  return q;
}

std::string CalibrationTable::to_text() const {
  std::ostringstream os;
  os << "inferd-calibration 3 " << method << "\n";
  char number[32];
  for (const Entry& e : entries) {
    std::snprintf(number, sizeof number, "%.9g", static_cast<double>(e.threshold));
    os << e.kind() << " " << number << " " << e.value << "\n";
  }
  return os.str();
}

Status CalibrationTable::check_kind(bool e4m3, const std::string& origin) const {
  for (const Entry& e : entries)
    if (e.int8 && e.is_e4m3() != e4m3)
      return failed_precondition(origin + " holds an " + (e.is_e4m3() ? "FP8" : "INT8") +
                                 " calibration and the build is " + (e4m3 ? "FP8" : "INT8") +
                                 ": calibrate again with --precision " + (e4m3 ? "fp8" : "int8") +
                                 " (docs/quantization.md)");
  return Status::ok();
}

Result<CalibrationTable> CalibrationTable::parse(std::string_view text, const std::string& origin) {
  std::istringstream in{std::string(text)};
  std::string line;
  CalibrationTable t;
  int version = 0;
  if (!std::getline(in, line) || std::sscanf(line.c_str(), "inferd-calibration %d", &version) != 1 || version < 1 ||
      version > 3)
    return data_loss(origin + ": not an inferd calibration table (version 1 to 3); delete it to calibrate again");
  t.method = line.substr(line.rfind(' ') + 1);
  if (t.method != "entropy" && t.method != "percentile" && t.method != "max")
    return data_loss(origin + ": unknown calibration method '" + t.method + "'");
  for (int number = 2; std::getline(in, line); ++number) {
    const size_t first = line.find(' '), second = first == std::string::npos ? first : line.find(' ', first + 1);
    const std::string kind = line.substr(0, first);
    char* end = nullptr;
    const float threshold = second == std::string::npos ? 0.0f : std::strtof(line.c_str() + first + 1, &end);
    const bool known =
        kind == "int8" || kind == "float" || (kind == "uint8" && version >= 2) || (kind == "e4m3" && version >= 3);
    if (!known || second == std::string::npos || end != line.c_str() + second || !(threshold >= 0) ||
        std::isinf(threshold) || second + 1 >= line.size())
      return data_loss(origin + ": line " + std::to_string(number) +
                       " is not '<int8|uint8|e4m3|float> <threshold> <value name>'");
    using Grid = CalibrationTable::Grid;
    const Grid grid = kind == "uint8" ? Grid::kUint8 : kind == "e4m3" ? Grid::kE4m3 : Grid::kInt8;
    t.entries.push_back({line.substr(second + 1), threshold, kind != "float", grid});
  }
  return t;
}

void ActivationHistogram::observe_max(std::span<const float> values) {
  for (float v : values) max_abs_ = std::max(max_abs_, std::abs(v)), min_ = std::min(min_, v);
}

void ActivationHistogram::add(std::span<const float> values) {
  if (max_abs_ <= 0) return;
  const float per_bin = kCalibrationBins / max_abs_;
  for (float v : values) {
    const auto bin = static_cast<int64_t>(std::abs(v) * per_bin);
    bins_[static_cast<size_t>(std::clamp<int64_t>(bin, 0, kCalibrationBins - 1))] += 1.0;
  }
}

Result<float> calibration_threshold(const ActivationHistogram& h, std::string_view method, double percentile,
                                    int levels) {
  if (h.max_abs() <= 0) return 1.0f;  // all zeros: any scale represents them exactly
  if (method == "max") return h.max_abs();
  if (method == "entropy") return entropy_threshold(h, levels);
  if (method == "percentile") {
    if (!(percentile > 0 && percentile <= 100)) return invalid_argument("the percentile must be in (0, 100]");
    return percentile_threshold(h, percentile);
  }
  return invalid_argument("unknown calibration method '" + std::string(method) + "' (entropy, percentile or max)");
}

std::vector<ir::ValueId> calibration_targets(const ir::Graph& g) {
  std::vector<ir::ValueId> out;
  std::set<ir::ValueId> seen;
  for (const ir::Node& n : g.nodes()) {
    if (!quantized_layer(n) || n.inputs.empty() || n.inputs[0] == ir::kNoValue) continue;
    const ir::ValueId x = n.inputs[0];
    if (!g.value(x).is_constant() && seen.insert(x).second) out.push_back(x);
  }
  return out;
}

namespace {

// The indices of the layers `names` pins to float; a name that is no quantized layer of `g` is
// an error (a typo must not silently leave the layer INT8).
Result<std::set<size_t>> pinned_layers(const ir::Graph& g, const std::set<std::string>& names) {
  std::set<size_t> pinned;
  std::set<std::string> found;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    if (quantized_layer(g.nodes()[i]) && names.count(g.nodes()[i].name)) {
      pinned.insert(i);
      found.insert(g.nodes()[i].name);
    }
  for (const std::string& name : names)
    if (!found.count(name))
      return invalid_argument("quantization.float_layers names '" + name +
                              "', which is no Conv, ConvTranspose or Gemm of the model");
  return pinned;
}

}  // namespace

Status apply_calibration(ir::Graph& g, const CalibrationTable& table, std::vector<std::string>* report,
                         const std::set<std::string>& float_layer_names) {
  std::map<std::string, const CalibrationTable::Entry*> entries;
  for (const auto& e : table.entries) entries[e.value] = &e;
  // Readers of activations left in floating point, and the layers pinned to it.
  ASSIGN_OR_RETURN(std::set<size_t> float_layers, pinned_layers(g, float_layer_names));
  std::set<size_t> e4m3_layers;  // the layers reading an FP8 activation: their weights go on E4M3 grids
  for (ir::ValueId x : calibration_targets(g)) {
    const std::string name = g.value(x).name;  // copied: add_value may move the values
    const auto it = entries.find(name);
    if (it == entries.end())
      return invalid_argument("the calibration table has no entry for '" + name +
                              "': it was made for another model (calibrate again)");
    const float threshold = it->second->threshold;
    std::vector<size_t> readers;  // the quantized layers reading x as their input
    for (size_t c : g.consumers(x))
      if (quantized_layer(g.nodes()[c]) && g.nodes()[c].inputs[0] == x) readers.push_back(c);
    if (!it->second->int8) {
      float_layers.insert(readers.begin(), readers.end());
      if (report) report->push_back(name + ": float (its quantization error was too large: mixed precision)");
      continue;
    }
    std::erase_if(readers, [&](size_t c) { return float_layers.count(c) > 0; });
    if (readers.empty()) {
      if (report) report->push_back(name + ": float (its layers are in quantization.float_layers)");
      continue;
    }
    const bool is_unsigned = it->second->is_unsigned(), e4m3 = it->second->is_e4m3();
    if (e4m3) e4m3_layers.insert(readers.begin(), readers.end());
    const float scale = threshold > 0 ? it->second->scale() : 1.0f;
    ir::Value q = g.value(x);
    q.name = g.unique_value_name(name + (e4m3 ? "_e4m3" : "_int8"));
    q.constant.reset();
    const ir::ValueId qx = g.add_value(std::move(q));
    for (size_t c : readers) g.nodes()[c].inputs[0] = qx;
    ir::Node fq;
    fq.name = name + "_quantize";
    fq.op = ir::OpKind::kFakeQuantize;
    fq.inputs = {x};
    fq.outputs = {qx};
    fq.attrs.set("scale", scale);
    if (e4m3) {
      fq.attrs.set("format", std::string("e4m3"));
    } else {
      fq.attrs.set("zero_point", int64_t{0});
      fq.attrs.set("qmin", int64_t{is_unsigned ? 0 : -128});
      fq.attrs.set("qmax", int64_t{is_unsigned ? 255 : 127});
    }
    g.add_node(std::move(fq));
    if (report)
      report->push_back(name + ": " + std::string(it->second->kind()) + ", threshold " + std::to_string(threshold) +
                        ", scale " + std::to_string(scale));
  }
  std::set<ir::ValueId> weights;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    if (quantized_layer(n) && !float_layers.count(i) && n.inputs.size() > 1 && weights.insert(n.inputs[1]).second)
      quantize_weights(g, n, e4m3_layers.count(i) > 0);
  }
  return g.sort_topologically();
}

}  // namespace inferd
