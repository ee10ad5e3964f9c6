// The cost of RecordFilter::Matches per record, which ShardProcessor::Offer pays (outside the
// shard's lock): metadata-only patterns (no JSON parse) and data patterns (the data is parsed).
//   bazel run -c opt //mapping:record_filter_bench
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "mapping/record_filter.h"

namespace tributary::mapping {
namespace {

std::unique_ptr<RecordFilter> Compile(const std::string& pattern) {
  v1::FilterCriteria criteria;
  criteria.add_filters()->set_pattern(pattern);
  return std::move(RecordFilter::Create(criteria).value());
}

v1::Record Record(int i) {
  v1::Record r;
  r.set_sequence_number(absl::StrCat(1000000 + i));
  r.set_partition_key(absl::StrCat("user-", i % 100));
  r.set_data(absl::StrCat(R"({"type":")", i % 2 ? "order" : "refund", R"(","amount":)", i % 500,
                          R"(,"customer":{"tier":"gold","region":"eu-west-1"},"items":[1,2,3]})"));
  return r;
}

void BM_MatchPartitionKeyPrefix(benchmark::State& state) {
  auto filter = Compile(R"({"partitionKey":[{"prefix":"user-1"}]})");
  const v1::Record r = Record(7);
  for (auto _ : state) benchmark::DoNotOptimize(filter->Matches(r));
}
BENCHMARK(BM_MatchPartitionKeyPrefix);

void BM_MatchDataFields(benchmark::State& state) {
  auto filter = Compile(R"({"data":{"type":["order"],"amount":[{"numeric":[">",100,"<=",400]}],)"
                        R"("customer":{"tier":["gold"]}}})");
  const v1::Record r = Record(7);
  for (auto _ : state) benchmark::DoNotOptimize(filter->Matches(r));
}
BENCHMARK(BM_MatchDataFields);

}  // namespace
}  // namespace tributary::mapping
