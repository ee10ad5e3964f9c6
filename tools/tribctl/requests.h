// Flags → request protos, one pure function per request. Values were already
// type-checked by ParseCommandLine; these functions add the rules that span
// flags (e.g. --timestamp with --iterator-type=AT_TIMESTAMP) and return
// UsageError (INVALID_ARGUMENT) naming the flag when one is broken. Range
// checks (batch size 1–10000, ...) are the services' job: tribctl sends what it
// is given so that the service's message is the one the operator sees.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_REQUESTS_H_
#define TRIBUTARY_TOOLS_TRIBCTL_REQUESTS_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/functions.pb.h"
#include "proto/leasing.pb.h"
#include "proto/poller.pb.h"
#include "proto/streams.pb.h"
#include "tools/tribctl/command_line.h"

namespace tributary::tribctl {

// PutRecords limits (Kinesis): records per call and bytes per call (data plus
// partition keys).
inline constexpr int kMaxPutRecordsEntries = 500;
inline constexpr int64_t kMaxPutRecordsBytes = 5 << 20;

// streams ...
v1::CreateStreamRequest BuildCreateStreamRequest(const FlagValues& flags);
v1::DeleteStreamRequest BuildDeleteStreamRequest(const FlagValues& flags);
v1::DescribeStreamSummaryRequest BuildDescribeStreamSummaryRequest(const FlagValues& flags);
v1::ListStreamsRequest BuildListStreamsRequest(const FlagValues& flags);
// Errors: a shard filter flag without its type, or a type without what it
// needs (AFTER_SHARD_ID needs --shard-filter-shard-id; AT_TIMESTAMP and
// FROM_TIMESTAMP need --shard-filter-timestamp).
absl::StatusOr<v1::ListShardsRequest> BuildListShardsRequest(const FlagValues& flags);
// new_starting_hash_key is empty when --new-starting-hash-key was not given
// (the caller fills in MiddleHashKey of the shard).
v1::SplitShardRequest BuildSplitShardRequest(const FlagValues& flags);
v1::MergeShardsRequest BuildMergeShardsRequest(const FlagValues& flags);
v1::UpdateShardCountRequest BuildUpdateShardCountRequest(const FlagValues& flags);
v1::IncreaseStreamRetentionPeriodRequest BuildIncreaseRetentionRequest(const FlagValues& flags);
v1::DecreaseStreamRetentionPeriodRequest BuildDecreaseRetentionRequest(const FlagValues& flags);

// The hash key that splits [start, end] in two halves: start + (end - start + 1) / 2,
// so the first child gets [start, mid - 1] and the second [mid, end].
// Example: [0, 2^128 - 1] → 2^127. Errors: INVALID_ARGUMENT when the range is
// not two decimal 128-bit numbers with start < end.
absl::StatusOr<std::string> MiddleHashKey(const v1::HashKeyRange& range);

// records put --data: one PutRecord. Errors: --partition-key missing.
absl::StatusOr<v1::PutRecordRequest> BuildPutRecordRequest(const FlagValues& flags);

// Reads stdin lines into PutRecords requests for `records put` without --data:
// "key<TAB>data" lines, or, when --partition-key is given, one data per line
// (a TAB is then part of the data). A trailing "\r" is dropped; empty lines
// are skipped. Each request holds at most kMaxPutRecordsEntries records and
// kMaxPutRecordsBytes bytes. Not thread-safe; `in` must outlive it.
class StdinRecordReader {
 public:
  StdinRecordReader(const FlagValues& flags, std::istream* in);

  // The next batch, or nullopt at the end of input. Errors: INVALID_ARGUMENT
  // naming the line number when a line has no TAB (and no --partition-key was
  // given) or an empty key.
  absl::StatusOr<std::optional<v1::PutRecordsRequest>> NextBatch();
  // Lines read so far (including skipped empty ones).
  int64_t lines_read() const { return line_number_; }

 private:
  std::string stream_;
  std::optional<std::string> partition_key_;
  std::string explicit_hash_key_;
  std::istream* in_;
  int64_t line_number_ = 0;
  // A record that did not fit in the previous batch.
  std::optional<v1::PutRecordsRequestEntry> carried_;
};

// records get: the GetShardIterator request (without --follow) and the
// SubscribeToShard request (with it). Errors: AT_/AFTER_SEQUENCE_NUMBER
// without --starting-sequence-number; AT_TIMESTAMP without --timestamp.
absl::StatusOr<v1::GetShardIteratorRequest> BuildGetShardIteratorRequest(const FlagValues& flags);
absl::StatusOr<v1::SubscribeToShardRequest> BuildSubscribeToShardRequest(const FlagValues& flags);

// mappings ...
// Errors: AT_TIMESTAMP without --starting-position-timestamp; not exactly one of
// --function-endpoint and --function-name.
absl::StatusOr<v1::CreateEventSourceMappingRequest> BuildCreateMappingRequest(
    const FlagValues& flags);
// Only the flags given are set; --destination= (empty) clears the destination;
// any --function-response-types (even empty) replaces the list. Both
// --function-endpoint and --function-name are sent if given (the tracker refuses).
v1::UpdateEventSourceMappingRequest BuildUpdateMappingRequest(const FlagValues& flags);
v1::DeleteEventSourceMappingRequest BuildDeleteMappingRequest(const FlagValues& flags);
v1::GetEventSourceMappingRequest BuildGetMappingRequest(const FlagValues& flags);
v1::ListEventSourceMappingsRequest BuildListMappingsRequest(const FlagValues& flags);

// functions ... (--function-timeout-seconds and --reserved-concurrent-executions
// are sent only when given: the service applies its defaults)
v1::CreateFunctionRequest BuildCreateFunctionRequest(const FlagValues& flags);
v1::UpdateFunctionRequest BuildUpdateFunctionRequest(const FlagValues& flags);
v1::GetFunctionRequest BuildGetFunctionRequest(const FlagValues& flags);
v1::ListFunctionsRequest BuildListFunctionsRequest(const FlagValues& flags);
v1::DeleteFunctionRequest BuildDeleteFunctionRequest(const FlagValues& flags);
v1::PutFunctionConcurrencyRequest BuildPutFunctionConcurrencyRequest(const FlagValues& flags);
v1::GetFunctionConcurrencyRequest BuildGetFunctionConcurrencyRequest(const FlagValues& flags);
v1::DeleteFunctionConcurrencyRequest BuildDeleteFunctionConcurrencyRequest(const FlagValues& flags);

// leases list / metrics
v1::ListLeasesRequest BuildListLeasesRequest(const FlagValues& flags);
v1::GetMetricsRequest BuildGetMetricsRequest(const FlagValues& flags);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_REQUESTS_H_
