// inferd public API: Status and Result<T>, how every call of the API reports failure.
//
// No function of the API throws: each returns a Status, or a Result<T> holding either a
// value or a Status that says what went wrong, naming the file, layer or binding
// concerned (e.g. "network 'tiny': layer 'conv1': kernel weights hold 10 values, the
// layer needs 432"). The message is for people; the code is for programs.
//
// Header-only and C++17, like every header under include/inferd/.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace inferd::v1 {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // the input (network, model, binding, batch) is wrong
  kNotFound = 2,            // a file, backend or tensor does not exist
  kUnimplemented = 3,       // valid input that inferd does not support
  kDataLoss = 4,            // truncated or corrupt bytes (a plan, a model)
  kFailedPrecondition = 5,  // e.g. a plan built for another engine version or device
  kResourceExhausted = 6,   // a limit was hit: memory, workspace
  kInternal = 7,            // a bug in inferd
  kDeadlineExceeded = 8,
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status success() { return {}; }

  bool isOk() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string toString() const {
    if (isOk()) return "ok";
    return std::string(codeName(code_)) + ": " + message_;
  }
  static const char* codeName(StatusCode code) {
    switch (code) {
      case StatusCode::kOk: return "ok";
      case StatusCode::kInvalidArgument: return "invalid argument";
      case StatusCode::kNotFound: return "not found";
      case StatusCode::kUnimplemented: return "unimplemented";
      case StatusCode::kDataLoss: return "data loss";
      case StatusCode::kFailedPrecondition: return "failed precondition";
      case StatusCode::kResourceExhausted: return "resource exhausted";
      case StatusCode::kInternal: return "internal";
      case StatusCode::kDeadlineExceeded: return "deadline exceeded";
    }
    return "unknown";
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status of why there is none. Test isOk() before value(): reading the
// value of a failed Result is undefined, as dereferencing an empty std::optional.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, as a return value
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    // A Result built from a success Status would hold nothing: that is inferd's bug.
    if (status_.isOk()) status_ = Status(StatusCode::kInternal, "Result made from a success status without a value");
  }

  bool isOk() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace inferd::v1
