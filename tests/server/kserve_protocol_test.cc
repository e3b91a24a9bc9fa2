// KServe v2 payloads: request parsing (JSON and binary tensor data), every validation
// error with its exact message, response rendering in both forms, metadata documents,
// and the classification extension.
#include "server/kserve_protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <charconv>
#include <cstring>
#include <numeric>
#include <random>

namespace inferd::kserve {
namespace {

namespace json = boost::json;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

std::string fp32_bytes(const std::vector<float>& v) {
  std::string s;
  for (float f : v) s += le32(std::bit_cast<uint32_t>(f));
  return s;
}

std::string bytes_elements(const std::vector<std::string>& elements) {
  std::string s;
  for (const std::string& e : elements) s += le32(static_cast<uint32_t>(e.size())) + e;
  return s;
}

std::string shortest(float f) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, end);
}

// A binary body: JSON header, then the given binary parts in order.
struct Body {
  std::string bytes;
  size_t header_length;
};
Body binary_body(const std::string& header, const std::string& binary) { return {header + binary, header.size()}; }

// Parses `body` (all JSON) and returns the error message, or "" when it parsed.
std::string error_of(std::string_view body, std::optional<size_t> header_length = std::nullopt) {
  Result<InferRequest> r = parse_infer_request(body, header_length);
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string one_input(const std::string& fields) { return R"({"inputs":[{)" + fields + "}]}"; }

TEST(KServeParse, FlatFp32AndMetadataFields) {
  const std::vector<float> values = random_floats(6, 1);
  std::string data;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) data += ',';
    data += shortest(values[i]);
  }
  const std::string body = R"({"id":"req-7","inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[)" + data +
                           R"(]}],"outputs":[{"name":"probs"}]})";
  Result<InferRequest> r = parse_infer_request(body, std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->id, "req-7");
  ASSERT_EQ(r->inputs.size(), 1u);
  const TensorData& x = r->inputs[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.datatype, "FP32");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(x.fp32, values);  // shortest round-trip text reads back bit-exact
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].name, "probs");
  EXPECT_FALSE(r->outputs[0].binary_data);
  EXPECT_EQ(r->outputs[0].classification, 0);
  EXPECT_FALSE(r->binary_data_output);
}

TEST(KServeParse, NestedDataFlattensRowMajorAndAcceptsIntegers) {
  Result<InferRequest> r = parse_infer_request(
      one_input(R"("name":"x","datatype":"FP32","shape":[2,2,2],"data":[[[1,2.5],[-3,4e1]],[[5,6],[7,-0.125]]])"), std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->inputs[0].fp32, (std::vector<float>{1, 2.5f, -3, 40, 5, 6, 7, -0.125f}));
}

TEST(KServeParse, ScalarShapeHasOneElement) {
  Result<InferRequest> r = parse_infer_request(one_input(R"("name":"s","datatype":"FP32","shape":[],"data":[0.75])"), std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->inputs[0].fp32, std::vector<float>{0.75f});
}

TEST(KServeParse, BytesAsJsonStringsAreTheirUtf8Bytes) {
  Result<InferRequest> r = parse_infer_request(
      one_input(R"("name":"text","datatype":"BYTES","shape":[3],"data":["abc","\u00e9","a\"b"])"), std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->inputs[0].bytes, (std::vector<std::string>{"abc", "\xc3\xa9", "a\"b"}));
}

TEST(KServeParse, BytesWithBase64ContentTypeAreDecoded) {
  // "/9j/AA==" is FF D8 FF 00 (a JPEG start, not UTF-8); "aGk" is "hi" without padding.
  Result<InferRequest> r = parse_infer_request(
      one_input(R"("name":"image","datatype":"BYTES","shape":[1,2],"parameters":{"content_type":"base64"},"data":[["/9j/AA==","aGk"]])"),
      std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->inputs[0].bytes, (std::vector<std::string>{std::string("\xff\xd8\xff\x00", 4), "hi"}));
}

// The model's max batch bounds an input before its data is converted: BYTES by elements
// (a flood of 4.2 M empty strings cost seconds and ~500 MB before), other types by rows.
TEST(KServeParse, TheMaxBatchBoundsInputsBeforeTheirDataIsConverted) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += i ? ",\"\"" : "\"\"";
  Result<InferRequest> r = parse_infer_request(
      one_input(R"("name":"x","datatype":"BYTES","shape":[1,100000],"data":[)" + data + "]"), std::nullopt, 8);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "input 'x' has 100000 elements; the model takes at most 8 per request (its max batch)");
  // A bad value among the data is not even looked at: the bound comes first.
  r = parse_infer_request(one_input(R"("name":"x","datatype":"FP32","shape":[9,1],"data":[1,2,3,4,5,6,7,8,"x"])"),
                          std::nullopt, 8);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "input 'x' has 9 rows; the model takes at most 8 per request (its max batch)");
  r = parse_infer_request(one_input(R"("name":"x","datatype":"FP32","shape":[8,1],"data":[1,2,3,4,5,6,7,8])"),
                          std::nullopt, 8);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
}

TEST(KServeParse, RequestedOutputParameters) {
  const std::string body = R"({"parameters":{"binary_data_output":true},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],
    "outputs":[{"name":"a"},{"name":"b","parameters":{"binary_data":false,"classification":5}}]})";
  Result<InferRequest> r = parse_infer_request(body, std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->binary_data_output);
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_TRUE(r->outputs[0].binary_data);   // inherits binary_data_output
  EXPECT_FALSE(r->outputs[1].binary_data);  // its own parameter wins
  EXPECT_EQ(r->outputs[1].classification, 5);
}

TEST(KServeParse, BinaryExtensionMixedWithJsonInputs) {
  const std::vector<float> pixels = random_floats(2 * 3 * 4, 2);
  const std::vector<std::string> images = {std::string("\xff\xd8\xff\xe0\x00\x10JFIF", 10), "", std::string(300, '\x89')};
  const std::string header = R"({"inputs":[
      {"name":"pixels","datatype":"FP32","shape":[2,3,4],"parameters":{"binary_data_size":96}},
      {"name":"scale","datatype":"FP32","shape":[1],"data":[0.5]},
      {"name":"images","datatype":"BYTES","shape":[3],"parameters":{"binary_data_size":322}}]})";
  const Body body = binary_body(header, fp32_bytes(pixels) + bytes_elements(images));
  Result<InferRequest> r = parse_infer_request(body.bytes, body.header_length);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->inputs.size(), 3u);
  EXPECT_EQ(r->inputs[0].fp32, pixels);
  EXPECT_EQ(r->inputs[1].fp32, std::vector<float>{0.5f});
  EXPECT_EQ(r->inputs[2].bytes, images);
}

TEST(KServeParse, HeaderLengthEqualToBodyNeedsNoBinary) {
  const std::string body = one_input(R"("name":"x","datatype":"FP32","shape":[1],"data":[2])");
  EXPECT_EQ(error_of(body, body.size()), "");
}

TEST(KServeParseErrors, MalformedJsonNamesTheByte) {
  EXPECT_EQ(error_of(R"({"inputs": [1,2,})"), "malformed JSON at byte 16: syntax error");
  EXPECT_EQ(error_of(R"({"inputs": [])"), "malformed JSON at byte 13: incomplete JSON");
  EXPECT_EQ(error_of(R"({"inputs": []} x)"), "malformed JSON at byte 15: extra data");
  EXPECT_EQ(error_of(""), "the request has no JSON (empty body or Inference-Header-Content-Length 0)");
}

TEST(KServeParseErrors, InvalidUtf8IsAJsonError) {
  const std::string body = one_input("\"name\":\"x\xff\",\"datatype\":\"BYTES\",\"shape\":[0],\"data\":[]");
  EXPECT_EQ(error_of(body),
            "malformed JSON at byte 21: invalid UTF-8 (JSON text must be UTF-8; send binary data with the binary "
            "extension or as base64)");
}

TEST(KServeParseErrors, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = one_input(R"("name":"x","datatype":"FP32","shape":[1],"data":)" + std::string(100000, '[') +
                                     "1" + std::string(100000, ']'));
  // The data array opens at byte 60 at depth 4 (object, array, object): the 62nd '['
  // (byte 121) would be level 65.
  EXPECT_EQ(error_of(deep), "malformed JSON at byte 121: nested deeper than 64 levels");
  // Nesting below the limit is fine: 60 levels of data arrays.
  const std::string ok = one_input(R"("name":"x","datatype":"FP32","shape":[1],"data":)" + std::string(60, '[') + "1" +
                                   std::string(60, ']'));
  EXPECT_EQ(error_of(ok), "");
}

TEST(KServeParseErrors, RequestStructure) {
  EXPECT_EQ(error_of("[1]"), "the request must be a JSON object, got an array");
  EXPECT_EQ(error_of(R"({"outputs":[]})"), "the request has no \"inputs\"");
  EXPECT_EQ(error_of(R"({"inputs":{}})"), "\"inputs\" must be an array, got an object");
  EXPECT_EQ(error_of(R"({"inputs":[]})"), "\"inputs\" is empty");
  EXPECT_EQ(error_of(R"({"inputs":[3]})"), "inputs[0] must be an object, got a number");
  EXPECT_EQ(error_of(R"({"id":5,"inputs":[]})"), "\"id\" must be a string, got a number");
  EXPECT_EQ(error_of(R"({"parameters":{"binary_data_output":1},"inputs":[]})"),
            "the request: parameters.binary_data_output must be true or false, got a number");
}

TEST(KServeParseErrors, InputFields) {
  EXPECT_EQ(error_of(one_input(R"("datatype":"FP32","shape":[1],"data":[1])")), "inputs[0] has no \"name\"");
  EXPECT_EQ(error_of(one_input(R"("name":7,"datatype":"FP32","shape":[1],"data":[1])")),
            "inputs[0]: \"name\" must be a string, got a number");
  EXPECT_EQ(error_of(one_input(R"("name":"x","shape":[1],"data":[1])")), "input 'x' has no \"datatype\"");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","data":[1])")), "input 'x' has no \"shape\"");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"INT8","shape":[1],"data":[1])")),
            "input 'x': datatype INT8 is not supported (use FP32 or BYTES)");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[1])")),
            "input 'x' has neither \"data\" nor parameters.binary_data_size");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[1],"data":[1],"parameters":{"binary_data_size":4})")),
            "input 'x' has both \"data\" and parameters.binary_data_size");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[1],"data":5)")),
            "input 'x': \"data\" must be an array, got a number");
  EXPECT_EQ(error_of(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]},{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})"),
            "input 'x' appears twice in \"inputs\"");
}

TEST(KServeParseErrors, Shapes) {
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[1,-1],"data":[1])")),
            "input 'x': dimension 1 of \"shape\" is -1; dimensions must be >= 0");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[2.5],"data":[1])")),
            "input 'x': dimension 0 of \"shape\" is a number, expected an integer");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":"1","data":[1])")),
            "input 'x': \"shape\" must be an array of integers, got a string");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[18446744073709551615],"data":[1])")),
            "input 'x': dimension 0 of \"shape\" (18446744073709551615) is too large");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[4294967296,4294967296],"data":[1])")),
            "input 'x': shape [4294967296,4294967296] has more than 2^63 elements");
}

TEST(KServeParseErrors, ElementCountAndTypes) {
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[1,3,224,224],"data":[1,2,3,4,5,6,7,8,9,10])")),
            "input 'x': shape [1,3,224,224] has 150528 elements but 10 values were given");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[2,2],"data":[[1,2],[3]])")),
            "input 'x': shape [2,2] has 4 elements but 3 values were given");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[2],"data":[1,"2"])")),
            "input 'x': element 1 of \"data\" is a string, FP32 needs numbers");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"FP32","shape":[2],"data":[1,1e39])")),
            "input 'x': element 1 of \"data\" (1E39) is outside the FP32 range");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"BYTES","shape":[2],"data":["a",null])")),
            "input 'x': element 1 of \"data\" is null, BYTES needs strings");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"BYTES","shape":[1],"parameters":{"content_type":"base64"},"data":["a$=="])")),
            "input 'x': element 0 of \"data\" is not valid base64 (the input's content_type is \"base64\")");
  EXPECT_EQ(error_of(one_input(R"("name":"x","datatype":"BYTES","shape":[1],"parameters":{"content_type":"base64"},"data":["abcde"])")),
            "input 'x': element 0 of \"data\" is not valid base64 (the input's content_type is \"base64\")");
}

TEST(KServeParseErrors, RequestedOutputs) {
  const std::string in = R"("inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}])";
  EXPECT_EQ(error_of("{" + in + R"(,"outputs":[{"name":"p","parameters":{"classification":0}}]})"),
            "output 'p': parameters.classification must be a positive integer, got 0");
  EXPECT_EQ(error_of("{" + in + R"(,"outputs":[{"name":"p","parameters":{"classification":"3"}}]})"),
            "output 'p': parameters.classification must be a positive integer, got \"3\"");
  EXPECT_EQ(error_of("{" + in + R"(,"outputs":[{"name":"p","parameters":{"binary_data":"yes"}}]})"),
            "output 'p': parameters.binary_data must be true or false, got a string");
  EXPECT_EQ(error_of("{" + in + R"(,"outputs":[{"parameters":{}}]})"), "outputs[0] has no \"name\"");
  EXPECT_EQ(error_of("{" + in + R"(,"outputs":[{"name":"p"},{"name":"p"}]})"), "output 'p' is requested twice");
}

TEST(KServeParseErrors, BinaryDataSizes) {
  const std::string two = R"({"inputs":[{"name":"a","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},
                                        {"name":"b","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}}]})";
  const std::vector<float> v = random_floats(3, 3);
  // The sum (12) is larger than what follows the header (10).
  Body body = binary_body(two, fp32_bytes(v).substr(0, 10));
  EXPECT_EQ(error_of(body.bytes, body.header_length),
            "input 'b': binary_data_size 4 runs past the end of the body (10 bytes follow the JSON header, 8 taken by earlier inputs)");
  // Leftover bytes after the last input.
  body = binary_body(two, fp32_bytes(v) + "xyz");
  EXPECT_EQ(error_of(body.bytes, body.header_length),
            "15 bytes follow the JSON header but the inputs' binary_data_size add up to 12 (3 bytes left over)");
  // Header length larger than the body.
  EXPECT_EQ(error_of(two, two.size() + 1),
            "Inference-Header-Content-Length is " + std::to_string(two.size() + 1) + " but the body is only " +
                std::to_string(two.size()) + " bytes");
  // Binary inputs without the header.
  EXPECT_EQ(error_of(two), "input 'a' has parameters.binary_data_size but the request has no Inference-Header-Content-Length header");
  // A size that does not match the shape.
  const std::string lies = one_input(R"("name":"a","datatype":"FP32","shape":[3],"parameters":{"binary_data_size":8})");
  body = binary_body(lies, fp32_bytes(v).substr(0, 8));
  EXPECT_EQ(error_of(body.bytes, body.header_length), "input 'a': shape [3] has 3 FP32 elements (12 bytes) but binary_data_size is 8");
  EXPECT_EQ(error_of(lies, 0), "the request has no JSON (empty body or Inference-Header-Content-Length 0)");
  const std::string negative = one_input(R"("name":"a","datatype":"FP32","shape":[3],"parameters":{"binary_data_size":-4})");
  EXPECT_EQ(error_of(negative, negative.size()), "input 'a': parameters.binary_data_size must be a non-negative integer");
}

TEST(KServeParseErrors, BinaryBytesElements) {
  auto bytes_error = [](int64_t count, const std::string& binary) {
    const std::string header = one_input(R"("name":"img","datatype":"BYTES","shape":[)" + std::to_string(count) +
                                         R"(],"parameters":{"binary_data_size":)" + std::to_string(binary.size()) + "}");
    const Body body = binary_body(header, binary);
    return error_of(body.bytes, body.header_length);
  };
  EXPECT_EQ(bytes_error(2, bytes_elements({"ab", "cde"})), "");
  EXPECT_EQ(bytes_error(2, bytes_elements({"ab"}) + std::string("\x03\x00", 2)),
            "input 'img': binary BYTES element 1 has a truncated length prefix (2 of 4 bytes)");
  EXPECT_EQ(bytes_error(2, bytes_elements({"ab"}) + le32(1000) + "xyz"),
            "input 'img': binary BYTES element 1 claims 1000 bytes but only 3 remain in its binary_data_size");
  EXPECT_EQ(bytes_error(1, bytes_elements({"ab", "c"})),
            "input 'img': binary BYTES data holds more than the 1 elements of shape [1] (5 bytes left over)");
  EXPECT_EQ(bytes_error(3, bytes_elements({"ab", "c"})), "input 'img': shape [3] has 3 elements but the binary BYTES data holds 2");
}

TEST(KServeHeaderLength, ParsesDecimalByteCounts) {
  Result<std::optional<size_t>> absent = parse_header_length("");
  ASSERT_TRUE(absent.is_ok());
  EXPECT_FALSE(absent.value().has_value());
  Result<std::optional<size_t>> n = parse_header_length("142");
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n.value(), std::optional<size_t>(142));
  for (const char* bad : {"abc", "-1", "12x", " 12"}) {
    Result<std::optional<size_t>> r = parse_header_length(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().message(), "Inference-Header-Content-Length '" + std::string(bad) + "' is not a byte count");
  }
}

InferResult sample_result() {
  InferResult result;
  result.model_name = "squeezenet";
  result.model_version = "1";
  result.id = "req-1";
  result.outputs.push_back({"probs", "FP32", {1, 3}, {0.5f, -1.25f, 3.0f}, {}});
  result.outputs.push_back({"classes", "BYTES", {1, 2}, {}, {"0.921100:331:n02328150 Angora, Angora rabbit", "x\"y"}});
  return result;
}

TEST(KServeRender, JsonResponse) {
  const http::Response r = render_infer_response(sample_result());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(r.body,
            R"({"model_name":"squeezenet","model_version":"1","id":"req-1","outputs":[)"
            R"({"name":"probs","datatype":"FP32","shape":[1,3],"data":[0.5,-1.25,3]},)"
            R"({"name":"classes","datatype":"BYTES","shape":[1,2],"data":["0.921100:331:n02328150 Angora, Angora rabbit","x\"y"]}]})");
}

TEST(KServeRender, JsonFloatsRoundTripAndNonFiniteIsNull) {
  InferResult result;
  result.model_name = "m";
  const std::vector<float> values = random_floats(1000, 4);
  result.outputs.push_back({"y", "FP32", {1000}, values, {}});
  result.outputs.push_back({"z", "FP32", {2}, {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}, {}});
  const http::Response r = render_infer_response(result);
  const json::value doc = json::parse(r.body);
  EXPECT_FALSE(doc.as_object().contains("id"));
  EXPECT_FALSE(doc.as_object().contains("model_version"));
  const json::array& data = doc.at("outputs").at(0).at("data").as_array();
  ASSERT_EQ(data.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(static_cast<float>(data[i].to_number<double>()), values[i]) << i;
  EXPECT_EQ(json::serialize(doc.at("outputs").at(1).at("data")), "[null,null]");
}

TEST(KServeRender, BinaryOutputsFollowTheJsonHeader) {
  InferResult result = sample_result();
  result.outputs[0].fp32 = random_floats(3, 5);
  result.binary = {true, true};
  const http::Response r = render_infer_response(result);
  EXPECT_EQ(r.content_type, "application/octet-stream");
  ASSERT_EQ(r.headers.count("Inference-Header-Content-Length"), 1u);
  const size_t n = std::stoul(r.headers.at("Inference-Header-Content-Length"));
  EXPECT_EQ(r.body.substr(0, n),
            R"({"model_name":"squeezenet","model_version":"1","id":"req-1","outputs":[)"
            R"({"name":"probs","datatype":"FP32","shape":[1,3],"parameters":{"binary_data_size":12}},)"
            R"({"name":"classes","datatype":"BYTES","shape":[1,2],"parameters":{"binary_data_size":55}}]})");
  EXPECT_EQ(r.body.substr(n), fp32_bytes(result.outputs[0].fp32) + bytes_elements(result.outputs[1].bytes));
}

TEST(KServeRender, OnlyTheBinaryOutputsGoAfterTheHeader) {
  InferResult result = sample_result();
  result.binary = {false, true};
  const http::Response r = render_infer_response(result);
  const size_t n = std::stoul(r.headers.at("Inference-Header-Content-Length"));
  const json::value header = json::parse(r.body.substr(0, n));
  EXPECT_EQ(json::serialize(header.at("outputs").at(0).at("data")), "[5E-1,-1.25E0,3]");
  EXPECT_EQ(r.body.substr(n), bytes_elements(result.outputs[1].bytes));
}

// A response with binary BYTES outputs parses back through the request parser when
// given the same layout: both directions share one wire format.
TEST(KServeRender, BinaryLayoutMatchesTheRequestParser) {
  InferResult result;
  result.model_name = "m";
  result.outputs.push_back({"t", "BYTES", {2}, {}, {std::string("\x00\xff", 2), "hello"}});
  result.binary = {true};
  const http::Response r = render_infer_response(result);
  const size_t n = std::stoul(r.headers.at("Inference-Header-Content-Length"));
  const std::string request_header =
      one_input(R"("name":"t","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":)" +
                std::to_string(r.body.size() - n) + "}");
  const Body body = binary_body(request_header, r.body.substr(n));
  Result<InferRequest> parsed = parse_infer_request(body.bytes, body.header_length);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  EXPECT_EQ(parsed->inputs[0].bytes, result.outputs[0].bytes);
}

TEST(KServeMetadata, ServerAndModelDocuments) {
  EXPECT_EQ(server_metadata_json("0.1.0"),
            R"({"name":"inferd","version":"0.1.0","extensions":["binary_tensor_data","classification","model_repository"]})");
  ModelMetadata m;
  m.name = "resnet50";
  m.versions = {"1", "2"};
  m.inputs.push_back({"data", "FP32", {-1, 3, 224, 224}, {}, {}});
  m.outputs.push_back({"prob", "FP32", {-1, 1000}, {}, {}});
  EXPECT_EQ(model_metadata_json(m),
            R"({"name":"resnet50","versions":["1","2"],"platform":"inferd_plan",)"
            R"("inputs":[{"name":"data","datatype":"FP32","shape":[-1,3,224,224]}],)"
            R"("outputs":[{"name":"prob","datatype":"FP32","shape":[-1,1000]}]})");
}

TEST(KServeClassification, Strings) {
  EXPECT_EQ(classification_string(0.9211f, 331, "n02328150 Angora, Angora rabbit"), "0.921100:331:n02328150 Angora, Angora rabbit");
  EXPECT_EQ(classification_string(0.5f, 3, ""), "0.500000:3");
  EXPECT_EQ(classification_string(-2.25f, 0, "x"), "-2.250000:0:x");
}

TEST(KServeClassification, TopKPerBatchRow) {
  const int batch = 3, classes = 17, k = 4;
  TensorData scores{"logits", "FP32", {batch, classes}, random_floats(batch * classes, 6), {}};
  std::vector<std::string> labels;
  for (int c = 0; c < classes; ++c) labels.push_back("label " + std::to_string(c));
  Result<TensorData> out = classification_output(scores, k, labels);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->datatype, "BYTES");
  EXPECT_EQ(out->shape, (std::vector<int64_t>{batch, k}));
  ASSERT_EQ(out->bytes.size(), static_cast<size_t>(batch * k));
  for (int b = 0; b < batch; ++b) {
    std::vector<int> order(classes);
    std::iota(order.begin(), order.end(), 0);
    const float* row = scores.fp32.data() + b * classes;
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return row[x] > row[y]; });
    for (int i = 0; i < k; ++i) {
      EXPECT_EQ(out->bytes[b * k + i], classification_string(row[order[i]], order[i], labels[order[i]])) << b << "," << i;
    }
  }
}

TEST(KServeClassification, CapsKAndChecksTheOutput) {
  TensorData scores{"p", "FP32", {4}, {0.1f, 0.4f, 0.2f, 0.3f}, {}};
  Result<TensorData> out = classification_output(scores, 10, {});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->shape, std::vector<int64_t>{4});
  EXPECT_EQ(out->bytes, (std::vector<std::string>{"0.400000:1", "0.300000:3", "0.200000:2", "0.100000:0"}));
  TensorData text{"t", "BYTES", {1}, {}, {"a"}};
  EXPECT_EQ(classification_output(text, 1, {}).status().message(), "output 't': classification needs an FP32 output, not BYTES");
  TensorData wrong{"w", "FP32", {2, 3}, {1, 2}, {}};
  EXPECT_EQ(classification_output(wrong, 1, {}).status().message(), "output 'w': shape does not match its 2 values");
}

}  // namespace
}  // namespace inferd::kserve
