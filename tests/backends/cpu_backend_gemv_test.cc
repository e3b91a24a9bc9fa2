// The batch-1 GEMV of the CPU backend on each weights layout it reads: plain rows
// and oneDNN's blocked inner-product format (with N and K that are not multiples
// of the blocks, so the padded tails are exercised), against a plain double loop.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/dnnl_gemv.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

using dnnl::memory;

struct GemvCase {
  int64_t n, k;
};

// y[j * stride] = relu(W x + b) in double, W row-major [N, K].
std::vector<float> expected(const Tensor& w, const Tensor& x, const Tensor& b, int64_t n, int64_t k) {
  std::vector<float> y(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    double acc = b.floats()[j];
    for (int64_t i = 0; i < k; ++i) acc += static_cast<double>(w.floats()[j * k + i]) * x.floats()[i];
    y[j] = static_cast<float>(std::max(acc, 0.0));
  }
  return y;
}

void check_layout(const memory::desc& want, const GemvCase& c) {
  const Tensor w = random_tensor({c.n, c.k}, 1), x = random_tensor({c.k}, 2), b = random_tensor({c.n}, 3);
  const memory::desc plain({c.n, c.k}, memory::data_type::f32, memory::format_tag::oi);
  const cpu::PackedTensor packed = cpu::pack_tensor(plain, w.data<float>(), want);
  const std::optional<cpu::GemvLayout> layout = cpu::gemv_layout_of(want);
  ASSERT_TRUE(layout.has_value());
  const cpu::Activation relu{{dnnl::algorithm::eltwise_relu, 0.0f, 0.0f}};
  constexpr int64_t kStride = 3;  // a strided output row: every third float
  std::vector<float> y(static_cast<size_t>(c.n * kStride), -7.0f);
  cpu::gemv(*layout, packed.buffer->data(), x.data<float>(), b.data<float>(), relu, y.data(), kStride);
  const std::vector<float> want_y = expected(w, x, b, c.n, c.k);
  for (int64_t j = 0; j < c.n; ++j) {
    ASSERT_NEAR(y[j * kStride], want_y[j], 1e-4f * std::max(1.0f, std::fabs(want_y[j]))) << "output " << j;
    ASSERT_EQ(y[j * kStride + 1], -7.0f) << "wrote between outputs " << j << " and " << j + 1;
    ASSERT_EQ(y[j * kStride + 2], -7.0f) << "wrote between outputs " << j << " and " << j + 1;
  }
}

TEST(CpuGemv, PlainRows) {
  for (GemvCase c : {GemvCase{1, 1}, GemvCase{3, 17}, GemvCase{8, 64}, GemvCase{37, 300}}) {
    SCOPED_TRACE(std::to_string(c.n) + "x" + std::to_string(c.k));
    check_layout(memory::desc({c.n, c.k}, memory::data_type::f32, memory::format_tag::oi), c);
  }
}

// Whatever oneDNN's inner product packs weights as on this CPU (blocked BA16b64a on
// AVX-512); shapes with tails in both dims.
TEST(CpuGemv, InnerProductFormat) {
  for (GemvCase c : {GemvCase{100, 50}, GemvCase{70, 2048}, GemvCase{16, 16}, GemvCase{1000, 33}}) {
    SCOPED_TRACE(std::to_string(c.n) + "x" + std::to_string(c.k));
    const memory::desc src({8, c.k}, memory::data_type::f32, memory::format_tag::nc);
    const memory::desc weights({c.n, c.k}, memory::data_type::f32, memory::format_tag::any);
    const memory::desc dst({8, c.n}, memory::data_type::f32, memory::format_tag::nc);
    const dnnl::inner_product_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, src, weights, dst}, cpu::cpu_engine());
    if (!cpu::gemv_layout_of(pd.weights_desc())) continue;  // packed plain instead: covered above
    check_layout(pd.weights_desc(), c);
  }
}

TEST(CpuGemv, RejectsFormatsItCannotRead) {
  const memory::desc column_major({8, 4}, memory::data_type::f32, memory::format_tag::io);
  EXPECT_FALSE(cpu::gemv_layout_of(column_major).has_value());
}

}  // namespace
}  // namespace inferd::test
