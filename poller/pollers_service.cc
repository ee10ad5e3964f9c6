#include "poller/pollers_service.h"

namespace tributary::poller {

grpc::Status PollersService::GetMetrics(grpc::ServerContext* /*context*/,
                                        const v1::GetMetricsRequest* request,
                                        v1::GetMetricsResponse* response) {
  *response = metrics_.Snapshot(request->event_source_mapping_uuid());
  return grpc::Status::OK;
}

}  // namespace tributary::poller
