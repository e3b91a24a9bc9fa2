// Turning a classifier's output row into labelled top-k results.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace inferd {

struct Prediction {
  int index = 0;
  float confidence = 0;
  std::string label;  // labels[index], or "class <index>" without labels
};

// In-place numerically stable softmax (subtracts the max first).
void softmax(std::span<float> row);

// The k highest scores, highest first; ties keep the lower index first.
std::vector<Prediction> top_k(std::span<const float> scores, int k, const std::vector<std::string>& labels);

// `[{"confidence":0.9211,"label":"n02328150 Angora, Angora rabbit"},...]` (the seed's shape).
std::string predictions_json(const std::vector<Prediction>& predictions);

}  // namespace inferd
