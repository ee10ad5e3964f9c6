// A small metrics registry: counters, gauges and histograms with labels, rendered as Prometheus
// text exposition (format 0.0.4), so that every service exports the same way and
// `promtool check metrics` is clean over all of them.
//
// The rules it enforces (CHECK-fails at registration: names are programmer choices):
//   - a family name is [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not "le";
//   - a counter's name ends in "_total" (promtool's lint);
//   - every family has help text; each name is registered once.
// Values carry base units: name durations `_seconds`, sizes `_bytes` (not checked: a name cannot
// tell).
//
// Example:
//   Registry registry;
//   auto& puts = registry.AddCounter("tributary_store_records_in_total",
//                                    "Records acknowledged by PutRecord(s).", {"stream"});
//   Counter& orders = puts.With({"orders"});  // keep the reference: With takes a lock
//   orders.Increment(3);                       // lock-free (an atomic add)
//   registry.Render();
//   // # HELP tributary_store_records_in_total Records acknowledged by PutRecord(s).
//   // # TYPE tributary_store_records_in_total counter
//   // tributary_store_records_in_total{stream="orders"} 3
//
// Families render in registration order, their series sorted by label values; a family with no
// series still renders its HELP and TYPE lines. Collectors (AddCollector) append families computed
// at scrape time (leases by state, a RocksDB property) after the registered ones, in the order
// they were added.
//
// Thread-safety: everything is thread-safe. Counter, Gauge and Histogram updates are atomics and
// never block; Family::With and Render take the family's mutex. Metrics live as long as the
// registry; references returned by With stay valid that long.
#ifndef TRIBUTARY_COMMON_METRICS_REGISTRY_H_
#define TRIBUTARY_COMMON_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tributary::metrics {

// A monotonically increasing count of events (or of units: records, bytes).
class Counter {
 public:
  void Increment(int64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into buckets by upper bound (inclusive, as Prometheus' `le`); +Inf is
// implicit. Bounds are finite and strictly increasing (CHECKed).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;       // finite upper bounds, without +Inf
    std::vector<int64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    int64_t count = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// Bucket bounds for latencies in seconds: 100 µs to 10 s.
std::vector<double> LatencySecondsBounds();

// A family: one metric name, its help and label names, and a series per label-value tuple.
template <typename T>
class Family {
 public:
  // The series for `label_values` (one per label name, in order; CHECKed), created at 0 on first
  // use. Takes the family's lock: callers on hot paths keep the reference.
  T& With(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}
  void Render(std::string* out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_ ABSL_GUARDED_BY(mu_);
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names, std::vector<double> bounds);

  // `collect` appends complete families (use the writers below) to `out` at each Render. It is
  // called on the scraping thread, must be thread-safe, and whatever it captures must outlive the
  // registry (or the last Render).
  void AddCollector(std::function<void(std::string* out)> collect);

  // The exposition text of every family, then of every collector.
  std::string Render() const;

 private:
  void Claim(const std::string& name, const std::vector<std::string>& label_names);

  mutable absl::Mutex mu_;
  std::vector<std::string> names_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void(std::string*)>> renderers_ ABSL_GUARDED_BY(mu_);  // families
  std::vector<std::function<void(std::string*)>> collectors_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<void>> owned_ ABSL_GUARDED_BY(mu_);
};

// Writers for collectors (and the registry itself).
// "# HELP name help\n# TYPE name type\n"; `type` is counter, gauge or histogram.
void WriteHeader(std::string* out, absl::string_view name, absl::string_view type,
                 absl::string_view help);
// "name{k1="v1",...} value\n" (no braces without labels); label values escaped (\\, \", \n).
void WriteSample(std::string* out, absl::string_view name,
                 const std::vector<std::pair<std::string, std::string>>& labels, double value);
// A value as the exposition format spells it: integers without a decimal point, +Inf, -Inf, NaN.
std::string FormatValue(double value);

}  // namespace tributary::metrics

#endif  // TRIBUTARY_COMMON_METRICS_REGISTRY_H_
