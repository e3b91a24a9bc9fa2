// Issue 16's accuracy bar on any backend: the real SqueezeNet 1.1 (models/squeezenet)
// calibrated for INT8 on 100 images of the shared ImageNet sample (every image whose sorted
// index mod 10 is 0-2, up to 100) and evaluated on the other 234, against its FP32 plan on the
// same backend and against the ground truth. Callers check the shared assets first
// (test::missing_assets({kOrtPredictionsFile})). Uses the calibrator and the builder: a suite
// calling it links inferd_server and inferd_builder.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"

namespace inferd::test {

struct Int8Evaluation {
  size_t activations = 0, int8 = 0, uint8 = 0;  // the calibration table's entries (int8: quantized, FP8 too)
  size_t int8_layers = 0;                       // layers of the INT8 plan that run with an INT8 input
  size_t images = 0;                            // evaluated
  size_t agree = 0;                             // INT8 top-1 == FP32 top-1
  size_t right_fp32 = 0, right_int8 = 0;        // top-1 == ground truth
  double percent(size_t count) const { return images ? 100.0 * double(count) / double(images) : 0.0; }
};

// Both plans built for `backend` ("cpu", "cuda"): the FP32 one in fp32, the INT8 one with the
// calibration (entropy, mixed precision at 97 % agreement) and its float layers in
// `precision` ("fp32", "fp16"); each layer INT8 or float by the backend's clock, or INT8
// wherever the backend has a kernel (`every_layer_int8`).
// `e4m3`: an FP8 calibration instead (max, layers in E4M3 and float: core/fp8.h).
Result<Int8Evaluation> evaluate_squeezenet_int8(const std::string& backend, const std::string& precision,
                                                bool every_layer_int8 = false, bool e4m3 = false);

}  // namespace inferd::test
