// Fake Tributary services for tribctl's tests: each records every request it
// receives and answers with canned replies (or a canned error), so a test can
// run a tribctl command against it over a real channel and check both the
// request tribctl sent and what it printed. Thread-safe. Register them on a
// common::GrpcServer; they must outlive it.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_TESTING_FAKE_SERVICES_H_
#define TRIBUTARY_TOOLS_TRIBCTL_TESTING_FAKE_SERVICES_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "proto/event_source_mappings.grpc.pb.h"
#include "proto/functions.grpc.pb.h"
#include "proto/leasing.grpc.pb.h"
#include "proto/poller.grpc.pb.h"
#include "proto/streams.grpc.pb.h"

namespace tributary::tribctl::testing {

// The recording and the canned answers shared by every fake. Methods are named
// as in the proto ("CreateStream").
class CannedReplies {
 public:
  // Queues `replies` for `method`: call n gets replies[n]; once one is left it
  // answers every further call. Without any, a method answers an empty reply.
  void SetReplies(const std::string& method,
                  const std::vector<const google::protobuf::Message*>& replies);
  void SetReply(const std::string& method, const google::protobuf::Message& reply) {
    SetReplies(method, {&reply});
  }
  // Makes every call of `method` fail with `status`.
  void SetError(const std::string& method, absl::Status status);

  // The requests `method` received, in order.
  template <typename Request>
  std::vector<Request> Requests(const std::string& method) {
    absl::MutexLock lock(&mu_);
    std::vector<Request> out;
    for (const auto& [name, bytes] : requests_) {
      if (name != method) continue;
      Request r;
      r.ParseFromString(bytes);
      out.push_back(std::move(r));
    }
    return out;
  }
  // Every method called, in order.
  std::vector<std::string> Calls();

 protected:
  // Records `request`, fills `reply` and returns the status to answer.
  grpc::Status Handle(const std::string& method, const google::protobuf::Message& request,
                      google::protobuf::Message* reply);

 private:
  absl::Mutex mu_;
  std::map<std::string, std::deque<std::unique_ptr<google::protobuf::Message>>> replies_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, std::string>> requests_ ABSL_GUARDED_BY(mu_);
};

#define TRIBUTARY_FAKE_UNARY(Method, Request, Response)                                           \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context,                          \
                                   const v1::Request* request, v1::Response* response) override { \
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();                                \
    reactor->Finish(Handle(#Method, *request, response));                                         \
    return reactor;                                                                               \
  }

// tributary.v1.Streams. SubscribeToShard writes the events set by
// SetSubscribeEvents, then ends the call (OK), or with `hold_open` keeps it
// open until the client cancels.
class FakeStreams : public v1::Streams::CallbackService, public CannedReplies {
 public:
  TRIBUTARY_FAKE_UNARY(CreateStream, CreateStreamRequest, CreateStreamResponse)
  TRIBUTARY_FAKE_UNARY(DeleteStream, DeleteStreamRequest, DeleteStreamResponse)
  TRIBUTARY_FAKE_UNARY(DescribeStreamSummary, DescribeStreamSummaryRequest,
                       DescribeStreamSummaryResponse)
  TRIBUTARY_FAKE_UNARY(ListStreams, ListStreamsRequest, ListStreamsResponse)
  TRIBUTARY_FAKE_UNARY(ListShards, ListShardsRequest, ListShardsResponse)
  TRIBUTARY_FAKE_UNARY(PutRecord, PutRecordRequest, PutRecordResponse)
  TRIBUTARY_FAKE_UNARY(PutRecords, PutRecordsRequest, PutRecordsResponse)
  TRIBUTARY_FAKE_UNARY(GetShardIterator, GetShardIteratorRequest, GetShardIteratorResponse)
  TRIBUTARY_FAKE_UNARY(GetRecords, GetRecordsRequest, GetRecordsResponse)
  TRIBUTARY_FAKE_UNARY(SplitShard, SplitShardRequest, SplitShardResponse)
  TRIBUTARY_FAKE_UNARY(MergeShards, MergeShardsRequest, MergeShardsResponse)
  TRIBUTARY_FAKE_UNARY(UpdateShardCount, UpdateShardCountRequest, UpdateShardCountResponse)
  TRIBUTARY_FAKE_UNARY(IncreaseStreamRetentionPeriod, IncreaseStreamRetentionPeriodRequest,
                       IncreaseStreamRetentionPeriodResponse)
  TRIBUTARY_FAKE_UNARY(DecreaseStreamRetentionPeriod, DecreaseStreamRetentionPeriodRequest,
                       DecreaseStreamRetentionPeriodResponse)
  TRIBUTARY_FAKE_UNARY(AddTagsToStream, AddTagsToStreamRequest, AddTagsToStreamResponse)
  TRIBUTARY_FAKE_UNARY(RemoveTagsFromStream, RemoveTagsFromStreamRequest,
                       RemoveTagsFromStreamResponse)
  TRIBUTARY_FAKE_UNARY(ListTagsForStream, ListTagsForStreamRequest, ListTagsForStreamResponse)
  TRIBUTARY_FAKE_UNARY(RegisterStreamConsumer, RegisterStreamConsumerRequest,
                       RegisterStreamConsumerResponse)
  TRIBUTARY_FAKE_UNARY(DeregisterStreamConsumer, DeregisterStreamConsumerRequest,
                       DeregisterStreamConsumerResponse)
  TRIBUTARY_FAKE_UNARY(DescribeStreamConsumer, DescribeStreamConsumerRequest,
                       DescribeStreamConsumerResponse)
  TRIBUTARY_FAKE_UNARY(ListStreamConsumers, ListStreamConsumersRequest, ListStreamConsumersResponse)

  grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* SubscribeToShard(
      grpc::CallbackServerContext* context, const v1::SubscribeToShardRequest* request) override;

  void SetSubscribeEvents(std::vector<v1::SubscribeToShardEvent> events, bool hold_open);

 private:
  absl::Mutex events_mu_;
  std::vector<v1::SubscribeToShardEvent> events_ ABSL_GUARDED_BY(events_mu_);
  bool hold_open_ ABSL_GUARDED_BY(events_mu_) = false;
};

class FakeMappings : public v1::EventSourceMappings::CallbackService, public CannedReplies {
 public:
  TRIBUTARY_FAKE_UNARY(CreateEventSourceMapping, CreateEventSourceMappingRequest,
                       EventSourceMappingConfiguration)
  TRIBUTARY_FAKE_UNARY(UpdateEventSourceMapping, UpdateEventSourceMappingRequest,
                       EventSourceMappingConfiguration)
  TRIBUTARY_FAKE_UNARY(DeleteEventSourceMapping, DeleteEventSourceMappingRequest,
                       EventSourceMappingConfiguration)
  TRIBUTARY_FAKE_UNARY(GetEventSourceMapping, GetEventSourceMappingRequest,
                       EventSourceMappingConfiguration)
  TRIBUTARY_FAKE_UNARY(ListEventSourceMappings, ListEventSourceMappingsRequest,
                       ListEventSourceMappingsResponse)
};

class FakeFunctions : public v1::Functions::CallbackService, public CannedReplies {
 public:
  TRIBUTARY_FAKE_UNARY(CreateFunction, CreateFunctionRequest, FunctionConfiguration)
  TRIBUTARY_FAKE_UNARY(UpdateFunction, UpdateFunctionRequest, FunctionConfiguration)
  TRIBUTARY_FAKE_UNARY(GetFunction, GetFunctionRequest, FunctionConfiguration)
  TRIBUTARY_FAKE_UNARY(ListFunctions, ListFunctionsRequest, ListFunctionsResponse)
  TRIBUTARY_FAKE_UNARY(DeleteFunction, DeleteFunctionRequest, DeleteFunctionResponse)
  TRIBUTARY_FAKE_UNARY(PutFunctionConcurrency, PutFunctionConcurrencyRequest, FunctionConcurrency)
  TRIBUTARY_FAKE_UNARY(GetFunctionConcurrency, GetFunctionConcurrencyRequest, FunctionConcurrency)
  TRIBUTARY_FAKE_UNARY(DeleteFunctionConcurrency, DeleteFunctionConcurrencyRequest,
                       DeleteFunctionConcurrencyResponse)
};

class FakeLeasing : public v1::Leasing::CallbackService, public CannedReplies {
 public:
  TRIBUTARY_FAKE_UNARY(ListLeases, ListLeasesRequest, ListLeasesResponse)
  TRIBUTARY_FAKE_UNARY(GetLease, GetLeaseRequest, Lease)
  TRIBUTARY_FAKE_UNARY(ListPollers, ListPollersRequest, ListPollersResponse)
  TRIBUTARY_FAKE_UNARY(DeleteLeases, DeleteLeasesRequest, DeleteLeasesResponse)
};

class FakePollers : public v1::Pollers::CallbackService, public CannedReplies {
 public:
  TRIBUTARY_FAKE_UNARY(GetMetrics, GetMetricsRequest, GetMetricsResponse)
};

#undef TRIBUTARY_FAKE_UNARY

}  // namespace tributary::tribctl::testing

#endif  // TRIBUTARY_TOOLS_TRIBCTL_TESTING_FAKE_SERVICES_H_
