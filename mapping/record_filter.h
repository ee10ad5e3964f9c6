// RecordFilter: AWS Lambda's FilterCriteria for Kinesis records, compiled once per configuration.
//
// A record is matched as the JSON object Lambda filters Kinesis records on:
//   {"kinesisSchemaVersion": "1.0", "partitionKey": "...", "sequenceNumber": "...",
//    "approximateArrivalTimestamp": <seconds since the epoch, a number>,
//    "data": <the record's data parsed as JSON when it is a JSON object>}
// When the data is not a JSON object (not JSON, or JSON of another kind), "data" is absent and a
// filter that names "data" does not match (Lambda filters such records on metadata only).
//
// A filter pattern is a JSON object. Each of its fields is either a nested object (matched
// against the record's object at that key) or a non-empty array of conditions for the value at
// that key. Every field of a pattern must match (AND); one condition of a field's array must
// match (OR); one filter of the criteria must match (OR). Conditions:
//   "order", 5, true, null, ""               the value equals it
//   {"prefix": "ord"}                        a string starting with "ord"
//   {"anything-but": ["a", 5]}               a value equal to none of these (a string, number,
//   {"anything-but": "a"}                    true, false or null); a missing field never matches
//   {"anything-but": {"prefix": "ord"}}      a string not starting with "ord"
//   {"numeric": [">", 0, "<=", 5]}           a number in the range: one of "=", "<", "<=", ">",
//   {"numeric": ["=", 5]}                    ">=" with a number, or a lower bound (">", ">=")
//                                            followed by an upper bound ("<", "<=")
//   {"exists": true} / {"exists": false}     the field is present / absent
// When the record's value is an array, the field matches when any element matches (for a nested
// pattern: any element that is an object). Example: with data {"tags": ["a", "b"]} the pattern
// {"data": {"tags": ["b"]}} matches.
//
// A mapping on a table's change stream (a "_tables.*" store stream, tables/stream_ids.h) is
// filtered as Lambda filters DynamoDB records: on the record as its DynamoDB event shows it
// (poller/invoke/dynamodb_event.h), not on base64 data:
//   {"eventName": "INSERT" | "MODIFY" | "REMOVE", "eventVersion": "1.1",
//    "eventSource": "aws:dynamodb",
//    "dynamodb": {"ApproximateCreationDateTime": <epoch seconds>, "Keys": {...},
//                 "NewImage": {...}, "OldImage": {...}, "SequenceNumber": "1000…042",
//                 "SizeBytes": 26, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
// with AttributeValues in DynamoDB's JSON: {"id": {"S": "a"}}, {"qty": {"N": "5"}} (a number is
// a string there, as in the event: {"N": ["5"]} matches, a "numeric" rule does not),
// {"B": "<base64>"}, {"BOOL": true}, {"NULL": true}, {"M": {...}}, {"L": [...]}, sets as arrays.
// Example: {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}.
// Not in the view: eventID, awsRegion and eventSourceARN (the filter knows no account or table;
// a pattern naming them matches nothing, as a pattern naming any absent field). A record that is
// not a change record matches no filter.
//
// Patterns are read with protobuf's JSON parser into google.protobuf.Value, records' data with
// RapidJSON; numbers are doubles either way (integers above 2^53 compare approximately).
//
// Thread-safe after Create (Matches is const and shares no mutable state).
#ifndef TRIBUTARY_MAPPING_RECORD_FILTER_H_
#define TRIBUTARY_MAPPING_RECORD_FILTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/streams.pb.h"

namespace tributary::mapping {

inline constexpr int kMaxFilters = 5;
inline constexpr int kMaxFilterPatternBytes = 4096;

class RecordFilter {
 public:
  // Compiles `criteria`. No filters gives a filter that matches every record. Errors:
  // INVALID_ARGUMENT when there are more than kMaxFilters filters or a pattern is invalid (see
  // ValidatePattern); the message names the filter, e.g.
  // `filter_criteria.filters[1].pattern: numeric: expected an operator ("<", "<=", "=", ">",
  // ">=") at position 2 (at data.amount)`.
  static absl::StatusOr<std::unique_ptr<RecordFilter>> Create(const v1::FilterCriteria& criteria);
  // The same for a mapping on `stream_name`: a table stream's records are matched as DynamoDB
  // records (above), any other stream's as Kinesis records.
  static absl::StatusOr<std::unique_ptr<RecordFilter>> Create(const v1::FilterCriteria& criteria,
                                                              absl::string_view stream_name);

  // Checks one pattern. Errors: INVALID_ARGUMENT, the message without the filter's name: the
  // pattern is over kMaxFilterPatternBytes, not valid JSON, not an object, an object with no
  // field, a field that is neither an object nor a non-empty array, a nested array, or a rule
  // object that is not exactly one of the rules above with a well-formed argument. Errors about
  // a field end with " (at <dotted path>)".
  static absl::Status ValidatePattern(absl::string_view pattern);

  ~RecordFilter();

  // Whether the criteria have no filter (every record matches).
  bool empty() const { return filters_.empty(); }

  // Whether `record` matches at least one filter (always true when empty()).
  bool Matches(const v1::Record& record) const;

  // Implementation types, declared in the .cc.
  struct Condition;
  struct Node;

 private:
  RecordFilter(std::vector<Node> filters, bool dynamodb);

  bool MatchesDynamoDb(const v1::Record& record) const;

  std::vector<Node> filters_;
  bool dynamodb_ = false;  // records are change records of a table stream
  bool needs_data_ = false;  // some filter names "data": the data must be parsed
};

}  // namespace tributary::mapping

#endif  // TRIBUTARY_MAPPING_RECORD_FILTER_H_
