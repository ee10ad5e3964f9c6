// gRPC faces for the in-memory fakes, so that a test can run the real stream tracker (its
// RemoteStreamCatalog / RemoteLeaseAdmin, or the stream_tracker_server binary) against them:
// - FakeStreamsService serves DescribeStreamSummary and ListShards (with next_token paging) from
//   a FakeStreamCatalog; every other Streams method is UNIMPLEMENTED.
// - FakeLeasingService serves CreateLeases, DeleteLeases, SetMappingEnabled, ListLeases (with
//   next_token paging) and SummarizeLeases from a FakeLeaseAdmin; every other Leasing method is
//   UNIMPLEMENTED.
// Thread-safe; the fakes must outlive the services.
#ifndef TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_SERVICES_H_
#define TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_SERVICES_H_

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/leasing.grpc.pb.h"
#include "proto/streams.grpc.pb.h"
#include "stream_tracker/testing/fake_lease_admin.h"
#include "stream_tracker/testing/fake_stream_catalog.h"

namespace tributary::stream_tracker::testing {

class FakeStreamsService final : public v1::Streams::Service {
 public:
  explicit FakeStreamsService(FakeStreamCatalog* catalog) : catalog_(catalog) {}

  grpc::Status DescribeStreamSummary(grpc::ServerContext* context,
                                     const v1::DescribeStreamSummaryRequest* request,
                                     v1::DescribeStreamSummaryResponse* response) override;
  // Pages of at most max_results (default 1000); as in Kinesis, a request with next_token names
  // no stream (the token carries it).
  grpc::Status ListShards(grpc::ServerContext* context, const v1::ListShardsRequest* request,
                          v1::ListShardsResponse* response) override;

 private:
  FakeStreamCatalog* catalog_;
};

class FakeLeasingService final : public v1::Leasing::Service {
 public:
  explicit FakeLeasingService(FakeLeaseAdmin* table) : table_(table) {}

  grpc::Status CreateLeases(grpc::ServerContext* context, const v1::CreateLeasesRequest* request,
                            v1::CreateLeasesResponse* response) override;
  grpc::Status DeleteLeases(grpc::ServerContext* context, const v1::DeleteLeasesRequest* request,
                            v1::DeleteLeasesResponse* response) override;
  grpc::Status SetMappingEnabled(grpc::ServerContext* context,
                                 const v1::SetMappingEnabledRequest* request,
                                 v1::SetMappingEnabledResponse* response) override;
  // Pages of at most max_results (default 1000); next_token is the index of the next lease.
  grpc::Status ListLeases(grpc::ServerContext* context, const v1::ListLeasesRequest* request,
                          v1::ListLeasesResponse* response) override;
  grpc::Status SummarizeLeases(grpc::ServerContext* context,
                               const v1::SummarizeLeasesRequest* request,
                               v1::SummarizeLeasesResponse* response) override;

  // Blocks (real time, at most `real_timeout`: a failure guard) until CreateLeases has created
  // at least `n` leases in total. A failure says how many it had created.
  [[nodiscard]] ::testing::AssertionResult WaitForCreatedLeases(
      int n, absl::Duration real_timeout = absl::Seconds(30));

 private:
  FakeLeaseAdmin* table_;
  absl::Mutex mu_;
  int created_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::stream_tracker::testing

#endif  // TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_SERVICES_H_
