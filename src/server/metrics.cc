#include "server/metrics.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

namespace inferd::metrics {
namespace {

// Numbers as Go's strconv.ParseFloat (Prometheus' parser) reads them, through
// std::to_chars, which ignores the C locale (no "0,5"). Whole numbers (byte counts,
// queue depths) print as integers ("1048576", not "1.048576e+06"); others in the
// shortest round-tripping %g form, which writes bucket bounds as Go's and Python's
// clients do (le="0.0005", not "5e-04") so dashboards keyed on `le` match.
void append_double(std::string& out, double v) {
  char buf[64];
  char* end = buf;
  if (std::isnan(v)) {
    out += "NaN";
    return;
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  } else if (std::fabs(v) < 1e15 && v == std::trunc(v)) {
    end = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v)).ptr;
  } else {
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general).ptr;
  }
  out.append(buf, end);
}

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// Label values escape backslash, double quote and line feed; HELP text escapes only
// backslash and line feed (exposition format 0.0.4).
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Appends `name{l1="v1",...,extra_name="extra_value"} ` (no braces when no labels).
void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names, const LabelValues& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += name;
  out += suffix;
  if (!label_names.empty() || !extra_name.empty()) {
    out += '{';
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      out += label_names[i];
      out += "=\"";
      append_escaped(out, values[i], /*escape_quote=*/true);
      out += '"';
    }
    if (!extra_name.empty()) {
      if (!label_names.empty()) out += ',';
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

bool is_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool is_label_name(std::string_view name) {
  // Names starting with "__" are reserved for Prometheus' own use.
  return is_metric_name(name) && name.find(':') == std::string_view::npos && !name.starts_with("__");
}

// The series names a family exposes: a histogram `x` owns x_bucket, x_sum and x_count,
// which must not collide with another family's names.
std::vector<std::string> series_names(const std::string& name, MetricType type) {
  if (type != MetricType::kHistogram) return {name};
  return {name, name + "_bucket", name + "_sum", name + "_count"};
}

}  // namespace

const char* to_string(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

// ---- Histogram ----

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // lower_bound: the first bound >= v, so a value equal to a bound lands in its bucket.
  // NaN compares false with everything and would land in the first bucket: send it to +Inf.
  size_t bucket = std::isnan(v) ? bounds_.size()
                                : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                                      bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot snap;
  snap.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snap.cumulative[i] = running;
  }
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

// ---- Families ----

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_escaped(out, help_, /*escape_quote=*/false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += to_string(type_);
  out += '\n';
  render_samples(out);
}

void FamilyBase::check_arity(size_t count) const {
  if (count == label_names_.size()) return;
  std::fprintf(stderr, "inferd internal error: metric %s has %zu label names but was given %zu values\n",
               name_.c_str(), label_names_.size(), count);
  std::abort();
}

void CounterFamily::render_samples(std::string& out) const {
  for_each_child([&](const LabelValues& values, const Counter& counter) {
    append_series(out, name(), "", label_names(), values);
    append_uint(out, counter.value());
    out += '\n';
  });
}

void GaugeFamily::render_samples(std::string& out) const {
  for_each_child([&](const LabelValues& values, const Gauge& gauge) {
    append_series(out, name(), "", label_names(), values);
    append_double(out, gauge.value());
    out += '\n';
  });
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : Family<Histogram>(std::move(name), std::move(help), MetricType::kHistogram, std::move(label_names)),
      bounds_(std::move(bounds)) {}

void HistogramFamily::render_samples(std::string& out) const {
  // The `le` values are formatted once per render, not once per child.
  std::vector<std::string> le(bounds_.size() + 1);
  for (size_t i = 0; i < bounds_.size(); ++i) append_double(le[i], bounds_[i]);
  le.back() = "+Inf";
  for_each_child([&](const LabelValues& values, const Histogram& histogram) {
    HistogramSnapshot snap = histogram.snapshot();
    for (size_t i = 0; i < le.size(); ++i) {
      append_series(out, name(), "_bucket", label_names(), values, "le", le[i]);
      append_uint(out, snap.cumulative[i]);
      out += '\n';
    }
    append_series(out, name(), "_sum", label_names(), values);
    append_double(out, snap.sum);
    out += '\n';
    append_series(out, name(), "_count", label_names(), values);
    append_uint(out, snap.count);
    out += '\n';
  });
}

void CallbackGaugeFamily::set(std::initializer_list<std::string_view> values, std::function<double()> read) {
  check_arity(values.size());
  std::unique_lock lock(mutex_);
  callbacks_.insert_or_assign(LabelValues(values.begin(), values.end()), std::move(read));
}

void CallbackGaugeFamily::remove(std::initializer_list<std::string_view> values) {
  check_arity(values.size());
  std::unique_lock lock(mutex_);
  auto it = callbacks_.find(std::span<const std::string_view>(values.begin(), values.size()));
  if (it != callbacks_.end()) callbacks_.erase(it);
}

void CallbackGaugeFamily::render_samples(std::string& out) const {
  std::shared_lock lock(mutex_);
  for (const auto& [values, read] : callbacks_) {
    append_series(out, name(), "", label_names(), values);
    append_double(out, read());
    out += '\n';
  }
}

// ---- Registry ----

Status Registry::check_new_family(const std::string& name, const std::vector<std::string>& label_names) const {
  if (!is_metric_name(name)) {
    return internal_error("metric name '" + name + "' is not valid: it must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (!is_label_name(label_names[i])) {
      return internal_error("metric " + name + ": label name '" + label_names[i] +
                            "' is not valid: it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[i] == label_names[j]) {
        return internal_error("metric " + name + ": label name '" + label_names[i] + "' appears twice");
      }
    }
  }
  return Status::ok();
}

template <typename F, typename... Args>
Result<F*> Registry::add(std::string name, std::string help, std::vector<std::string> label_names,
                         Args&&... args) {
  RETURN_IF_ERROR(check_new_family(name, label_names));
  auto family = std::make_unique<F>(std::move(name), std::move(help), std::move(label_names),
                                    std::forward<Args>(args)...);
  std::lock_guard lock(mutex_);
  for (const std::string& mine : series_names(family->name(), family->type())) {
    for (const auto& [other_name, other] : families_) {
      for (const std::string& theirs : series_names(other_name, other->type())) {
        if (mine == theirs) {
          return internal_error("metric " + family->name() + ": the series name " + mine +
                                " is already used by metric " + other_name);
        }
      }
    }
  }
  F* raw = family.get();
  families_.emplace(raw->name(), std::move(family));
  return raw;
}

Result<CounterFamily*> Registry::add_counter(std::string name, std::string help,
                                             std::vector<std::string> label_names) {
  ASSIGN_OR_RETURN(CounterFamily * family,
                   (add<CounterFamily>(std::move(name), std::move(help), std::move(label_names))));
  // A family without labels has exactly one series: expose it (as 0) from the start.
  if (family->label_names().empty()) family->with();
  return family;
}

Result<GaugeFamily*> Registry::add_gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  ASSIGN_OR_RETURN(GaugeFamily * family,
                   (add<GaugeFamily>(std::move(name), std::move(help), std::move(label_names))));
  if (family->label_names().empty()) family->with();
  return family;
}

Result<HistogramFamily*> Registry::add_histogram(std::string name, std::string help,
                                                 std::vector<std::string> label_names, std::vector<double> bounds) {
  if (bounds.empty()) return internal_error("histogram " + name + ": no bucket bounds");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      return internal_error("histogram " + name + ": bucket bounds must be finite and strictly increasing (bound " +
                            std::to_string(i) + " is " + std::to_string(bounds[i]) + ")");
    }
  }
  for (const std::string& label : label_names) {
    if (label == "le") return internal_error("histogram " + name + ": the label name 'le' is reserved for buckets");
  }
  ASSIGN_OR_RETURN(HistogramFamily * family, (add<HistogramFamily>(std::move(name), std::move(help),
                                                                    std::move(label_names), std::move(bounds))));
  if (family->label_names().empty()) family->with();
  return family;
}

Result<CallbackGaugeFamily*> Registry::add_callback_gauge(std::string name, std::string help,
                                                          std::vector<std::string> label_names) {
  return add<CallbackGaugeFamily>(std::move(name), std::move(help), std::move(label_names));
}

std::string Registry::render() const {
  std::string out;
  out.reserve(8192);
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) family->render(out);
  return out;
}

// ---- Bounds and process metrics ----

std::vector<double> exponential_bounds(double start, double factor, int count) {
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::vector<double> linear_bounds(double start, double width, int count) {
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i) bounds.push_back(start + width * i);
  return bounds;
}

double process_rss_bytes() {
  // statm: size resident shared text lib data dt, in pages (proc(5)).
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return std::numeric_limits<double>::quiet_NaN();
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(resident_pages) * static_cast<double>(page);
}

int64_t open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return -1;
  int64_t count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++count;
  }
  // The directory being listed holds one descriptor of its own while we count.
  return count - 1;
}

Status add_process_metrics(Registry& registry) {
  ASSIGN_OR_RETURN(CallbackGaugeFamily * rss,
                   registry.add_callback_gauge("process_resident_memory_bytes", "Resident memory size in bytes."));
  rss->set({}, process_rss_bytes);
  ASSIGN_OR_RETURN(CallbackGaugeFamily * fds,
                   registry.add_callback_gauge("process_open_fds", "Number of open file descriptors."));
  fds->set({}, [] { return static_cast<double>(open_fds()); });
  return Status::ok();
}

}  // namespace inferd::metrics
