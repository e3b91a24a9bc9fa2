// Classifies a photo with an ONNX or Caffe classifier through inferd's C++ API.
//   classify model.onnx labels.txt photo.jpg imagenet       (torchvision-style models)
//   classify model.onnx labels.txt photo.jpg caffe          (BGR 0..255 minus the mean)
//   classify deploy.prototxt labels.txt photo.jpg caffe weights.caffemodel
#include <cstdio>
#include <string>

#include "inferd/inferd.h"

namespace ifd = inferd::v1;

int fail(const ifd::Status& s) {
  std::fprintf(stderr, "classify: %s\n", s.toString().c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 5) return std::fprintf(stderr, "usage: classify MODEL LABELS IMAGE imagenet|caffe [CAFFEMODEL]\n"), 2;
  ifd::NetworkDefinition network;
  ifd::Status parsed = argc > 5 ? ifd::parseCaffe(argv[1], argv[5], network) : ifd::parseOnnx(argv[1], network);
  if (!parsed.isOk()) return fail(parsed);

  ifd::BuilderConfig config;
  config.backend = "auto";  // the GPU when there is one
  auto engine = ifd::Builder::buildEngine(network, config);
  if (!engine.isOk()) return fail(engine.status());
  auto context = engine->createExecutionContext();
  if (!context.isOk()) return fail(context.status());

  ifd::ImagePreprocessing preprocessing;  // ImageNet's: resize 256, crop 224, RGB mean/std
  if (std::string(argv[4]) == "caffe") preprocessing = {224, 224, 256, true, 1.0f, {104, 117, 123}, {1, 1, 1}};
  auto image = ifd::loadImage(argv[3], preprocessing);
  if (!image.isOk()) return fail(image.status());
  auto labels = ifd::loadLabels(argv[2]);
  if (!labels.isOk()) return fail(labels.status());

  std::vector<float> scores(static_cast<size_t>(engine->outputVolume(0, 1)));
  ifd::Status ran = context->execute(1, {image->data()}, {scores.data()});
  if (!ran.isOk()) return fail(ran);
  for (const ifd::Class& c : ifd::topK(scores.data(), static_cast<int>(scores.size()), 5, labels.value()))
    std::printf("%.4f  %s\n", c.probability, c.label.c_str());
  return 0;
}
