// inferd public API: NetworkDefinition, a network built layer by layer in C++ (as
// TensorRT's INetworkDefinition), or filled by a parser (parsers.h).
//
//   inferd::v1::NetworkDefinition net("tiny");
//   auto x = net.addInput("data", {-1, 3, 32, 32});             // -1: batch chosen at run time
//   auto c = net.addConvolution(x, {16, {3, 3}, {1, 1}, {1, 1}}, w, b, "conv1");
//   auto r = net.addActivation(c, inferd::v1::ActivationType::kRelu);
//   net.markOutput(net.addSoftMax(net.addFullyConnected(r, 10, fw, fb)), "prob");
//   if (!net.status().isOk()) ... // the first mistake, naming its layer
//
// Errors: each add* checks its arguments and infers its output's shape at once. On a
// mistake it returns an invalid Tensor and the network keeps the first error (status());
// adds that read an invalid Tensor return an invalid Tensor and record nothing more, so
// a chain of adds can be checked once at the end. Builder::buildEngine refuses a network
// whose status() is not ok.
//
// Weights are copied when a layer is added: the caller's arrays may be freed right after.
// Activations are NCHW float32; dimension 0 is the batch everywhere.
//
// Threading: a NetworkDefinition is used by one thread at a time. It is movable, not
// copyable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inferd/status.h"

namespace inferd::v1 {

// A value of one network (an input or a layer's output). A plain handle: copying it is
// free; it is valid only with the network that made it.
class Tensor {
 public:
  Tensor() = default;
  bool isValid() const { return id_ >= 0; }

 private:
  friend class NetworkDefinition;
  Tensor(int32_t id, uint64_t network) : id_(id), network_(network) {}
  int32_t id_ = -1;
  uint64_t network_ = 0;
};

// `count` float32 values, copied when the layer is added. count 0: none (e.g. no bias).
struct Weights {
  const float* values = nullptr;
  int64_t count = 0;
};

struct Dims2 {
  int64_t h = 0, w = 0;
};

enum class ActivationType {
  kRelu,       // max(x, 0)
  kLeakyRelu,  // x < 0 ? alpha * x : x
  kClip,       // min(max(x, alpha), beta)
  kSigmoid,    // 1 / (1 + exp(-x))
  kTanh,
};

enum class PoolingType { kMax, kAverage };

struct PoolingDesc {
  PoolingType type = PoolingType::kMax;
  Dims2 window{2, 2};  // ignored when global
  Dims2 stride{1, 1};
  Dims2 padding{0, 0};  // both sides
  bool global = false;  // one value per channel, max or average over the whole map
  // Output size rounded up (Caffe) instead of down (ONNX's default).
  bool roundUp = false;
  // Average pooling divides by the whole window, padding included (Caffe), rather than
  // by the input pixels under it.
  bool countPadding = false;
};

enum class ElementWiseOperation {
  kSum,   // a + b
  kProd,  // a * b
  kMax,   // max(a, b)
};

// Convolution over NCHW: kernel weights [numOutputs, C / groups, kernel.h, kernel.w],
// bias [numOutputs] or none.
struct ConvolutionDesc {
  int64_t numOutputs = 0;
  Dims2 kernel{1, 1};
  Dims2 stride{1, 1};
  Dims2 padding{0, 0};  // both sides
  Dims2 dilation{1, 1};
  int64_t groups = 1;
};

// Transposed convolution (deconvolution): kernel weights [C, numOutputs / groups,
// kernel.h, kernel.w], bias [numOutputs] or none. Output size per axis:
// stride * (in - 1) + outputPadding + dilation * (kernel - 1) + 1 - 2 * padding.
struct DeconvolutionDesc {
  int64_t numOutputs = 0;
  Dims2 kernel{1, 1};
  Dims2 stride{1, 1};
  Dims2 padding{0, 0};
  Dims2 outputPadding{0, 0};
  Dims2 dilation{1, 1};
  int64_t groups = 1;
};

class NetworkDefinition {
 public:
  explicit NetworkDefinition(const std::string& name = "network");
  ~NetworkDefinition();
  NetworkDefinition(NetworkDefinition&&) noexcept;
  NetworkDefinition& operator=(NetworkDefinition&&) noexcept;
  NetworkDefinition(const NetworkDefinition&) = delete;
  NetworkDefinition& operator=(const NetworkDefinition&) = delete;

  // `dims` include the batch: [N, C, H, W] or [N, features]; N = -1 lets each run choose
  // its batch (up to BuilderConfig::maxBatch), a positive N fixes it.
  Tensor addInput(const std::string& name, const std::vector<int64_t>& dims);

  // `name` names the layer and its output (errors, profiles); empty: "<kind>_<n>".
  Tensor addConvolution(Tensor input, const ConvolutionDesc& desc, Weights kernel, Weights bias = {},
                        const std::string& name = "");
  Tensor addDeconvolution(Tensor input, const DeconvolutionDesc& desc, Weights kernel, Weights bias = {},
                          const std::string& name = "");
  // alpha, beta: see ActivationType (unused by the others).
  Tensor addActivation(Tensor input, ActivationType type, float alpha = 0.0f, float beta = 0.0f,
                       const std::string& name = "");
  Tensor addPooling(Tensor input, const PoolingDesc& desc, const std::string& name = "");
  // Numpy broadcasting: b may be e.g. [1, C, 1, 1] against a [N, C, H, W].
  Tensor addElementWise(Tensor a, Tensor b, ElementWiseOperation op, const std::string& name = "");
  // Cross-channel local response normalization:
  // y = x / (k + alpha / window * sum of x^2 over `window` neighbouring channels)^beta.
  Tensor addLRN(Tensor input, int64_t window, float alpha, float beta, float k, const std::string& name = "");
  // y = x W^T + b over x flattened to [N, K] (every dim after the batch): kernel weights
  // [numOutputs, K] row-major, bias [numOutputs] or none.
  Tensor addFullyConnected(Tensor input, int64_t numOutputs, Weights kernel, Weights bias = {},
                           const std::string& name = "");
  // Softmax over everything after the batch, as [N, rest]: [N, C, 1, 1] gives [N, C].
  Tensor addSoftMax(Tensor input, const std::string& name = "");
  // Concatenation along `axis` (1: channels); every other dim must agree.
  Tensor addConcatenation(const std::vector<Tensor>& inputs, int axis = 1, const std::string& name = "");

  // Makes `tensor` an output of the network, named `name` (empty: the tensor's own name).
  // Outputs are numbered in the order they are marked.
  Status markOutput(Tensor tensor, const std::string& name = "");

  // Input / output i (in the order they were added or marked; a parsed model's order);
  // invalid when there is no such one. A parsed network can be extended this way.
  Tensor input(int i) const;
  Tensor output(int i) const;
  // The shape of `tensor`, batch first (-1: chosen at run time); empty when invalid.
  std::vector<int64_t> dimensions(Tensor tensor) const;
  const std::string& name() const;
  int numLayers() const;
  int numInputs() const;
  int numOutputs() const;
  // Ok, or the first mistake made while defining (or parsing into) the network.
  const Status& status() const;

  // Internal to inferd (the builder and the parsers reach the network through it).
  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  Tensor wrap(int32_t value) const;  // an invalid Tensor for -1
  // The value `t` names in this network; -1 when t is invalid, or (an error recorded)
  // when it belongs to another network.
  int32_t unwrap(Tensor t);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd::v1
