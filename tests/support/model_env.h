// Shared setup for end-to-end model tests: backends, asset lists, reference tables.
#pragma once

#include <string>
#include <vector>

namespace inferd {

// Every photo bundled with the project or in the shared assets (not the ImageNet sample).
std::vector<std::string> bundled_photos();

struct OrtPrediction {
  std::string file;
  int ground_truth = -1;
  int ort_top1 = -1;
};
// $INFERD_ASSETS/<kOrtPredictionsFile>; empty when the shared assets are absent.
inline constexpr const char* kOrtPredictionsFile = "images/imagenet_sample/ort_squeezenet1.1_predictions.tsv";
std::vector<OrtPrediction> read_ort_predictions();

}  // namespace inferd
