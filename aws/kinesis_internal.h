// What the Kinesis adapter's files share (internal to :kinesis_handler): the input of one call,
// the call's context, naming a stream by StreamName / StreamARN, the operation table's row type
// and the rows of the status table. kinesis_handler.cc defines these and serves the stream and
// record operations; kinesis_metadata_ops.cc serves tags and registered consumers.
//
// Thread-safety: an Input belongs to one call; the functions are thread-safe.
#ifndef TRIBUTARY_AWS_KINESIS_INTERNAL_H_
#define TRIBUTARY_AWS_KINESIS_INTERNAL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/aws_error.h"
#include "aws/input_reader.h"
#include "aws/kinesis_handler.h"
#include "aws/router.h"
#include "aws/value.h"
#include "google/protobuf/timestamp.pb.h"
#include "shard_store/shard_store.h"

namespace tributary::aws::kinesis_internal {

// The model's patterns (for ValidationException messages).
inline constexpr absl::string_view kNamePattern = "[a-zA-Z0-9_.-]+";
inline constexpr absl::string_view kStreamArnPattern = "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+";

// The input of one call: the reader and the errors it found.
struct Input {
  explicit Input(const AwsCall& call) : errors(call.protocol), reader(call.input, &errors) {}
  // The SerializationException / ValidationException found so far, as a status.
  absl::Status Check() const {
    if (std::optional<AwsError> e = errors.Error()) return ToStatus(*e);
    return absl::OkStatus();
  }
  InputErrors errors;
  InputReader reader;
};

struct Context {
  shard_store::ShardStore& store;
  const KinesisApiOptions& options;
  const KinesisApi& api;
};

// A stream named by StreamName and/or StreamARN, as the request gave them.
struct StreamRef {
  std::optional<std::string> name;
  std::optional<std::string> arn;
};

// The parts of an ARN that matches kStreamArnPattern: "arn:aws…:kinesis:<region>:<account>:
// stream/<name>" (`name` is everything after "stream/").
struct StreamArnParts {
  std::string region;
  std::string account;
  std::string name;
};
std::optional<StreamArnParts> SplitStreamArn(absl::string_view arn);
bool MatchesStreamArn(absl::string_view arn);

// Checks a member that holds a name (1-128 of kNamePattern).
void CheckName(InputReader& in, absl::string_view member, const std::optional<std::string>& v);
// Reads and checks StreamName and StreamARN.
StreamRef ReadStreamRef(InputReader& in);
// Reads and checks StreamARN alone (operations that name the stream only by ARN).
std::optional<std::string> ReadStreamArn(InputReader& in, absl::string_view member = "StreamARN");
// Errors: NOT_FOUND when the ARN's region or account is not this endpoint's.
absl::Status CheckHere(const Context& c, const StreamArnParts& arn);
// The stream name `ref` designates. Errors: NOT_FOUND for an ARN of another region or account;
// INVALID_ARGUMENT when neither is given (unless !required: then "") or they disagree.
absl::StatusOr<std::string> Resolve(const Context& c, const StreamRef& ref, bool required = true);

Value Time(const google::protobuf::Timestamp& t);
const char* StatusName(v1::StreamStatus status);

// --- The operation table ---------------------------------------------------------------

using OperationFn = absl::StatusOr<Value> (*)(const Context&, Input&);

struct Operation {
  absl::string_view name;
  OperationFn fn;
  StatusMapping errors;  // what the store's codes mean for this operation
};

// Rows of the status table (kinesis_handler.cc has them all and says why).
StatusMapping ControlPlane();
StatusMapping Listings();

// Tags and registered consumers (kinesis_metadata_ops.cc).
const std::vector<Operation>& MetadataOperations();

// SubscribeToShard's ConsumerARN: its length and form, as violations recorded in `r`.
void CheckConsumerArn(InputReader& r, const std::optional<std::string>& consumer_arn);
// The stream of the consumer `consumer_arn` names, checking that it is this endpoint's and names
// the consumer's current registration. Errors: INVALID_ARGUMENT (malformed), NOT_FOUND (another
// region or account, no such stream or consumer, an ARN of an earlier registration).
absl::StatusOr<std::string> RegisteredConsumerStream(const Context& c,
                                                     const std::string& consumer_arn);

}  // namespace tributary::aws::kinesis_internal

#endif  // TRIBUTARY_AWS_KINESIS_INTERNAL_H_
