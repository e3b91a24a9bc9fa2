// inferd public API: the image side of a classifier. A JPEG or PNG file into the input
// tensor a classifier takes, and its output into the top-k classes.
//
// Thread safety: every function may be called from any number of threads at once.
#pragma once

#include <string>
#include <vector>

#include "inferd/status.h"

namespace inferd::v1 {

// The usual ImageNet preprocessing (torchvision's Resize(256) + CenterCrop(224) +
// Normalize): the shorter side resized to `resize` (Pillow's bilinear resampling), the
// centre width x height cropped, (pixel * scale - mean[c]) / std[c] per channel.
struct ImagePreprocessing {
  int width = 224, height = 224;
  int resize = 256;  // 0: stretch straight to width x height
  bool bgr = false;  // channel order BGR (Caffe models) instead of RGB
  float scale = 1.0f / 255.0f;
  float mean[3] = {0.485f, 0.456f, 0.406f};  // in the output's channel order
  float std[3] = {0.229f, 0.224f, 0.225f};
};

// A JPEG or PNG file (EXIF orientation applied) as 3 x height x width float32, CHW:
// one sample of a classifier's input.
Result<std::vector<float>> loadImage(const std::string& path, const ImagePreprocessing& preprocessing = {});
// The same from bytes in memory.
Result<std::vector<float>> decodeImage(const void* bytes, size_t size,
                                       const ImagePreprocessing& preprocessing = {});

struct Class {
  int index = 0;
  float probability = 0;
  std::string label;  // labels[index], or "class <index>" when there is no such label
};

// The k most probable classes of one output row, highest first. `scores` are
// probabilities, or logits when `applySoftmax` (a model without a softmax layer).
std::vector<Class> topK(const float* scores, int count, int k, const std::vector<std::string>& labels = {},
                        bool applySoftmax = false);
// One label per line (a labels.txt or Caffe's synset_words.txt).
Result<std::vector<std::string>> loadLabels(const std::string& path);

}  // namespace inferd::v1
