// INT8 and FP8 calibration (implicit quantization, as TensorRT's legacy calibrators): the activation
// range each quantized layer's input saturates at, chosen from that activation's values over
// a set of calibration images, and the rewrite that makes a graph compute with those ranges.
//
// What is quantized: the input X of every Conv, ConvTranspose and Gemm (symmetric, one
// scale per tensor, zero point 0: uint8 0..255 where every calibration value was >= 0, as
// after a ReLU, int8 -127..127 otherwise) and those layers' weights (symmetric int8, one scale per
// output channel, max |w| / 127). apply_calibration() expresses both in the graph: each
// calibrated activation gets one FakeQuantize node that its quantized readers read instead,
// and the weights are replaced by their int8 grid values, exactly (round half to even, as
// QuantizeLinear). The numerics are an INT8 engine's up to the accumulation (float here,
// int32 there); they run today on the reference and CPU kernels, which is what makes the
// accuracy of a calibration measurable before INT8 kernels exist.
//
// FP8 (entries marked e4m3, precision "fp8"): the same rewrite with the FakeQuantize rounding
// to E4M3 (scale = threshold / 448, symmetric) and the weights on per-channel E4M3 grids
// (max |w| / 448); docs/quantization.md, "FP8".
//
// Thresholds (the |x| a tensor saturates at; scale = threshold / 127) from a histogram of
// |x| in kCalibrationBins bins over [0, max |x|]:
//   "entropy"    the threshold whose 128-level quantization of the histogram loses the least
//                information (KL divergence), as TensorRT's IInt8EntropyCalibrator2 does;
//   "percentile" the smallest threshold that keeps `percentile` % of the values unclipped;
//   "max"        max |x| (no clipping; outliers cost resolution).
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/fp8.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

inline constexpr int kCalibrationBins = 2048;

// A calibration's result, what `inferd build` caches next to a plan and reuses.
struct CalibrationTable {
  // The grid an activation is quantized onto: int8 -127..127; uint8 0..255 where every
  // calibration value was >= 0 (a ReLU's output: twice the resolution, and oneDNN's u8 x s8
  // VNNI format); FP8 E4M3 (precision "fp8": the threshold maps onto 448, E4M3's largest
  // value, and the layers' weights go on a per-channel E4M3 grid).
  enum class Grid { kInt8, kUint8, kE4m3 };
  struct Entry {
    std::string value;  // the activation's name in the imported graph
    float threshold = 0;
    // False: the layers reading this activation stay in floating point (mixed precision:
    // the calibration found their INT8 error too large); `grid` is kept for turning it on again.
    bool int8 = true;
    Grid grid = Grid::kInt8;
    bool is_unsigned() const { return grid == Grid::kUint8; }
    bool is_e4m3() const { return grid == Grid::kE4m3; }
    float scale() const { return threshold / (is_e4m3() ? kE4m3Max : is_unsigned() ? 255.0f : 127.0f); }
    // As the table's text names it: float, e4m3, uint8 or int8.
    std::string_view kind() const {
      if (!int8) return "float";
      if (is_e4m3()) return "e4m3";
      return is_unsigned() ? "uint8" : "int8";
    }
  };
  std::string method;  // entropy | percentile | max
  std::vector<Entry> entries;

  // Text, one entry per line: "inferd-calibration 3 <method>" then
  // "<int8|uint8|e4m3|float> <threshold> <name>" (versions 1, without uint8, and 2, without
  // e4m3, are still read).
  std::string to_text() const;
  // Refuses anything to_text() would not write, naming `origin` and the line.
  static Result<CalibrationTable> parse(std::string_view text, const std::string& origin);
  // Refuses, naming `origin`, a table whose quantized entries are not of the build's kind
  // (`e4m3`: an FP8 build, else INT8): a cached INT8 table must not make an FP8 plan.
  Status check_kind(bool e4m3, const std::string& origin) const;
};

// |x| of one activation over the calibration set: first the largest |x| (observe_max over
// every sample), then the histogram over [0, that max] (add over every sample again).
class ActivationHistogram {
 public:
  void observe_max(std::span<const float> values);
  void add(std::span<const float> values);
  float max_abs() const { return max_abs_; }
  bool non_negative() const { return min_ >= 0; }  // every observed value >= 0
  const std::vector<double>& bins() const { return bins_; }
  float bin_width() const { return max_abs_ / kCalibrationBins; }

 private:
  float max_abs_ = 0;
  float min_ = 0;
  std::vector<double> bins_ = std::vector<double>(kCalibrationBins, 0.0);
};

// The threshold `method` picks from `h` (see the file comment) for a grid of `levels`
// magnitudes (128 for int8, 256 for uint8); `percentile` in (0, 100] for "percentile". Unknown methods are an error
// naming the known ones.
Result<float> calibration_threshold(const ActivationHistogram& h, std::string_view method, double percentile,
                                    int levels = 128);

// Which output channel each element of a layer's weights belongs to, along one axis.
struct WeightChannels {
  int64_t channels = 1;  // along the output-channel axis (1: one scale for the tensor)
  int64_t inner = 1;     // elements after that axis: element i is in channel (i / inner) % channels
  size_t channel_of(int64_t i) const { return static_cast<size_t>((i / inner) % channels); }
};
// A layer's weights on the int8 grid calibration puts them on: symmetric, one scale per
// output channel (max |w| / 127; 1 for an all-zero channel), levels rounded half to even.
struct Int8Weights : WeightChannels {
  std::vector<float> scales;   // per channel
  std::vector<int8_t> levels;  // per element, in -127..127
};
// The same on per-channel FP8 E4M3 grids: scale max |w| / 448 (1 for an all-zero channel),
// codes of round_to_e4m3(w / scale) (core/fp8.h).
struct E4m3Weights : WeightChannels {
  std::vector<float> scales;   // per channel
  std::vector<uint8_t> codes;  // per element
};
// The axis of a quantized layer's weights that holds its output channels: 0 for Conv and
// Gemm with transB, 1 for Gemm without it ([K, N]) and for an ungrouped ConvTranspose;
// -1 (one scale) for a grouped ConvTranspose.
int quantized_weight_axis(ir::OpKind op, int64_t trans_b, int64_t group);
// The channels of weights shaped `shape` along `axis` (-1: the whole tensor is one).
WeightChannels weight_channels(const Shape& shape, int axis);
Int8Weights int8_weights(const float* w, const Shape& shape, int axis);
E4m3Weights e4m3_weights(const float* w, const Shape& shape, int axis);

// The activations a calibration measures: the non-constant X of every Conv, ConvTranspose
// and Gemm of `g`, each once, in node order.
std::vector<ir::ValueId> calibration_targets(const ir::Graph& g);

// Rewrites `g` (the imported graph the table was measured on) as described in the file
// comment, leaving as they are the layers of entries marked float and the layers named in
// `float_layers` (config.toml's quantization.float_layers: node names; one that is no Conv,
// ConvTranspose or Gemm of `g` is an error). Every target must have an entry (a table from
// another model is refused, naming the missing value); `report`, when given, gets one line
// per activation.
Status apply_calibration(ir::Graph& g, const CalibrationTable& table, std::vector<std::string>* report = nullptr,
                         const std::set<std::string>& float_layers = {});

}  // namespace inferd
