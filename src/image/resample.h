// Antialiased bilinear resampling exactly as Pillow's Image.resize(size, BILINEAR)
// computes it on 8-bit images (bit-identical output), fused with the crop, the
// per-channel normalisation and the HWC -> CHW transpose. Internal to the image module:
// callers use preprocess.h.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace inferd::image {

// Filter weights are fixed point with this many fraction bits: 8-bit pixels times
// weights summing to ~1 plus the rounding half stay below 2^31 (Pillow's PRECISION_BITS).
inline constexpr int kWeightFractionBits = 32 - 8 - 2;

// The filter taps of one axis for a run of consecutive output positions.
struct AxisTaps {
  std::vector<int> first;         // first source index read by output i
  std::vector<int> count;         // number of source indices read by output i
  std::vector<int32_t> weights;   // `stride` per output, the first count[i] used; fixed point
                                  // (kWeightFractionBits), summing to about 1 << those bits
  int stride = 0;
  int source_begin = 0, source_end = 0;  // every source index any output reads
};

// The part of a source axis that is resized: [begin, begin + extent) in pixel units.
// Normally [0, in_size) (Pillow's default box); fractional for DCT-scaled JPEGs: 1546
// pixels at 1/4 decode to 387 pixels of which the last holds only half a block, so the
// image spans 386.5 of them (starting at 0.5 when EXIF orientation reversed that axis).
struct SourceSpan {
  double begin = 0, extent = 0;
};

// Taps of outputs [out_begin, out_begin + out_count) of an axis of in_size pixels whose
// span is resized to out_size, with Pillow's triangle filter (libImaging/Resample.c,
// precompute_coeffs with the span as `box`, then the 8-bit fixed-point conversion):
// scale = extent / out, the filter is stretched by max(scale, 1) when shrinking
// (antialiasing), output i is centred on source coordinate begin + (i + 0.5) * scale - 0.5,
// taps outside [0, in_size) are dropped and the rest renormalised. Every double operation
// is Pillow's, in Pillow's order, so the weights of output out_begin + i are exactly those
// of a full-size resize: computing only a crop changes nothing. Zero end taps are trimmed.
AxisTaps triangle_taps(int in_size, SourceSpan span, int out_size, int out_begin, int out_count);

// Output plane c holds source channel source_channel[c], mapped v -> v * gain[c] + bias[c].
struct PlaneMap {
  std::array<int, 3> source_channel{0, 1, 2};
  std::array<float, 3> gain{1, 1, 1};
  std::array<float, 3> bias{0, 0, 0};
};

// Writes 3 planes of y.first.size() rows x x.first.size() columns. Pillow's two passes
// and roundings: the horizontal filter runs once per source row that the vertical taps
// read, rounding and clipping to 8 bits into a buffer of those rows x the output width;
// each output row is then filtered vertically from that buffer, rounded and clipped to 8
// bits, mapped and scattered into the planes. The resized full image is never made.
void resample_to_planes(const Image& image, const AxisTaps& x, const AxisTaps& y,
                        const PlaneMap& map, float* out_chw);

}  // namespace inferd::image
