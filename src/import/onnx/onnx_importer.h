// ONNX -> IR. Reads a ModelProto (IR versions 3..10, default-domain opsets 7..21),
// maps each supported operator onto an ir::OpKind with the canonical attributes of
// ir/op.cc (defaults filled, auto_pad resolved into pads, negative axes made
// non-negative), sorts the graph topologically and infers every shape.
//
// Weights: FLOAT and FLOAT16 initializers become float32, INT32 become int64; raw_data,
// typed fields and external data files (next to the model, never outside its folder)
// are read. Graph input dim 0 may be symbolic (the dynamic batch); any other symbolic
// dim is rejected. Every error names the file, the node and what is wrong, e.g.
//   "model.onnx: node 'foo' (Gelu): unsupported operator Gelu (opset 13)".
// The importer treats its input as hostile: sizes and indices are checked before use.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

// Reads and imports the model at `path`; external data is looked up in its folder.
Result<ir::Graph> import_onnx(const std::string& path);

// Imports a serialized ModelProto. `name_for_errors` prefixes every message;
// `base_dir_for_external_data` is the folder external data paths are relative to
// (empty: a model with external data is rejected).
Result<ir::Graph> import_onnx_bytes(std::span<const uint8_t> bytes, const std::string& name_for_errors,
                                    const std::string& base_dir_for_external_data);

}  // namespace inferd
