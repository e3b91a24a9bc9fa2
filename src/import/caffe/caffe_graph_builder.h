// The IR graph of a Caffe net, built one layer at a time (caffe_importer.cc drives it;
// caffe_layers.cc converts each layer type). Blob names map to IR values: an in-place
// layer (top == bottom) writes a new value and the name moves on to it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "caffe_subset.pb.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd::caffe {

using inferd_caffe::LayerParameter;
using inferd_caffe::NetParameter;

// A BlobProto as a tensor (its BlobShape, or the legacy num/channels/height/width); the
// blob's values are freed (they live on in the tensor).
Result<Tensor> take_blob(inferd_caffe::BlobProto& b);

class CaffeGraphBuilder {
 public:
  // `weights`: the .caffemodel's layers (by name), whose blobs are released as they become
  // constants (the peak is one copy of the weights, not two); `file` prefixes every error.
  CaffeGraphBuilder(NetParameter* weights, std::string file);

  Status add_legacy_inputs(const NetParameter& net);
  // Converts one layer; errors name the file, the layer and its type.
  Status add_layer(const LayerParameter& l);
  // Outputs (the blobs no layer reads), topological order, shapes.
  Result<ir::Graph> finish();
  ir::Graph& graph() { return graph_; }

 private:
  bool is_input(ir::ValueId id) const;
  Status add_input(const std::string& name, Shape dims);
  void define(const std::string& blob, ir::ValueId id);
  Result<ir::ValueId> bottom(const LayerParameter& l, int i) const;
  Result<std::vector<ir::ValueId>> bottoms(const LayerParameter& l, int min_count);
  // A node named `name` of `op` reading `inputs`; returns its new output value.
  ir::ValueId add_op(const std::string& name, const std::string& out_name, ir::OpKind op,
                     std::vector<ir::ValueId> inputs, ir::Attributes attrs);
  // The layer's node: reads `inputs`, writes the layer's top (a new value even in place).
  Status emit(const LayerParameter& l, ir::OpKind op, std::vector<ir::ValueId> inputs, ir::Attributes attrs);
  // `x` flattened to [N, rest] before the layer's own node (InnerProduct, Softmax).
  ir::ValueId flattened(const LayerParameter& l, ir::ValueId x);
  // Gives constant `id` the shape `shape` (same element count: the caller checked).
  void reshape_constant(ir::ValueId id, const Shape& shape);
  // Blob `index` of the layer's weights (taken: read once) as a tensor, or an error.
  Result<Tensor> take_weight(const LayerParameter& l, int index, const std::string& what);
  // The same as a constant named after `what`.
  Result<ir::ValueId> weight(const LayerParameter& l, int index, const std::string& what);
  // The bias blob (#1) as [count]: Caffe may store it as [1,1,1,count].
  Result<ir::ValueId> bias(const LayerParameter& l, int64_t count);
  // Blob `index` as a flat vector (per-channel parameters of BatchNorm and Scale).
  Result<std::vector<float>> blob_values(const LayerParameter& l, int index, const std::string& what);
  ir::ValueId constant(const std::string& name, Shape shape, std::vector<float> values);
  // y = scale * (x - mean) / sqrt(var + eps) + shift, per channel: the IR's
  // BatchNormalization, which the passes fold into the convolution before it.
  Status per_channel_affine(const LayerParameter& l, ir::ValueId x, std::vector<float> scale,
                            std::vector<float> shift, std::vector<float> mean, std::vector<float> var, float eps);

  Status convert(const LayerParameter& l);
  Status input(const LayerParameter& l);
  Status convolution(const LayerParameter& l);
  Status pooling(const LayerParameter& l);
  Status global_max_pool(const LayerParameter& l, ir::ValueId in);
  Status inner_product(const LayerParameter& l);
  Status eltwise(const LayerParameter& l);
  Status activation(const LayerParameter& l);
  Status lrn(const LayerParameter& l);
  Status concat(const LayerParameter& l);
  Status flatten_or_softmax(const LayerParameter& l);
  Status batch_norm(const LayerParameter& l);
  Status scale(const LayerParameter& l);
  Status reshape(const LayerParameter& l);
  Status pass_through(const LayerParameter& l);

  std::string file_;
  ir::Graph graph_;
  std::map<std::string, LayerParameter*> weights_;
  std::map<std::string, ir::ValueId> blobs_;                // blob name -> its latest value
  std::vector<std::pair<std::string, ir::ValueId>> order_;  // every value defined, in order
  std::set<ir::ValueId> read_;
};

}  // namespace inferd::caffe
