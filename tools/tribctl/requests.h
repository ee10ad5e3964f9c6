// Flags → request protos. A command's flags name the request fields they set (FlagSpec::field),
// and FillRequest sets them by protobuf reflection; what a field binding cannot say is the
// command's `finish` (the Finish* functions below): rules that span flags (e.g. --timestamp with
// --iterator-type=AT_TIMESTAMP), defaults, and fields made from several flags. Broken rules are
// UsageError (INVALID_ARGUMENT) naming the flag. Range checks (batch size 1–10000, ...) are the
// services' job: tribctl sends what it is given so that the service's message is the one the
// operator sees.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_REQUESTS_H_
#define TRIBUTARY_TOOLS_TRIBCTL_REQUESTS_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
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

// Sets each field of `request` that a given flag of `command` names (FlagSpec::field), then runs
// `command.finish`. By the flag's type: kString sets a string or bytes field, kInt an int32 or
// int64, kBool a bool, kEnum an enum by the value's name, kTimestamp a
// google.protobuf.Timestamp, kList and kRepeated add to a repeated string field. A flag not given
// leaves its field unset. Errors: the finish's (usage errors); INTERNAL when a flag names no
// field of `request` of a type it can set (a mistake in the command table; CheckFields finds
// those without running the command).
absl::Status FillRequest(const CommandSpec& command, const FlagValues& flags,
                         google::protobuf::Message* request);

// FillRequest into a new `Request`.
template <typename Request>
absl::StatusOr<Request> BuildRequest(const CommandSpec& command, const FlagValues& flags) {
  Request request;
  absl::Status status = FillRequest(command, flags, &request);
  if (!status.ok()) return status;
  return request;
}
template <typename Request>
absl::StatusOr<Request> BuildRequest(const CommandLine& line) {
  return BuildRequest<Request>(*line.command, line.flags);
}

// OK when every flag of `command` that names a field names one of `command.request` that its
// type can set; else INTERNAL naming the command, flag and field. Also INTERNAL for a flag with a
// field on a command without a request.
absl::Status CheckFields(const CommandSpec& command);

// --- The finish of each command that needs one (see CommandSpec::finish) ---------------------

// streams create: --shard-count defaults to 1.
absl::Status FinishCreateStream(const FlagValues& flags, v1::CreateStreamRequest* r);
// streams list-shards: the shard filter. Errors: a filter flag without --shard-filter-type, or a
// type without what it needs (AFTER_SHARD_ID needs --shard-filter-shard-id; AT_TIMESTAMP and
// FROM_TIMESTAMP need --shard-filter-timestamp).
absl::Status FinishListShards(const FlagValues& flags, v1::ListShardsRequest* r);
// streams update-shard-count: UNIFORM_SCALING, the only scaling type.
absl::Status FinishUpdateShardCount(const FlagValues& flags, v1::UpdateShardCountRequest* r);
// streams tag: --tags k=v,... become the tags. Errors: an item without '=', an empty key, a key
// given twice.
absl::Status FinishAddTags(const FlagValues& flags, v1::AddTagsToStreamRequest* r);
// consumers deregister / describe: the consumer is named by --consumer-arn, or by --stream and
// --consumer-name (or all three, which the service checks agree). Errors: neither way given.
absl::Status FinishDeregisterConsumer(const FlagValues& flags,
                                      v1::DeregisterStreamConsumerRequest* r);
absl::Status FinishDescribeConsumer(const FlagValues& flags, v1::DescribeStreamConsumerRequest* r);
// records put --data: one PutRecord. Errors: --partition-key missing.
absl::Status FinishPutRecord(const FlagValues& flags, v1::PutRecordRequest* r);
// mappings create. Errors: AT_TIMESTAMP without --starting-position-timestamp (or the timestamp
// without AT_TIMESTAMP); not exactly one of --function-endpoint and --function-name.
absl::Status FinishCreateMapping(const FlagValues& flags, v1::CreateEventSourceMappingRequest* r);
// mappings update: only the flags given are set; --destination= (empty) clears the destination;
// any --function-response-types (even empty) replaces the list, any --filter-pattern the filters.
// Both --function-endpoint and --function-name are sent if given (the tracker refuses).
absl::Status FinishUpdateMapping(const FlagValues& flags, v1::UpdateEventSourceMappingRequest* r);

// The hash key that splits [start, end] in two halves: start + (end - start + 1) / 2,
// so the first child gets [start, mid - 1] and the second [mid, end].
// Example: [0, 2^128 - 1] → 2^127. Errors: INVALID_ARGUMENT when the range is
// not two decimal 128-bit numbers with start < end.
absl::StatusOr<std::string> MiddleHashKey(const v1::HashKeyRange& range);

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

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_REQUESTS_H_
