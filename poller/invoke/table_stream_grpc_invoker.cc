#include "poller/invoke/table_stream_grpc_invoker.h"

#include "tables/stream_ids.h"

namespace tributary::poller {

absl::StatusOr<v1::InvokeResponse> TableStreamGrpcInvoker::Invoke(const std::string& endpoint,
                                                                  const v1::InvokeRequest& request,
                                                                  absl::Duration timeout) {
  if (!tables::IsTableStreamName(request.stream_name())) {
    return inner_.Invoke(endpoint, request, timeout);
  }
  absl::StatusOr<TableStreamSource> source = FindTableStreamSource(tables_, request.stream_name());
  if (!source.ok()) return source.status();
  absl::StatusOr<v1::InvokeRequest> converted = DynamoDbInvokeRequest(account_, *source, request);
  if (!converted.ok()) return converted.status();
  absl::StatusOr<v1::InvokeResponse> response = inner_.Invoke(endpoint, *converted, timeout);
  if (response.ok()) ToStoreItemIdentifiers(&*response);
  return response;
}

}  // namespace tributary::poller
