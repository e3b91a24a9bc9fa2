// The per-model config.toml and the model folder around it (docs/model-repository.md:
// a contract users and scripts rely on). Every key is optional; the
// defaults below are the documented ones. This is plain data: the image, batching and
// backend code read it, and nothing here depends on them.
//
//   models/squeezenet/
//     config.toml   (optional)
//     labels.txt    one class per line, line i = class i
//     mean.binaryproto  (optional) Caffe's mean image
//     1/model.onnx  or 1/model.plan; the highest numeric version folder wins
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd {

enum class ChannelOrder { kRgb, kBgr };

struct InputConfig {
  int width = 0;     // 0 = from the model's input shape
  int height = 0;    // 0 = from the model's input shape
  int resize = 256;  // shorter side before the centre crop; 0 = stretch to width x height
  ChannelOrder channel_order = ChannelOrder::kRgb;
  float scale = 1.0f / 255;                           // applied to 0..255 pixels before mean/std
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // per channel, in channel_order
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  // Caffe's mean image (a mean.binaryproto in the model folder), subtracted per pixel
  // instead of `mean`, cropped at the centre to the input as Caffe does. A missing default
  // file means none; a file named in config.toml must exist.
  std::string mean_file = "mean.binaryproto";
};

struct OutputConfig {
  std::string labels = "labels.txt";  // relative to the model folder; "" = no labels
  bool softmax = true;                // false when the model already outputs probabilities
  int top_k = 5;
};

struct BatchingConfig {
  // 0: a batch forms from what queued while the instance was busy, and a lone request
  // never waits (Triton's default too). On the CPU backend a 2 ms wait halved c=1
  // throughput and gained nothing at c=8 (docs/benchmarks.md, "Batching delay"); raise it
  // where a batch of n costs much less than n single runs (GPUs).
  int64_t max_queue_delay_us = 0;
  std::vector<int> preferred_batch;  // each in 1..max_batch; empty = any size
  int max_queue = 1024;
};

struct InstancesConfig {
  int count = 1;  // execution contexts per device
  // The GPUs a cuda model runs on, each with `count` contexts and its own copy of the
  // weights: "all", or indices "0,2" (as `inferd info` numbers them). Empty: the server's
  // --gpus (default GPU 0). Ignored by the cpu backend.
  std::string gpus;
  std::string backend = "auto";    // auto | cpu | cuda
  std::string precision = "fp32";  // fp32 | tf32 | fp16 | bf16 | int8 | fp8 (both calibrated)
  // Where the server decodes a request's JPEG (docs/gpu.md, "In the server"): "cpu",
  // the host's decoder threads; "gpu", the instance's GPU (nvJPEG) for every JPEG; "auto",
  // the GPU, with the host's threads taking the overflow while the GPU has a backlog.
  // PNGs, and models whose preprocessing has a mean image, are always decoded on the host.
  std::string decode = "auto";
};

// INT8 (docs/quantization.md): what a build with precision "int8" uses.
struct QuantizationConfig {
  // A calibration table in the model folder (written by `inferd build --calibration DIR` or
  // `inferd quantize`). Required to serve the model with precision "int8" (or "fp8": a
  // table made by `inferd build --precision fp8`).
  std::string calibration;
  // Conv, ConvTranspose and Gemm layers (node names, as `inferd build --report` lists them)
  // that stay float in an INT8 build, whatever the calibration measured.
  std::vector<std::string> float_layers;
  // "timed": each layer that could run INT8 is timed against its float version when the
  // plan is built, and stays float where that is faster on this machine; "all": every such
  // layer runs INT8 (plans that must not depend on the build machine's clock).
  std::string int8_layers = "timed";
};

struct ModelConfig {
  std::string name;  // empty = the folder name (load_model_folder fills it in)
  int max_batch = 32;
  InputConfig input;
  OutputConfig output;
  BatchingConfig batching;
  InstancesConfig instances;
  QuantizationConfig quantization;
};

// Parses and validates a config.toml. Unknown keys, wrong types and out-of-range values
// are errors naming file_name and the key ("config.toml: unknown key 'input.widht'");
// integers are accepted where floats are expected.
Result<ModelConfig> parse_model_config(std::string_view toml_text, const std::string& file_name);

struct ModelFolder {
  std::string dir;  // the model folder; for a model given as a file, its folder
  ModelConfig config;
  std::string model_path;           // the model.onnx, deploy.prototxt or model.plan to load
  std::string weights_path;         // a deploy.prototxt's model.caffemodel (beside it); else empty
  std::string mean_path;            // the input.mean_file found inside the folder; else empty
  std::string calibration_path;     // quantization.calibration inside the folder; else empty
  int version = 0;                  // the version folder's number; 0 for a model given as a file
  std::vector<std::string> labels;  // empty when there is no labels file
};

// Reads DIR/config.toml (optional; defaults otherwise), DIR/<version>/model.onnx,
// deploy.prototxt + model.caffemodel (Caffe) or model.plan from the highest numeric version
// folder, in that order of preference (a model wins over a plan:
// a plan is specific to one engine build and GPU), and the labels file the config names
// (DIR/labels.txt by default; a missing default labels.txt just means no labels, a
// missing file named in config.toml is an error). name defaults to the folder name.
Result<ModelFolder> load_model_folder(const std::string& dir);

// A model file given directly (e.g. resnet50.onnx): default config, name = the file stem,
// labels from labels_path ("" = none).
Result<ModelFolder> model_from_file(const std::string& model_path, const std::string& labels_path);

// MODEL as the command line takes it: a folder goes to load_model_folder, anything else to
// model_from_file. For a folder, a non-empty labels_path replaces the configured labels.
// Prefer this to calling load_model_folder and falling back on error: a folder's own
// errors (no version folder, missing labels) then reach the user instead of "no such file".
Result<ModelFolder> load_model(const std::string& path, const std::string& labels_path);

// One class per line (a trailing "\r" is dropped); trailing blank lines are ignored, a blank
// line between classes or an empty file is an error. Label count vs. model outputs is the
// caller's check.
Result<std::vector<std::string>> read_labels(const std::string& path);

const char* to_string(ChannelOrder order);  // "rgb" | "bgr"

}  // namespace inferd
