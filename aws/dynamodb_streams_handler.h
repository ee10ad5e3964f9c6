// DynamoDbStreamsApi: the DynamoDB Streams API (X-Amz-Target DynamoDBStreams_20120810.*) over the
// change streams of tables::TableStore, which live in shard_store streams (tables/NOTES.md).
// Operations: ListStreams (every stream, ENABLED or DISABLED for 24 h after it was turned off or
// its table deleted; paged), DescribeStream, GetShardIterator (TRIM_HORIZON, LATEST,
// AT_/AFTER_SEQUENCE_NUMBER), GetRecords; others answer UnknownOperationException.
//
// Ids at the edge are DynamoDB-shaped translations of the store's (tables/stream_ids.h; the
// store's differ: aws/NOTES.md "DynamoDB Streams ids").
//
// Thread-safe. `tables` and `store` must outlive the API.
#ifndef TRIBUTARY_AWS_DYNAMODB_STREAMS_HANDLER_H_
#define TRIBUTARY_AWS_DYNAMODB_STREAMS_HANDLER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "aws/dynamodb_handler.h"
#include "aws/lambda_model.h"
#include "aws/router.h"
#include "shard_store/shard_store.h"
#include "tables/table_store.h"

namespace tributary::aws {

class DynamoDbStreamsApi : public AwsApi, public TableStreamArns {
 public:
  static constexpr char kTargetPrefix[] = "DynamoDBStreams_20120810";

  DynamoDbStreamsApi(tables::TableStore& tables, shard_store::ShardStore& store,
                     DynamoDbApiOptions options);

  absl::string_view target_prefix() const override { return kTargetPrefix; }
  absl::string_view signing_name() const override { return "dynamodb"; }
  const char* ThrottlingError(absl::string_view operation) const override;
  bool SendsCrc32() const override { return true; }
  AwsOutcome Call(const AwsCall& call) override;

  // The (table name, label) of a stream ARN of this endpoint's region and account
  // (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL); nullopt for anything else.
  std::optional<std::pair<std::string, std::string>> ParseStreamArn(absl::string_view arn) const;

  // TableStreamArns, for Lambda's event-source mappings on table streams (lambda_model.h).
  std::optional<absl::StatusOr<std::string>> StreamOfArn(absl::string_view arn) override;
  std::optional<std::string> ArnOfStream(absl::string_view stream_name) override;

 private:
  friend class StreamsHandler;
  tables::TableStore& tables_;
  shard_store::ShardStore& store_;
  const DynamoDbApiOptions options_;
  DynamoDbApi arns_;  // TableArn / StreamArn
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_DYNAMODB_STREAMS_HANDLER_H_
