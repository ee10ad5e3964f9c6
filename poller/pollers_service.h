// tributary.v1.Pollers over PollerMetrics: GetMetrics returns the poller's per-(mapping, shard)
// metrics, filtered by mapping when the request names one. No validation is needed: every
// request is valid (an unknown mapping yields no shards).
//
// Thread-safe. `metrics` must outlive the service.
#ifndef TRIBUTARY_POLLER_POLLERS_SERVICE_H_
#define TRIBUTARY_POLLER_POLLERS_SERVICE_H_

#include "poller/runtime/metrics.h"
#include "proto/poller.grpc.pb.h"

namespace tributary::poller {

class PollersService final : public v1::Pollers::Service {
 public:
  explicit PollersService(PollerMetrics& metrics) : metrics_(metrics) {}

  grpc::Status GetMetrics(grpc::ServerContext* context, const v1::GetMetricsRequest* request,
                          v1::GetMetricsResponse* response) override;

 private:
  PollerMetrics& metrics_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_POLLERS_SERVICE_H_
