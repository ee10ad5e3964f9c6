// The AWS CBOR protocol's bodies (application/x-amz-cbor-1.1, RFC 7049) ↔ Value, with libcbor.
//
// What AWS's SDKs put on this wire (the Java SDK v2, and so the KCL and Flink, use it by
// default for Kinesis): a map per structure with text-string keys, blobs as byte strings,
// strings as text strings, timestamps as tag 1 followed by epoch MILLISECONDS (the SDKs' choice,
// not RFC 7049's seconds), definite or indefinite lengths (Jackson writes maps indefinite).
//
// Parsing accepts both length forms for maps, lists, text and byte strings (chunked strings are
// joined), all integer widths, half/single/double floats, and tag 1 on an integer or a float
// (a kTimestamp, read as epoch milliseconds). Other tags are ignored (their item is kept).
// Writing uses definite lengths and shortest integer heads; kTimestamp becomes tag 1 + integer
// milliseconds, kDouble a double.
//
// Thread-safe (no state).
#ifndef TRIBUTARY_AWS_CBOR_CODEC_H_
#define TRIBUTARY_AWS_CBOR_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/value.h"

namespace tributary::aws {

// Parses one CBOR data item that is the whole of `body`. Errors: INVALID_ARGUMENT saying what is
// wrong and at which byte offset: malformed or truncated CBOR, trailing bytes, a map key that is
// not a text string, invalid UTF-8 in a text string, tag 1 on something other than a number,
// undefined or unsupported simple values, nesting deeper than kMaxValueDepth, an empty body.
absl::StatusOr<Value> ParseCbor(absl::string_view body);

// Serializes `value`.
std::string WriteCbor(const Value& value);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_CBOR_CODEC_H_
