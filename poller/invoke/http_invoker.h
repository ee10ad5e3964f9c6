// HttpFunctionInvoker: calls a function whose endpoint is "http://..." or "https://..." the way
// the AWS Lambda Runtime Interface Emulator is called (POST /2015-03-31/functions/function/
// invocations): the body is the Kinesis event Lambda sends (lambda_event.h), the reply Lambda's.
// For a table's change stream (a store stream "_tables.*", tables/stream_ids.h) it is Lambda's
// DynamoDB Streams event instead (dynamodb_event.h), its stream ARN found through `tables`, and
// the reply's item identifiers are DynamoDB sequence numbers; without `tables` such a call is
// FAILED_PRECONDITION, and a failed lookup is the call's status (retried as a failed call).
//
// The request: POST <path> with Content-Type: application/json and Lambda-Runtime-Deadline-Ms
// (the deadline in Unix milliseconds by the clock's wall time, the Runtime API's header, so a
// runtime can answer get_remaining_time_in_millis; the emulator ignores it). Connections are the
// HttpClient's, kept alive and pooled per host.
//
// What a call returns, mapped onto what a gRPC function's call returns so that retries,
// bisection and destinations (BatchProcessor) treat both alike:
//   transport failure                  the client's status: DEADLINE_EXCEEDED (the timeout;
//                                      a function timeout), UNAVAILABLE (refused, reset, closed
//                                      before the reply: a connection error), ...
//   2xx with X-Amz-Function-Error: T   a reply whose function_error is "T", followed by
//                                      ": <errorType>: <errorMessage>" when the body is Lambda's
//                                      error shape (a function error, as Lambda's "Unhandled")
//   any other 2xx                      the decoded body (DecodeLambdaResponse)
//   429                                RESOURCE_EXHAUSTED  (the function's own throttling)
//   502, 503, 504                      UNAVAILABLE         (a proxy could not reach it)
//   any other status                   UNKNOWN             (the call failed)
// A non-2xx status's message is "HTTP <code> from <endpoint>: <the body's first 256 bytes>", and
// the status carries <code> as its kHttpStatusPayload (poller/interfaces.h).
// An endpoint that is not http(s) is INVALID_ARGUMENT.
//
// Thread-safe. `client` and `clock` must outlive the invoker.
#ifndef TRIBUTARY_POLLER_INVOKE_HTTP_INVOKER_H_
#define TRIBUTARY_POLLER_INVOKE_HTTP_INVOKER_H_

#include <string>

#include "common/host_allow_list.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "poller/interfaces.h"
#include "poller/invoke/dynamodb_event.h"
#include "poller/invoke/lambda_event.h"

namespace tributary::poller {

class HttpFunctionInvoker : public FunctionInvoker {
 public:
  // `tables` (may be null) must outlive the invoker.
  HttpFunctionInvoker(HttpClient& client, Clock& clock, LambdaAccount account,
                      TableStreamSources* tables = nullptr)
      : client_(client), clock_(clock), account_(std::move(account)), tables_(tables) {}

  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest& request,
                                            absl::Duration timeout) override;

 private:
  HttpClient& client_;
  Clock& clock_;
  const LambdaAccount account_;
  TableStreamSources* const tables_;
};

// Calls each endpoint by its protocol (mapping/function_endpoint.h): gRPC ("host:port",
// "grpc://host:port") through `grpc` with "host:port", gRPC over TLS ("grpcs://host:port")
// through `grpc` with "grpcs://host:port" (GrpcFunctionInvoker's TLS form), http(s) through
// `http` with the endpoint as given. A malformed endpoint is INVALID_ARGUMENT (the tracker refuses those, so only an old
// configuration could carry one). An endpoint whose host `allow` (--function_endpoint_allow)
// does not allow is PERMISSION_DENIED and nothing is called: the tracker refuses such endpoints
// too, and this is the second line (a mapping written before the flag, a tracker without it).
// Thread-safe; both invokers must outlive it.
class EndpointFunctionInvoker : public FunctionInvoker {
 public:
  EndpointFunctionInvoker(FunctionInvoker& grpc, FunctionInvoker& http,
                          HostAllowList allow = HostAllowList())
      : grpc_(grpc), http_(http), allow_(std::move(allow)) {}

  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest& request,
                                            absl::Duration timeout) override;

 private:
  FunctionInvoker& grpc_;
  FunctionInvoker& http_;
  const HostAllowList allow_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_HTTP_INVOKER_H_
