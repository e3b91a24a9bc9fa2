// Helpers of the Caffe import tests: small nets written in the test as protobuf text
// (topology and weights), the weights serialised to the binary .caffemodel form, imported
// and run through the reference kernels.
#pragma once

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "caffe_subset.pb.h"
#include "import/caffe/caffe_importer.h"
#include "support/reference_run.h"

namespace inferd::test {

// A .caffemodel (binary NetParameter) from its text form.
inline std::vector<uint8_t> caffemodel(const std::string& text) {
  inferd_caffe::NetParameter net;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &net)) << text;
  const std::string bytes = net.SerializeAsString();
  return {bytes.begin(), bytes.end()};
}

// "blobs { shape { dim: ... } data: ... }" for a blob of `values`, with its shape.
inline std::string blob(const Shape& shape, const std::vector<float>& values) {
  std::string s = "blobs { shape {";
  for (int64_t d : shape) s += " dim: " + std::to_string(d);
  s += " }";
  for (float v : values) s += " data: " + std::to_string(v);
  return s + " }";
}

inline std::vector<float> ramp(size_t n, float from, float step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = from + step * static_cast<float>(i);
  return v;
}

// Every output of the imported net (the blobs no layer reads, in the order written).
inline Result<std::vector<Tensor>> run_caffe(const std::string& prototxt, const std::string& weights,
                                             const std::vector<Tensor>& inputs) {
  ASSIGN_OR_RETURN(ir::Graph g, import_caffe_bytes(prototxt, caffemodel(weights), "net.prototxt"));
  return reference_run(g, inputs);
}

inline Result<Tensor> run_one(const std::string& prototxt, const std::string& weights, const Tensor& x) {
  ASSIGN_OR_RETURN(auto out, run_caffe(prototxt, weights, {x}));
  return out.at(0);
}

}  // namespace inferd::test
