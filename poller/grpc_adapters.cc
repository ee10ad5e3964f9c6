#include "poller/grpc_adapters.h"

#include <memory>
#include <utility>

#include "absl/strings/strip.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"

namespace tributary::poller {

GrpcFunctionInvoker::GrpcFunctionInvoker(GrpcClientSecurity tls) : tls_(std::move(tls)) {
  if (tls_.ca_file.empty()) tls_.ca_file = kSystemCaBundle;
  tls_.token.clear();
}

absl::StatusOr<v1::InvokeResponse> GrpcFunctionInvoker::Invoke(const std::string& endpoint,
                                                               const v1::InvokeRequest& request,
                                                               absl::Duration timeout) {
  std::shared_ptr<v1::Function::Stub> stub;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = stubs_[endpoint];
    if (slot == nullptr) {
      absl::string_view address = endpoint;
      slot = v1::Function::NewStub(absl::ConsumePrefix(&address, "grpcs://")
                                       ? MakeChannel(std::string(address), tls_)
                                       : MakeChannel(endpoint));
    }
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
