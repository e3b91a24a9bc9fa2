// ONNX TensorProto -> Tensor (internal to the ONNX importer).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "onnx.pb.h"

namespace inferd::onnx_import {

// TensorProto.FLOAT8E4M3FN (ONNX 1.14, opset 19's FP8 Q/DQ), which Debian's onnx.proto
// predates: the numbers of the enum are fixed by the standard.
inline constexpr int32_t kOnnxFloat8E4m3fn = 17;

// "FLOAT16", "DOUBLE", ... for messages.
std::string onnx_type_name(int32_t data_type);

// Dims must be >= 0 and their product at most 2^31 (the per-tensor cap).
Result<int64_t> checked_element_count(std::span<const int64_t> dims, const std::string& what);

// FLOAT and FLOAT16 -> float32, INT64 and INT32 -> int64, BOOL -> bool; from raw_data,
// the typed fields or external data under `base_dir`. `what` names the tensor in
// messages ("initializer 'conv1_w_0'").
Result<Tensor> read_tensor(const onnx::TensorProto& proto, const std::string& what, const std::string& base_dir);

// The bytes of an EXTERNAL tensor: keys location/offset/length, the location relative to
// `base_dir` and inside it (absolute paths, '..' escapes and symlinks leading outside are
// rejected); exactly `expected_bytes` must be there.
Result<std::vector<uint8_t>> read_external_data(const onnx::TensorProto& proto, const std::string& what,
                                                const std::string& base_dir, uint64_t expected_bytes);

}  // namespace inferd::onnx_import
