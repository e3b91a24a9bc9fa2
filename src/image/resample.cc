#include "image/resample.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace inferd::image {
namespace {

// The triangle ("tent") kernel of bilinear interpolation, support 1.
double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Horizontal pass over one source row: `taps.first.size()` RGB outputs as floats.
void filter_row(const uint8_t* src, const AxisTaps& taps, float* dst) {
  const size_t outputs = taps.first.size();
  for (size_t j = 0; j < outputs; ++j) {
    const uint8_t* p = src + size_t(taps.first[j]) * 3;
    const float* w = taps.weights.data() + j * size_t(taps.stride);
    const int n = taps.count[j];
    float r = 0, g = 0, b = 0;
    for (int k = 0; k < n; ++k, p += 3) {
      r += w[k] * p[0];
      g += w[k] * p[1];
      b += w[k] * p[2];
    }
    dst[j * 3 + 0] = r;
    dst[j * 3 + 1] = g;
    dst[j * 3 + 2] = b;
  }
}

}  // namespace

AxisTaps triangle_taps(int in_size, SourceSpan span, int out_size, int out_begin,
                       int out_count) {
  const double scale = span.extent / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support (1) stretched
  AxisTaps taps;
  taps.stride = int(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_count);
  taps.count.resize(out_count);
  taps.weights.assign(size_t(out_count) * taps.stride, 0.0f);
  taps.source_begin = in_size;
  std::vector<double> w(taps.stride);
  for (int i = 0; i < out_count; ++i) {
    const double center = span.begin + (out_begin + i + 0.5) * scale;
    // Truncation, then clamping, exactly as Pillow bounds the taps.
    int lo = std::max(0, int(center - support + 0.5));
    const int hi = std::min(in_size, int(center + support + 0.5));
    int n = std::min(hi - lo, taps.stride);
    double sum = 0;
    for (int k = 0; k < n; ++k) sum += w[k] = triangle((lo + k - center + 0.5) / filter_scale);
    int skip = 0;
    while (skip < n && w[skip] == 0.0) ++skip;
    while (n > skip && w[n - 1] == 0.0) --n;
    // sum > 0: the source pixel nearest the centre is always inside the support.
    float* out = taps.weights.data() + size_t(i) * taps.stride;
    for (int k = skip; k < n; ++k) out[k - skip] = float(w[k] / sum);
    lo += skip;
    taps.first[i] = lo;
    taps.count[i] = n - skip;
    taps.source_begin = std::min(taps.source_begin, lo);
    taps.source_end = std::max(taps.source_end, lo + n - skip);
  }
  return taps;
}

void resample_to_planes(const Image& image, const AxisTaps& x, const AxisTaps& y,
                        const PlaneMap& map, float* out_chw) {
  const size_t out_w = x.first.size(), out_h = y.first.size();
  const size_t row_floats = out_w * 3;
  const size_t src_stride = size_t(image.width) * 3;
  const int rows = y.source_end - y.source_begin;
  std::vector<float> filtered(size_t(std::max(rows, 0)) * row_floats);
  for (int r = 0; r < rows; ++r) {
    filter_row(image.rgb.data() + size_t(y.source_begin + r) * src_stride, x,
               filtered.data() + size_t(r) * row_floats);
  }
  std::vector<float> acc(row_floats);
  const size_t plane = out_w * out_h;
  for (size_t i = 0; i < out_h; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    const float* w = y.weights.data() + i * size_t(y.stride);
    const float* row = filtered.data() + size_t(y.first[i] - y.source_begin) * row_floats;
    for (int k = 0; k < y.count[i]; ++k, row += row_floats) {
      const float wk = w[k];
      for (size_t t = 0; t < row_floats; ++t) acc[t] += wk * row[t];
    }
    for (int c = 0; c < 3; ++c) {
      const float gain = map.gain[c], bias = map.bias[c];
      const float* src = acc.data() + map.source_channel[c];
      float* dst = out_chw + c * plane + i * out_w;
      for (size_t j = 0; j < out_w; ++j) dst[j] = src[j * 3] * gain + bias;
    }
  }
}

}  // namespace inferd::image
