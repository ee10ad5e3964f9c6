// InputReader: reads an operation's input members from a decoded body (a Value) with the checks
// AWS's front end makes before an operation runs, and reports what fails the way AWS does:
//
//  - a member whose wire type cannot be the shape's (a string where a number belongs, a JSON
//    blob that is not base64) is a SerializationException: the body cannot be read as the
//    operation's input. The first one is reported.
//  - constraint violations of the API model (required members, lengths, ranges, patterns,
//    enums) are collected and reported together as one ValidationException, worded like AWS:
//      2 validation errors detected: Value null at 'streamName' failed to satisfy constraint:
//      Member must not be null; Value '0' at 'shardCount' failed to satisfy constraint: Member
//      must have value greater than or equal to 1
//    Paths are lowerCamelCase; list elements are numbered from 1 ("records.2.member.data").
//
// The wire forms decided here (the protocol is the request's):
//   blob       JSON: a base64 string; CBOR: a byte string
//   timestamp  JSON: epoch seconds, integer or fraction; CBOR: tag 1 + epoch milliseconds (an
//              untagged CBOR number is read as milliseconds too)
//   integer    an integer; a number with a fraction is truncated toward zero (as AWS's Jackson
//              front end does); out-of-int64 values are clamped (and then fail their range)
//   null       the same as absent
// Unknown members are ignored, as AWS ignores them.
//
// Usage, for one operation:
//   InputErrors errors(protocol);
//   InputReader in(body, &errors);
//   std::optional<std::string> name = in.String("StreamName");
//   in.Length("StreamName", name, 1, 128);
//   if (std::optional<AwsError> e = errors.Error()) return *e;
//
// Not thread-safe; a reader borrows the Value and the InputErrors, which must outlive it.
#ifndef TRIBUTARY_AWS_INPUT_READER_H_
#define TRIBUTARY_AWS_INPUT_READER_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/aws_error.h"
#include "aws/value.h"

namespace tributary::aws {

// The errors found while reading one request.
class InputErrors {
 public:
  explicit InputErrors(Protocol protocol) : protocol_(protocol) {}
  Protocol protocol() const { return protocol_; }

  void Serialization(std::string message);
  void Violation(std::string message);

  // The error to reply, if any: the SerializationException if there was one, else a
  // ValidationException listing the first 10 violations (the count covers them all).
  std::optional<AwsError> Error() const;

 private:
  Protocol protocol_;
  std::optional<std::string> serialization_;
  std::vector<std::string> violations_;
};

class InputReader {
 public:
  // Reads the members of `map`; anything but a map is a SerializationException. `path` is the
  // map's own path in messages ("" for the input itself).
  InputReader(const Value& map, InputErrors* errors, std::string path = "");

  // Typed members: nullopt when absent or null, and when of the wrong type (then a
  // SerializationException is recorded).
  std::optional<std::string> String(absl::string_view name);
  std::optional<int64_t> Integer(absl::string_view name);
  std::optional<bool> Boolean(absl::string_view name);
  std::optional<std::string> Blob(absl::string_view name);
  std::optional<absl::Time> Timestamp(absl::string_view name);
  // A nested structure, as a reader of its own (nullopt when absent).
  std::optional<InputReader> Structure(absl::string_view name);
  // A list's elements (nullptr when absent).
  const std::vector<Value>* List(absl::string_view name);
  // A reader of element `index` (0-based) of list `name`, for lists of structures.
  InputReader Element(absl::string_view list_name, size_t index, const Value& element);
  // A map of strings to strings (Kinesis's TagMap), entries in key order; a key the body
  // repeats keeps its last value. A value that is not a string is a SerializationException.
  using StringPairs = std::vector<std::pair<std::string, std::string>>;
  std::optional<StringPairs> StringMap(absl::string_view name);
  // A list of strings; an element that is not a string is a SerializationException.
  std::optional<std::vector<std::string>> StringList(absl::string_view name);

  // Constraint checks: each records a violation and returns false when `value` is present and
  // breaks the rule (Required: when it is absent).
  bool Required(absl::string_view name, bool present);
  // Length in characters (Unicode code points) for strings, in bytes for blobs.
  bool Length(absl::string_view name, const std::optional<std::string>& value, size_t min,
              size_t max);
  bool BlobLength(absl::string_view name, const std::optional<std::string>& value, size_t min,
                  size_t max);
  bool ListLength(absl::string_view name, const std::vector<Value>* value, size_t min, size_t max);
  bool ListLength(absl::string_view name, const std::optional<std::vector<std::string>>& value,
                  size_t min, size_t max);
  bool MapLength(absl::string_view name, const std::optional<StringPairs>& value, size_t min,
                 size_t max);
  // Lengths of every key and every value of a map ("Map keys must satisfy constraint: [...]"),
  // and of every element of a list of strings ("Member must satisfy constraint: [...]").
  bool MapEntryLengths(absl::string_view name, const std::optional<StringPairs>& value,
                       size_t key_min, size_t key_max, size_t value_min, size_t value_max);
  bool ElementLengths(absl::string_view name, const std::optional<std::vector<std::string>>& value,
                      size_t min, size_t max);
  bool Range(absl::string_view name, const std::optional<int64_t>& value, int64_t min, int64_t max);
  // `pattern` is the model's regular expression, for the message; `matches` decides.
  bool Pattern(absl::string_view name, const std::optional<std::string>& value,
               absl::string_view pattern, const std::function<bool(absl::string_view)>& matches);
  bool Enum(absl::string_view name, const std::optional<std::string>& value,
            std::initializer_list<absl::string_view> allowed);

  InputErrors* errors() { return errors_; }

 private:
  const Value* Member(absl::string_view name);
  std::string PathOf(absl::string_view name) const;
  void TypeError(absl::string_view name, absl::string_view expected, const Value& found);
  void Violation(absl::string_view name, const std::string& rendered_value, absl::string_view rule);

  const Value* map_;
  InputErrors* errors_;
  std::string path_;
};

// Patterns of the Kinesis model, as predicates.
bool MatchesName(absl::string_view s);            // [a-zA-Z0-9_.-]+
bool MatchesHashKey(absl::string_view s);         // 0|([1-9]\d{0,38})
bool MatchesSequenceNumber(absl::string_view s);  // 0|([1-9]\d{0,128})

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_INPUT_READER_H_
