// AWS's event-stream framing (Content-Type application/vnd.amazon.eventstream): how
// SubscribeToShard (and later DynamoDB Streams-like push APIs) send a sequence of events in one
// response. Each message is
//
//   total length (uint32 BE) | headers length (uint32 BE) | CRC32 of those 8 bytes
//   headers: name length (uint8) | name | type (uint8, 7 = string) | value length (uint16 BE) |
//            value, repeated
//   payload
//   CRC32 of everything before it
//
// with CRC32 the IEEE polynomial (zlib's crc32). Kinesis sends only string-typed headers
// (":message-type", ":event-type", ":exception-type", ":content-type"), so only those are
// written. The SDKs' decoders (botocore.eventstream, the Java SDK's) check both CRCs.
#ifndef TRIBUTARY_AWS_EVENT_STREAM_H_
#define TRIBUTARY_AWS_EVENT_STREAM_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace tributary::aws {

// The largest message the SDKs accept (16 MiB).
inline constexpr size_t kMaxEventStreamMessageBytes = 16 << 20;

// One message with string-valued `headers` (in this order) and `payload`. Preconditions
// (CHECKed: a bug of ours, the values are never a client's): each name 1-255 bytes, each value
// at most 32,767 bytes, the whole message at most kMaxEventStreamMessageBytes.
std::string EncodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& headers, absl::string_view payload);

// An event, as Kinesis frames them: ":message-type" "event", ":event-type" `event_type` (e.g.
// "initial-response", "SubscribeToShardEvent"), ":content-type" `content_type` when not empty.
std::string EventStreamEvent(absl::string_view event_type, absl::string_view content_type,
                             absl::string_view payload);

// An error ending the stream: ":message-type" "exception", ":exception-type" `exception_type`
// (an AWS error code such as "ResourceNotFoundException"), ":content-type" `content_type`, and
// the error's body as the payload.
std::string EventStreamException(absl::string_view exception_type, absl::string_view content_type,
                                 absl::string_view payload);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_EVENT_STREAM_H_
