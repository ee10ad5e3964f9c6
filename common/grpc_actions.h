// The authorization names of Tributary's gRPC methods: for every method of every tributary.v1
// service, the AWS-style action a policy (authz_policy.h) names it by and how the resource it
// acts on is read from its request. The one table; //common:grpc_actions_test checks that every
// method in the protos' service descriptors has an entry, so a new RPC cannot be served unmapped.
//
//   /tributary.v1.Streams/PutRecords {stream_name: "orders"}
//       → kinesis:PutRecords on arn:aws:kinesis:us-east-1:000000000000:stream/orders
//   /tributary.v1.EventSourceMappings/DeleteEventSourceMapping {uuid: "u-1"}
//       → lambda:DeleteEventSourceMapping on
//         arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u-1
//   /tributary.v1.Streams/ListStreams {} → kinesis:ListStreams on *
//   /tributary.v1.Tables/PutItem {table_name: "users"}
//       → dynamodb:PutItem on arn:aws:dynamodb:us-east-1:000000000000:table/users
//
// A request that names no resource (a list, a poller's heartbeat, an empty filter) acts on "*".
// GetRecords names its stream only inside the opaque shard iterator, so its resource is "*":
// scope reads with GetShardIterator (see NOTES.md, Security).
//
// Pure functions over a constant table; thread-safe.
#ifndef TRIBUTARY_COMMON_GRPC_ACTIONS_H_
#define TRIBUTARY_COMMON_GRPC_ACTIONS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/aws_arn.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "google/protobuf/message.h"

namespace tributary {

// What kind of ARN a request field names.
enum class ResourceKind { kNone, kStream, kFunction, kMapping, kTable };

struct RpcAction {
  absl::string_view method;  // gRPC path: "/tributary.v1.Streams/PutRecords"
  absl::string_view action;  // "kinesis:PutRecords"
  // Whether the call changes configuration or committed progress (streams, shards, mappings,
  // functions, leases' checkpoints): such calls are audited even when they succeed.
  bool control_plane;
  ResourceKind kind;         // kNone: the resource is always "*"
  absl::string_view field;   // the request's string field naming it
};

// Every entry of the table.
absl::Span<const RpcAction> AllRpcActions();

// The entry of `method` (a gRPC path), or null for a method the table does not hold.
const RpcAction* FindRpcAction(absl::string_view method);

// The ARN `request` acts on as `action` says, or "*" when the field is absent or empty. A
// function or stream field that already holds an ARN ("arn:...") is taken as it is.
std::string RpcResource(const RpcAction& action, const google::protobuf::Message& request,
                        const AwsAccount& account);

// For a request still in its wire form (a raw method's bytes): sets in `out`, a fresh message of
// the request's type, the one field RpcResource reads for `action`, found among the top-level
// fields of `wire` (the last occurrence wins, as in a parse); every other field is skipped by its
// length, not parsed. A PutRecords of 500 records is thereby read in a few microseconds instead
// of a full parse's hundred (BENCHMARKS.md Run 30). Nothing is read for an action without a
// resource field. Returns false, with `out` untouched, when the top level of `wire` is not
// well formed, the field's value is not valid UTF-8, or the field is not a singular string of
// `out`'s type: the caller then parses in full (and a request that does not parse is refused
// as any other).
bool ReadResourceField(const RpcAction& action, google::protobuf::io::ZeroCopyInputStream* wire,
                       google::protobuf::Message* out);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_ACTIONS_H_
