// FP8 E4M3 (the "fn" variant of the OCP FP8 formats, what sm_89/sm_90 tensor cores and
// cuDNN's CUDNN_DATA_FP8_E4M3 compute in): 1 sign, 4 exponent (bias 7), 3 mantissa bits, no
// infinities, largest finite 448, smallest normal 2^-6, subnormals in steps of 2^-9.
//
// round_to_e4m3() is the float that an FP8 conversion with saturation gives back (CUDA's
// __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3)): round to nearest, ties to even, and
// anything beyond 448 in magnitude saturated to +-448. Host and device code share it, with
// no library call, so that the reference kernels, the CPU backend and the CUDA kernels
// agree bit for bit. A NaN comes back as 448 with its sign (activations are finite).
#pragma once

#include <math.h>
#include <string.h>

#include <cstdint>

#if defined(__CUDACC__)
#define INFERD_FP8_HOST_DEVICE __host__ __device__
#else
#define INFERD_FP8_HOST_DEVICE
#endif

namespace inferd {

inline constexpr float kE4m3Max = 448.0f;

INFERD_FP8_HOST_DEVICE inline float round_to_e4m3(float v) {
  const float a = fminf(fabsf(v), kE4m3Max);
  float r;
  if (a < 0.015625f) {
    // Subnormal range (below 2^-6): multiples of 2^-9. Adding 1.5 * 2^14, whose ulp is
    // 2^-9, rounds to them, ties to even, in the default rounding mode.
    r = (a + 24576.0f) - 24576.0f;
  } else {
    // Normal range: keep 3 of float's 23 mantissa bits, ties to even; a carry out of the
    // mantissa steps the exponent up, as it should. a <= 448 has nothing above to saturate.
    uint32_t bits;
    memcpy(&bits, &a, sizeof bits);
    bits = (bits + 0x7FFFFu + ((bits >> 20) & 1u)) & 0xFFF00000u;
    memcpy(&r, &bits, sizeof r);
  }
  return copysignf(r, v);
}

// The value of an E4M3 code (ONNX's FLOAT8E4M3FN): bits 6-3 the exponent, 2-0 the mantissa.
// 0x7F and 0xFF are E4M3's only NaNs.
INFERD_FP8_HOST_DEVICE inline float e4m3_to_float(uint8_t code) {
  const int exponent = (code >> 3) & 0xF, mantissa = code & 0x7;
  float a;
  if (exponent == 0xF && mantissa == 0x7)
    a = NAN;
  else if (exponent == 0)
    a = ldexpf(static_cast<float>(mantissa), -9);  // subnormal: mantissa x 2^-9
  else
    a = ldexpf(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  return (code & 0x80) ? -a : a;
}

// The E4M3 code of round_to_e4m3(v): what a saturating conversion stores.
inline uint8_t e4m3_code(float v) {
  const float r = round_to_e4m3(v);
  const uint8_t sign = signbit(r) ? 0x80 : 0;
  const float a = fabsf(r);
  if (a < 0.015625f) return static_cast<uint8_t>(sign | static_cast<uint8_t>(a * 512.0f));  // subnormal or 0
  int exponent;
  const float fraction = frexpf(a, &exponent);  // a = fraction x 2^exponent, fraction in [0.5, 1)
  const auto mantissa = static_cast<uint8_t>((fraction * 2.0f - 1.0f) * 8.0f);
  return static_cast<uint8_t>(sign | ((exponent - 1 + 7) << 3) | mantissa);
}

// The per-tensor or per-channel FP8 scale that maps a largest magnitude onto 448 (1 for a
// tensor of zeros, which every scale represents).
inline float e4m3_scale(float max_abs) { return max_abs > 0 ? max_abs / kE4m3Max : 1.0f; }

}  // namespace inferd
