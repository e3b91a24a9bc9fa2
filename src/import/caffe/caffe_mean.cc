#include "import/caffe/caffe_mean.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <cmath>

#include "core/file.h"
#include "import/caffe/caffe_graph_builder.h"

namespace inferd {

Result<Tensor> import_caffe_mean_bytes(std::span<const uint8_t> bytes, const std::string& name_for_errors) {
  const auto fail = [&](const std::string& m) { return invalid_argument(name_for_errors + ": " + m); };
  // A 3 x 256 x 256 mean is 786 KB; anything near protobuf's 2 GiB bound is not a mean.
  if (bytes.size() > (size_t{256} << 20)) return fail("is over 256 MiB: not a mean image");
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);
  inferd_caffe::BlobProto blob;
  if (bytes.empty() || !blob.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return data_loss(name_for_errors + ": not a Caffe BlobProto (truncated or corrupt)");
  auto tensor = caffe::take_blob(blob);
  if (!tensor.is_ok()) return fail(tensor.status().message());
  Shape shape = tensor->shape();
  if (shape.size() == 4 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 3 || shape[0] != 3 || shape[1] < 1 || shape[2] < 1)
    return fail("mean image of shape " + to_string(tensor->shape()) + "; expected [1,3,H,W] or [3,H,W]");
  for (float v : tensor->floats())
    if (!std::isfinite(v)) return fail("mean image holds a value that is not finite");
  return std::move(tensor).value().reshaped(shape);
}

Result<Tensor> import_caffe_mean(const std::string& path) {
  ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return import_caffe_mean_bytes(bytes, path);
}

}  // namespace inferd
