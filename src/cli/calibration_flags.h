// The INT8 calibration flags `inferd build` and `inferd quantize` share, and the table they
// describe: reused from its cache file when that exists, else measured on the images and
// written there (docs/quantization.md).
#pragma once

#include <memory>
#include <string>

#include "builder/calibration.h"
#include "cli/args.h"
#include "runtime/model_config.h"

namespace inferd::cli {

// --calibration, --calibrator, --percentile, --calibration-images, --int8-agreement and
// --calibration-cache (whose default is described as `cache_default`).
void add_calibration_flags(Args& args, const std::string& cache_default);

// The table for `folder`: --calibration-cache if given, else the folder's
// quantization.calibration, else `default_cache`; measured on --calibration's images when
// that file does not exist (progress on stdout). `e4m3`: an FP8 calibration (precision
// "fp8"); a cached table of the other kind is refused.
Result<std::shared_ptr<const CalibrationTable>> calibration_from_flags(const Args& args, const ModelFolder& folder,
                                                                       const std::string& default_cache,
                                                                       bool e4m3 = false);

}  // namespace inferd::cli
