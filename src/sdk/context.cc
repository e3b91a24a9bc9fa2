// ExecutionContext: bindings checked, then handed to the runtime's context as they are
// (a pointer that already is the context's own buffer is not copied).
#include "sdk/sdk_internal.h"

namespace inferd::v1 {
namespace {

template <typename Pointers>
Status check_bindings(const char* what, const Pointers& given, size_t expected) {
  if (given.size() != expected)
    return {StatusCode::kInvalidArgument, std::string(what) + ": " + std::to_string(given.size()) +
                                              " bindings for an engine with " + std::to_string(expected)};
  for (size_t i = 0; i < given.size(); ++i)
    if (given[i] == nullptr)
      return {StatusCode::kInvalidArgument, std::string(what) + " " + std::to_string(i) + " is a null pointer"};
  return Status::success();
}

}  // namespace

ExecutionContext::ExecutionContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExecutionContext::~ExecutionContext() = default;
ExecutionContext::ExecutionContext(ExecutionContext&&) noexcept = default;
ExecutionContext& ExecutionContext::operator=(ExecutionContext&&) noexcept = default;

Status ExecutionContext::enqueue(int batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs,
                                 void* stream) {
  return exception_barrier("ExecutionContext::enqueue", [&]() -> Status {
    if (!impl_) return {StatusCode::kFailedPrecondition, "enqueue on a moved-from context"};
    if (Status s = check_bindings("input", inputs, impl_->inputs.size()); !s.isOk()) return s;
    if (Status s = check_bindings("output", outputs, impl_->outputs.size()); !s.isOk()) return s;
    for (size_t i = 0; i < inputs.size(); ++i) impl_->inputs[i].data = inputs[i];
    for (size_t i = 0; i < outputs.size(); ++i) impl_->outputs[i].data = outputs[i];
    return to_public(impl_->context->enqueue(batch, impl_->inputs, impl_->outputs, stream));
  });
}

Status ExecutionContext::execute(int batch, const std::vector<const float*>& inputs,
                                 const std::vector<float*>& outputs) {
  const std::vector<const void*> in(inputs.begin(), inputs.end());
  const std::vector<void*> out(outputs.begin(), outputs.end());
  if (Status s = enqueue(batch, in, out); !s.isOk()) return s;
  return wait();
}

Status ExecutionContext::wait() {
  return exception_barrier("ExecutionContext::wait", [&]() -> Status {
    if (!impl_) return {StatusCode::kFailedPrecondition, "wait on a moved-from context"};
    return to_public(impl_->context->wait());
  });
}

Status ExecutionContext::prepare() {
  return exception_barrier("ExecutionContext::prepare", [&]() -> Status {
    if (!impl_) return {StatusCode::kFailedPrecondition, "prepare on a moved-from context"};
    return to_public(impl_->context->prepare());
  });
}

size_t ExecutionContext::deviceMemoryBytes() const { return impl_ ? impl_->context->device_bytes() : 0; }

const Engine& ExecutionContext::engine() const {
  static const Engine empty;
  return impl_ ? impl_->engine : empty;
}

}  // namespace inferd::v1
