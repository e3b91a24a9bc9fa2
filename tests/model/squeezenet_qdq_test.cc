// Explicit quantization end to end (issue 16): the real SqueezeNet 1.1 as an ONNX Q/DQ model
// gives the answers ONNX Runtime gives on the same model. The models (tests/model/data,
// README.md there), each calibrated on the same 100 images of the ImageNet sample:
//   squeezenet1.1_qdq.onnx                  written by `inferd quantize`
//   squeezenet1.1_fp8_qdq.onnx              what `inferd quantize --precision fp8` writes
//                                           (FLOAT8E4M3FN, opset 19), made here from its
//                                           table, squeezenet1.1_fp8_qdq.calib (3 MB as
//                                           a file: its last layer stays float)
//   squeezenet1.1_ort_qdq_per_{tensor,channel}.onnx
//                                           written by ONNX Runtime's own quantizer
//                                           (tools/ort/quantize_qdq.py; made on the device
//                                           machine, the only one with its Python package:
//                                           bench/gpu_int8.sh --stages ortqdq)
// ONNX Runtime runs each with its own INT8 kernels (QLinearConv; the FP8 model with its
// float8 QuantizeLinear/DequantizeLinear around float convolutions), inferd imports the Q/DQ
// pairs, folds them (passes/qdq_folding, quantized_layer_folding) and runs oneDNN's INT8
// convolutions (ONNX Runtime's asymmetric uint8 activations too where a convolution has no
// padding; else float convolutions behind the exact roundings). The two are independent
// implementations of one quantized network.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "builder/qdq_export.h"
#include "core/file.h"
#include "image/preprocess.h"
#include "runtime/engine.h"
#include "server/classifier.h"
#include "support/model_env.h"
#include "support/ort_oracle.h"
#include "support/test_util.h"

namespace inferd {
namespace {

constexpr int kBatch = 40;  // images per ONNX Runtime run (one process each)

std::string model_path(const std::string& file) { return test::source_dir() + "/tests/model/data/" + file; }

// The bundled SqueezeNet's folder (its preprocessing), serving the Q/DQ model file.
ModelFolder qdq_folder(const std::string& model) {
  auto folder = load_model(test::source_dir() + "/models/squeezenet", "");
  EXPECT_TRUE(folder.is_ok()) << folder.status().message();
  folder->model_path = model;
  return *folder;
}

struct Comparison {
  int images = 0, same_top1 = 0;
  float max_prob_diff = 0;
  std::vector<int> inferd_top1;
};

int argmax(const float* p, size_t n) { return static_cast<int>(std::max_element(p, p + n) - p); }

// The same top-1 class, where a tie for the top is either class: a model whose output is
// quantized (ONNX Runtime's quantizer rounds the logits and the probabilities onto uint8
// grids, probabilities in 1/255 steps) often ends with its top two classes on one level, and
// each engine then answers the first of them. Measured 2026-12-06 on the ImageNet sample:
// 4 of the 5 differing answers on ONNX Runtime's two files were such ties in ONNX Runtime and
// the fifth one in inferd, one logit level apart in the other engine.
bool same_top1(const float* ours, const float* theirs, size_t n) {
  const int a = argmax(ours, n), b = argmax(theirs, n);
  return a == b || ours[b] == ours[a] || theirs[a] == theirs[b];
}

// A model of the test and the graph optimization level ONNX Runtime runs it at. The FP8 model
// runs op by op, unoptimized: ONNX Runtime 1.30's extended level breaks it (its Q/DQ
// propagation puts a float8 tensor in front of MaxPool), and its basic level's rewrites
// move the answers off the operators' definition: measured 2026-12-06, same top-1 as inferd
// on 231 of the 234 ImageNet images at basic (largest probability difference 0.060) against
// 233 unoptimized (0.027). One E4M3 step is 6-12 % of a value, so a float accumulation that
// rounds differently moves a rounded activation by far more than an int8 step does.
struct QdqModel {
  const char* file;
  const char* ort_optimization;
  const char* table = nullptr;  // the calibration table the file is exported from, in a temp dir
};
void PrintTo(const QdqModel& m, std::ostream* os) {
  *os << m.file;
}

// Both runtimes on the same preprocessed inputs, `kBatch` at a time.
Comparison compare_with_onnx_runtime(const std::string& model, const std::vector<std::string>& paths,
                                     const std::string& ort_optimization) {
  const ModelFolder folder = qdq_folder(model);
  auto cpu = create_backend("cpu", BackendOptions{});
  auto built = build_plan(folder.model_path, **cpu, BuildOptions(kBatch, "fp32"));
  EXPECT_TRUE(built.is_ok()) << built.status().message();
  Comparison c;
  if (!built.is_ok()) return c;
  auto engine = Engine::create(std::move(built->plan), *cpu).value();
  auto ctx = engine->create_context().value();
  const Shape in_shape = engine->inputs()[0].shape;
  const image::PreprocessConfig pre = model_preprocess(folder, in_shape).value();
  const int64_t sample = element_count(in_shape) / std::max<int64_t>(in_shape[0], 1);
  for (size_t first = 0; first < paths.size(); first += kBatch) {
    const int n = static_cast<int>(std::min<size_t>(kBatch, paths.size() - first));
    Shape batch_shape = in_shape;
    batch_shape[0] = n;
    Tensor input(DataType::kFloat32, batch_shape);
    for (int i = 0; i < n; ++i) {
      auto bytes = read_file(paths[first + static_cast<size_t>(i)]);
      EXPECT_TRUE(bytes.is_ok()) << paths[first + static_cast<size_t>(i)];
      EXPECT_TRUE(image::decode_and_preprocess(*bytes, pre, int64_t{1} << 26, input.data<float>() + i * sample).is_ok());
    }
    std::copy_n(input.data<float>(), n * sample, ctx->input_data(0));
    EXPECT_TRUE(ctx->execute(n).is_ok());
    auto ort = test::run_onnx_runtime(model, input, ort_optimization);
    EXPECT_TRUE(ort.is_ok()) << ort.status().message();
    if (!ort.is_ok()) return c;
    const auto classes = static_cast<size_t>(ort->size() / n);
    for (int i = 0; i < n; ++i) {
      const float* ours = ctx->output_data(0) + static_cast<size_t>(i) * classes;
      const float* theirs = ort->data<float>() + static_cast<size_t>(i) * classes;
      for (size_t k = 0; k < classes; ++k) c.max_prob_diff = std::max(c.max_prob_diff, std::abs(ours[k] - theirs[k]));
      c.inferd_top1.push_back(argmax(ours, classes));
      const int a = argmax(ours, classes), b = argmax(theirs, classes);
      c.same_top1 += same_top1(ours, theirs, classes);
      if (!same_top1(ours, theirs, classes))
        std::cout << "  " << paths[first + static_cast<size_t>(i)] << ": inferd " << a << " (" << ours[a] << ", " << b
                  << ": " << ours[b] << "), ONNX Runtime " << b << " (" << theirs[b] << ", " << a << ": " << theirs[a]
                  << ")\n";
      ++c.images;
    }
  }
  return c;
}

bool onnx_runtime_missing(const QdqModel& m, const std::string& model, std::string& why) {
  Tensor probe(DataType::kFloat32, {1, 3, 224, 224});
  auto r = test::run_onnx_runtime(model, probe, m.ort_optimization);
  if (!r.is_ok()) why = r.status().message();
  return !r.is_ok();
}

// `m.file` exported from its table (builder/qdq_export.h, as `inferd quantize` does) into
// the test's temp dir.
Result<std::string> exported_model(const QdqModel& m) {
  ASSIGN_OR_RETURN(const auto text, read_text_file(model_path(m.table)));
  ASSIGN_OR_RETURN(const CalibrationTable table, CalibrationTable::parse(text, m.table));
  ASSIGN_OR_RETURN(const auto onnx, read_file(test::source_dir() + "/models/squeezenet/1/model.onnx"));
  ASSIGN_OR_RETURN(const QdqExport exported, export_qdq_onnx(onnx, table, "squeezenet"));
  const std::string path = test::temp_dir() + "/" + m.file;
  RETURN_IF_ERROR(write_file(path, exported.model));
  return path;
}

// The model of the test's parameter, or why the test skips (a file not made yet, no ONNX
// Runtime).
std::string usable_model(const QdqModel& m, std::string& skip) {
  const std::string file = m.file;
  std::string model = model_path(file);
  if (m.table != nullptr) {
    auto exported = exported_model(m);
    EXPECT_TRUE(exported.is_ok()) << exported.status().message();
    if (!exported.is_ok())
      skip = exported.status().message();
    else
      model = *exported;
  } else if (!std::filesystem::exists(model)) {
    skip = file + " is not in the tree yet: make it on the device machine (bench/gpu_int8.sh --stages ortqdq) and "
           "add it to tests/model/data";
    return model;
  }
  if (std::string why; onnx_runtime_missing(m, model, why)) skip = "ONNX Runtime cannot run: " + why;
  return model;
}

class SqueezeNetQdq : public ::testing::TestWithParam<QdqModel> {};

TEST_P(SqueezeNetQdq, AnswersAsOnnxRuntimeDoesOnTheBundledPhotos) {
  std::string skip;
  const std::string model = usable_model(GetParam(), skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  const Comparison c = compare_with_onnx_runtime(model, bundled_photos(), GetParam().ort_optimization);
  ASSERT_GT(c.images, 0);
  std::cout << GetParam().file << " on " << c.images << " photos: same top-1 as ONNX Runtime on " << c.same_top1
            << ", largest probability difference " << c.max_prob_diff << "\n";
  EXPECT_EQ(c.same_top1, c.images);
}

TEST_P(SqueezeNetQdq, AnswersAsOnnxRuntimeDoesOnTheImageNetSample) {
  if (auto missing = test::missing_assets({kOrtPredictionsFile}); !missing.empty()) GTEST_SKIP() << missing;
  std::string skip;
  const std::string model = usable_model(GetParam(), skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  std::vector<OrtPrediction> sample = read_ort_predictions();
  std::sort(sample.begin(), sample.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  std::vector<std::string> eval;  // the 234 images the model was not calibrated on
  std::vector<const OrtPrediction*> truth;
  for (size_t i = 0; i < sample.size(); ++i) {
    if (i % 10 < 3 && i / 10 * 3 + i % 10 < 100) continue;  // the calibration's 100 (data/README.md)
    eval.push_back(test::assets_dir() + "/images/imagenet_sample/" + sample[i].file);
    truth.push_back(&sample[i]);
  }
  ASSERT_EQ(eval.size(), 234u);
  const Comparison c = compare_with_onnx_runtime(model, eval, GetParam().ort_optimization);
  ASSERT_EQ(c.images, 234);
  int right = 0, right_fp32 = 0;
  for (size_t i = 0; i < eval.size(); ++i) {
    right += c.inferd_top1[i] == truth[i]->ground_truth;
    right_fp32 += truth[i]->ort_top1 == truth[i]->ground_truth;
  }
  std::cout << GetParam().file << " on 234 ImageNet images: same top-1 as ONNX Runtime on " << c.same_top1
            << ", largest probability difference " << c.max_prob_diff << "; accuracy " << 100.0 * right / 234
            << "% (FP32 " << 100.0 * right_fp32 / 234 << "%)\n";
  // Two INT8 implementations may round an accumulation differently, so an image whose top
  // two classes are that close could swap; measured 2026-12-05 on inferd's file: 234 of 234 the same, largest
  // probability difference 0.020 (FP8, 2026-12-06: 233, 0.027; accuracy 63.7 %). Accuracy: 62.0 % against FP32's 63.2 %
  // (3 images; the simulated INT8 of the same calibration, float biases, keeps 63.2 %: the int32 biases of the Q/DQ
  // format move a few images on their class boundary). ONNX Runtime's own files (2026-12-06): 234 of 234 per tensor
  // and per channel (231 and 232 were a tie's first class taken as an answer, above), largest probability
  // difference 0.051 and 0.047 (one level of their quantized logits); accuracy 62.0 % and 63.7 %.
  EXPECT_GE(c.same_top1, 232);
  EXPECT_LE(100.0 * (right_fp32 - right) / 234, 2.0);
}

INSTANTIATE_TEST_SUITE_P(Models, SqueezeNetQdq,
                         ::testing::Values(QdqModel{"squeezenet1.1_qdq.onnx", "all"},
                                           QdqModel{"squeezenet1.1_fp8_qdq.onnx", "disabled",
                                                    "squeezenet1.1_fp8_qdq.calib"},
                                           QdqModel{"squeezenet1.1_ort_qdq_per_tensor.onnx", "all"},
                                           QdqModel{"squeezenet1.1_ort_qdq_per_channel.onnx", "all"}),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find(".onnx"));
                           for (char& ch : name)
                             if (ch == '.') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace inferd
