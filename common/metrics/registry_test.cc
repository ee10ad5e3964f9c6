#include "common/metrics/registry.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/promtool.h"
#include "common/version.h"
#include "gtest/gtest.h"

namespace tributary::metrics {
namespace {

TEST(RegistryTest, CounterRendersHelpTypeAndSeriesSortedByLabels) {
  Registry r;
  auto& records = r.AddCounter("t_records_total", "Records in.", {"stream"});
  records.With({"b"}).Increment(3);
  records.With({"a"}).Increment();
  EXPECT_EQ(r.Render(),
            "# HELP t_records_total Records in.\n"
            "# TYPE t_records_total counter\n"
            "t_records_total{stream=\"a\"} 1\n"
            "t_records_total{stream=\"b\"} 3\n");
}

TEST(RegistryTest, FamilyWithoutSeriesStillRendersItsHeader) {
  Registry r;
  r.AddGauge("t_leases", "Leases.", {"state"});
  EXPECT_EQ(r.Render(), "# HELP t_leases Leases.\n# TYPE t_leases gauge\n");
}

TEST(RegistryTest, GaugeWithoutLabelsHasNoBraces) {
  Registry r;
  Gauge& g = r.AddGauge("t_bytes", "Bytes.").With({});
  g.Set(2.5);
  g.Add(-1);
  EXPECT_EQ(r.Render(), "# HELP t_bytes Bytes.\n# TYPE t_bytes gauge\nt_bytes 1.5\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.AddHistogram("t_latency_seconds", "Latency.", {"op"}, {0.1, 1}).With({"put"});
  h.Observe(0.05);
  h.Observe(0.1);  // upper bounds are inclusive
  h.Observe(5);
  EXPECT_EQ(r.Render(),
            "# HELP t_latency_seconds Latency.\n"
            "# TYPE t_latency_seconds histogram\n"
            "t_latency_seconds_bucket{op=\"put\",le=\"0.1\"} 2\n"
            "t_latency_seconds_bucket{op=\"put\",le=\"1\"} 2\n"
            "t_latency_seconds_bucket{op=\"put\",le=\"+Inf\"} 3\n"
            "t_latency_seconds_sum{op=\"put\"} 5.15\n"
            "t_latency_seconds_count{op=\"put\"} 3\n");
}

TEST(RegistryTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.AddCounter("t_x_total", "a\\b\nc", {"k"}).With({"q\"\\\n"}).Increment();
  EXPECT_EQ(r.Render(),
            "# HELP t_x_total a\\\\b\\nc\n"
            "# TYPE t_x_total counter\n"
            "t_x_total{k=\"q\\\"\\\\\\n\"} 1\n");
}

TEST(RegistryTest, CollectorsRenderAfterFamilies) {
  Registry r;
  r.AddCollector([](std::string* out) {
    WriteHeader(out, "t_c", "gauge", "C.");
    WriteSample(out, "t_c", {{"state", "OWNED"}}, 2);
  });
  r.AddGauge("t_g", "G.");
  EXPECT_EQ(r.Render(),
            "# HELP t_g G.\n# TYPE t_g gauge\n"
            "# HELP t_c C.\n# TYPE t_c gauge\nt_c{state=\"OWNED\"} 2\n");
}

TEST(RegistryTest, FormatValueSpellsSpecialsAndKeepsPrecision) {
  EXPECT_EQ(FormatValue(1e300 * 1e300), "+Inf");
  EXPECT_EQ(FormatValue(-1e300 * 1e300), "-Inf");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(123456789012), "123456789012");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.33333333333333331");
}

TEST(RegistryDeathTest, CounterWithoutTotalSuffixIsRefused) {
  Registry r;
  EXPECT_DEATH(r.AddCounter("t_records", "Records."), "_total");
}

TEST(RegistryDeathTest, NameRegisteredTwiceIsRefused) {
  Registry r;
  r.AddGauge("t_g", "G.");
  EXPECT_DEATH(r.AddGauge("t_g", "G."), "twice");
}

TEST(RegistryDeathTest, BadLabelNameIsRefused) {
  Registry r;
  EXPECT_DEATH(r.AddGauge("t_g", "G.", {"le"}), "label");
  EXPECT_DEATH(r.AddGauge("t_h", "G.", {"a-b"}), "label");
}

TEST(ProcessMetricsTest, ProcessFamiliesAndBuildInfoAreExported) {
  Registry r;
  RegisterProcessMetrics(r);
  const std::string text = r.Render();
  for (const char* family :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
        "process_start_time_seconds ", "process_virtual_memory_bytes "}) {
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("\n", family))) << family << "\n" << text;
  }
  EXPECT_TRUE(absl::StrContains(
      text, absl::StrCat("tributary_build_info{version=\"", kVersion, "\"} 1\n")))
      << text;
}

TEST(PromtoolTest, EverythingTheRegistryRendersIsClean) {
  Registry r;
  RegisterProcessMetrics(r);
  r.AddCounter("t_records_total", "Records.", {"stream"}).With({"s\"1"}).Increment(7);
  r.AddGauge("t_pending_bytes", "Pending.").With({}).Set(1.5);
  r.AddHistogram("t_latency_seconds", "Latency.", {"op"}, LatencySecondsBounds())
      .With({"put"})
      .Observe(0.003);
  r.AddGauge("t_empty", "No series yet.", {"state"});
  EXPECT_TRUE(PromtoolCheckMetrics(r.Render()));
}

TEST(PromtoolTest, PromtoolFlagsAnAbbreviatedUnit) {
  // The check itself can fail: the poller's old name is what promtool rejected.
  EXPECT_FALSE(PromtoolCheckMetrics("# HELP t_age_ms Age.\n# TYPE t_age_ms gauge\nt_age_ms 1\n"));
}

}  // namespace
}  // namespace tributary::metrics
