// Names and ids of table streams outside tables/: the shard_store stream that holds a table's
// change stream, and the DynamoDB-shaped ids the edges show for the store's (the DynamoDB Streams
// API, aws/dynamodb_streams_handler.h, and Lambda's DynamoDB events the poller sends,
// poller/invoke/dynamodb_event.h), so that both show one record alike. Translation both ways
// without state:
//   stream      "_tables.<table id>.<label digits>": "_tables.7.20231114221320123"
//   shard id    "shardId-" + the store's shard index, 20 digits + "-" + table id, 8 hex
//               (37 characters; DynamoDB's are 28-65): shardId-00000000000000000003-0000002a
//   sequence    "1" + the store's sequence number, 20 digits (21 digits; DynamoDB's are 21-40),
//               order-preserving: "42" → "100000000000000000042"
//   eventID     table id, shard index and sequence number as 8 + 8 + 16 hex digits (32, as
//               DynamoDB's): unique per record of the endpoint
//   ARNs        arn:aws:dynamodb:REGION:ACCOUNT:table/NAME and .../table/NAME/stream/LABEL
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_STREAM_IDS_H_
#define TRIBUTARY_TABLES_STREAM_IDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace tributary::tables {

// Every shard_store stream whose name starts so belongs to tables/ (the Kinesis API neither
// shows nor creates one).
inline constexpr char kTableStreamPrefix[] = "_tables.";
bool IsTableStreamName(absl::string_view stream_name);
// "_tables.<table id>.<the digits of label>".
std::string TableStreamName(uint64_t table_id, absl::string_view label);
// The table id of a TableStreamName; nullopt for any other name.
std::optional<uint64_t> TableIdOfStreamName(absl::string_view stream_name);

std::string EdgeShardId(uint32_t index, uint64_t table_id);
// The store's shard index of an edge shard id; nullopt for anything else.
std::optional<uint32_t> StoreShardIndex(absl::string_view edge_shard_id);
// The index of a store shard id ("shardId-000000000003" → 3); nullopt for anything else.
std::optional<uint32_t> IndexOfStoreShardId(absl::string_view store_shard_id);
// An edge sequence number; a store sequence number that is not a decimal uint64 is returned
// unchanged.
std::string EdgeSequenceNumber(absl::string_view store_sequence_number);
// The store's sequence number of an edge one; nullopt for anything else.
std::optional<std::string> StoreSequenceNumber(absl::string_view edge_sequence_number);
std::string EventId(uint64_t table_id, uint32_t shard_index,
                    absl::string_view store_sequence_number);

std::string TableArn(absl::string_view region, absl::string_view account_id,
                     absl::string_view table_name);
std::string TableStreamArn(absl::string_view region, absl::string_view account_id,
                           absl::string_view table_name, absl::string_view label);
// The (table name, label) of a TableStreamArn of `region` and `account_id`; nullopt for
// anything else (another region or account, a table ARN, no label).
std::optional<std::pair<std::string, std::string>> ParseTableStreamArn(
    absl::string_view region, absl::string_view account_id, absl::string_view arn);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_STREAM_IDS_H_
