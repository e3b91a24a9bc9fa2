#include "runtime/postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/json.h"

namespace inferd {

void softmax(std::span<float> row) {
  if (row.empty()) return;
  const float max = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (float& v : row) {
    v = std::exp(v - max);
    sum += v;
  }
  for (float& v : row) v = static_cast<float>(v / sum);
}

std::vector<Prediction> top_k(std::span<const float> scores, int k, const std::vector<std::string>& labels) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const auto n = std::min<size_t>(static_cast<size_t>(std::max(k, 0)), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(), [&](int a, int b) {
    return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)] ||
           (scores[static_cast<size_t>(a)] == scores[static_cast<size_t>(b)] && a < b);
  });
  std::vector<Prediction> out;
  for (size_t i = 0; i < n; ++i) {
    const int idx = order[i];
    const auto u = static_cast<size_t>(idx);
    out.push_back({idx, scores[u], u < labels.size() ? labels[u] : "class " + std::to_string(idx)});
  }
  return out;
}

std::string predictions_json(const std::vector<Prediction>& predictions) {
  std::string out = "[";
  for (size_t i = 0; i < predictions.size(); ++i) {
    char conf[32];
    std::snprintf(conf, sizeof conf, "%.4f", predictions[i].confidence);
    out += (i ? "," : "");
    out += "{\"confidence\":";
    out += conf;
    out += ",\"label\":" + json_quote(predictions[i].label) + "}";
  }
  return out + "]";
}

}  // namespace inferd
