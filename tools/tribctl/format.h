// tribctl's output: aligned tables for people, protobuf JSON for scripts, and
// Prometheus text for metrics. Pure functions over the response protos.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_FORMAT_H_
#define TRIBUTARY_TOOLS_TRIBCTL_FORMAT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/functions.pb.h"
#include "proto/leasing.pb.h"
#include "proto/poller.pb.h"
#include "proto/streams.pb.h"

namespace tributary::tribctl {

// A text table: a header row, then rows, each column padded to its widest cell
// with two spaces between columns; no trailing spaces. A row with fewer cells
// than headers is padded with empty cells. Example:
//   SHARD_ID              STATE
//   shardId-000000000000  OPEN
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  size_t size() const { return rows_.size(); }
  // The table, one line per row, each ending in "\n".
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Renders `fields` (name, value) as a two-column FIELD / VALUE table.
std::string KeyValueTable(const std::vector<std::pair<std::string, std::string>>& fields);

// JSON shaped as the AWS CLI prints it (protobuf's JSON mapping, reshaped):
//  - names are the proto JSON names (lowerCamelCase of AWS's names: streamName);
//  - unset is omitted: empty strings and bytes, empty lists and maps, unset messages, enums at
//    their ..._UNSPECIFIED value; numbers and booleans are always printed (0 and false are
//    answers: consumerCount 0, enabled false);
//  - 64-bit integers are JSON numbers when |v| < 2^53 (what a double holds exactly: jq and
//    JavaScript read them right), else strings as in protobuf's mapping; sequence numbers are
//    strings in the API and stay strings;
//  - enum values as the flags take them: TRIM_HORIZON, not TRIM_HORIZON_POSITION (the
//    _POSITION, _MAPPING and _CHECKPOINT suffixes exist only for proto3's enum scoping);
//  - bytes base64, timestamps RFC 3339 (protobuf's);
//  - pretty: two-space indent; else one line. Ends in "\n" either way.
// Errors: INTERNAL if protobuf refuses (invalid UTF-8 in a string field).
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, bool pretty = true);
// Reads what ToJson printed (or protobuf's own JSON) into `message`: short enum names are
// taken back. Errors: INVALID_ARGUMENT naming what did not parse.
absl::Status FromJson(absl::string_view json, google::protobuf::Message* message);

// "2026-01-02T03:04:05.678Z" (UTC, milliseconds); "" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);

// A record's data for a table cell: the text itself when it is printable ASCII,
// else "base64:" and its base64; cut at `max_chars` with a trailing "...".
std::string DisplayData(absl::string_view data, size_t max_chars = 80);

// A lease checkpoint for a table: the sequence number, TRIM_HORIZON, LATEST,
// AT_TIMESTAMP(<time>), SHARD_END, or "-" when unset.
std::string CheckpointText(const v1::Checkpoint& checkpoint);

// The short names of the proto enums (ENABLED, TRIM_HORIZON, ...).
std::string StreamStatusName(v1::StreamStatus status);
std::string MappingStateName(v1::EventSourceMappingState state);
std::string PositionName(v1::EventSourcePosition position);

// A one-line summary of an on-failure destination record (poller/processing/failure_record.h:
// JSON with requestContext.condition and KinesisBatchInfo or DDBStreamBatchInfo), which the
// record tables show instead of the JSON cut at 80 characters:
//   failure RetryAttemptsExhausted: shardId-000000000000 1..9 (9 records), 3 invoke(s),
//   Unhandled, arn:aws:lambda:us-east-1:000000000000:function:f
// nullopt for any other data. (--output=json has the whole record.)
std::optional<std::string> FailureRecordSummary(absl::string_view data);

// The tables tribctl prints.
std::string StreamSummaryTable(const v1::StreamDescriptionSummary& summary);
std::string StreamsTable(const v1::ListStreamsResponse& streams);
std::string ShardsTable(const std::vector<v1::Shard>& shards);
std::string RecordsTable(const std::vector<v1::Record>& records);
// One record as a line for `records get --follow` (columns separated by two
// spaces, not aligned, since rows are printed as they arrive).
std::string FollowLine(const std::string& shard_id, const v1::Record& record);
// The last error shows as "<kind>: <message>" ("-" without one; control characters become
// spaces), whole in MappingTable and cut to 80 bytes with "..." in the lease and metrics tables
// (JSON has it whole).
std::string MappingTable(const v1::EventSourceMappingConfiguration& mapping);
std::string MappingsTable(const std::vector<v1::EventSourceMappingConfiguration>& mappings);
// ReservedConcurrentExecutions / RESERVED_CONCURRENCY is "-" when none is set (0 is a setting:
// every invocation throttled).
std::string FunctionTable(const v1::FunctionConfiguration& function);
std::string FunctionsTable(const std::vector<v1::FunctionConfiguration>& functions);
std::string ConcurrencyTable(const std::string& function_name,
                             const v1::FunctionConcurrency& concurrency);
// Tags in key order (as the service lists them): KEY, VALUE ("-" for an empty value).
std::string TagsTable(const std::vector<v1::Tag>& tags);
// A registered consumer: its name, ARN, status and creation time (and the stream's ARN).
std::string ConsumerTable(const v1::Consumer& consumer);
std::string ConsumerDescriptionTable(const v1::ConsumerDescription& consumer);
std::string ConsumersTable(const std::vector<v1::Consumer>& consumers);
// ITERATOR_AGE_MS is "-" when the lease has none (nobody works on the shard: unknown, not 0).
std::string LeasesTable(const std::vector<v1::Lease>& leases);
std::string PollersTable(const std::vector<v1::Poller>& pollers);
// Then, when the poller invoked functions with reserved concurrency, a second table after a
// blank line: FUNCTION, CONCURRENT_EXECUTIONS (on this poller now), THROTTLES.
std::string MetricsTable(const v1::GetMetricsResponse& metrics);

// Prometheus text exposition (version 0.0.4) of a GetMetricsResponse, the
// same text the poller serves on --metrics_listen: tributary_poller_* gauges
// and counters per mapping and shard, histograms with _bucket/_sum/_count,
// labels poller, mapping, stream, shard (and condition for dropped records).
std::string PrometheusText(const v1::GetMetricsResponse& metrics);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_FORMAT_H_
