#include "examples/cpp/example_function_service.h"

#include "common/grpc_status.h"
#include "glog/logging.h"

namespace tributary::examples {

grpc::Status ExampleFunctionService::Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                                            v1::InvokeResponse* response) {
  absl::StatusOr<v1::InvokeResponse> result = function_->Invoke(*request);
  const std::string batch = ExampleFunction::DescribeBatch(*request);
  if (!result.ok()) {
    LOG(INFO) << batch << " -> status " << result.status();
    return ToGrpcStatus(result.status());
  }
  if (!result->function_error().empty()) {
    LOG(INFO) << batch << " -> function_error: " << result->function_error();
  } else if (result->batch_item_failures_size() > 0) {
    LOG(INFO) << batch << " -> " << result->batch_item_failures_size()
              << " batch item failure(s), first "
              << result->batch_item_failures(0).item_identifier();
  } else {
    LOG(INFO) << batch << " -> ok";
  }
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace tributary::examples
