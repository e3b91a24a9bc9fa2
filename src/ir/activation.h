// The element-wise activations that an activation op computes on its own, or that a
// Conv/Gemm carries fused (attr "activation", ir/op.cc): decoded from attributes in
// this one place, and applied by one function that host and device code share, so
// that the reference kernels, the CPU backend and the CUDA backend cannot disagree.
#pragma once

#include <math.h>

#include <cstdint>
#include <limits>

#include "core/fp8.h"
#include "core/status.h"
#include "ir/graph.h"

#if defined(__CUDACC__)
#define INFERD_HOST_DEVICE __host__ __device__
#else
#define INFERD_HOST_DEVICE
#endif

namespace inferd::ir {

struct Activation {
  enum class Kind : uint8_t {
    kIdentity,
    kRelu,
    kClip,
    kLeakyRelu,
    kSigmoid,
    kHardSigmoid,
    kHardSwish,
    kTanh,
    kFakeQuantize,      // never fused: a standalone FakeQuantize on the elementwise kernels
    kFakeQuantizeE4m3,  // the same with format "e4m3": rounded to FP8 E4M3 instead of an integer grid
  };
  Kind kind = Kind::kIdentity;
  // LeakyRelu: alpha. HardSigmoid: alpha, beta. Clip: min, max (ONNX defaults: unbounded).
  // FakeQuantize: alpha = scale, [min, max] = [qmin - zero_point, qmax - zero_point];
  // with format "e4m3", alpha = scale alone.
  float alpha = 0, beta = 0;
  float min = -std::numeric_limits<float>::infinity(), max = std::numeric_limits<float>::infinity();

  bool is_identity() const { return kind == Kind::kIdentity; }
};

// The standalone activation op `op` (Relu, Clip, ...) with its own attributes; also
// FakeQuantize (scale, zero_point, qmin, qmax), which elementwise kernels apply as one.
Result<Activation> standalone_activation(OpKind op, const Attributes& attrs);
// Whether a FakeQuantize's attributes round to FP8 E4M3 (format "e4m3") rather than to an
// int8/uint8 grid (format absent or "int"): the INT8 passes leave those alone.
bool fake_quantizes_to_e4m3(const Attributes& attrs);
// The fused activation of Conv/Gemm (attr "activation", absent = identity). Its alpha/beta
// come from "activation_alpha"/"activation_beta" when set; otherwise from "alpha"/"beta"
// unless the op uses those names itself (Gemm: op_owns_alpha_beta), then ONNX's defaults.
Result<Activation> fused_activation(const Attributes& attrs, bool op_owns_alpha_beta);
// The OpKind an activation is named by in the IR (kIdentity for none).
OpKind op_kind_of(const Activation& act);

INFERD_HOST_DEVICE inline float apply_activation(const Activation& a, float x) {
  switch (a.kind) {
    case Activation::Kind::kIdentity:
      return x;
    case Activation::Kind::kRelu:
      return x > 0.0f ? x : 0.0f;
    case Activation::Kind::kClip:
      return fminf(fmaxf(x, a.min), a.max);
    case Activation::Kind::kLeakyRelu:
      return x >= 0.0f ? x : a.alpha * x;
    case Activation::Kind::kSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case Activation::Kind::kTanh:
      return tanhf(x);
    case Activation::Kind::kHardSigmoid:
      return fmaxf(0.0f, fminf(1.0f, a.alpha * x + a.beta));
    // ONNX HardSwish: x * HardSigmoid(x) with alpha = 1/6, beta = 0.5.
    case Activation::Kind::kHardSwish:
      return x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f));
    // core/quantize.h's quantized_level() times the scale: x / scale saturated, then rounded
    // half to even by adding and subtracting 1.5 * 2^23 (no library call, the same on a GPU).
    case Activation::Kind::kFakeQuantize: {
      const float level = fminf(fmaxf(x / a.alpha, a.min), a.max);
      return ((level + 12582912.0f) - 12582912.0f) * a.alpha;
    }
    case Activation::Kind::kFakeQuantizeE4m3:
      return round_to_e4m3(x / a.alpha) * a.alpha;
  }
  return x;
}

}  // namespace inferd::ir
