#include "poller/invoke/table_stream_arns.h"

#include <map>

#include "gtest/gtest.h"

namespace tributary::poller {
namespace {

class FixedMappings : public MappingSource {
 public:
  absl::StatusOr<v1::EventSourceMappingConfiguration> GetMapping(const std::string& uuid) override {
    auto it = mappings.find(uuid);
    if (it == mappings.end()) return absl::NotFoundError(uuid);
    return it->second;
  }
  std::map<std::string, v1::EventSourceMappingConfiguration> mappings;
};

class FixedTables : public TableStreamSources {
 public:
  absl::StatusOr<TableStreamSource> Find(const std::string& stream_name) override {
    if (stream_name != "_tables.42.20231114221320123") return absl::NotFoundError(stream_name);
    return TableStreamSource{"orders", "2023-11-14T22:13:20.123", 42};
  }
};

v1::EventSourceMappingConfiguration Mapping(const std::string& stream) {
  v1::EventSourceMappingConfiguration m;
  m.set_stream_name(stream);
  m.set_event_source_arn("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream);
  return m;
}

TEST(TableStreamArnMappingSourceTest, ATableStreamMappingGetsTheTableStreamsArn) {
  FixedMappings inner;
  FixedTables tables;
  inner.mappings["a"] = Mapping("_tables.42.20231114221320123");
  inner.mappings["b"] = Mapping("orders-stream");
  inner.mappings["c"] = Mapping("_tables.7.20231114221320123");  // not found: gone
  TableStreamArnMappingSource source(inner, tables, LambdaAccount{"us-east-1", "000000000000"});
  EXPECT_EQ(source.GetMapping("a")->event_source_arn(),
            "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2023-11-14T22:13:20.123");
  EXPECT_EQ(source.GetMapping("b")->event_source_arn(),
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders-stream");
  EXPECT_EQ(source.GetMapping("c")->event_source_arn(), "");
  EXPECT_EQ(source.GetMapping("d").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tributary::poller
