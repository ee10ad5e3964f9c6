#include "poller/grpc_adapters.h"

#include <memory>

#include "common/grpc_client.h"
#include "common/grpc_server.h"

namespace tributary::poller {

absl::StatusOr<v1::InvokeResponse> GrpcFunctionInvoker::Invoke(const std::string& endpoint,
                                                               const v1::InvokeRequest& request,
                                                               absl::Duration timeout) {
  std::shared_ptr<v1::Function::Stub> stub;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = stubs_[endpoint];
    if (slot == nullptr) slot = v1::Function::NewStub(MakeChannel(endpoint));
    stub = slot;
  }
  return CallUnary(stub.get(), &v1::Function::Stub::Invoke, request, timeout);
}

absl::Status ShardStoreFailureDestination::Put(const std::string& stream_name,
                                               const std::string& partition_key,
                                               const std::string& data) {
  v1::PutRecordRequest request;
  request.set_stream_name(stream_name);
  request.set_partition_key(partition_key);
  request.set_data(data);
  return client_.PutRecord(request).status();
}

}  // namespace tributary::poller
