// StreamsService: the tributary.v1.Streams gRPC adapter over a ShardStore.
//
// Unary RPCs use the synchronous API: validate → call the library → map the
// status (the library validates every field; see shard_store.h for each
// method's contract and error codes). SubscribeToShard uses the callback API:
//   - a put to the shard wakes the subscription at once (ShardStore::WatchShard;
//     no polling interval);
//   - flow control: each subscriber has at most one write outstanding and
//     reads the next batch only after the previous write completed, so a slow
//     reader never makes the server buffer more than one event (≤ 10000 records,
//     ≤ max_event_bytes of records) per subscriber. gRPC's HTTP/2 flow control
//     holds a write back until the reader has room, so a reader that stops
//     reading stops the server reading the store for it; SubscriptionStats()
//     shows this per subscription;
//   - every event carries continuation_sequence_number (resume with
//     AFTER_SEQUENCE_NUMBER from it) and millis_behind_latest; the first event
//     is sent at once (possibly empty) so a client knows it is subscribed;
//   - keep-alive: a subscription that has sent nothing for keep_alive_interval
//     (5 s by default, by the injected clock) gets an event, possibly empty,
//     with millis_behind_latest and continuation_sequence_number, so the
//     reader knows it is alive (Kinesis sends one at least every 5 s). A
//     subscriber that is not reading gets none beyond the one event in flight.
//     Keep-alives due within interval/50 of each other are sent together (so
//     one may come up to interval/50 early), and a subscriber that sends the
//     metadata kKeepAliveMetadataKey = "off" gets none (the poller: it has
//     no use for them, and 10,000 idle subscriptions would otherwise cost
//     2,000 events a second);
//   - at SHARD_END the last event carries child_shards and the call ends OK;
//   - a deleted stream or trimmed-away shard ends the call with NOT_FOUND.
// Reading and writing for subscriptions happens on a small pool of dispatch
// threads owned by the service, never in the writer's thread.
//
// Threads: the dispatch pool, the put threads (put_executor.h) and one
// keep-alive thread (keep_alive_queue.h), which waits on the clock only while
// at least one subscription wants keep-alives; it keeps them in order of when
// they are due, so an idle subscription costs O(log n) once per interval and
// none when it declined keep-alives.
//
// Thread-safe. `store` and `clock` must outlive the service; the gRPC server
// using it must be shut down before the service is destroyed.
#ifndef TRIBUTARY_SHARD_STORE_STREAMS_SERVICE_H_
#define TRIBUTARY_SHARD_STORE_STREAMS_SERVICE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/memory_budget.h"
#include "grpcpp/grpcpp.h"
#include "proto/streams.grpc.pb.h"
#include "shard_store/keep_alive_queue.h"
#include "shard_store/put_executor.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {

class Subscription;

// A subscriber's side of a subscription started with StreamsService::Subscribe (a transport
// other than gRPC: the AWS front door's event stream). Implemented by the service.
class SubscriptionControl {
 public:
  // The event last passed to SubscriptionSink::SendEvent has been sent (ok) or cannot be (the
  // subscriber is gone). The next event comes only after this.
  virtual void WriteDone(bool ok) = 0;
  // The subscriber went away: the subscription ends (SendFinish follows, unless it came).
  virtual void Cancel() = 0;
  // Once, after SendFinish, when the transport will make no more calls: frees the subscription.
  virtual void Done() = 0;

 protected:
  ~SubscriptionControl() = default;
};

// Where such a subscription's events go. Called on the service's dispatch threads (and, for
// SendFinish, wherever the subscription ends), one call at a time; must not block.
class SubscriptionSink {
 public:
  virtual ~SubscriptionSink() = default;
  // One event, exactly as the gRPC call would send it; answer with WriteDone.
  virtual void SendEvent(const v1::SubscribeToShardEvent& event) = 0;
  // The end: OK at SHARD_END (the last event carried the child shards), else the error the gRPC
  // call would end with (NOT_FOUND for a deleted stream, CANCELLED after Cancel). Answer with
  // Done once no more calls will come.
  virtual void SendFinish(const absl::Status& status) = 0;
};

struct StreamsServiceOptions {
  // Threads that read and send SubscribeToShard events.
  int dispatch_threads = 2;
  // The largest event SubscribeToShard sends, in bytes of records (partition
  // key + data); an event holds at least one record whatever its size.
  int64_t max_event_bytes = 4 << 20;
  // A subscription idle this long gets an event (possibly empty). Zero
  // disables keep-alives.
  absl::Duration keep_alive_interval = absl::Seconds(5);
  // PutRecords runs on this many threads of the service's own (at least 1), never on gRPC's
  // callback thread: a RocksDB write can stall, and with sync_writes it waits for an fsync
  // (several threads let concurrent calls share one fsync, RocksDB's group commit).
  int put_threads = 8;
  // Admission control (issue 22). PutRecords calls held by the put threads at once, waiting or
  // running, and the bytes their requests hold: past either, a call is refused at once with
  // RESOURCE_EXHAUSTED ("retry after N ms") and never queued. A call whose client deadline
  // passes while it waits is answered DEADLINE_EXCEEDED unrun (nothing of it is written).
  int max_pending_puts = 1024;
  int64_t max_pending_put_bytes = int64_t{256} << 20;
  // Per-client fair share (put_executor.h): one client — its principal when the server
  // authenticates, else its connection (gRPC's peer) — holds at most this share of the two
  // bounds above, and waiting calls take turns across clients.
  double max_client_put_share = 0.5;
  // The longest a new PutRecords call may expect to wait for a put thread (put_executor.h's
  // max_queue_delay); zero: off.
  absl::Duration max_put_queue_delay = absl::Milliseconds(100);
  // Live SubscribeToShard calls (each holds at most one event, ≤ max_event_bytes); past it a
  // new subscription is refused with RESOURCE_EXHAUSTED.
  int max_subscriptions = 20000;
  // The process's memory budget (common/memory_budget.h): PutRecords/PutRecord requests and
  // GetRecords replies reserve their bytes in it, and are refused with RESOURCE_EXHAUSTED when
  // it is spent. Null: none. Must outlive the service.
  MemoryBudget* memory_budget = nullptr;
};

// What one live SubscribeToShard call holds and has sent (for tests and
// operators).
struct SubscriptionStats {
  std::string stream_name;
  std::string shard_id;
  int64_t events_sent = 0;   // writes gRPC has completed
  int64_t records_sent = 0;  // records in those events
  // The event handed to gRPC whose write has not completed: 0 or 1 event, its
  // records and their bytes (partition key + data). This is everything the
  // service holds for the subscriber beyond what it has sent.
  int events_in_flight = 0;
  int64_t records_in_flight = 0;
  int64_t bytes_in_flight = 0;
  // The largest bytes_in_flight / events_in_flight over the call's life.
  int64_t max_bytes_in_flight = 0;
  int max_events_in_flight = 0;
  // Where the subscription's next read of the store starts. Everything before
  // it has been read from the store: sent, or in flight.
  uint64_t next_sequence_number = 0;
};

class StreamsService final
    : public v1::Streams::WithRawCallbackMethod_PutRecords<
          v1::Streams::WithCallbackMethod_SubscribeToShard<v1::Streams::Service>> {
 public:
  // The default largest event SubscribeToShard sends, in bytes of records.
  static constexpr int64_t kMaxEventBytes = 4 << 20;
  // Client metadata of a SubscribeToShard call: "off" declines keep-alive events.
  static constexpr char kKeepAliveMetadataKey[] = "tributary-keep-alive";

  StreamsService(ShardStore& store, Clock& clock, const StreamsServiceOptions& options = {});
  ~StreamsService() override;

  // A snapshot of every live SubscribeToShard call, in no particular order.
  std::vector<SubscriptionStats> GetSubscriptionStats();

  // The process's memory budget the service reserves in (null: none), for other servers of the
  // process to share (the AWS front door).
  MemoryBudget* memory_budget() const { return options_.memory_budget; }
  // The put threads' admission state (for tests and the overload benchmark).
  PutExecutor& put_executor() { return put_executor_; }

  grpc::Status CreateStream(grpc::ServerContext* context, const v1::CreateStreamRequest* request,
                            v1::CreateStreamResponse* response) override;
  grpc::Status DeleteStream(grpc::ServerContext* context, const v1::DeleteStreamRequest* request,
                            v1::DeleteStreamResponse* response) override;
  grpc::Status DescribeStreamSummary(grpc::ServerContext* context,
                                     const v1::DescribeStreamSummaryRequest* request,
                                     v1::DescribeStreamSummaryResponse* response) override;
  grpc::Status ListStreams(grpc::ServerContext* context, const v1::ListStreamsRequest* request,
                           v1::ListStreamsResponse* response) override;
  grpc::Status ListShards(grpc::ServerContext* context, const v1::ListShardsRequest* request,
                          v1::ListShardsResponse* response) override;
  grpc::Status PutRecord(grpc::ServerContext* context, const v1::PutRecordRequest* request,
                         v1::PutRecordResponse* response) override;
  // A raw callback method (issue 22): gRPC hands over the request's bytes unparsed, admission
  // (put_executor.h) decides on their length first, and only an admitted call is parsed — on
  // its put thread, onto one protobuf Arena per call (no malloc per record string) — so a
  // refused call costs no parse. A request that does not parse: INVALID_ARGUMENT.
  grpc::ServerUnaryReactor* PutRecords(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  // What an admitted PutRecords call of `wire_bytes` is accounted while it is held: its bytes as
  // received plus an estimate of the arena it is parsed onto (at least the arena's first block).
  static int64_t PutRecordsHeldBytes(int64_t wire_bytes);
  grpc::Status GetShardIterator(grpc::ServerContext* context,
                                const v1::GetShardIteratorRequest* request,
                                v1::GetShardIteratorResponse* response) override;
  grpc::Status GetRecords(grpc::ServerContext* context, const v1::GetRecordsRequest* request,
                          v1::GetRecordsResponse* response) override;
  grpc::Status SplitShard(grpc::ServerContext* context, const v1::SplitShardRequest* request,
                          v1::SplitShardResponse* response) override;
  grpc::Status MergeShards(grpc::ServerContext* context, const v1::MergeShardsRequest* request,
                           v1::MergeShardsResponse* response) override;
  grpc::Status UpdateShardCount(grpc::ServerContext* context,
                                const v1::UpdateShardCountRequest* request,
                                v1::UpdateShardCountResponse* response) override;
  grpc::Status IncreaseStreamRetentionPeriod(
      grpc::ServerContext* context, const v1::IncreaseStreamRetentionPeriodRequest* request,
      v1::IncreaseStreamRetentionPeriodResponse* response) override;
  grpc::Status DecreaseStreamRetentionPeriod(
      grpc::ServerContext* context, const v1::DecreaseStreamRetentionPeriodRequest* request,
      v1::DecreaseStreamRetentionPeriodResponse* response) override;
  grpc::Status UpdateStreamMode(grpc::ServerContext* context,
                                const v1::UpdateStreamModeRequest* request,
                                v1::UpdateStreamModeResponse* response) override;

  grpc::Status AddTagsToStream(grpc::ServerContext* context,
                               const v1::AddTagsToStreamRequest* request,
                               v1::AddTagsToStreamResponse* response) override;
  grpc::Status RemoveTagsFromStream(grpc::ServerContext* context,
                                    const v1::RemoveTagsFromStreamRequest* request,
                                    v1::RemoveTagsFromStreamResponse* response) override;
  grpc::Status ListTagsForStream(grpc::ServerContext* context,
                                 const v1::ListTagsForStreamRequest* request,
                                 v1::ListTagsForStreamResponse* response) override;
  grpc::Status RegisterStreamConsumer(grpc::ServerContext* context,
                                      const v1::RegisterStreamConsumerRequest* request,
                                      v1::RegisterStreamConsumerResponse* response) override;
  grpc::Status DeregisterStreamConsumer(grpc::ServerContext* context,
                                        const v1::DeregisterStreamConsumerRequest* request,
                                        v1::DeregisterStreamConsumerResponse* response) override;
  grpc::Status DescribeStreamConsumer(grpc::ServerContext* context,
                                      const v1::DescribeStreamConsumerRequest* request,
                                      v1::DescribeStreamConsumerResponse* response) override;
  grpc::Status ListStreamConsumers(grpc::ServerContext* context,
                                   const v1::ListStreamConsumersRequest* request,
                                   v1::ListStreamConsumersResponse* response) override;

  grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* SubscribeToShard(
      grpc::CallbackServerContext* context, const v1::SubscribeToShardRequest* request) override;

  // SubscribeToShard for another transport: the same checks, events, flow control and
  // keep-alives (when `keep_alive`) as the gRPC call, delivered to `sink`, which must stay valid
  // until it calls Done. Errors, before anything is sent: as the gRPC call's status
  // (INVALID_ARGUMENT, NOT_FOUND for an unknown stream or shard).
  absl::StatusOr<SubscriptionControl*> Subscribe(const v1::SubscribeToShardRequest& request,
                                                 bool keep_alive, SubscriptionSink* sink);

 private:
  friend class Subscription;
  // Queues `subscription` for a dispatch thread.
  void Dispatch(Subscription* subscription);
  // Queues `subscription` for a dispatch thread once the clock's monotonic reading reaches `at`
  // (a paced subscription, subscription.h). The dispatch threads wait on the clock only while
  // such a subscription waits.
  void DispatchAt(Subscription* subscription, MonotonicTime at);
  // Queues `subscription`, waiting since DispatchAt(subscription, at), for a dispatch thread
  // now. False (nothing done) when it no longer waits: its time came (it is queued or running).
  bool Expedite(Subscription* subscription, MonotonicTime at);
  void DispatchLoop();

  void Register(Subscription* subscription);
  void Unregister(Subscription* subscription);
  // The first block of a PutRecords call's arena.
  static constexpr int64_t kPutArenaFirstBlock = 64 << 10;
  // Parses an admitted PutRecords call onto an arena, runs it and serializes its response.
  grpc::Status RunPutRecords(const grpc::ByteBuffer& request_bytes,
                             grpc::ByteBuffer* response_bytes);
  // The fair-share key of a PutRecords call: "principal P" or "peer ipv4:H:P".
  static std::string PutClient(const grpc::ServerContextBase& context);
  // The refusal when the memory budget is spent. Precondition: options_.memory_budget is set.
  absl::Status MemoryBudgetExhausted(absl::string_view what) const;
  // RESOURCE_EXHAUSTED when max_subscriptions are live.
  absl::Status AdmitSubscription();
  // The cursor a SubscribeToShard request starts at; errors as the call's status.
  absl::StatusOr<ShardCursor> ResolveSubscription(const v1::SubscribeToShardRequest& request);

  ShardStore& store_;
  Clock& clock_;
  const StreamsServiceOptions options_;
  absl::Mutex registry_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::set<Subscription*> subscriptions_ ABSL_GUARDED_BY(registry_mu_);
  // The subscriptions that want keep-alives.
  KeepAliveQueue keep_alive_queue_;
  absl::Mutex mu_;
  std::deque<Subscription*> queue_ ABSL_GUARDED_BY(mu_);
  std::multimap<MonotonicTime, Subscription*> paced_ ABSL_GUARDED_BY(mu_);
  int64_t paced_version_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by DispatchAt
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
  // Runs the PutRecords calls. Last: destroyed first, after the dispatch threads have stopped.
  PutExecutor put_executor_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STREAMS_SERVICE_H_
