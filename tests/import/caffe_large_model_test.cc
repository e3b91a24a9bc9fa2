// A 500 MB .caffemodel loads: protobuf's default 64 MB message limit is raised and the file
// is mapped, not read. The file is written here, streamed, as Caffe's wire format: one
// InnerProduct layer whose [125000, 1000] weights are 500 MB.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "import/caffe/caffe_importer.h"

namespace inferd {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::string length_delimited(int field, const std::string& body) {
  std::string out;
  put_varint(out, static_cast<uint64_t>(field) << 3 | 2);
  put_varint(out, body.size());
  return out + body;
}

float weight_at(int64_t i) { return static_cast<float>(i % 1999 - 999) / 1024.0f; }

// NetParameter { layer (100) { name (1): "fc"  blobs (7) { shape (7) { dim (1) packed }
// data (5) packed floats } } }, the floats written in chunks.
void write_caffemodel(const std::string& path, int64_t outputs, int64_t inputs) {
  std::string dims;
  put_varint(dims, static_cast<uint64_t>(outputs));
  put_varint(dims, static_cast<uint64_t>(inputs));
  const std::string shape = length_delimited(7, length_delimited(1, dims));
  const uint64_t data_bytes = static_cast<uint64_t>(outputs * inputs) * 4;
  std::string data_head;
  put_varint(data_head, 5 << 3 | 2);
  put_varint(data_head, data_bytes);
  const uint64_t blob_bytes = shape.size() + data_head.size() + data_bytes;
  std::string layer_head = length_delimited(1, "fc");
  put_varint(layer_head, 7 << 3 | 2);
  put_varint(layer_head, blob_bytes);
  std::string head;
  put_varint(head, 100 << 3 | 2);
  put_varint(head, layer_head.size() + blob_bytes);
  std::ofstream out(path, std::ios::binary);
  out << head << layer_head << shape << data_head;
  std::vector<float> chunk(1 << 20);
  for (int64_t i = 0; i < outputs * inputs;) {
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(chunk.size()), outputs * inputs - i);
    for (int64_t k = 0; k < n; ++k) chunk[static_cast<size_t>(k)] = weight_at(i + k);
    out.write(reinterpret_cast<const char*>(chunk.data()), n * 4);
    i += n;
  }
  ASSERT_TRUE(out.good());
}

TEST(CaffeLargeModel, AFiveHundredMegabyteCaffemodelLoads) {
  const int64_t outputs = 125000, inputs = 1000;  // 125 M floats, 500 MB
  const std::string dir = ::testing::TempDir();
  const std::string weights = dir + "/inferd_large.caffemodel", prototxt = dir + "/inferd_large.prototxt";
  write_caffemodel(weights, outputs, inputs);
  std::ofstream(prototxt) << "input: \"data\" input_dim: 1 input_dim: 1000 input_dim: 1 input_dim: 1\n"
                             "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"data\" top: \"fc\"\n"
                             "        inner_product_param { num_output: 125000 bias_term: false } }\n";
  const auto start = std::chrono::steady_clock::now();
  auto graph = import_caffe(prototxt, weights);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::remove(weights.c_str());
  std::remove(prototxt.c_str());
  ASSERT_TRUE(graph.is_ok()) << graph.status().message();
  std::cout << "imported a 500 MB caffemodel in " << seconds << " s\n";
  const ir::Graph& g = graph.value();
  const ir::Node& fc = g.nodes().back();
  ASSERT_EQ(fc.op, ir::OpKind::kGemm);
  const ir::Value& w = g.value(fc.inputs[1]);
  ASSERT_TRUE(w.is_constant());
  EXPECT_EQ(w.shape, (Shape{outputs, inputs}));
  const auto values = w.constant->floats();
  for (int64_t i : {int64_t{0}, int64_t{1}, outputs * inputs / 2 + 7, outputs * inputs - 1})
    EXPECT_EQ(values[static_cast<size_t>(i)], weight_at(i)) << i;
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{kDynamicDim, outputs}));
}

}  // namespace
}  // namespace inferd
