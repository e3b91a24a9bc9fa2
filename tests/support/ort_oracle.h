// ONNX Runtime (npm onnxruntime-node 1.30, installed by scripts/setup.sh) as the
// independent oracle for end-to-end model tests: runs tools/ort/run_model.js.
#pragma once

#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd::test {

// Runs `model_path` on `input` ([N,C,H,W] float32) and returns the first output.
// `optimization`: ONNX Runtime's graph optimization level (tools/ort/run_model.js).
Result<Tensor> run_onnx_runtime(const std::string& model_path, const Tensor& input,
                                const std::string& optimization = "all");

// A scratch directory unique to this test process (created on first use, removed when the
// process exits; INFERD_KEEP_TEST_FILES=1 keeps it).
std::string temp_dir();

}  // namespace inferd::test
