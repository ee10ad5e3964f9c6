// Calling a unary gRPC method the Tributary way: a deadline on every call, and
// the status converted to absl::Status in the one place (common/grpc_status).
//
//   absl::StatusOr<v1::ListShardsResponse> r =
//       CallUnary(stub_.get(), &v1::Streams::Stub::ListShards, request,
//       absl::Seconds(10));
#ifndef TRIBUTARY_COMMON_GRPC_CLIENT_H_
#define TRIBUTARY_COMMON_GRPC_CLIENT_H_

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace tributary {

// Sets `context`'s deadline `timeout` from now (real time: gRPC deadlines are
// wall-clock).
inline void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

// Calls `method` on `stub` with a deadline `timeout` from now. Returns the
// response, or the call's status (transport errors: UNAVAILABLE,
// DEADLINE_EXCEEDED; else the server's status).
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallUnary(Stub* stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  Response response;
  grpc::Status status = (stub->*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_CLIENT_H_
