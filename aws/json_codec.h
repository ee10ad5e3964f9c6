// The AWS JSON protocol's bodies (application/x-amz-json-1.0 / 1.1) ↔ Value, with RapidJSON.
//
// Parsing follows RFC 8259 strictly (RapidJSON's iterative SAX reader with UTF-8 validation):
// "\uXXXX" escapes, surrogate pairs included, become UTF-8, so a partition key escaped by
// botocore is hashed on the same bytes as one sent raw. Numbers that fit an int64 become
// kInteger, others kDouble. Writing turns kBytes into standard base64 (with padding) and
// kTimestamp into epoch seconds with a fraction (1700000000.123), as AWS replies.
//
// Thread-safe (no state).
#ifndef TRIBUTARY_AWS_JSON_CODEC_H_
#define TRIBUTARY_AWS_JSON_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/value.h"

namespace tributary::aws {

// Parses one JSON value (the whole of `body`; only whitespace may follow it). Errors:
// INVALID_ARGUMENT saying what is wrong and at which byte offset: malformed JSON, invalid UTF-8,
// a lone surrogate, a NUL byte, nesting deeper than kMaxValueDepth, an empty body. (A string,
// not a string_view: the parser reads the terminating NUL a std::string guarantees.)
absl::StatusOr<Value> ParseJson(const std::string& body);

// Serializes `value` as compact JSON (UTF-8, non-ASCII characters unescaped).
std::string WriteJson(const Value& value);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_JSON_CODEC_H_
