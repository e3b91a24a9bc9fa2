// A calibration written out as explicit quantization: the ONNX model with each calibrated
// activation and weight expressed as QuantizeLinear/DequantizeLinear, in the layout ONNX
// Runtime's static quantizer writes ("QDQ" format), so that any runtime that reads Q/DQ
// (ONNX Runtime, TensorRT, inferd itself) runs the INT8 model `inferd build --precision
// int8` would build:
//   activation x (int8 entry)   x -> QuantizeLinear(scale, zero point 0; uint8 for an
//                               entry measured non-negative, else int8) -> DequantizeLinear
//                               -> every Conv/ConvTranspose/Gemm that reads x as its input;
//   weights W of those layers   int8 initializer (symmetric, one scale per output channel:
//                               builder/calibration.h's grid) -> DequantizeLinear(axis);
//   bias B                      int32 initializer, scale = x's scale x W's channel scale
//                               -> DequantizeLinear (axis 0).
// An FP8 calibration (e4m3 entries) is written the same way in FLOAT8E4M3FN, as `inferd build
// --precision fp8` builds it: zero points 0 (E4M3 is symmetric), weights as E4M3 codes on
// per-channel scales max |w| / 448, biases left float; the model moves to opset 19 (IR 9),
// the first with float8 Q/DQ.
// An activation the calibration left in float (mixed precision) keeps its layers float.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "builder/calibration.h"
#include "core/status.h"

namespace inferd {

struct QdqExport {
  std::vector<uint8_t> model;      // the serialized ModelProto
  std::vector<std::string> lines;  // one per quantized activation and layer, for a report
};

// `onnx_bytes` is the model the table was measured on (its activations named as in the
// table); opset 13 or newer (per-channel DequantizeLinear). `name` prefixes errors. The
// layers named in `float_layers` (node names; config.toml's quantization.float_layers) stay
// float; a name that is no Conv, ConvTranspose or Gemm of the model is an error.
Result<QdqExport> export_qdq_onnx(std::span<const uint8_t> onnx_bytes, const CalibrationTable& table,
                                  const std::string& name, const std::set<std::string>& float_layers = {});

}  // namespace inferd
