// inferd public API: model files into a NetworkDefinition. The network must be empty
// (fresh); on success it holds the model's layers, inputs and outputs, ready for
// Builder::buildEngine. Errors name the file, the node or layer and what is wrong, and
// are also the network's status().
#pragma once

#include <string>

#include "inferd/network.h"
#include "inferd/status.h"

namespace inferd::v1 {

// An ONNX model (opsets 7..21; external data next to the model).
Status parseOnnx(const std::string& modelPath, NetworkDefinition& network);

// A Caffe net: deploy.prototxt (text) + .caffemodel (binary weights), the current
// `layer {}` format or the legacy V1 `layers {}` one.
Status parseCaffe(const std::string& prototxtPath, const std::string& caffemodelPath, NetworkDefinition& network);

}  // namespace inferd::v1
