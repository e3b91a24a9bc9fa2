// The CUDA backend's op families: each packs one node into a PackedOp whose kernels
// enqueue on a CudaStream. The backend (cuda_backend.cc) dispatches through one table from
// op kind to these functions; tune functions exist only where a choice is worth timing.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "backends/api/backend.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd::cuda {

// What an op family knows about its device when packing.
struct CudaOpEnv {
  int device = 0;
  int sm = 90;  // compute capability as major*10+minor
};

using PackFn = Result<std::unique_ptr<PackedOp>> (*)(const CudaOpEnv& env, const ir::Graph& graph,
                                                      const ir::Node& node, const PackOptions& options);
using TuneFn = Result<std::vector<uint8_t>> (*)(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                const TuneOptions& options);
// Whether the family can run `node` (attributes, dtypes, ranks) as it stands.
using SupportsFn = bool (*)(const ir::Graph& graph, const ir::Node& node);

// cuda_conv.cc: Conv (groups, dilation, fused bias + activation + residual) through cuDNN.
bool supports_conv(const ir::Graph& graph, const ir::Node& node);
Result<std::vector<uint8_t>> tune_conv(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                       const TuneOptions& options);
Result<std::unique_ptr<PackedOp>> pack_conv(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions& options);

// cuda_conv_int8.cc: Conv with an INT8 input (quantized_layer_folding's input_scale) on
// cuDNN's INT8 engines, float activations in and out; supports_conv / pack_conv delegate here.
bool supports_conv_int8(const ir::Graph& graph, const ir::Node& node);
Result<std::vector<uint8_t>> tune_conv_int8(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options);
Result<std::unique_ptr<PackedOp>> pack_conv_int8(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions& options);

// cuda_conv_transpose.cc: ConvTranspose (groups, dilation, output_padding, fused bias +
// activation) on an own gather kernel.
bool supports_conv_transpose(const ir::Graph& graph, const ir::Node& node);
Result<std::unique_ptr<PackedOp>> pack_conv_transpose(const CudaOpEnv& env, const ir::Graph& graph,
                                                      const ir::Node& node, const PackOptions& options);

// cuda_gemm.cc: Gemm (fused bias + activation) through cuBLASLt, a GEMV kernel at batch 1.
bool supports_gemm(const ir::Graph& graph, const ir::Node& node);
Result<std::vector<uint8_t>> tune_gemm(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                       const TuneOptions& options);
Result<std::unique_ptr<PackedOp>> pack_gemm(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions& options);

// cuda_pointwise_ops.cc / cuda_pool_ops.cc / cuda_data_ops.cc: own kernels (cuda_kernels.h).
bool supports_pool(const ir::Graph& graph, const ir::Node& node);  // Max/Average/GlobalAveragePool
Result<std::unique_ptr<PackedOp>> pack_pool(const CudaOpEnv&, const ir::Graph&, const ir::Node&, const PackOptions&);
bool supports_lrn(const ir::Graph& graph, const ir::Node& node);
Result<std::unique_ptr<PackedOp>> pack_lrn(const CudaOpEnv&, const ir::Graph&, const ir::Node&, const PackOptions&);
bool supports_softmax(const ir::Graph& graph, const ir::Node& node);
Result<std::unique_ptr<PackedOp>> pack_softmax(const CudaOpEnv&, const ir::Graph&, const ir::Node&, const PackOptions&);
// Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish; Add, Mul, Sum with broadcasting.
bool supports_pointwise(const ir::Graph& graph, const ir::Node& node);
Result<std::unique_ptr<PackedOp>> pack_pointwise(const CudaOpEnv&, const ir::Graph&, const ir::Node&,
                                                 const PackOptions&);
// Reorder (layout and dtype), Concat, Slice, Identity/Reshape/Flatten/Squeeze/Unsqueeze copies,
// BatchNormalization left unfolded.
bool supports_data(const ir::Graph& graph, const ir::Node& node);
Result<std::unique_ptr<PackedOp>> pack_data(const CudaOpEnv&, const ir::Graph&, const ir::Node&, const PackOptions&);

}  // namespace inferd::cuda
