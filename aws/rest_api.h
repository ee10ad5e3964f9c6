// RestApi: an AWS API of the REST-JSON protocol behind the front door (Lambda's), where the
// operation is the method and the path, and RestTarget, a request target taken apart.
//
// The router (router.h) sends every request whose path starts with one of an API's
// path_prefixes() to it, after the checks every AWS API shares (SigV4's form, or its
// verification against the API's signing name); the API does the rest — routing by method and
// path, reading path, query and JSON body, replying with the status its model documents.
//
//   GET /2015-03-31/event-source-mappings/?FunctionName=f&MaxItems=2
//     → RestTarget{segments: {"2015-03-31", "event-source-mappings"},
//                  query: {{"FunctionName", "f"}, {"MaxItems", "2"}}}
#ifndef TRIBUTARY_AWS_REST_API_H_
#define TRIBUTARY_AWS_REST_API_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/aws_error.h"
#include "aws/http_message.h"
#include "aws/value.h"

namespace tributary::aws {

// A request target's path and query, percent-decoded.
struct RestTarget {
  // The path's segments between '/'s, each decoded on its own (so "%2F" is part of a segment,
  // not a separator). Empty segments are dropped: "/a//b/" and "/a/b" are {"a", "b"}.
  std::vector<std::string> segments;
  // The query's parameters in order; "k" without '=' has the value "". '+' is taken literally
  // (SDKs encode a space as %20).
  std::vector<std::pair<std::string, std::string>> query;

  // The value of the first parameter named `name` (case-sensitive, as AWS's are), or nullptr.
  const std::string* Query(absl::string_view name) const;
};

// Takes `target` ("/path?query") apart. Errors: INVALID_ARGUMENT for a '%' not followed by two
// hex digits, or a target that does not start with '/'. Pure.
absl::StatusOr<RestTarget> ParseRestTarget(absl::string_view target);

// The path of a request target: everything before the first '?'.
absl::string_view TargetPath(absl::string_view target);

// The operation a REST request calls and its input, for the router's authorization
// (aws_authz.h).
struct RestOperation {
  std::string name;  // "CreateEventSourceMapping"
  // The path parameters, then the body's members, then the query's parameters (a map).
  Value input;
};

class RestApi {
 public:
  virtual ~RestApi() = default;

  // The path prefixes this API serves; each starts and ends with '/' ("/2015-03-31/"). A
  // request is routed here when its path starts with one, or equals one without its last '/'.
  virtual std::vector<std::string> path_prefixes() const = 0;
  // The service name its requests are signed for (the credential scope's), e.g. "lambda".
  virtual absl::string_view signing_name() const = 0;

  // Serves one request whose signature the router accepted; `principal` is who signed it (the
  // credentials file's profile when signatures are verified, else ""). The router adds
  // x-amzn-RequestId. Thread-safe; may block.
  virtual HttpResponse Handle(const HttpRequest& request, absl::string_view principal) = 0;

  // The operation `request` calls and its input, for the router to authorize before Handle;
  // nullopt when it names no operation this API serves or its body cannot be read (Handle then
  // answers the error). Thread-safe. Default: nullopt (the call acts on "*").
  virtual std::optional<RestOperation> OperationOf(const HttpRequest& /*request*/) const {
    return std::nullopt;
  }

  // The response that carries `error` in this API's error format (status, x-amzn-ErrorType,
  // body): for the errors the router finds itself (a missing or bad signature) and those below.
  virtual HttpResponse ErrorResponse(const AwsError& error) const = 0;
  // The error of a request refused because the server is busy (admission control), as the
  // service throttles (Lambda: TooManyRequestsException, 429). `message` says why.
  virtual AwsError Throttled(std::string message) const = 0;
  // The error of a request whose body exceeds the server's limit (Lambda:
  // RequestTooLargeException, 413).
  virtual AwsError BodyTooLarge(std::string message) const = 0;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_REST_API_H_
