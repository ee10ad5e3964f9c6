// KinesisApi: the Kinesis Data Streams API (X-Amz-Target Kinesis_20131202.*) as a thin adapter
// over shard_store::ShardStore — the same library the gRPC Streams service calls. Each operation
// reads its input with AWS's checks (input_reader.h: SerializationException,
// ValidationException), builds the tributary.v1 request, calls the store, maps a failed status
// through the operation's row of the status table (kinesis_handler.cc, the one place where store
// codes become Kinesis error codes) and builds AWS's output shape. No stream logic lives here.
//
// Operations: CreateStream, DeleteStream (EnforceConsumerDeletion), DescribeStream,
// DescribeStreamSummary, ListStreams, ListShards, PutRecord, PutRecords, GetShardIterator,
// GetRecords, SplitShard, MergeShards, UpdateShardCount, IncreaseStreamRetentionPeriod,
// DecreaseStreamRetentionPeriod, DescribeLimits; and (kinesis_metadata_ops.cc) AddTagsToStream,
// RemoveTagsFromStream, ListTagsForStream, TagResource, UntagResource, ListTagsForResource,
// RegisterStreamConsumer, DeregisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers. Other Kinesis operations answer UnknownOperationException saying they
// are not supported yet (aws/NOTES.md lists them).
//
// Wire rules (as botocore, the AWS CLI v2 and the Java SDK send them):
//   - StreamARN is accepted wherever StreamName is:
//   arn:aws:kinesis:<region>:<account>:stream/<name>
//     with this API's region and account (another region or account is
//     ResourceNotFoundException: the stream is not here); both given must name the same stream.
//   - Data: base64 in JSON, a byte string in CBOR. Partition keys are hashed on the UTF-8 bytes
//     of the decoded string, exactly as the gRPC path hashes them.
//   - Sequence numbers, hash keys, shard ids and iterators are strings; timestamps are epoch
//     seconds in JSON (integer or fraction in requests, seconds with a fraction in replies),
//     tagged epoch milliseconds in CBOR.
//   - ShardId accepts "shardId-000000000001", "shardId-1" and "1" (as Kinesis does).
//   - ConsumerARN: <stream ARN>/consumer/<name>:<creation, epoch seconds>; accepted wherever
//     Kinesis accepts it (with or instead of StreamARN + ConsumerName).
//   - The store's streams that hold DynamoDB tables' change streams ("_tables.*",
//     tables/stream_ids.h) are not Kinesis streams: not listed, not counted by DescribeLimits,
//     ResourceNotFoundException by name or ARN, and CreateStream refuses the prefix
//     (InvalidArgumentException). They are read through the DynamoDB Streams API.
//
// Thread-safe. `store` must outlive the API.
#ifndef TRIBUTARY_AWS_KINESIS_HANDLER_H_
#define TRIBUTARY_AWS_KINESIS_HANDLER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "aws/router.h"
#include "common/clock.h"
#include "shard_store/shard_store.h"
#include "shard_store/streams_service.h"

namespace tributary::aws {

struct KinesisApiOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";  // 12 digits
};

class KinesisApi : public AwsApi {
 public:
  static constexpr char kTargetPrefix[] = "Kinesis_20131202";

  // `streams`, when given, serves SubscribeToShard (its subscriptions); without it
  // SubscribeToShard is UnknownOperationException. `clock` times a subscription's 5-minute
  // lifetime (kinesis_event_stream.h). `store`, `clock` and `streams` must outlive the API.
  KinesisApi(shard_store::ShardStore& store, Clock& clock, KinesisApiOptions options,
             shard_store::StreamsService* streams = nullptr);

  absl::string_view target_prefix() const override { return kTargetPrefix; }
  absl::string_view signing_name() const override { return "kinesis"; }
  // ProvisionedThroughputExceededException for the data calls (PutRecord, PutRecords,
  // GetRecords, GetShardIterator, SubscribeToShard), LimitExceededException for the rest, as
  // Kinesis throttles them.
  const char* ThrottlingError(absl::string_view operation) const override;
  AwsOutcome Call(const AwsCall& call) override;

  // "arn:aws:kinesis:<region>:<account>:stream/<name>".
  std::string StreamArn(absl::string_view stream_name) const;

 private:
  shard_store::ShardStore& store_;
  Clock& clock_;
  const KinesisApiOptions options_;
  shard_store::StreamsService* const streams_;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_KINESIS_HANDLER_H_
