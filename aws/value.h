// Value: a request or response body of an AWS JSON / CBOR API as a tree, independent of the
// wire format. The codecs (json_codec.h, cbor_codec.h) turn bodies into Values and back; the API
// adapters (kinesis_handler.h) read their input from a Value and build their output as one.
//
// A Value keeps what the wire carried and nothing more: a JSON body has no bytes and no
// timestamps (blobs are base64 strings and timestamps numbers there), a CBOR body has both. Which
// member is a blob or a timestamp is known only to the adapter, which reads the tree through
// InputReader (input_reader.h); that is where "Data is base64 in JSON, raw bytes in CBOR" and
// "timestamps are epoch seconds in JSON, tagged epoch milliseconds in CBOR" are decided.
//
// Values are plain data: copyable, movable, not thread-safe to mutate concurrently.
#ifndef TRIBUTARY_AWS_VALUE_H_
#define TRIBUTARY_AWS_VALUE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tributary::aws {

// How a body is encoded; a reply uses the request's.
enum class Protocol {
  kJson,  // application/x-amz-json-1.1 (and 1.0)
  kCbor,  // application/x-amz-cbor-1.1
};

// The deepest nesting of lists and maps a decoder accepts. AWS shapes nest a few levels; the
// limit keeps a hostile body ("[[[[...") from exhausting the stack of the recursive parts
// (destruction, encoding).
inline constexpr int kMaxValueDepth = 64;

class Value {
 public:
  enum class Type { kNull, kBool, kInteger, kDouble, kString, kBytes, kTimestamp, kList, kMap };
  using Member = std::pair<std::string, Value>;

  Value() = default;  // null
  static Value Bool(bool v);
  static Value Integer(int64_t v);
  static Value Double(double v);
  static Value String(std::string v);  // UTF-8 text
  static Value Bytes(std::string v);   // a blob
  static Value Timestamp(absl::Time v);
  static Value List();
  static Value Map();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }

  // Accessors; each requires the matching type (a CHECK: a programmer error).
  bool bool_value() const;
  int64_t integer_value() const;
  double double_value() const;
  const std::string& string_value() const;  // kString or kBytes
  absl::Time timestamp_value() const;
  const std::vector<Value>& list() const;
  const std::vector<Member>& members() const;

  // A map's member named `name` (the first one when the body repeated it), or nullptr.
  const Value* Find(absl::string_view name) const;

  // Builders. Add appends a member to a map, Append an element to a list; both return the new
  // element so that nested values can be filled in place (the reference is valid until the next
  // Add/Append on the same container):
  //   Value out = Value::Map();
  //   Value& range = out.Add("HashKeyRange", Value::Map());
  //   range.Add("StartingHashKey", Value::String("0"));
  Value& Add(std::string name, Value value);
  Value& Append(Value value);
  void Reserve(size_t n);  // list or map

  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }

  // A JSON-like rendering for test failures and logs (bytes as b"…" hex, timestamps as
  // t"RFC 3339").
  std::string DebugString() const;

 private:
  explicit Value(Type type) : type_(type) {}
  void AppendDebugString(std::string* out) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t integer_ = 0;
  double double_ = 0;
  absl::Time timestamp_;
  std::string string_;
  std::vector<Value> list_;
  std::vector<Member> members_;
};

// For test failures: the DebugString.
inline std::ostream& operator<<(std::ostream& out, const Value& v) {
  return out << v.DebugString();
}

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_VALUE_H_
