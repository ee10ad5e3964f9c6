#include "common/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace tributary::metrics {
namespace {

bool ValidName(absl::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void AppendEscaped(std::string* out, absl::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// HELP text escapes \\ and \n only.
std::string EscapeHelp(absl::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Zip(const std::vector<std::string>& names,
                                                     const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

void RenderSeries(std::string* out, const std::string& name,
                  const std::vector<std::pair<std::string, std::string>>& labels,
                  const Counter& c) {
  WriteSample(out, name, labels, static_cast<double>(c.Value()));
}

void RenderSeries(std::string* out, const std::string& name,
                  const std::vector<std::pair<std::string, std::string>>& labels, const Gauge& g) {
  WriteSample(out, name, labels, g.Value());
}

void RenderSeries(std::string* out, const std::string& name,
                  const std::vector<std::pair<std::string, std::string>>& labels,
                  const Histogram& h) {
  const Histogram::Snapshot s = h.Read();
  auto with_le = labels;
  with_le.emplace_back("le", "");
  const std::string bucket = name + "_bucket";
  for (size_t i = 0; i < s.cumulative.size(); ++i) {
    with_le.back().second = i < s.bounds.size() ? FormatValue(s.bounds[i]) : "+Inf";
    WriteSample(out, bucket, with_le, static_cast<double>(s.cumulative[i]));
  }
  WriteSample(out, name + "_sum", labels, s.sum);
  WriteSample(out, name + "_count", labels, static_cast<double>(s.count));
}

const char* TypeName(const Counter*) { return "counter"; }
const char* TypeName(const Gauge*) { return "gauge"; }
const char* TypeName(const Histogram*) { return "histogram"; }

void AddDouble(std::atomic<double>& target, double delta) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

}  // namespace

void Gauge::Add(double delta) { AddDouble(value_, delta); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<int64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    CHECK(std::isfinite(bounds_[i])) << "histogram bounds must be finite";
    CHECK(i == 0 || bounds_[i - 1] < bounds_[i]) << "histogram bounds must increase";
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AddDouble(sum_, value);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  int64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(cumulative);
  }
  s.count = cumulative;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LatencySecondsBounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& label_values) {
  CHECK_EQ(label_values.size(), label_names_.size()) << name_ << ": wrong number of label values";
  absl::MutexLock lock(&mu_);
  std::unique_ptr<T>& slot = series_[label_values];
  if (slot == nullptr) slot = make_();
  return *slot;
}

template <typename T>
void Family<T>::Render(std::string* out) const {
  WriteHeader(out, name_, TypeName(static_cast<const T*>(nullptr)), help_);
  absl::MutexLock lock(&mu_);
  for (const auto& [values, metric] : series_) {
    RenderSeries(out, name_, Zip(label_names_, values), *metric);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::Claim(const std::string& name, const std::vector<std::string>& label_names) {
  CHECK(ValidName(name, /*allow_colon=*/true)) << "bad metric name " << name;
  for (const std::string& label : label_names) {
    CHECK(ValidName(label, /*allow_colon=*/false) && label != "le")
        << name << ": bad label name " << label;
  }
  absl::MutexLock lock(&mu_);
  CHECK(std::find(names_.begin(), names_.end(), name) == names_.end())
      << "metric " << name << " registered twice";
  names_.push_back(name);
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  CHECK(absl::EndsWith(name, "_total")) << "counter " << name << " must end in _total";
  CHECK(!help.empty()) << name << " needs help text";
  Claim(name, label_names);
  auto family = std::shared_ptr<Family<Counter>>(new Family<Counter>(
      name, help, std::move(label_names), [] { return std::make_unique<Counter>(); }));
  absl::MutexLock lock(&mu_);
  owned_.push_back(family);
  renderers_.push_back([f = family.get()](std::string* out) { f->Render(out); });
  return *family;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  CHECK(!help.empty()) << name << " needs help text";
  Claim(name, label_names);
  auto family = std::shared_ptr<Family<Gauge>>(new Family<Gauge>(
      name, help, std::move(label_names), [] { return std::make_unique<Gauge>(); }));
  absl::MutexLock lock(&mu_);
  owned_.push_back(family);
  renderers_.push_back([f = family.get()](std::string* out) { f->Render(out); });
  return *family;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  CHECK(!help.empty()) << name << " needs help text";
  Claim(name, label_names);
  Histogram check(bounds);  // CHECKs the bounds now, not at the first series
  auto family = std::shared_ptr<Family<Histogram>>(
      new Family<Histogram>(name, help, std::move(label_names),
                            [bounds] { return std::make_unique<Histogram>(bounds); }));
  absl::MutexLock lock(&mu_);
  owned_.push_back(family);
  renderers_.push_back([f = family.get()](std::string* out) { f->Render(out); });
  return *family;
}

void Registry::AddCollector(std::function<void(std::string* out)> collect) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Render() const {
  std::vector<std::function<void(std::string*)>> renderers;
  {
    absl::MutexLock lock(&mu_);
    renderers = renderers_;
    renderers.insert(renderers.end(), collectors_.begin(), collectors_.end());
  }
  std::string out;
  for (const auto& render : renderers) render(&out);
  return out;
}

void WriteHeader(std::string* out, absl::string_view name, absl::string_view type,
                 absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type,
                  "\n");
}

void WriteSample(std::string* out, absl::string_view name,
                 const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  out->append(name.data(), name.size());
  if (!labels.empty()) {
    out->push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out->push_back(',');
      absl::StrAppend(out, labels[i].first, "=\"");
      AppendEscaped(out, labels[i].second);
      out->push_back('"');
    }
    out->push_back('}');
  }
  absl::StrAppend(out, " ", FormatValue(value), "\n");
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest of %.15g and %.17g that reads back as the same double.
  std::string shorter = absl::StrFormat("%.15g", value);
  if (std::strtod(shorter.c_str(), nullptr) == value) return shorter;
  return absl::StrFormat("%.17g", value);
}

}  // namespace tributary::metrics
