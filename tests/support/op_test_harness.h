// The op-test harness, for every backend: one list of cases (op, attributes, input
// shapes and constants: op_cases.h), each run through Backend::pack() -> create_kernel()
// -> reshape() -> enqueue() on a stream of the backend's device in several memory layouts
// and batch sizes, and compared with the op's reference kernel on the same random inputs.
// A device backend gets its inputs copied into device memory (in the activation dtype
// under test) and its outputs copied back; reduced precisions round the inputs first, so
// the reference sees exactly the values the backend does.
//
// Layouts (Config): dense NCHW, NHWC, a channel slice of a larger NHWC or NCHW
// buffer as the output (as concat elimination produces), channel-slice inputs, and
// NCHW in -> NHWC out. The graph the backend packs carries the same layout and
// alias information, so pack() sees what a planner would give it.
//
// The batch list (default 1 then 3) runs on ONE kernel: the second batch goes
// through reshape() again (new oneDNN primitives, maybe re-packed weights), then
// the first batch again (the per-shape cache).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::test {

struct CaseInput {
  Shape shape;            // at batch 1; dim 0 scales with the batch unless constant
  bool constant = false;  // a graph constant (weights), same for every batch
  bool absent = false;    // an absent optional input
  float lo = -1.0f, hi = 1.0f;
  std::vector<int64_t> ints;  // an int64 constant (Reshape's shape, Gather's indices)
  // >= 0: random values snapped onto the int8 grid max|w| / 127 of each channel along this
  // axis (the weights of an INT8 layer, as calibration writes them: Conv 0, Gemm's B 1).
  int int8_grid_axis = -1;
};

inline CaseInput activation(Shape s) {
  CaseInput in;
  in.shape = std::move(s);
  return in;
}
inline CaseInput weight(Shape s, float lo = -1.0f, float hi = 1.0f) {
  CaseInput in = activation(std::move(s));
  in.constant = true;
  in.lo = lo;
  in.hi = hi;
  return in;
}
inline CaseInput int8_grid_weight(Shape s, int axis = 0) {
  CaseInput in = weight(std::move(s));
  in.int8_grid_axis = axis;
  return in;
}
inline CaseInput absent() {
  CaseInput in;
  in.absent = true;
  return in;
}
inline CaseInput int64s(Shape s, std::vector<int64_t> values) {
  CaseInput in = weight(std::move(s));
  in.ints = std::move(values);
  return in;
}

struct OpCase {
  std::string name;  // the gtest parameter name: letters, digits, '_'
  ir::OpKind op;
  ir::Attributes attrs;
  std::vector<CaseInput> inputs;
  std::vector<Shape> outputs;  // at batch 1; dim 0 scales with the batch
  std::string implementation;  // the PackedOp's implementation() in the NCHW layout
  float tolerance = 1e-4f;     // per element: |got - want| <= tolerance * max(1, |want|)
  // Outputs rounded onto a grid of this step (0: none): an element may also be exactly one
  // step off (the kernel's float sum reached a rounding boundary from the other side), on
  // at most 2 % of the elements. Anything else off the grid still fails the tolerance.
  float grid_step = 0;
  std::vector<int64_t> batches = {1, 3};
};

// gtest prints parameters of failing tests: the name says it all.
inline void PrintTo(const OpCase& c, std::ostream* os) {
  *os << c.name;
}

// Attribute helpers so case lists read as data.
ir::Attributes attrs(std::initializer_list<std::pair<const char*, ir::Attribute>> list);

// A backend and the precision its kernels are tested in.
struct BackendUnderTest {
  std::string name;  // "cpu", "cuda_fp16"
  std::shared_ptr<const Backend> backend;
  DataType dtype = DataType::kFloat32;  // of every activation
  std::string precision = "fp32";       // the plan precision pack() is given
  float tolerance = 0;                  // 0: the case's own (fp32); else this (fp16: 1e-2)
  bool check_implementation = false;    // `implementation` names the CPU backend's kernels
  std::vector<uint8_t> choices;         // the tuning blob pack() is given (a forced kernel choice)
};

// The CPU backend in fp32, checking implementation names.
const BackendUnderTest& cpu_backend_under_test();

// Runs every configuration and batch of `c`; failures name the layout and batch.
void run_case(const OpCase& c, const BackendUnderTest& b);

}  // namespace inferd::test
