#include "loadgen/report.h"

#include <cstdio>

#include "core/json.h"

namespace inferd::loadgen {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double ms(double ns) {
  return ns / 1e6;
}

struct Latencies {
  double p50, p90, p99, p999, max, mean, min;
};

Latencies latencies_ms(const LatencyHistogram& h) {
  return {ms(h.percentile_ns(50)),
          ms(h.percentile_ns(90)),
          ms(h.percentile_ns(99)),
          ms(h.percentile_ns(99.9)),
          ms(static_cast<double>(h.max_ns())),
          ms(h.mean_ns()),
          ms(static_cast<double>(h.min_ns()))};
}

std::string bytes_text(uint64_t n) {
  if (n < 10'000) return std::to_string(n) + " B";
  if (n < 10'000'000) return fixed(static_cast<double>(n) / 1e3, 1) + " kB";
  return fixed(static_cast<double>(n) / 1e6, 1) + " MB";
}

// "200:95 503:5": every status code seen, in order.
std::string status_codes(const RunStats& s, const char* sep) {
  std::string out;
  for (size_t code = 0; code < s.status.size(); ++code)
    if (s.status[code]) out += (out.empty() ? "" : sep) + std::to_string(code) + ":" + std::to_string(s.status[code]);
  return out;
}

std::string errors_text(const RunStats& s) {
  if (s.error_count() == 0) return "0";
  std::string out = std::to_string(s.error_count());
  for (size_t k = 0; k < kErrorKinds; ++k)
    if (s.errors[k])
      out += "\n    " + std::string(to_string(static_cast<ErrorKind>(k))) + " " + std::to_string(s.errors[k]) +
             "  (first: " + s.first_error[k] + ")";
  return out;
}

std::string loop_text(const RunReport& r) {
  return r.rate > 0 ? "open loop at " + fixed(r.rate, 1) + " req/s" : std::string("closed loop");
}

}  // namespace

std::string format_summary(const RunReport& r) {
  const RunStats& s = r.stats;
  const Latencies l = latencies_ms(s.latency);
  std::string out = r.method + " " + r.url + "  (" + r.mode + ", " + loop_text(r) + ", " +
                    std::to_string(r.concurrency) + (r.concurrency == 1 ? " connection)\n" : " connections)\n");
  out += "  requests    " + std::to_string(s.requests) + " in " + fixed(s.duration_s, 2) + " s = " + fixed(s.rps(), 1) +
         " req/s\n";
  if (s.responses() == 0) {
    out += "  latency ms  none (no response)\n";
  } else {
    out += "  latency ms  p50 " + fixed(l.p50, 3) + "  p90 " + fixed(l.p90, 3) + "  p99 " + fixed(l.p99, 3) +
           "  p99.9 " + fixed(l.p999, 3) + "  max " + fixed(l.max, 3) + "  mean " + fixed(l.mean, 3) + "\n";
  }
  out += "  status      " + (s.responses() ? status_codes(s, "  ") : std::string("none")) + "\n";
  out += "  errors      " + errors_text(s) + "\n";
  if (r.rate > 0) {
    out += "  rate        offered " + fixed(r.rate, 1) + " req/s, achieved " + fixed(s.rps(), 1) + " req/s\n";
    out +=
        "  late        " + std::to_string(s.late_starts) + " requests sent more than 1 ms after their scheduled time\n";
  }
  out += "  reconnects  " + std::to_string(s.reconnects) + "\n";
  out += "  traffic     out " + bytes_text(s.bytes_out) + ", in " + bytes_text(s.bytes_in) + "\n";
  return out;
}

std::string format_json(const RunReport& r) {
  const RunStats& s = r.stats;
  const Latencies l = latencies_ms(s.latency);
  std::string status = "{", errors = "{";
  for (size_t code = 0; code < s.status.size(); ++code)
    if (s.status[code])
      status += (status.size() > 1 ? ",\"" : "\"") + std::to_string(code) + "\":" + std::to_string(s.status[code]);
  for (size_t k = 0; k < kErrorKinds; ++k)
    errors +=
        (k ? ",\"" : "\"") + std::string(to_string(static_cast<ErrorKind>(k))) + "\":" + std::to_string(s.errors[k]);
  std::string out = "{\"name\":" + json_quote(r.name) + ",\"url\":" + json_quote(r.url) +
                    ",\"mode\":" + json_quote(r.mode) + ",\"method\":" + json_quote(r.method) +
                    ",\"concurrency\":" + std::to_string(r.concurrency) + ",\"rate\":" + fixed(r.rate, 3) +
                    ",\"requests\":" + std::to_string(s.requests) + ",\"duration_s\":" + fixed(s.duration_s, 6) +
                    ",\"rps\":" + fixed(s.rps(), 3) + ",\"status\":" + status + "}";
  out += ",\"status_classes\":{";
  for (int c = 1; c <= 5; ++c)
    out += (c > 1 ? ",\"" : "\"") + std::to_string(c) + "xx\":" + std::to_string(s.status_class(c));
  out += "},\"errors\":" + errors + "},\"error_count\":" + std::to_string(s.error_count()) +
         ",\"reconnects\":" + std::to_string(s.reconnects) + ",\"late_starts\":" + std::to_string(s.late_starts) +
         ",\"bytes_out\":" + std::to_string(s.bytes_out) + ",\"bytes_in\":" + std::to_string(s.bytes_in);
  out += ",\"latency_ms\":{\"p50\":" + fixed(l.p50, 4) + ",\"p90\":" + fixed(l.p90, 4) + ",\"p99\":" + fixed(l.p99, 4) +
         ",\"p999\":" + fixed(l.p999, 4) + ",\"max\":" + fixed(l.max, 4) + ",\"mean\":" + fixed(l.mean, 4) +
         ",\"min\":" + fixed(l.min, 4) + "}";
  if (r.within_budget) out += std::string(",\"within_budget\":") + (*r.within_budget ? "true" : "false");
  return out + "}";
}

std::string csv_header() {
  return "name,url,mode,method,concurrency,rate,requests,duration_s,rps,status_1xx,status_2xx,status_3xx,status_4xx,"
         "status_5xx,status_codes,errors_connect,errors_timeout,errors_reset,errors_parse,errors_other,reconnects,"
         "late_starts,bytes_out,bytes_in,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,mean_ms,min_ms,within_budget";
}

std::string format_csv(const RunReport& r) {
  const RunStats& s = r.stats;
  const Latencies l = latencies_ms(s.latency);
  auto text = [](const std::string& v) {  // RFC 4180 quoting when needed
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out = text(r.name) + "," + text(r.url) + "," + r.mode + "," + r.method + "," +
                    std::to_string(r.concurrency) + "," + fixed(r.rate, 3) + "," + std::to_string(s.requests) + "," +
                    fixed(s.duration_s, 6) + "," + fixed(s.rps(), 3);
  for (int c = 1; c <= 5; ++c) out += "," + std::to_string(s.status_class(c));
  out += "," + status_codes(s, " ");
  for (uint64_t e : s.errors) out += "," + std::to_string(e);
  out += "," + std::to_string(s.reconnects) + "," + std::to_string(s.late_starts) + "," + std::to_string(s.bytes_out) +
         "," + std::to_string(s.bytes_in);
  for (double v : {l.p50, l.p90, l.p99, l.p999, l.max, l.mean, l.min}) out += "," + fixed(v, 4);
  out += "," + std::string(r.within_budget ? (*r.within_budget ? "true" : "false") : "");
  return out;
}

std::string sweep_table_header() {
  return "  conns       req/s    p50 ms    p90 ms    p99 ms  p99.9 ms    max ms   errors  non-2xx";
}

std::string format_sweep_row(const RunReport& r) {
  const RunStats& s = r.stats;
  const Latencies l = latencies_ms(s.latency);
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %5d  %10.1f  %8.3f  %8.3f  %8.3f  %8.3f  %8.3f  %7llu  %7llu%s", r.concurrency,
                s.rps(), l.p50, l.p90, l.p99, l.p999, l.max, static_cast<unsigned long long>(s.error_count()),
                static_cast<unsigned long long>(s.responses() - s.status_class(2)),
                !r.within_budget   ? ""
                : *r.within_budget ? "  ok"
                                   : "  over budget");
  return buf;
}

std::string format_sweep_conclusion(const SweepOutcome& sweep) {
  const std::string limit = sweep.p99_budget_ms > 0
                                ? "with p99 <= " + fixed(sweep.p99_budget_ms, 3) + " ms and no failures"
                                : "with no failures";
  std::string out;
  if (sweep.best) {
    const RunReport& b = sweep.levels[*sweep.best];
    out = "best " + limit + ": " + std::to_string(b.concurrency) + " connections, " + fixed(b.stats.rps(), 1) +
          " req/s (p99 " + fixed(ms(b.stats.latency.percentile_ns(99)), 3) + " ms)";
  } else {
    out = "no level ran " + limit;
  }
  if (sweep.stopped_at)
    out += "; stopped at " + std::to_string(sweep.levels[*sweep.stopped_at].concurrency) + " connections";
  return out;
}

std::string format_sweep_conclusion_json(const SweepOutcome& sweep) {
  const std::string budget = sweep.p99_budget_ms > 0 ? fixed(sweep.p99_budget_ms, 3) : "null";
  std::string out =
      "{\"name\":\"sweep\",\"p99_budget_ms\":" + budget + ",\"levels\":" + std::to_string(sweep.levels.size());
  if (sweep.best) {
    const RunReport& b = sweep.levels[*sweep.best];
    out += ",\"best_concurrency\":" + std::to_string(b.concurrency) + ",\"best_rps\":" + fixed(b.stats.rps(), 3) +
           ",\"best_p99_ms\":" + fixed(ms(b.stats.latency.percentile_ns(99)), 4);
  } else {
    out += ",\"best_concurrency\":null,\"best_rps\":null,\"best_p99_ms\":null";
  }
  out += ",\"stopped_at\":" + (sweep.stopped_at ? std::to_string(sweep.levels[*sweep.stopped_at].concurrency) : "null");
  return out + "}";
}

}  // namespace inferd::loadgen
