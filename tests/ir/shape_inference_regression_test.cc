// Shape-rule inputs the fuzzer (tests/fuzz/plan_load_fuzzer.cc: plans are re-inferred on
// load) found overflowing: each must be a plain error, never undefined behaviour.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "graph_fixture.h"

namespace inferd {
namespace {

using ir::OpKind;
using test::attrs;
using test::GraphFixture;
using Ints = std::vector<int64_t>;

// UBSan: signed overflow in the Pad rule. std::abs(INT64_MIN) is itself INT64_MIN, so the
// range check let it through and in + before + after overflowed.
TEST(ShapeInferenceRegression, PadWithInt64MinIsOutOfRange) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (const Ints& pads : {Ints{0, 0, 0, kMin}, Ints{kMin, 0, 0, 0}, Ints{0, -648518346341351419, 0, kMin}}) {
    GraphFixture f;
    f.node(OpKind::kPad, {f.input("x", {2, 3})}, attrs({{"pads", pads}}), "pad");
    f.expect_error(StatusCode::kInvalidArgument, "node 'pad' (Pad): pads out of range");
  }
}

}  // namespace
}  // namespace inferd
