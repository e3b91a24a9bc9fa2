// Prometheus metrics: counters, gauges, histograms and scrape-time gauges held in a
// Registry, rendered in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Threading contract:
//  - Registry::add_* and Family::with() may be called from any thread. with() takes the
//    family's lock (shared for a lookup of an existing child, exclusive to create one),
//    so hot paths should call it once per label set and keep the returned reference.
//  - Counter/Gauge/Histogram updates are lock-free atomics and may run concurrently
//    with each other and with render().
//  - References returned by with() and pointers returned by add_* stay valid for the
//    Registry's lifetime: children and families are never moved or removed (except
//    callback gauges, which are removed only through their family).
//  - A render() that runs during observations sees each number atomically but not all
//    numbers of one histogram at the same instant: _sum may lag the buckets by the
//    observations in flight. _count is always the +Inf bucket.
//  - Scrape-time callbacks run inside render(), on the scraping thread, under their
//    family's shared lock: they must be thread-safe and must not touch the Registry.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd::metrics {

// Orders label-value tuples lexicographically; transparent so that a lookup with
// string_views allocates nothing.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

using LabelValues = std::vector<std::string>;

// Monotonic integer count (requests, errors). Prometheus counters may be floats; every
// counter the server keeps counts events, and integers stay exact.
class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (queue depth, requests in flight).
class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(double n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

struct HistogramSnapshot {
  std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
  double sum = 0;
  uint64_t count = 0;
};

// Distribution over fixed upper bounds: a value v lands in the first bucket whose bound
// is >= v (Prometheus `le` semantics: a value equal to a bound counts in that bucket).
// NaN lands in +Inf only. One atomic add for the bucket and one for the sum per
// observe(); the count is the sum of buckets, so it never disagrees with +Inf.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double v);
  HistogramSnapshot snapshot() const;

 private:
  std::span<const double> bounds_;  // owned by the family, sorted, finite
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket (not cumulative), bounds+1
  std::atomic<double> sum_{0};
};

enum class MetricType { kCounter, kGauge, kHistogram };
const char* to_string(MetricType type);

// Name, help, type and label names shared by the children of one metric family.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the `# HELP`/`# TYPE` header and every sample of this family to `out`.
  void render(std::string& out) const;

 protected:
  // Appends the samples only; `out` already holds the header.
  virtual void render_samples(std::string& out) const = 0;
  // Aborts with a message when `count` differs from the number of label names: a
  // wrong arity is a bug in the calling code, and a metric silently dropped or
  // mislabelled would hide it.
  void check_arity(size_t count) const;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

// Children of one family keyed by label values, created on first use.
template <typename Child>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The child for these label values (in label_names() order); `with()` for a family
  // without labels. Aborts if the number of values differs from label_names().
  Child& with(std::initializer_list<std::string_view> values = {}) {
    return with(std::span<const std::string_view>(values.begin(), values.size()));
  }
  Child& with(std::span<const std::string_view> values) {
    check_arity(values.size());
    // A family without labels has one child, created at registration: reach it
    // without the lock (in-flight gauges, decode histograms are hit per request).
    if (values.empty()) {
      if (Child* only = unlabelled_.load(std::memory_order_acquire)) return *only;
    }
    {
      std::shared_lock lock(mutex_);
      auto it = children_.find(values);
      if (it != children_.end()) return *it->second;
    }
    std::unique_lock lock(mutex_);
    auto it = children_.find(values);
    if (it == children_.end()) {
      it = children_.emplace(LabelValues(values.begin(), values.end()), make_child()).first;
      if (values.empty()) unlabelled_.store(it->second.get(), std::memory_order_release);
    }
    return *it->second;
  }

 protected:
  virtual std::unique_ptr<Child> make_child() const = 0;

  // Calls fn(label_values, child) for each child in label-value order.
  template <typename Fn>
  void for_each_child(Fn&& fn) const {
    std::shared_lock lock(mutex_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  mutable std::shared_mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Child>, LabelValuesLess> children_;
  std::atomic<Child*> unlabelled_{nullptr};
};

class CounterFamily final : public Family<Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : Family<Counter>(std::move(name), std::move(help), MetricType::kCounter, std::move(label_names)) {}

 protected:
  std::unique_ptr<Counter> make_child() const override { return std::make_unique<Counter>(); }
  void render_samples(std::string& out) const override;
};

class GaugeFamily final : public Family<Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : Family<Gauge>(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names)) {}

 protected:
  std::unique_ptr<Gauge> make_child() const override { return std::make_unique<Gauge>(); }
  void render_samples(std::string& out) const override;
};

class HistogramFamily final : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  const std::vector<double>& bounds() const { return bounds_; }

 protected:
  std::unique_ptr<Histogram> make_child() const override { return std::make_unique<Histogram>(bounds_); }
  void render_samples(std::string& out) const override;

 private:
  std::vector<double> bounds_;
};

// Gauges whose values are read when scraped (process RSS, a queue's current depth):
// nothing to update on the hot path. set() installs or replaces the callback for a
// label set; remove() drops it (e.g. when a model is unloaded, before the object the
// callback reads is destroyed: remove() waits for a render() in progress).
class CallbackGaugeFamily final : public FamilyBase {
 public:
  CallbackGaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : FamilyBase(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names)) {}

  void set(std::initializer_list<std::string_view> values, std::function<double()> read);
  void remove(std::initializer_list<std::string_view> values);

 protected:
  void render_samples(std::string& out) const override;

 private:
  mutable std::shared_mutex mutex_;
  std::map<LabelValues, std::function<double()>, LabelValuesLess> callbacks_;
};

// Owns metric families and renders them sorted by name. Registration errors are
// kInternal: metric names, label names and bounds are constants in inferd's code.
class Registry {
 public:
  Result<CounterFamily*> add_counter(std::string name, std::string help,
                                     std::vector<std::string> label_names = {});
  Result<GaugeFamily*> add_gauge(std::string name, std::string help,
                                 std::vector<std::string> label_names = {});
  // `bounds`: finite, strictly increasing upper bounds; +Inf is implicit.
  Result<HistogramFamily*> add_histogram(std::string name, std::string help,
                                         std::vector<std::string> label_names, std::vector<double> bounds);
  Result<CallbackGaugeFamily*> add_callback_gauge(std::string name, std::string help,
                                                  std::vector<std::string> label_names = {});

  // The whole registry in text format 0.0.4 (Content-Type
  // "text/plain; version=0.0.4; charset=utf-8"), families sorted by name, children
  // sorted by label values.
  std::string render() const;

 private:
  Status check_new_family(const std::string& name, const std::vector<std::string>& label_names) const;
  template <typename F, typename... Args>
  Result<F*> add(std::string name, std::string help, std::vector<std::string> label_names, Args&&... args);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Upper bounds start, start*factor, ... (count of them); e.g. latency buckets.
std::vector<double> exponential_bounds(double start, double factor, int count);
// Upper bounds start, start+width, ... (count of them); e.g. batch sizes.
std::vector<double> linear_bounds(double start, double width, int count);

// Resident set size of this process in bytes (/proc/self/statm); NaN if unreadable.
double process_rss_bytes();
// Number of open file descriptors of this process (/proc/self/fd); -1 if unreadable.
int64_t open_fds();
// Registers process_resident_memory_bytes and process_open_fds as scrape-time gauges.
Status add_process_metrics(Registry& registry);

}  // namespace inferd::metrics
