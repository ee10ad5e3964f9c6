#include "tools/tribctl/testing/fake_services.h"

#include "common/grpc_status.h"

namespace tributary::tribctl::testing {
namespace {

// Writes a fixed list of events, one at a time; then finishes, or waits for the
// client to cancel. Deletes itself when gRPC is done with it.
class EventWriter : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent> {
 public:
  EventWriter(std::vector<v1::SubscribeToShardEvent> events, bool hold_open)
      : events_(std::move(events)), hold_open_(hold_open) {
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      FinishOnce(grpc::Status::CANCELLED);
      return;
    }
    WriteNext();
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void FinishWith(const grpc::Status& status) { FinishOnce(status); }
  void OnDone() override { delete this; }

 private:
  // Writes are sequential (the next starts from OnWriteDone of the previous), so
  // next_ needs no lock.
  void WriteNext() {
    if (next_ < events_.size()) {
      StartWrite(&events_[next_++]);
    } else if (!hold_open_) {
      FinishOnce(grpc::Status::OK);
    }
  }
  void FinishOnce(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(status);
  }

  const std::vector<v1::SubscribeToShardEvent> events_;
  const bool hold_open_;
  size_t next_ = 0;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void CannedReplies::SetReplies(const std::string& method,
                               const std::vector<const google::protobuf::Message*>& replies) {
  absl::MutexLock lock(&mu_);
  auto& queue = replies_[method];
  queue.clear();
  for (const google::protobuf::Message* reply : replies) {
    queue.emplace_back(reply->New());
    queue.back()->CopyFrom(*reply);
  }
}

void CannedReplies::SetError(const std::string& method, absl::Status status) {
  absl::MutexLock lock(&mu_);
  errors_[method] = std::move(status);
}

std::vector<std::string> CannedReplies::Calls() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> calls;
  for (const auto& request : requests_) calls.push_back(request.first);
  return calls;
}

grpc::Status CannedReplies::Handle(const std::string& method,
                                   const google::protobuf::Message& request,
                                   google::protobuf::Message* reply) {
  absl::MutexLock lock(&mu_);
  requests_.emplace_back(method, request.SerializeAsString());
  auto error = errors_.find(method);
  if (error != errors_.end() && !error->second.ok()) return ToGrpcStatus(error->second);
  auto queue = replies_.find(method);
  if (queue == replies_.end() || queue->second.empty()) return grpc::Status::OK;
  const google::protobuf::Message& canned = *queue->second.front();
  if (canned.GetDescriptor() != reply->GetDescriptor()) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        "fake: canned reply of the wrong type for " + method);
  }
  reply->CopyFrom(canned);
  if (queue->second.size() > 1) queue->second.pop_front();
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* FakeStreams::SubscribeToShard(
    grpc::CallbackServerContext*, const v1::SubscribeToShardRequest* request) {
  // Recorded like a unary call; a canned error for "SubscribeToShard" fails the call at once.
  v1::SubscribeToShardEvent unused;
  grpc::Status status = Handle("SubscribeToShard", *request, &unused);
  absl::MutexLock lock(&events_mu_);
  if (!status.ok()) {
    auto* failing = new EventWriter({}, /*hold_open=*/true);
    failing->FinishWith(status);
    return failing;
  }
  return new EventWriter(events_, hold_open_);
}

void FakeStreams::SetSubscribeEvents(std::vector<v1::SubscribeToShardEvent> events,
                                     bool hold_open) {
  absl::MutexLock lock(&events_mu_);
  events_ = std::move(events);
  hold_open_ = hold_open;
}

}  // namespace tributary::tribctl::testing
