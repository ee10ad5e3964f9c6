#include "aws/kinesis_event_stream.h"

#include <utility>

#include "aws/aws_error.h"
#include "aws/cbor_codec.h"
#include "aws/event_stream.h"
#include "aws/json_codec.h"
#include "aws/kinesis_shapes.h"

namespace tributary::aws {
namespace {

std::string Encode(Protocol protocol, const Value& value) {
  return protocol == Protocol::kCbor ? WriteCbor(value) : WriteJson(value);
}

const char* PayloadType(Protocol protocol) {
  return protocol == Protocol::kCbor ? "application/cbor" : "application/json";
}

}  // namespace

KinesisEventStream::KinesisEventStream(Protocol protocol, Clock& clock, absl::Duration lifetime)
    : protocol_(protocol), clock_(clock), end_of_life_(clock.MonotonicNow() + lifetime) {}

void KinesisEventStream::Attach(shard_store::SubscriptionControl* control) {
  absl::MutexLock lock(&mu_);
  control_ = control;
  self_ = shared_from_this();
}

std::string KinesisEventStream::EncodeEvent(const v1::SubscribeToShardEvent& event) const {
  v1::SubscribeToShardEvent copy = event;  // RecordsShape moves the strings out
  Value payload = Value::Map();
  payload.Add("Records", RecordsShape(copy.mutable_records()));
  if (!event.continuation_sequence_number().empty()) {
    payload.Add("ContinuationSequenceNumber", Value::String(event.continuation_sequence_number()));
  }
  payload.Add("MillisBehindLatest", Value::Integer(event.millis_behind_latest()));
  if (event.child_shards_size() > 0) {
    payload.Add("ChildShards", ChildShardsShape(event.child_shards()));
  }
  return EventStreamEvent("SubscribeToShardEvent", PayloadType(protocol_),
                          Encode(protocol_, payload));
}

void KinesisEventStream::Start(std::shared_ptr<StreamWriter> writer) {
  absl::MutexLock lock(&mu_);
  writer_ = std::move(writer);
  writer_->Write(EventStreamEvent("initial-response", PayloadType(protocol_),
                                  Encode(protocol_, Value::Map())));
  if (pending_event_) {
    writer_->Write(std::move(*pending_event_));
    pending_event_.reset();
  }
  if (finish_) WriteFinish(*finish_);
}

void KinesisEventStream::OnDrained() {
  shard_store::SubscriptionControl* control;
  {
    absl::MutexLock lock(&mu_);
    if (!event_in_flight_ || finish_) return;
    event_in_flight_ = false;
    control = control_;
  }
  // Past its lifetime the subscription ends after this event: cancelled while the event is in
  // flight, WriteDone then ends it with CANCELLED (SHARD_END's OK if this was the last event),
  // and SendFinish writes a clean end.
  if (clock_.MonotonicNow() >= end_of_life_) control->Cancel();
  control->WriteDone(true);
}

void KinesisEventStream::OnFinished() { CallDone(); }

void KinesisEventStream::OnClosed() {
  bool in_flight, finished;
  shard_store::SubscriptionControl* control;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    writer_.reset();
    pending_event_.reset();
    in_flight = event_in_flight_;
    event_in_flight_ = false;
    finished = finish_.has_value();
    control = control_;
  }
  // Each path ends the subscription exactly once; its SendFinish (now or after a read in
  // progress) then sees closed_ and calls Done.
  if (in_flight) {
    control->WriteDone(false);
  } else if (!finished) {
    control->Cancel();
  } else {
    CallDone();  // it had finished, but the end never reached the client
  }
}

void KinesisEventStream::SendEvent(const v1::SubscribeToShardEvent& event) {
  std::string bytes = EncodeEvent(event);
  shard_store::SubscriptionControl* control = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      control = control_;  // OnClosed has been: nothing will answer this write but us
    } else {
      event_in_flight_ = true;
      if (writer_ == nullptr) {
        pending_event_ = std::move(bytes);
      } else {
        // A false return means the connection is closing: OnClosed, still to come, answers.
        writer_->Write(std::move(bytes));
      }
    }
  }
  if (control != nullptr) control->WriteDone(false);
}

void KinesisEventStream::SendFinish(const absl::Status& status) {
  bool done_now = false;
  {
    absl::MutexLock lock(&mu_);
    finish_ = status;
    if (closed_) {
      done_now = true;
    } else if (writer_ != nullptr) {
      WriteFinish(status);
    }
  }
  if (done_now) CallDone();
}

void KinesisEventStream::WriteFinish(const absl::Status& status) {
  if (!status.ok() && status.code() != absl::StatusCode::kCancelled) {
    const AwsError error = FromStatus(status, StatusMapping());
    Value body = Value::Map();
    body.Add("message", Value::String(error.message));
    writer_->Write(
        EventStreamException(error.type, PayloadType(protocol_), Encode(protocol_, body)));
  }
  writer_->Finish();
}

void KinesisEventStream::CallDone() {
  shard_store::SubscriptionControl* control;
  std::shared_ptr<KinesisEventStream> self;
  {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    done_ = true;
    control = control_;
    self = std::move(self_);
  }
  if (control != nullptr) control->Done();
  // `self` goes last: this may be destroyed here.
}

}  // namespace tributary::aws
