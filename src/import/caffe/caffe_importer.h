// Caffe -> IR: a deploy.prototxt (protobuf text: the topology) and a .caffemodel (binary:
// the weights, matched to the prototxt's layers by name), each in the current `layer {}`
// format or the legacy V1 `layers {}` one (enum types), in any combination.
//
// Layers: Input (and the legacy input/input_dim/input_shape declarations), Convolution
// and Deconvolution (group, pad/stride/kernel with their _h/_w forms, dilation, bias_term),
// ReLU (negative_slope), Sigmoid, TanH, Pooling (MAX/AVE, global MAX and AVE, pad; the output size
// rounds up as in Caffe), LRN (across and within channels), Concat, Eltwise (SUM with
// coefficients, PROD of two, MAX), InnerProduct (axis 1, transpose), BatchNorm and Scale (as per-channel
// BatchNormalization nodes the optimizer folds into the convolution), Reshape (0/-1 as
// ONNX; the batch stays dynamic), Softmax over the channels, Flatten, Dropout and Split
// (both pass their input through). Anything else fails naming the layer, its type and what
// is unsupported. The input's dim 0 becomes the dynamic batch; the graph outputs are the
// blobs no layer reads. Caffe's in-place layers (top == bottom) become new values.
//
// Both files are treated as hostile: sizes, counts and names are checked before use, and
// every error names the file and the layer, e.g.
//   "deploy.prototxt: layer 'conv1' (Convolution): the weights file has no blobs for it".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

Result<ir::Graph> import_caffe(const std::string& prototxt_path, const std::string& caffemodel_path);

// The same from memory; `name_for_errors` prefixes every message.
Result<ir::Graph> import_caffe_bytes(std::string_view prototxt, std::span<const uint8_t> caffemodel,
                                     const std::string& name_for_errors);

}  // namespace inferd
