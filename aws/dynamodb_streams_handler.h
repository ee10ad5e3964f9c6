// DynamoDbStreamsApi: the DynamoDB Streams API (X-Amz-Target DynamoDBStreams_20120810.*) over the
// change streams of tables::TableStore, which live in shard_store streams (tables/NOTES.md).
// Operations: ListStreams, DescribeStream, GetShardIterator (TRIM_HORIZON, LATEST,
// AT_/AFTER_SEQUENCE_NUMBER), GetRecords; others answer UnknownOperationException.
//
// Ids at the edge (the store's differ; aws/NOTES.md "DynamoDB Streams ids"):
//   shard id  "shardId-" + the store's shard index, 20 digits + "-" + table id, 8 hex digits
//             (37 characters; DynamoDB's are 28-65): shardId-00000000000000000003-0000002a
//   sequence  "1" + the store's sequence number, 20 digits (21 digits; DynamoDB's are 21-40),
//             order-preserving.
//
// Thread-safe. `tables` and `store` must outlive the API.
#ifndef TRIBUTARY_AWS_DYNAMODB_STREAMS_HANDLER_H_
#define TRIBUTARY_AWS_DYNAMODB_STREAMS_HANDLER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "aws/dynamodb_handler.h"
#include "aws/router.h"
#include "shard_store/shard_store.h"
#include "tables/table_store.h"

namespace tributary::aws {

class DynamoDbStreamsApi : public AwsApi {
 public:
  static constexpr char kTargetPrefix[] = "DynamoDBStreams_20120810";

  DynamoDbStreamsApi(tables::TableStore& tables, shard_store::ShardStore& store,
                     DynamoDbApiOptions options);

  absl::string_view target_prefix() const override { return kTargetPrefix; }
  absl::string_view signing_name() const override { return "dynamodb"; }
  const char* ThrottlingError(absl::string_view operation) const override;
  bool SendsCrc32() const override { return true; }
  AwsOutcome Call(const AwsCall& call) override;

  // The edge's ids (see the top); the parsers return nullopt for anything else.
  static std::string EdgeShardId(uint32_t index, uint64_t table_id);
  static std::optional<uint32_t> StoreShardIndex(absl::string_view edge_shard_id);
  static std::string EdgeSequenceNumber(absl::string_view store_sequence_number);
  static std::optional<std::string> StoreSequenceNumber(absl::string_view edge_sequence_number);

 private:
  friend class StreamsHandler;
  tables::TableStore& tables_;
  shard_store::ShardStore& store_;
  const DynamoDbApiOptions options_;
  DynamoDbApi arns_;  // TableArn / StreamArn
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_DYNAMODB_STREAMS_HANDLER_H_
