#include "import/caffe/caffe_importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <climits>

#include "core/file.h"
#include "import/caffe/caffe_graph_builder.h"

namespace inferd {
namespace {

using caffe::LayerParameter;
using caffe::NetParameter;

// The first error of the text parser, with its line and column.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first.empty()) first = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  std::string first;
};

Result<NetParameter> parse_prototxt(std::string_view text) {
  NetParameter net;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(true);  // training settings (param, weight_filler, ...) are not ours
  if (text.size() > INT_MAX || !parser.ParseFromString(std::string(text), &net))
    return invalid_argument("not a Caffe prototxt: " + (errors.first.empty() ? "too large" : errors.first));
  return net;
}

// Caffe writes weights as one message; protobuf's default limits would refuse large files.
Result<NetParameter> parse_caffemodel(std::span<const uint8_t> bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return unimplemented("weights files over 2 GiB are not supported");
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);
  NetParameter net;
  if (!net.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return data_loss("the weights file is not a Caffe NetParameter (truncated or corrupt)");
  return net;
}

// The name the current format gives a V1 layer type; "" for types inferd has no
// converter for (they keep their V1 enum name in the error).
const char* v1_type_name(inferd_caffe::V1LayerParameter::LayerType t) {
  using V1 = inferd_caffe::V1LayerParameter;
  switch (t) {
    case V1::CONCAT: return "Concat";
    case V1::CONVOLUTION: return "Convolution";
    case V1::DECONVOLUTION: return "Deconvolution";
    case V1::DROPOUT: return "Dropout";
    case V1::ELTWISE: return "Eltwise";
    case V1::FLATTEN: return "Flatten";
    case V1::INNER_PRODUCT: return "InnerProduct";
    case V1::LRN: return "LRN";
    case V1::POOLING: return "Pooling";
    case V1::RELU: return "ReLU";
    case V1::SIGMOID: return "Sigmoid";
    case V1::SOFTMAX: return "Softmax";
    case V1::SPLIT: return "Split";
    case V1::TANH: return "TanH";
    default: return "";
  }
}

// Rewrites V1 `layers {}` as current `layer {}` entries (same parameter messages, other
// field numbers), after any current ones, so one converter serves both formats.
void upgrade_v1_layers(NetParameter& net) {
  for (auto& v1 : *net.mutable_layers()) {
    LayerParameter* l = net.add_layer();
    l->set_name(v1.name());
    const char* type = v1_type_name(v1.type());
    l->set_type(*type != '\0' ? type : "V1 " + inferd_caffe::V1LayerParameter::LayerType_Name(v1.type()));
    l->mutable_bottom()->Swap(v1.mutable_bottom());
    l->mutable_top()->Swap(v1.mutable_top());
    l->mutable_blobs()->Swap(v1.mutable_blobs());  // moved, not copied: weights can be 100s of MB
    if (v1.has_concat_param()) *l->mutable_concat_param() = v1.concat_param();
    if (v1.has_convolution_param()) *l->mutable_convolution_param() = v1.convolution_param();
    if (v1.has_dropout_param()) *l->mutable_dropout_param() = v1.dropout_param();
    if (v1.has_eltwise_param()) *l->mutable_eltwise_param() = v1.eltwise_param();
    if (v1.has_inner_product_param()) *l->mutable_inner_product_param() = v1.inner_product_param();
    if (v1.has_lrn_param()) *l->mutable_lrn_param() = v1.lrn_param();
    if (v1.has_pooling_param()) *l->mutable_pooling_param() = v1.pooling_param();
    if (v1.has_relu_param()) *l->mutable_relu_param() = v1.relu_param();
    if (v1.has_softmax_param()) *l->mutable_softmax_param() = v1.softmax_param();
  }
  net.clear_layers();
}

}  // namespace

Result<ir::Graph> import_caffe_bytes(std::string_view prototxt, std::span<const uint8_t> caffemodel,
                                     const std::string& name_for_errors) {
  auto topology = parse_prototxt(prototxt);
  if (!topology.is_ok()) return Status(topology.status().code(), name_for_errors + ": " + topology.status().message());
  auto weights = parse_caffemodel(caffemodel);
  if (!weights.is_ok()) return Status(weights.status().code(), name_for_errors + ": " + weights.status().message());
  upgrade_v1_layers(*topology);
  upgrade_v1_layers(*weights);
  caffe::CaffeGraphBuilder builder(&*weights, name_for_errors);
  builder.graph().name = topology->name().empty() ? "caffe" : topology->name();
  RETURN_IF_ERROR(builder.add_legacy_inputs(*topology));
  for (const auto& layer : topology->layer()) RETURN_IF_ERROR(builder.add_layer(layer));
  return builder.finish();
}

Result<ir::Graph> import_caffe(const std::string& prototxt_path, const std::string& caffemodel_path) {
  ASSIGN_OR_RETURN(auto text, read_file(prototxt_path));
  // Mapped, not read: the parser copies each blob once out of the page cache.
  ASSIGN_OR_RETURN(auto weights, MappedFile::open(caffemodel_path));
  const std::string_view view(reinterpret_cast<const char*>(text.data()), text.size());
  return import_caffe_bytes(view, weights.bytes(), prototxt_path);
}

}  // namespace inferd
