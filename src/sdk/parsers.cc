// parseOnnx / parseCaffe: the importers' graph becomes the network's.
#include "import/caffe/caffe_importer.h"
#include "import/onnx/onnx_importer.h"
#include "inferd/parsers.h"
#include "sdk/sdk_internal.h"

namespace inferd::v1 {
namespace {

Status adopt(inferd::Result<ir::Graph> imported, NetworkDefinition& network) {
  auto& net = network.impl();
  if (!imported.is_ok()) {
    if (net.error.isOk()) net.error = status_of(imported);
    return net.error;
  }
  const std::string name = net.graph.name;
  net.graph = std::move(imported).value();
  if (net.graph.name.empty()) net.graph.name = name;
  net.layers = static_cast<int>(net.graph.nodes().size());
  return Status::success();
}

Status check_empty(const NetworkDefinition& network, const char* parser) {
  if (network.numLayers() == 0 && network.numInputs() == 0 && network.status().isOk()) return Status::success();
  return {StatusCode::kFailedPrecondition, std::string(parser) + ": network '" + network.name() +
                                               "' already has layers or inputs; parse into a new one"};
}

// The import through the exception barrier: a failure, returned or thrown, is also the
// network's status().
template <typename Import>
Status adopt_guarded(const char* call, NetworkDefinition& network, Import&& import) {
  Status s = exception_barrier(call, [&] { return adopt(import(), network); });
  auto& net = network.impl();
  if (!s.isOk() && net.error.isOk()) net.error = s;
  return s;
}

}  // namespace

Status parseOnnx(const std::string& modelPath, NetworkDefinition& network) {
  if (Status s = check_empty(network, "parseOnnx"); !s.isOk()) return s;
  return adopt_guarded("parseOnnx", network, [&] { return import_onnx(modelPath); });
}

Status parseCaffe(const std::string& prototxtPath, const std::string& caffemodelPath, NetworkDefinition& network) {
  if (Status s = check_empty(network, "parseCaffe"); !s.isOk()) return s;
  return adopt_guarded("parseCaffe", network, [&] { return import_caffe(prototxtPath, caffemodelPath); });
}

}  // namespace inferd::v1
