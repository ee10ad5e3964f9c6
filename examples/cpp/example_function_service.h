// The gRPC face of ExampleFunction: tributary.v1.Function/Invoke. Logs each
// batch (shard, count, first/last sequence number, outcome) at INFO.
// Thread-safe; `function` must outlive the service.
#ifndef TRIBUTARY_EXAMPLES_CPP_EXAMPLE_FUNCTION_SERVICE_H_
#define TRIBUTARY_EXAMPLES_CPP_EXAMPLE_FUNCTION_SERVICE_H_

#include "examples/cpp/example_function.h"
#include "grpcpp/grpcpp.h"
#include "proto/function.grpc.pb.h"

namespace tributary::examples {

class ExampleFunctionService final : public v1::Function::Service {
 public:
  explicit ExampleFunctionService(ExampleFunction* function) : function_(function) {}

  grpc::Status Invoke(grpc::ServerContext* context, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override;

 private:
  ExampleFunction* function_;
};

}  // namespace tributary::examples

#endif  // TRIBUTARY_EXAMPLES_CPP_EXAMPLE_FUNCTION_SERVICE_H_
