// KinesisEventStream: one SubscribeToShard call on the AWS front door. It is both the HTTP
// response's stream (an AWS event stream, event_stream.h) and the sink of a shard_store
// subscription (StreamsService::Subscribe), so the events, their flow control, keep-alives and
// SHARD_END are the gRPC call's, only framed as Kinesis frames them:
//
//   "initial-response" event (payload {}), then one "SubscribeToShardEvent" per subscription
//   event (Records, ContinuationSequenceNumber, MillisBehindLatest, ChildShards at the end), in
//   the request's encoding (JSON or CBOR); an error ends the stream with an "exception" message
//   carrying the Kinesis error code (ResourceNotFoundException for a deleted stream).
//
// Flow control: the subscription's next event is read only when the previous one is on the wire
// (ResponseStream::OnDrained → SubscriptionControl::WriteDone), so a reader that stops reading
// holds at most one event here. A client that leaves cancels the subscription.
//
// Lifetime of a subscription, as Kinesis's: `lifetime` (5 minutes) after SubscribeToShard, by the
// injected clock, the subscription ends and the response ends cleanly (no exception), after the
// first event that is on the wire at or past that time — at once for a busy shard, within a
// keep-alive interval (5 s) for an idle one. The client subscribes again from the last
// ContinuationSequenceNumber, as the SDKs (and the KCL) do. A SHARD_END or an error comes first
// when it is due first. Both transports (HTTP/1.1 and HTTP/2) end alike: this is their common part.
//
// Lifetime: created by KinesisApi::SubscribeToShard, it keeps itself alive from Attach until the
// subscription is Done (the HTTP session may drop it earlier, while the subscription can still
// call it). Thread-safe.
#ifndef TRIBUTARY_AWS_KINESIS_EVENT_STREAM_H_
#define TRIBUTARY_AWS_KINESIS_EVENT_STREAM_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "aws/http_message.h"
#include "aws/value.h"
#include "common/clock.h"
#include "proto/streams.pb.h"
#include "shard_store/streams_service.h"

namespace tributary::aws {

class KinesisEventStream : public ResponseStream,
                           public shard_store::SubscriptionSink,
                           public std::enable_shared_from_this<KinesisEventStream> {
 public:
  // How long Kinesis keeps a SubscribeToShard subscription open.
  static constexpr absl::Duration kLifetime = absl::Minutes(5);

  // Events are encoded in `protocol` (the request's). The subscription ends `lifetime` after
  // construction by `clock`, which must outlive the stream.
  KinesisEventStream(Protocol protocol, Clock& clock, absl::Duration lifetime = kLifetime);

  // Once, with the subscription StreamsService::Subscribe started for this sink (events may
  // already have come: they wait for Start).
  void Attach(shard_store::SubscriptionControl* control);

  // ResponseStream (the HTTP server's io threads).
  void Start(std::shared_ptr<StreamWriter> writer) override;
  void OnDrained() override;
  void OnFinished() override;
  void OnClosed() override;

  // SubscriptionSink (the subscription's threads).
  void SendEvent(const v1::SubscribeToShardEvent& event) override;
  void SendFinish(const absl::Status& status) override;

  // The bytes of one SubscribeToShardEvent message (public for tests).
  std::string EncodeEvent(const v1::SubscribeToShardEvent& event) const;

 private:
  // Writes the end (an exception message for an error other than CANCELLED, then the last
  // chunk). Requires a writer.
  void WriteFinish(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the subscription it may be freed (once), then lets this go.
  void CallDone() ABSL_LOCKS_EXCLUDED(mu_);

  const Protocol protocol_;
  Clock& clock_;
  const MonotonicTime end_of_life_;
  absl::Mutex mu_;
  shard_store::SubscriptionControl* control_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::shared_ptr<KinesisEventStream> self_ ABSL_GUARDED_BY(mu_);  // from Attach until Done
  std::shared_ptr<StreamWriter> writer_ ABSL_GUARDED_BY(mu_);      // from Start
  std::optional<std::string> pending_event_ ABSL_GUARDED_BY(mu_);  // came before Start
  bool event_in_flight_ ABSL_GUARDED_BY(mu_) = false;  // handed to us, WriteDone not yet called
  std::optional<absl::Status> finish_ ABSL_GUARDED_BY(mu_);  // SendFinish came
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_KINESIS_EVENT_STREAM_H_
