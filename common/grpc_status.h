// The one mapping between absl::Status and grpc::Status. Codes map one to one
// (the numeric values are the same canonical codes); messages are kept.
#ifndef TRIBUTARY_COMMON_GRPC_STATUS_H_
#define TRIBUTARY_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace tributary {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_STATUS_H_
