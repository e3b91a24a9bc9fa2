#include "image/resample.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/target_clones.h"

namespace inferd::image {
namespace {

// The resampler runs once per request on the server: an AVX2 clone (chosen at load time by
// the CPU it runs on) has 32-bit vector multiplies, which plain x86-64 (SSE2) lacks.

// Added before the shift so that it rounds to nearest (halves up) instead of truncating.
constexpr int32_t kHalf = int32_t{1} << (kWeightFractionBits - 1);

// The triangle ("tent") kernel of bilinear interpolation, support 1.
double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// A weighted sum (with kHalf added) back to an 8-bit value: Pillow's clip8. Sums can leave
// 0..255 only by the weights' rounding, but clipping keeps that from wrapping. Branchless:
// a negative sum shifts to a negative value (arithmetic shift), clamped to 0 like Pillow's.
inline uint8_t clip8(int32_t sum) {
  return uint8_t(std::clamp(sum >> kWeightFractionBits, 0, 255));
}

// Weight as Pillow's 8-bit path stores it: the normalised double scaled to fixed point,
// rounded half away from zero (triangle weights are never negative). Rounding at most
// doubles a weight that is not rounded to 0, so the weights of an output sum to <= 2^23
// and 255 times that plus kHalf stays below 2^31: no sum can overflow.
int32_t to_fixed(double weight) {
  return int32_t(0.5 + weight * double(int32_t{1} << kWeightFractionBits));
}

// The six sums (R, G, B of rows p and q) of one horizontal output over n taps. kTaps > 0
// fixes n at compile time so the tap loop unrolls: 2 taps is every upscale (small photos,
// the common case) and 3 most mild downscales.
template <int kTaps>
[[gnu::always_inline]] inline void accumulate_taps(const uint8_t* p, const uint8_t* q, const int32_t* w, int n,
                                                   int32_t (&sum)[6]) {
  if constexpr (kTaps > 0) n = kTaps;
  for (int k = 0; k < n; ++k) {
    const int32_t wk = w[k];
    sum[0] += wk * p[3 * k + 0];
    sum[1] += wk * p[3 * k + 1];
    sum[2] += wk * p[3 * k + 2];
    sum[3] += wk * q[3 * k + 0];
    sum[4] += wk * q[3 * k + 1];
    sum[5] += wk * q[3 * k + 2];
  }
}

// Horizontal pass over two source rows (`src` and `src + src_stride`) at once, sharing
// the weight loads and loop overhead. Output j of each row is written planar: its R, G and
// B bytes at dst[j], dst[outputs + j] and dst[2 * outputs + j] (the second row at
// `row_bytes` further), so the vertical pass and the final mapping read contiguous bytes.
[[gnu::always_inline]] inline void filter_row_pair(const uint8_t* src, size_t src_stride, const AxisTaps& taps,
                                                   uint8_t* dst, size_t row_bytes) {
  const size_t outputs = taps.first.size();
  for (size_t j = 0; j < outputs; ++j) {
    const uint8_t* p = src + size_t(taps.first[j]) * 3;
    const uint8_t* q = p + src_stride;
    const int32_t* w = taps.weights.data() + j * size_t(taps.stride);
    const int n = taps.count[j];
    int32_t sum[6] = {kHalf, kHalf, kHalf, kHalf, kHalf, kHalf};
    if (n == 2) {
      accumulate_taps<2>(p, q, w, n, sum);
    } else if (n == 3) {
      accumulate_taps<3>(p, q, w, n, sum);
    } else {
      accumulate_taps<0>(p, q, w, n, sum);
    }
    for (int c = 0; c < 3; ++c) {
      dst[c * outputs + j] = clip8(sum[c]);
      dst[row_bytes + c * outputs + j] = clip8(sum[3 + c]);
    }
  }
}

// Vertical pass for one output row: the rounded 8-bit RGB values of `rows` (count rows of
// `row_bytes`, `row_bytes` apart) weighted by w.
[[gnu::always_inline]] inline void filter_column(const uint8_t* rows, size_t row_bytes, const int32_t* w, int count,
                                                 int32_t* acc, uint8_t* dst) {
  std::fill(acc, acc + row_bytes, kHalf);
  for (int k = 0; k < count; ++k, rows += row_bytes) {
    const int32_t wk = w[k];
    for (size_t t = 0; t < row_bytes; ++t) acc[t] += wk * int32_t(rows[t]);
  }
  for (size_t t = 0; t < row_bytes; ++t) dst[t] = clip8(acc[t]);
}

}  // namespace

AxisTaps triangle_taps(int in_size, SourceSpan span, int out_size, int out_begin, int out_count) {
  // Pillow's expressions, operation for operation: the weights must round the same way.
  // A compiler fusing a * b + c into an FMA (-mfma) changes none of them: the centre's
  // addend is 0 on a full-size span and the fixed-point scale is a power of two.
  const double scale = span.extent / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support (1) stretched
  const double inverse_filter_scale = 1.0 / filter_scale;
  AxisTaps taps;
  taps.stride = int(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_count);
  taps.count.resize(out_count);
  taps.weights.assign(size_t(out_count) * taps.stride, 0);
  taps.source_begin = in_size;
  std::vector<double> w(taps.stride);
  for (int i = 0; i < out_count; ++i) {
    const double center = span.begin + (out_begin + i + 0.5) * scale;
    // Truncation, then clamping, exactly as Pillow bounds the taps.
    int lo = std::max(0, int(center - support + 0.5));
    const int hi = std::min(in_size, int(center + support + 0.5));
    int n = std::min(hi - lo, taps.stride);
    double sum = 0;
    for (int k = 0; k < n; ++k) {
      sum += w[k] = triangle((lo + k - center + 0.5) * inverse_filter_scale);
    }
    // sum > 0: the source pixel nearest the centre is always inside the support.
    int32_t* out = taps.weights.data() + size_t(i) * taps.stride;
    for (int k = 0; k < n; ++k) out[k] = to_fixed(w[k] / sum);
    int skip = 0;  // zero taps at either end read pixels for nothing
    while (skip < n && out[skip] == 0) ++skip;
    while (n > skip && out[n - 1] == 0) --n;
    std::copy(out + skip, out + n, out);
    std::fill(out + (n - skip), out + taps.stride, 0);
    lo += skip;
    taps.first[i] = lo;
    taps.count[i] = n - skip;
    taps.source_begin = std::min(taps.source_begin, lo);
    taps.source_end = std::max(taps.source_end, lo + n - skip);
  }
  return taps;
}

INFERD_TARGET_CLONES("arch=x86-64-v3", "default")
void resample_to_planes(const Image& image, const AxisTaps& x, const AxisTaps& y, const PlaneMap& map, float* out_chw) {
  const size_t out_w = x.first.size(), out_h = y.first.size();
  const size_t row_bytes = out_w * 3;
  const size_t src_stride = size_t(image.width) * 3;
  const int rows = y.source_end - y.source_begin;
  std::vector<uint8_t> filtered(size_t(std::max(rows, 0)) * row_bytes);
  for (int r = 0; r < rows; r += 2) {
    // An odd last row is its own pair (stride 0), both results written to the same place.
    const bool pair = r + 1 < rows;
    filter_row_pair(image.rgb.data() + size_t(y.source_begin + r) * src_stride, pair ? src_stride : 0, x,
                    filtered.data() + size_t(r) * row_bytes, pair ? row_bytes : 0);
  }
  std::vector<int32_t> acc(row_bytes);
  std::vector<uint8_t> pixels(row_bytes);
  const size_t plane = out_w * out_h;
  for (size_t i = 0; i < out_h; ++i) {
    filter_column(filtered.data() + size_t(y.first[i] - y.source_begin) * row_bytes, row_bytes,
                  y.weights.data() + i * size_t(y.stride), y.count[i], acc.data(), pixels.data());
    // pixels holds the row's three planes; v * gain + bias is the same float expression,
    // value for value, whichever order or vector width computes it.
    for (int c = 0; c < 3; ++c) {
      const uint8_t* src = pixels.data() + size_t(map.source_channel[c]) * out_w;
      const float gain = map.gain[c], bias = map.bias[c];
      float* dst = out_chw + c * plane + i * out_w;
      for (size_t j = 0; j < out_w; ++j) dst[j] = float(src[j]) * gain + bias;
    }
  }
}

}  // namespace inferd::image
