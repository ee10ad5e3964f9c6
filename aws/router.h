// AwsRouter: the AWS front door's one HttpHandler. It routes each request to the API that
// serves it and speaks the parts of the AWS protocols every API shares:
//
//   POST /  with  X-Amz-Target: <prefix>.<Operation>   (AWS JSON 1.0/1.1 and CBOR RPC APIs)
//     Kinesis_20131202 now; DynamoDB_20120810 and DynamoDBStreams_20120810 join by
//     registering an AwsApi with their prefix.
//   any method on a path under a RestApi's prefixes (REST-JSON APIs, rest_api.h): Lambda's
//     /2015-03-31/, /2017-10-31/, /2019-09-30/. Routed before the RPC checks below; the router
//     checks the signature (for the API's signing name) and the API does the rest. Its
//     authentication errors are 403, as AWS's REST front ends answer them, in the API's error
//     format; a body over the limit and admission control answer the API's errors for them.
//   Content-Type: application/x-amz-json-1.1 or -1.0 (JSON; application/json is taken as JSON
//     too), application/x-amz-cbor-1.1 (CBOR). The reply has the request's content type.
//   Authorization: SigV4 (sigv4.h); X-Amz-Date (or Date) required. Checked for form only, or,
//     with a SigV4Verifier (--aws_credentials_file), verified (sigv4_verifier.h).
//
// Errors (each an AwsError reply in the request's encoding, see aws_error.h):
//   no X-Amz-Target, an unknown prefix or operation  → 400 UnknownOperationException
//   a method other than POST                         → 400 UnknownOperationException
//   no Authorization header                          → 400 MissingAuthenticationTokenException
//   a malformed Authorization, no X-Amz-Date/Date    → 400 IncompleteSignatureException
//   with a verifier: an unknown access key id         → 400 UnrecognizedClientException
//                    a wrong signature, scope or date → 400 InvalidSignatureException
//   an unsupported Content-Type, a body that is not
//   valid JSON/CBOR or not a structure               → 400 SerializationException
//   a body over the HTTP server's limit              → 413 InvalidArgumentException
//   refused by admission control (the server busy)   → 400, the API's ThrottlingError
//                                                       (botocore retries it with backoff)
//   with an AwsAuthz (--policy_file): the verified principal not allowed the call's action on
//   a resource it names                              → 400 AccessDeniedException (REST: 403),
//                                                       naming the action and the resource
//   what the API returns                             → its AwsError
// Authorization happens here and nowhere else: after the signature is accepted and the body is
// read, before the API runs (aws_authz.h says what a call is checked as); denials and
// control-plane calls are audited.
// Every reply carries x-amzn-RequestId; errors also x-amzn-ErrorType. InternalFailure replies
// of RPC APIs are logged (once, here; a RestApi logs its own).
//
// Thread-safe once the APIs are added (AddApi before serving).
#ifndef TRIBUTARY_AWS_ROUTER_H_
#define TRIBUTARY_AWS_ROUTER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "aws/aws_authz.h"
#include "aws/aws_error.h"
#include "aws/http_message.h"
#include "aws/rest_api.h"
#include "aws/sigv4.h"
#include "aws/sigv4_verifier.h"
#include "aws/value.h"

namespace tributary::aws {

// The result of one AWS operation: its output (a map) or an error.
class AwsOutcome {
 public:
  AwsOutcome(Value output) : output_(std::move(output)) {}  // NOLINT: implicit by design
  AwsOutcome(AwsError error) : error_(std::move(error)) {}  // NOLINT
  // A response streamed as an AWS event stream (application/vnd.amazon.eventstream):
  // SubscribeToShard.
  static AwsOutcome EventStream(std::shared_ptr<ResponseStream> stream) {
    AwsOutcome outcome{Value()};
    outcome.stream_ = std::move(stream);
    return outcome;
  }
  bool ok() const { return !error_.has_value(); }
  const Value& output() const { return output_; }
  const AwsError& error() const { return *error_; }
  const std::shared_ptr<ResponseStream>& stream() const { return stream_; }

 private:
  Value output_;
  std::optional<AwsError> error_;
  std::shared_ptr<ResponseStream> stream_;
};

// One request to an AwsApi.
struct AwsCall {
  absl::string_view operation;  // "PutRecords"
  const Value& input;           // the decoded body (a map)
  Protocol protocol;            // how the body was encoded (blobs and timestamps differ)
  const SigV4Authorization& authorization;
  // Who signed it: the credentials file's profile name when signatures are verified, else "".
  absl::string_view principal;
};

// One AWS JSON/CBOR RPC API behind the front door (an adapter over one of our libraries).
class AwsApi {
 public:
  virtual ~AwsApi() = default;
  // The X-Amz-Target prefix this API serves, e.g. "Kinesis_20131202".
  virtual absl::string_view target_prefix() const = 0;
  // The service name its requests are signed for (the credential scope's), e.g. "kinesis".
  virtual absl::string_view signing_name() const = 0;
  // The error code of `operation` refused because the server is busy (admission control), as
  // the service throttles it: e.g. Kinesis's ProvisionedThroughputExceededException for its
  // data calls. Default: LimitExceededException.
  virtual const char* ThrottlingError(absl::string_view operation) const;
  // Whether every reply of this API (errors included) carries x-amz-crc32: the CRC-32 (zlib's)
  // of the body in decimal, as DynamoDB sends it (botocore checks it when present). Default no.
  virtual bool SendsCrc32() const { return false; }
  // Serves one call. An operation the API does not know is an UnknownOperationException.
  // Thread-safe; may block.
  virtual AwsOutcome Call(const AwsCall& call) = 0;
};

class AwsRouter : public HttpHandler {
 public:
  // Without a verifier any well-formed signature is accepted; without `authz` every accepted
  // call is allowed and nothing is audited. Each, when given, must outlive the router.
  explicit AwsRouter(const SigV4Verifier* verifier = nullptr, AwsAuthz* authz = nullptr)
      : verifier_(verifier), authz_(authz) {}

  // Serves `api`'s target prefix. `api` must outlive the router. Precondition (CHECKed): no API
  // with the same prefix was added.
  void AddApi(AwsApi* api);
  // Serves `api`'s path prefixes. `api` must outlive the router. Precondition (CHECKed): no
  // REST API with the same prefix was added.
  void AddRestApi(RestApi* api);

  HttpResponse Handle(HttpRequest request) override;
  HttpResponse BodyTooLarge(const HttpRequest& request, uint64_t limit) override;
  HttpResponse Overloaded(const HttpRequest& request, int pending_requests,
                          uint64_t pending_bytes) override;

 private:
  // The REST API whose prefixes `target`'s path falls under, or nullptr.
  RestApi* RestApiFor(absl::string_view target) const;
  HttpResponse HandleRest(RestApi& api, const HttpRequest& request);
  // Checks the request's signature for `signing_name`: its form, and with a verifier its
  // validity. Returns who signed it (see AwsCall::principal), or an error made by ToStatus
  // whose HTTP status is `error_status`.
  absl::StatusOr<std::string> Authenticate(const HttpRequest& request,
                                           absl::string_view signing_name, int error_status) const;

  const SigV4Verifier* const verifier_;
  AwsAuthz* const authz_;
  std::map<std::string, AwsApi*, std::less<>> apis_;
  std::map<std::string, RestApi*, std::less<>> rest_apis_;  // by path prefix
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_ROUTER_H_
