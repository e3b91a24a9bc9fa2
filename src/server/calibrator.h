// Measures an INT8 calibration (builder/calibration.h) for a model: its FP32 graph runs on the
// CPU backend over a folder of images, preprocessed as the model's config says, and every
// calibration target's values are histogrammed. What `inferd build --calibration DIR` runs.
#pragma once

#include <string>
#include <vector>

#include "builder/calibration.h"
#include "runtime/model_config.h"

namespace inferd {

struct CalibrationOptions {
  std::string images_dir;           // *.jpg, *.jpeg and *.png, taken in name order
  std::vector<std::string> images;  // or these files (images_dir is ignored then)
  std::string method = "entropy";   // entropy | percentile | max (FP8: percentile | max)
  bool e4m3 = false;                // FP8 E4M3 entries (precision "fp8") instead of int8/uint8
  double percentile = 99.99;
  int max_images = 0;  // 0: every image of the folder
  // Mixed precision: while the calibrated model's top-1 agrees with FP32 on fewer than this
  // share of the calibration images (the first 64), the activation whose quantization alone changes the
  // output most falls back to float (with the layers reading it). 0: everything INT8.
  double min_agreement = 0.97;
};

// `report`, when given, gets a line per fallback decision.
Result<CalibrationTable> calibrate_model(const ModelFolder& folder, const CalibrationOptions& options,
                                         std::vector<std::string>* report = nullptr);

}  // namespace inferd
