// The part of attribute normalisation that needs input shapes, run node by node in
// topological order between shape inference steps (see onnx_ops.h).
#include <algorithm>

#include "import/onnx/onnx_ops.h"

namespace inferd::onnx_import {
namespace {

using ir::OpKind;

const Shape* input_shape(const ir::Graph& g, const ir::Node& n, size_t i) {
  if (i >= n.inputs.size() || n.inputs[i] == ir::kNoValue) return nullptr;
  return &g.value(n.inputs[i]).shape;
}

std::string dims_text(const std::vector<int64_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(v[i]);
  }
  return out;
}

Status check_kernel_shape(const ir::Graph& g, ir::Node& n) {
  if (!n.attrs.has(kPendingKernelShape)) return Status::ok();
  const std::vector<int64_t> kernel = n.attrs.get_ints(kPendingKernelShape);
  n.attrs.erase(kPendingKernelShape);
  const Shape* w = input_shape(g, n, 1);
  if (w == nullptr || w->size() != 4) return Status::ok();  // shape inference reports it
  const std::vector<int64_t> weight_kernel(w->begin() + 2, w->end());
  if (kernel != weight_kernel)
    return invalid_argument(describe(g, n) + ": kernel_shape " + dims_text(kernel) + " does not match weight " +
                            dims_text(weight_kernel) + " ('" + g.value(n.inputs[1]).name + "' " + to_string(*w) + ")");
  return Status::ok();
}

// auto_pad SAME_UPPER / SAME_LOWER: output = ceil(input / stride); the total padding
// that gives it is split evenly, the odd pixel at the end (UPPER) or the start (LOWER).
Status resolve_auto_pad(const ir::Graph& g, ir::Node& n) {
  const std::string mode = n.attrs.get_string(kPendingAutoPad, "");
  if (mode.empty()) return Status::ok();
  n.attrs.erase(kPendingAutoPad);
  const Shape* x = input_shape(g, n, 0);
  if (x == nullptr || x->size() != 4) return Status::ok();  // shape inference reports it
  std::vector<int64_t> kernel = n.attrs.get_ints("kernel_shape");
  if (n.op == OpKind::kConv) {
    const Shape* w = input_shape(g, n, 1);
    if (w == nullptr || w->size() != 4) return Status::ok();
    kernel = {(*w)[2], (*w)[3]};
  }
  const std::vector<int64_t> strides = n.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> dilations = n.attrs.get_ints("dilations", {1, 1});
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2) return Status::ok();
  std::vector<int64_t> pads(4, 0);
  for (size_t i = 0; i < 2; ++i) {
    const int64_t in = (*x)[2 + i];
    const int64_t out = (in + strides[i] - 1) / strides[i];
    const int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
    const int64_t begin = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
    pads[i] = begin;
    pads[i + 2] = total - begin;
  }
  n.attrs.set("pads", pads);
  return Status::ok();
}

// Makes attribute `name` non-negative when it is a valid axis for `rank`; an invalid
// one is left for shape inference to report.
void normalize_axis(ir::Node& n, const char* name, int64_t rank) {
  if (!n.attrs.has(name)) return;
  const int64_t axis = n.attrs.get_int(name, 0);
  if (axis < 0 && axis >= -rank) n.attrs.set(name, axis + rank);
}

void normalize_axes(ir::Node& n, int64_t rank) {
  std::vector<int64_t> axes = n.attrs.get_ints("axes");
  for (int64_t& a : axes)
    if (a < 0 && a >= -rank) a += rank;
  std::sort(axes.begin(), axes.end());
  n.attrs.set("axes", axes);
}

// Softmax before opset 13 flattens to 2-D at `axis`; when every dim after the axis is 1
// that is the same as the opset-13 softmax along `axis`, which backends know best.
void simplify_legacy_softmax(const Shape& x, ir::Node& n) {
  if (!n.attrs.has("legacy_2d")) return;
  const int64_t axis = n.attrs.get_int("axis", 1);
  if (axis < 0 || axis >= static_cast<int64_t>(x.size())) return;
  if (std::all_of(x.begin() + axis + 1, x.end(), [](int64_t d) { return d == 1; })) n.attrs.erase("legacy_2d");
}

void resolve_squeeze_axes(const Shape& x, ir::Node& n) {
  if (!n.attrs.has("axes") || n.attrs.get_ints("axes").empty()) {
    if (!x.empty() && x[0] == kDynamicDim) return;  // shape inference refuses it
    std::vector<int64_t> axes;
    for (size_t d = 0; d < x.size(); ++d)
      if (x[d] == 1) axes.push_back(static_cast<int64_t>(d));
    n.attrs.set("axes", axes);
  }
  normalize_axes(n, static_cast<int64_t>(x.size()));
}

}  // namespace

Status resolve_shape_dependent_attributes(ir::Graph& g, ir::Node& n) {
  const Shape* x = input_shape(g, n, 0);
  if (x == nullptr) return Status::ok();
  const auto rank = static_cast<int64_t>(x->size());
  switch (n.op) {
    case OpKind::kConv:
      RETURN_IF_ERROR(check_kernel_shape(g, n));
      return resolve_auto_pad(g, n);
    case OpKind::kConvTranspose:
      return check_kernel_shape(g, n);
    case OpKind::kMaxPool:
    case OpKind::kAveragePool:
      return resolve_auto_pad(g, n);
    case OpKind::kConcat:
    case OpKind::kGather:
      normalize_axis(n, "axis", rank);
      return Status::ok();
    case OpKind::kFlatten:
      normalize_axis(n, "axis", rank);  // axis == rank is valid too and stays as it is
      return Status::ok();
    case OpKind::kSoftmax:
      normalize_axis(n, "axis", rank);
      simplify_legacy_softmax(*x, n);
      return Status::ok();
    case OpKind::kTranspose:
      if (!n.attrs.has("perm")) {
        std::vector<int64_t> perm(x->size());
        for (size_t i = 0; i < perm.size(); ++i) perm[i] = rank - 1 - static_cast<int64_t>(i);
        n.attrs.set("perm", perm);
      }
      return Status::ok();
    case OpKind::kSqueeze:
      resolve_squeeze_axes(*x, n);
      return Status::ok();
    case OpKind::kUnsqueeze:
      normalize_axes(n, rank + static_cast<int64_t>(n.attrs.get_ints("axes").size()));
      return Status::ok();
    default:
      return Status::ok();
  }
}

}  // namespace inferd::onnx_import
