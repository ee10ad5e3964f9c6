// AwsAuthz: the authorization and audit of the AWS front door (--policy_file, --audit_log on
// the AWS port), asked by the router (router.h) and nowhere else — the API adapters and the
// libraries never check permissions. The policy file and its rules are the gRPC side's
// (common/authz_policy.h, common/grpc_authorizer.h); the principal is the SigV4-verified
// profile of --aws_credentials_file (empty when signatures are not verified: only the principal
// pattern "*" matches it).
//
// What a call is checked as (TargetOf): the action is "<signing name>:<operation>"
// (kinesis:PutRecords, dynamodb:PutItem, dynamodb:GetRecords for DynamoDB Streams,
// lambda:CreateEventSourceMapping); the resources are the ARNs the request names, in the
// configured region and account:
//   Kinesis     StreamName → arn:aws:kinesis:R:A:stream/NAME; StreamARN and ConsumerARN as given;
//               GetRecords → the stream its (MAC-signed) ShardIterator reads
//   DynamoDB    TableName → arn:aws:dynamodb:R:A:table/NAME (an ARN as given); BatchGetItem /
//               BatchWriteItem: every table of RequestItems; TransactGetItems /
//               TransactWriteItems: every table their items name
//   Streams     StreamArn as given (…:table/NAME/stream/LABEL); ListStreams' TableName → the
//               table's ARN; GetRecords → the table stream its ShardIterator reads
//   Lambda      UUID → arn:aws:lambda:R:A:event-source-mapping:UUID; FunctionName →
//               arn:aws:lambda:R:A:function:NAME (an ARN as given); CreateEventSourceMapping →
//               its EventSourceArn (the stream, as tributary.v1's is)
// A request naming none (ListStreams, ListTables, ListFunctions, ...) acts on "*". A call is
// allowed when every resource it names is. A shard iterator that does not decode (malformed,
// forged, expired, its stream deleted) names no resource and the call is not refused here: the
// API refuses it for the same reason, before reading anything.
//
//   TargetOf("kinesis", "PutRecords", {StreamName: "orders"})
//       → kinesis:PutRecords on arn:aws:kinesis:us-east-1:000000000000:stream/orders
//   denied → AccessDeniedException "User: alice is not authorized to perform:
//            kinesis:PutRecords on resource: arn:aws:kinesis:us-east-1:000000000000:stream/orders"
//
// Audit: one line per denied call, and per control-plane call (stream, shard, table, mapping
// and concurrency changes) whatever its outcome.
//
// Thread-safe.
#ifndef TRIBUTARY_AWS_AWS_AUTHZ_H_
#define TRIBUTARY_AWS_AWS_AUTHZ_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/aws_error.h"
#include "aws/value.h"
#include "common/audit_log.h"
#include "common/aws_arn.h"
#include "common/clock.h"
#include "common/grpc_authorizer.h"

namespace tributary::aws {

// What one call is checked as.
struct AwsAuthzTarget {
  std::string action;                  // "kinesis:PutRecords"
  std::vector<std::string> resources;  // never empty: {"*"} when the call names none
  bool control_plane = false;          // audited whatever its outcome
  // The call names its resource only in a shard iterator that does not decode (malformed,
  // forged, expired, its stream deleted): nothing to check here, the API refuses the call for
  // that same reason before reading anything.
  bool unresolved_iterator = false;
};

struct AwsAuthzOptions {
  std::string policy_file;  // empty: every call is allowed
  std::string audit_log;    // empty: none; "-": standard output
  AwsAccount account;       // the ARNs' region and account
  absl::Duration policy_check_interval = absl::Seconds(5);
  // The store stream a shard_store shard iterator reads (ShardStore::StreamOfIterator); unset:
  // GetRecords acts on "*".
  std::function<absl::StatusOr<std::string>(absl::string_view)> stream_of_iterator;
  // The DynamoDB stream ARN of a store stream holding a table stream, nullopt for any other
  // (DynamoDbStreamsApi::ArnOfStream); unset: DynamoDB Streams' GetRecords acts on "*".
  std::function<std::optional<std::string>(absl::string_view)> table_stream_arn;
};

class AwsAuthz {
 public:
  // Errors: Authorizer::Create's (NOT_FOUND, INVALID_ARGUMENT for the policy file) and
  // AuditLog::Open's. `clock` must outlive the object.
  static absl::StatusOr<std::unique_ptr<AwsAuthz>> Create(AwsAuthzOptions options, Clock& clock);

  // The action and resources of `operation` of the API signed for as `signing_name` ("kinesis",
  // "dynamodb", "lambda"), whose JSON/CBOR RPC target prefix is `target_prefix` ("" for a REST
  // API), with `input` (the decoded body; for a REST API the path parameters, body members and
  // query parameters). Pure but for the iterator lookups.
  AwsAuthzTarget TargetOf(absl::string_view signing_name, absl::string_view target_prefix,
                          absl::string_view operation, const Value& input) const;

  // nullopt when `principal` may perform `target` (or there is no policy, or the target's
  // iterator is unresolved); else the
  // AccessDeniedException (with `http_status`: 400 for the RPC APIs, 403 for Lambda's) naming
  // the action and the first resource refused, and the denial is audited.
  std::optional<AwsError> Check(absl::string_view principal, const AwsAuthzTarget& target,
                                int http_status);

  // Audits a control-plane call's outcome (a no-op for other calls and without an audit log).
  // `error` is the call's error, or null when it succeeded.
  void AuditOutcome(absl::string_view principal, const AwsAuthzTarget& target,
                    const AwsError* error);

  // Re-reads the policy file now (SIGHUP). Errors: Authorizer::Reload's; OK without one.
  absl::Status ReloadPolicy();

  const AwsAccount& account() const { return options_.account; }

 private:
  AwsAuthz(AwsAuthzOptions options, std::unique_ptr<Authorizer> authorizer,
           std::unique_ptr<AuditLog> audit_log, Clock& clock)
      : options_(std::move(options)),
        authorizer_(std::move(authorizer)),
        audit_log_(std::move(audit_log)),
        clock_(clock) {}
  void Audit(absl::string_view principal, absl::string_view action, absl::string_view resource,
             absl::StatusCode outcome);

  const AwsAuthzOptions options_;
  const std::unique_ptr<Authorizer> authorizer_;  // null: no policy
  const std::unique_ptr<AuditLog> audit_log_;     // null: no audit log
  Clock& clock_;
};

// The status code an audit line reports for an AWS error (AccessDeniedException →
// PERMISSION_DENIED, ResourceNotFoundException → NOT_FOUND, throttling → RESOURCE_EXHAUSTED,
// other 4xx → INVALID_ARGUMENT or FAILED_PRECONDITION, 503 → UNAVAILABLE, 5xx → INTERNAL).
absl::StatusCode AuditCodeOf(const AwsError& error);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_AWS_AUTHZ_H_
