// A backend that answers as another one does (the CPU backend, in the tests): a test fake
// derives from it and overrides only what it pretends (a tune() that counts, a dtype, a
// kernel that records what it was given).
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "backends/api/backend.h"

namespace inferd::test {

class DelegatingBackend : public Backend {
 public:
  explicit DelegatingBackend(std::shared_ptr<const Backend> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  const Device& device() const override { return inner_->device(); }
  bool supports(const ir::Graph& g, const ir::Node& n) const override { return inner_->supports(g, n); }
  ir::Layout preferred_layout(const ir::Graph& g, const ir::Node& n) const override {
    return inner_->preferred_layout(g, n);
  }
  bool supports_strided_output(const ir::Graph& g, const ir::Node& n) const override {
    return inner_->supports_strided_output(g, n);
  }
  bool may_overwrite_input(const ir::Graph& g, const ir::Node& n, size_t i) const override {
    return inner_->may_overwrite_input(g, n, i);
  }
  bool prefers_padded_window_merge(const ir::Graph& g, const ir::Node& merged_conv) const override {
    return inner_->prefers_padded_window_merge(g, merged_conv);
  }
  int layer_clock_batch(int max_batch) const override { return inner_->layer_clock_batch(max_batch); }
  Result<DataType> activation_dtype(std::string_view precision) const override {
    return inner_->activation_dtype(precision);
  }
  Result<std::vector<uint8_t>> tune(const ir::Graph& g, const ir::Node& n, const TuneOptions& o) const override {
    return inner_->tune(g, n, o);
  }
  Result<std::unique_ptr<PackedOp>> pack(const ir::Graph& g, const ir::Node& n, const PackOptions& o) const override {
    return inner_->pack(g, n, o);
  }

 protected:
  const Backend& inner() const { return *inner_; }

 private:
  std::shared_ptr<const Backend> inner_;
};

}  // namespace inferd::test
