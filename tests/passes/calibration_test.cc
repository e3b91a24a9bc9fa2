// INT8 calibration's parts (builder/calibration.h): the threshold methods on known
// distributions, the table's text form, and the rewrite of a graph.
#include "builder/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "core/fp8.h"
#include "passes/fixtures.h"

namespace inferd {
namespace {

ActivationHistogram histogram_of(const std::vector<float>& values) {
  ActivationHistogram h;
  h.observe_max(values);
  h.add(values);
  return h;
}

// Each weight of `w` ([M, ...]) over its output channel's scale max|w| / `grid_max`, with
// that channel: the levels a per-channel grid ending at `grid_max` puts them on.
std::vector<std::pair<int64_t, float>> channel_levels(const Tensor& w, float grid_max) {
  std::vector<std::pair<int64_t, float>> levels;
  const int64_t per_channel = w.size() / w.shape()[0];
  for (int64_t m = 0; m < w.shape()[0]; ++m) {
    float max_abs = 0;
    const float* channel = w.data<float>() + m * per_channel;
    for (int64_t i = 0; i < per_channel; ++i) max_abs = std::max(max_abs, std::abs(channel[i]));
    for (int64_t i = 0; i < per_channel; ++i) levels.push_back({m, channel[i] / (max_abs / grid_max)});
  }
  return levels;
}

TEST(Calibration, PercentileKeepsThatShareOfTheValues) {
  std::vector<float> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i % 2 ? float(i) : -float(i));  // |x| uniform on 0..999
  const ActivationHistogram h = histogram_of(v);
  EXPECT_FLOAT_EQ(h.max_abs(), 999.0f);
  // 50 % of the values are 0..499: the threshold is the upper edge of the bin holding 499.
  EXPECT_NEAR(calibration_threshold(h, "percentile", 50.0).value(), 499.5f, 2 * h.bin_width());
  EXPECT_NEAR(calibration_threshold(h, "percentile", 90.0).value(), 899.5f, 2 * h.bin_width());
  EXPECT_FLOAT_EQ(calibration_threshold(h, "max", 0).value(), 999.0f);
}

TEST(Calibration, EntropyClipsRareOutliers) {
  // A normal distribution and ten values far out: max |x| says 100, the information is
  // within a few sigma.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(200000);
  for (float& x : v) x = normal(rng);
  for (int i = 0; i < 10; ++i) v.push_back(100.0f);
  const ActivationHistogram h = histogram_of(v);
  const float t = calibration_threshold(h, "entropy", 0).value();
  EXPECT_GT(t, 2.0f);
  EXPECT_LT(t, 20.0f);
}

TEST(Calibration, TheHistogramKnowsWhetherValuesAreNonNegative) {
  EXPECT_TRUE(histogram_of({0.0f, 3.0f, 0.5f}).non_negative());
  EXPECT_FALSE(histogram_of({0.0f, 3.0f, -0.001f}).non_negative());
  // Entropy on a uint8 grid (256 levels) never clips more than on the int8 one (128).
  std::mt19937 rng(11);
  std::exponential_distribution<float> tail(1.0f);
  std::vector<float> v(100000);
  for (float& x : v) x = tail(rng);
  const ActivationHistogram h = histogram_of(v);
  EXPECT_GE(calibration_threshold(h, "entropy", 0, 256).value(), calibration_threshold(h, "entropy", 0, 128).value());
}

TEST(Calibration, DegenerateAndBadRequestsAreHandled) {
  EXPECT_FLOAT_EQ(calibration_threshold(histogram_of({0.0f, 0.0f}), "entropy", 0).value(), 1.0f);
  const ActivationHistogram h = histogram_of({1.0f, -2.0f});
  EXPECT_NE(calibration_threshold(h, "minmax", 0).status().message().find("entropy, percentile or max"),
            std::string::npos);
  EXPECT_FALSE(calibration_threshold(h, "percentile", 0.0).is_ok());
  EXPECT_FALSE(calibration_threshold(h, "percentile", 101.0).is_ok());
}

TEST(Calibration, TableTextRoundTripsAndBadTextIsRefused) {
  CalibrationTable t;
  t.method = "percentile";
  t.entries = {{"data", 2.5f}, {"fire2/concat 1", 0.125f, false}, {"relu", 6.0f, true, CalibrationTable::Grid::kUint8}};
  const auto back = CalibrationTable::parse(t.to_text(), "x.calib");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->method, "percentile");
  ASSERT_EQ(back->entries.size(), 3u);
  EXPECT_FALSE(back->entries[0].is_unsigned());
  EXPECT_TRUE(back->entries[2].int8 && back->entries[2].is_unsigned());
  EXPECT_FLOAT_EQ(back->entries[2].scale(), 6.0f / 255.0f);
  EXPECT_EQ(back->entries[1].value, "fire2/concat 1");
  EXPECT_FLOAT_EQ(back->entries[1].threshold, 0.125f);
  EXPECT_TRUE(back->entries[0].int8);
  EXPECT_FALSE(back->entries[1].int8);
  EXPECT_NE(CalibrationTable::parse("garbage\n", "x.calib").status().message().find("not an inferd calibration"),
            std::string::npos);
  EXPECT_NE(CalibrationTable::parse("inferd-calibration 1 entropy\nint8 abc data\n", "x.calib")
                .status()
                .message()
                .find("line 2"),
            std::string::npos);
  EXPECT_FALSE(CalibrationTable::parse("inferd-calibration 1 entropy\nint8 -1 data\n", "x.calib").is_ok());
  EXPECT_FALSE(CalibrationTable::parse("inferd-calibration 1 entropy\nint4 1 data\n", "x.calib").is_ok());
  EXPECT_FALSE(CalibrationTable::parse("inferd-calibration 1 guess\n", "x.calib").is_ok());
  // Version 1 tables (before uint8) are still read; uint8 lines only from version 2.
  EXPECT_TRUE(CalibrationTable::parse("inferd-calibration 1 entropy\nint8 1 data\n", "x.calib").is_ok());
  EXPECT_FALSE(CalibrationTable::parse("inferd-calibration 1 entropy\nuint8 1 data\n", "x.calib").is_ok());
  // e4m3 lines only from version 3; version 4 does not exist.
  EXPECT_FALSE(CalibrationTable::parse("inferd-calibration 2 max\ne4m3 1 data\n", "x.calib").is_ok());
  EXPECT_FALSE(CalibrationTable::parse("inferd-calibration 4 entropy\n", "x.calib").is_ok());
}

TEST(Calibration, Fp8EntriesRoundTripAndAreNotTakenForInt8) {
  CalibrationTable t{
      "max",
      {{"data", 4.48f, true, CalibrationTable::Grid::kE4m3}, {"relu", 1.0f, false, CalibrationTable::Grid::kE4m3}}};
  const auto back = CalibrationTable::parse(t.to_text(), "x.calib");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_TRUE(back->entries[0].is_e4m3() && back->entries[0].int8);
  EXPECT_FLOAT_EQ(back->entries[0].scale(), 0.01f);  // the threshold onto 448
  EXPECT_FALSE(back->entries[1].int8);               // a float entry is neither
  EXPECT_TRUE(back->check_kind(true, "x.calib").is_ok());
  const Status wrong = back->check_kind(false, "x.calib");
  EXPECT_NE(wrong.message().find("x.calib holds an FP8 calibration and the build is INT8"), std::string::npos)
      << wrong.message();
  const CalibrationTable int8{"entropy", {{"data", 1.0f}}};
  EXPECT_FALSE(int8.check_kind(true, "y.calib").is_ok());
  EXPECT_TRUE(int8.check_kind(false, "y.calib").is_ok());
}

// An E4M3 entry: one FakeQuantize with format e4m3 (no integer grid attributes), and the
// layers' weights on per-channel E4M3 grids (max|w| onto 448).
TEST(Calibration, ApplyRoundsFp8LayersInputsAndWeightsToE4m3) {
  test::GraphBuilder b("fp8");
  const ir::ValueId x = b.input("data", {1, 4, 6, 6});
  b.output(b.conv("a", x, 8, 3, 1, 1));
  ir::Graph g = b.finish();
  CalibrationTable t{"max", {{"data", 8.96f, true, CalibrationTable::Grid::kE4m3}}};
  std::vector<std::string> report;
  ASSERT_TRUE(apply_calibration(g, t, &report).is_ok());
  ASSERT_EQ(report.size(), 1u);
  EXPECT_NE(report[0].find("data: e4m3"), std::string::npos) << report[0];
  int quantizers = 0;
  for (const ir::Node& n : g.nodes()) {
    if (n.op == ir::OpKind::kFakeQuantize) {
      ++quantizers;
      EXPECT_EQ(n.attrs.get_string("format", ""), "e4m3");
      EXPECT_FLOAT_EQ(n.attrs.get_float("scale", 0), 0.02f);
      EXPECT_FALSE(n.attrs.has("qmin") || n.attrs.has("zero_point"));
    }
    if (n.op != ir::OpKind::kConv) continue;
    EXPECT_EQ(g.value(n.inputs[0]).name, "data_e4m3");
    for (const auto& [m, level] : channel_levels(*g.value(n.inputs[1]).constant, kE4m3Max))
      EXPECT_NEAR(level, round_to_e4m3(level), 1e-4f * std::max(1.0f, std::fabs(level))) << "channel " << m;
  }
  EXPECT_EQ(quantizers, 1);
}

TEST(Calibration, ApplyQuantizesLayerInputsOnceAndWeightsPerChannel) {
  test::GraphBuilder b("calibrated");
  const ir::ValueId x = b.input("data", {1, 4, 6, 6});
  const ir::ValueId a = b.conv("a", x, 8, 3, 1, 1);
  const ir::ValueId c = b.conv("c", x, 8, 1);  // the same input: one FakeQuantize for both
  b.output(b.add("sum", a, c));
  ir::Graph g = b.finish();
  CalibrationTable t{"entropy", {{"data", 12.7f}}};
  std::vector<std::string> report;
  ASSERT_TRUE(apply_calibration(g, t, &report).is_ok());
  ASSERT_EQ(report.size(), 1u);
  int quantizers = 0;
  for (const ir::Node& n : g.nodes()) {
    if (n.op == ir::OpKind::kFakeQuantize) {
      ++quantizers;
      EXPECT_EQ(n.inputs[0], *g.find_value("data"));
      EXPECT_FLOAT_EQ(n.attrs.get_float("scale", 0), 0.1f);
      EXPECT_EQ(n.attrs.get_int("qmin", 0), -128);
    }
    if (n.op != ir::OpKind::kConv) continue;
    EXPECT_EQ(g.value(n.inputs[0]).name, "data_int8");
    for (const auto& [m, q] : channel_levels(*g.value(n.inputs[1]).constant, 127.0f))
      EXPECT_NEAR(q, std::nearbyint(q), 1e-3f) << n.name << " channel " << m;
  }
  EXPECT_EQ(quantizers, 1);
}

TEST(Calibration, AFloatEntryLeavesItsLayersInFloatingPoint) {
  test::GraphBuilder b("mixed");
  const ir::ValueId x = b.input("data", {1, 4, 6, 6});
  const ir::ValueId a = b.relu("a_relu", b.conv("a", x, 8, 3, 1, 1));
  b.output(b.conv("b", a, 8, 1));
  ir::Graph g = b.finish();
  const Tensor a_weights = *g.value(g.nodes()[0].inputs[1]).constant;
  const Status applied = apply_calibration(
      g, CalibrationTable{"entropy",
                          {{"data", 4.0f, false}, {"a_relu_out", 2.55f, true, CalibrationTable::Grid::kUint8}}});
  ASSERT_TRUE(applied.is_ok()) << applied.message();
  int quantizers = 0;
  for (const ir::Node& n : g.nodes()) {
    quantizers += n.op == ir::OpKind::kFakeQuantize;
    if (n.name == "a") {
      EXPECT_EQ(n.inputs[0], *g.find_value("data"));  // read unquantized
      const Tensor& w = *g.value(n.inputs[1]).constant;
      EXPECT_TRUE(std::equal(w.floats().begin(), w.floats().end(), a_weights.floats().begin()));
    }
    if (n.name == "b") {
      EXPECT_EQ(g.value(n.inputs[0]).name, "a_relu_out_int8");
    }
    if (n.op == ir::OpKind::kFakeQuantize) {  // a ReLU's output: the uint8 grid 0..255
      EXPECT_FLOAT_EQ(n.attrs.get_float("scale", 0), 0.01f);
      EXPECT_EQ(n.attrs.get_int("qmin", -1), 0);
      EXPECT_EQ(n.attrs.get_int("qmax", 0), 255);
    }
  }
  EXPECT_EQ(quantizers, 1);
}

// config.toml's quantization.float_layers: a pinned layer keeps its float input and weights
// while another reader of the same activation is quantized; a name that is no layer is refused.
TEST(Calibration, PinnedLayersStayFloat) {
  const auto graph = [] {
    test::GraphBuilder b("pinned");
    const ir::ValueId x = b.input("data", {1, 4, 6, 6});
    b.output(b.conv("kept", x, 8, 3, 1, 1));
    b.output(b.conv("pinned", x, 8, 1));
    return b.finish();
  };
  ir::Graph g = graph();
  const Tensor pinned_weights = *g.value(g.nodes()[1].inputs[1]).constant;
  const CalibrationTable table{"entropy", {{"data", 4.0f}}};
  std::vector<std::string> report;
  const Status applied = apply_calibration(g, table, &report, {"pinned"});
  ASSERT_TRUE(applied.is_ok()) << applied.message();
  for (const ir::Node& n : g.nodes()) {
    if (n.name == "kept") {
      EXPECT_EQ(g.value(n.inputs[0]).name, "data_int8");
    }
    if (n.name == "pinned") {
      EXPECT_EQ(n.inputs[0], *g.find_value("data"));
      const Tensor& w = *g.value(n.inputs[1]).constant;
      EXPECT_TRUE(std::equal(w.floats().begin(), w.floats().end(), pinned_weights.floats().begin()));
    }
  }
  ir::Graph all_pinned = graph();
  report.clear();
  ASSERT_TRUE(apply_calibration(all_pinned, table, &report, {"kept", "pinned"}).is_ok());
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0], "data: float (its layers are in quantization.float_layers)");
  for (const ir::Node& n : all_pinned.nodes()) EXPECT_NE(n.op, ir::OpKind::kFakeQuantize);

  ir::Graph typo = graph();
  const Status s = apply_calibration(typo, table, nullptr, {"pinnned"});
  EXPECT_NE(s.message().find("quantization.float_layers names 'pinnned', which is no Conv, ConvTranspose or Gemm"),
            std::string::npos)
      << s.message();
}

TEST(Calibration, ATableOfAnotherModelIsRefused) {
  test::GraphBuilder b("other");
  b.output(b.conv("conv", b.input("pixels", {1, 3, 4, 4}), 4, 1));
  ir::Graph g = b.finish();
  const Status s = apply_calibration(g, CalibrationTable{"entropy", {{"data", 1.0f}}});
  EXPECT_NE(s.message().find("no entry for 'pixels'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace inferd
