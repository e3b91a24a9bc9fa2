#include "ir/activation.h"

#include <string>

namespace inferd::ir {
namespace {

// ONNX defaults: LeakyRelu alpha 0.01, HardSigmoid alpha 0.2 / beta 0.5, Clip unbounded.
Result<Activation> defaults_of(OpKind op) {
  Activation a;
  switch (op) {
    case OpKind::kRelu:
      a.kind = Activation::Kind::kRelu;
      break;
    case OpKind::kClip:
      a.kind = Activation::Kind::kClip;
      break;
    case OpKind::kLeakyRelu:
      a.kind = Activation::Kind::kLeakyRelu, a.alpha = 0.01f;
      break;
    case OpKind::kSigmoid:
      a.kind = Activation::Kind::kSigmoid;
      break;
    case OpKind::kTanh:
      a.kind = Activation::Kind::kTanh;
      break;
    case OpKind::kHardSigmoid:
      a.kind = Activation::Kind::kHardSigmoid, a.alpha = 0.2f, a.beta = 0.5f;
      break;
    case OpKind::kHardSwish:
      a.kind = Activation::Kind::kHardSwish;
      break;
    default:
      return invalid_argument(std::string(to_string(op)) + " is not an activation");
  }
  return a;
}

}  // namespace

Result<Activation> standalone_activation(OpKind op, const Attributes& attrs) {
  if (op == OpKind::kFakeQuantize) {
    Activation a;
    a.kind = Activation::Kind::kFakeQuantize;
    a.alpha = attrs.get_float("scale", 0.0f);
    const std::string format = attrs.get_string("format", "int");
    if (format == "e4m3") {
      if (!(a.alpha > 0)) return invalid_argument("FakeQuantize needs scale > 0");
      a.kind = Activation::Kind::kFakeQuantizeE4m3;
      return a;
    }
    if (format != "int") return invalid_argument("FakeQuantize format '" + format + "' (int or e4m3)");
    const auto zero_point = static_cast<float>(attrs.get_int("zero_point", 0));
    a.min = static_cast<float>(attrs.get_int("qmin", -128)) - zero_point;
    a.max = static_cast<float>(attrs.get_int("qmax", 127)) - zero_point;
    if (!(a.alpha > 0) || !(a.min < a.max))
      return invalid_argument("FakeQuantize needs scale > 0 and qmin < qmax");
    return a;
  }
  ASSIGN_OR_RETURN(Activation a, defaults_of(op));
  a.alpha = attrs.get_float("alpha", a.alpha);
  a.beta = attrs.get_float("beta", a.beta);
  a.min = attrs.get_float("min", a.min);
  a.max = attrs.get_float("max", a.max);
  return a;
}

bool fake_quantizes_to_e4m3(const Attributes& attrs) { return attrs.get_string("format", "int") == "e4m3"; }

Result<Activation> fused_activation(const Attributes& attrs, bool op_owns_alpha_beta) {
  const std::string name = attrs.get_string("activation", "");
  if (name.empty()) return Activation{};
  const std::optional<OpKind> op = op_kind_from_string(name);
  if (!op || !is_activation(*op)) return invalid_argument("unknown fused activation '" + name + "'");
  ASSIGN_OR_RETURN(Activation a, defaults_of(*op));
  if (!op_owns_alpha_beta) {
    a.alpha = attrs.get_float("alpha", a.alpha);
    a.beta = attrs.get_float("beta", a.beta);
  }
  a.alpha = attrs.get_float("activation_alpha", a.alpha);
  a.beta = attrs.get_float("activation_beta", a.beta);
  a.min = attrs.get_float("min", a.min);
  a.max = attrs.get_float("max", a.max);
  return a;
}

OpKind op_kind_of(const Activation& act) {
  switch (act.kind) {
    case Activation::Kind::kRelu:
      return OpKind::kRelu;
    case Activation::Kind::kClip:
      return OpKind::kClip;
    case Activation::Kind::kLeakyRelu:
      return OpKind::kLeakyRelu;
    case Activation::Kind::kSigmoid:
      return OpKind::kSigmoid;
    case Activation::Kind::kTanh:
      return OpKind::kTanh;
    case Activation::Kind::kHardSigmoid:
      return OpKind::kHardSigmoid;
    case Activation::Kind::kHardSwish:
      return OpKind::kHardSwish;
    case Activation::Kind::kFakeQuantize:
    case Activation::Kind::kFakeQuantizeE4m3:
      return OpKind::kFakeQuantize;
    case Activation::Kind::kIdentity:
      break;
  }
  return OpKind::kIdentity;
}

}  // namespace inferd::ir
