// A small client of NATS JetStream (server 2.9, Debian's C client libnats 3.4) for cluster mode's
// shard log (issue 20): what the log needs and nothing more, every call bounded by a timeout,
// errors as absl::Status. The C library is wrapped here and nowhere else (STYLE.md §3: one place
// converts its statuses).
//
// What it offers:
//   - a connection to a list of servers that reconnects by itself (to any server of the cluster);
//   - Publish: one message to a subject, with a message id the stream de-duplicates on (within
//     its duplicate window), waiting for the stream's acknowledgement (its sequence number);
//   - PublishBatch: several messages sent one after another without waiting, then one wait for
//     all their acknowledgements (libnats' asynchronous publish);
//   - stream management: create, update, info, delete (subjects, MaxAge, file storage, replicas,
//     duplicate window, allow direct);
//   - direct gets (answered by any replica): by stream sequence, the first message of a subject
//     at or after a sequence, the last message of a subject;
//   - SubjectReader: an ordered consumer of one subject from a stream sequence on;
//   - core NATS (no JetStream): PublishCore, fire and forget, and Subscribe, a callback per
//     message of a subject (wildcards allowed): what front-ends use to tell each other about
//     appends (shard_store/NOTES.md, "Cross-front-end wake-ups").
//
// Outcome unknown. A Publish that returns DEADLINE_EXCEEDED or UNAVAILABLE may have been stored
// (the ack was lost, or the leader stored it and died before answering). Retry it with the same
// message id: within the stream's duplicate window the stream stores it once and answers the
// retry with the first copy's sequence number (`PubAck::duplicate`). A retry may land after
// messages published later (../shared/SCALEOUT.md saw 10-13k of 150k out of order after a leader
// kill): a caller that needs order per subject publishes the next message of a subject only after
// the previous one was acknowledged.
//
// Example: store a message once and read it back.
//   ASSIGN_OR_RETURN(std::unique_ptr<NatsClient> client, NatsClient::Connect({{"127.0.0.1:4222"}}));
//   StreamConfig config;
//   config.name = "s7";
//   config.subjects = {"s7.shard.0"};
//   RETURN_IF_ERROR(client->CreateStream(config).status());
//   ASSIGN_OR_RETURN(PubAck ack, client->Publish("s7.shard.0", "payload", {"call-1-0"}));
//   ASSIGN_OR_RETURN(StoredMessage m, client->DirectGet("s7", ack.sequence));
//
// Thread-safe: any number of threads may call any method at once (libnats' connection and
// JetStream context are). Time: the timeouts are transport deadlines that libnats measures on the
// real clock, like gRPC deadlines (not domain time, not on an injected Clock). libnats runs
// threads of its own (reading the socket, reconnecting, timers).
#ifndef TRIBUTARY_NATS_NATS_CLIENT_H_
#define TRIBUTARY_NATS_NATS_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

// libnats' types, so that users of this header need not include <nats/nats.h>.
struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;
struct __natsMsg;

namespace tributary::nats {

struct AsyncAcks;  // nats_client.cc: the asynchronous publishes waiting for their acks

struct NatsClientOptions {
  // Servers as "host:port" (or "nats://host:port"); at least one. The client connects to one of
  // them and learns the rest of the cluster from it.
  std::vector<std::string> servers;
  // Shown in the server's connection list.
  std::string name = "tributary";
  // How long one attempt to connect to one server may take.
  absl::Duration connect_timeout = absl::Seconds(2);
  // The default timeout of a call: stream management, direct gets, and the wait for a publish's
  // acknowledgement (a Publish may set its own).
  absl::Duration request_timeout = absl::Seconds(5);
  // After the connection broke, the wait before trying the next server. The client reconnects
  // for as long as it lives; calls made meanwhile fail with UNAVAILABLE (or DEADLINE_EXCEEDED).
  absl::Duration reconnect_wait = absl::Milliseconds(100);
};

// A stream's configuration (the part the shard log sets). Defaults are the shard log's choices,
// see NOTES.md.
struct StreamConfig {
  std::string name;  // letters, digits, '-' and '_' (no '.', '*', '>' or spaces)
  std::vector<std::string> subjects;
  // Messages older than this are removed; zero keeps them forever.
  absl::Duration max_age = absl::ZeroDuration();
  // File storage (true) or memory (false).
  bool file_storage = true;
  // Copies of every message, 1-5 (at most the cluster's size; 1 on a single server).
  int replicas = 1;
  // A message id seen within this window is not stored again (its first copy's sequence is
  // answered). Zero: the server's default (2 minutes).
  absl::Duration duplicate_window = absl::ZeroDuration();
  // Let any replica answer direct gets (not only the leader).
  bool allow_direct = true;
};

// A replica of a stream in a cluster.
struct StreamReplica {
  std::string server;  // its server_name
  bool current = false;
  bool offline = false;
};

struct StreamInfo {
  StreamConfig config;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  // The stream's first and last sequence numbers (0 when it never held a message; after
  // everything was removed, first = last + 1).
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  // The server_name of the stream's leader; empty on a single server without clustering.
  std::string leader;
  // The other replicas (the leader is not among them); empty without clustering.
  std::vector<StreamReplica> replicas;
};

// The stream's answer to a publish.
struct PubAck {
  std::string stream;
  uint64_t sequence = 0;  // the message's stream sequence
  // The message id was seen within the duplicate window: nothing was stored, `sequence` is the
  // first copy's.
  bool duplicate = false;
};

struct PublishOptions {
  // The de-duplication id; empty for none. Up to the caller to make unique per message.
  std::string msg_id;
  // Header fields besides the message id (names are case-sensitive in NATS).
  std::vector<std::pair<std::string, std::string>> headers;
  // Store only if the subject's last message in the stream has this sequence (0 = the subject
  // has no message); otherwise FAILED_PRECONDITION and nothing is stored.
  std::optional<uint64_t> expected_last_subject_sequence;
  // The wait for the acknowledgement; zero: the client's request_timeout.
  absl::Duration timeout = absl::ZeroDuration();
};

// A message for PublishBatch: views that must stay valid during the call.
struct OutgoingMessage {
  absl::string_view subject;
  absl::string_view data;
  PublishOptions options;
};

// A message as the stream keeps it.
struct StoredMessage {
  std::string subject;
  uint64_t sequence = 0;  // its stream sequence
  absl::Time time;        // when the stream leader stored it (the leader's wall clock)
  std::string data;
  std::vector<std::pair<std::string, std::string>> headers;  // without the server's Nats-* ones

  // The value of header `name` (exact case); nullptr when absent.
  const std::string* Header(absl::string_view name) const;
};

// An ordered consumer of one subject of a stream (libnats' ordered push consumer: ephemeral, no
// acks, flow control and heartbeats; when it sees a gap, or its heartbeats stop, libnats
// recreates it from the sequence after the last one delivered). Messages come in stream-sequence
// order, each once, starting at the first message of the subject at or after the start sequence.
// Not thread-safe: one reader thread. The NatsClient must outlive it.
class SubjectReader {
 public:
  ~SubjectReader();
  SubjectReader(const SubjectReader&) = delete;
  SubjectReader& operator=(const SubjectReader&) = delete;

  // The next message, waiting at most `timeout` for it (zero: only a message already received,
  // no wait). Returns nullopt when none came within `timeout` (the reader stays usable).
  // Errors: UNAVAILABLE when the connection is closed; INTERNAL when libnats dropped messages
  // of this reader (more pending than its limits: a message after them would skip them) or
  // reports anything else (the reader should be dropped and a new one started after the last
  // sequence read).
  absl::StatusOr<std::optional<StoredMessage>> Next(absl::Duration timeout);

 private:
  friend class NatsClient;
  explicit SubjectReader(__natsSubscription* sub) : sub_(sub) {}
  __natsSubscription* sub_;
};

// A core NATS subscription made by NatsClient::Subscribe. Destroying it unsubscribes; once the
// destructor returns the callback is not running and will not run again. The NatsClient must
// outlive it.
class CoreSubscription {
 public:
  ~CoreSubscription();
  CoreSubscription(const CoreSubscription&) = delete;
  CoreSubscription& operator=(const CoreSubscription&) = delete;

  struct State;  // nats_client.cc's (libnats' callbacks reach it)

 private:
  friend class NatsClient;
  explicit CoreSubscription(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// What a CoreSubscription's callback gets: the message's subject and data (views valid during
// the call).
using CoreMessageHandler = std::function<void(absl::string_view subject, absl::string_view data)>;

class NatsClient {
 public:
  // Connects to one of `options.servers`. Errors: INVALID_ARGUMENT when the list is empty or a
  // server address is malformed; UNAVAILABLE when no server could be reached.
  static absl::StatusOr<std::unique_ptr<NatsClient>> Connect(const NatsClientOptions& options);

  // Closes the connection (pending calls of other threads fail with UNAVAILABLE).
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // The largest message (data plus headers) the connected server accepts, in bytes
  // (its max_payload).
  int64_t max_payload() const;

  // Returns OK when JetStream answers a request through this connection (account info): the
  // connected server runs JetStream and, in a cluster, knows its meta leader. Errors:
  // UNAVAILABLE when JetStream is not (yet) available; DEADLINE_EXCEEDED.
  absl::Status CheckJetStream();

  // Publishes `data` to `subject` and waits for the stream's acknowledgement. Returns the ack.
  // Idempotent with a message id within the duplicate window (see the top of this file).
  // Errors: INVALID_ARGUMENT for a bad subject, or a message over max_payload; UNAVAILABLE when
  // no stream takes `subject` (no responders: no stream has the subject, or its leader is being
  // elected) or the connection is down; DEADLINE_EXCEEDED when no ack came within the timeout
  // (outcome unknown); FAILED_PRECONDITION when `expected_last_subject_sequence` did not hold;
  // RESOURCE_EXHAUSTED when the stream or server is over a limit; INTERNAL for other refusals.
  absl::StatusOr<PubAck> Publish(absl::string_view subject, absl::string_view data,
                                 const PublishOptions& options = {});

  // Publishes `messages` one after another without waiting for acknowledgements (they travel
  // pipelined on the connection), then waits for every acknowledgement: one round trip for all
  // of them instead of one each. Returns one result per message, in the order of `messages`,
  // with Publish's values and errors; each message succeeds or fails on its own (a message
  // waits at most its options.timeout, or request_timeout, for its ack: DEADLINE_EXCEEDED,
  // outcome unknown, after that). Order: the server receives them in this order, so without
  // failures they are stored in this order; but when one fails with an unknown outcome and a
  // later one of the same subject succeeds, retrying the first stores it after the later one.
  // A caller that needs order per subject puts at most one message per subject in a batch.
  std::vector<absl::StatusOr<PubAck>> PublishBatch(absl::Span<const OutgoingMessage> messages);

  // Creates a stream. Idempotent: creating a stream that exists with the same configuration
  // returns its info. Errors: ALREADY_EXISTS when it exists with another configuration;
  // INVALID_ARGUMENT when the configuration is refused (bad name, replicas above the cluster's
  // size, subjects overlapping another stream's); UNAVAILABLE / DEADLINE_EXCEEDED when JetStream
  // did not answer (e.g. no meta leader yet).
  absl::StatusOr<StreamInfo> CreateStream(const StreamConfig& config);
  // Replaces a stream's configuration (subjects, max age, duplicate window, replicas, ...; the
  // storage type cannot change). Errors: NOT_FOUND; INVALID_ARGUMENT when refused; as above.
  absl::StatusOr<StreamInfo> UpdateStream(const StreamConfig& config);
  // Errors: NOT_FOUND; UNAVAILABLE / DEADLINE_EXCEEDED.
  absl::StatusOr<StreamInfo> GetStreamInfo(absl::string_view stream);
  // Deletes the stream and its messages (its sequence numbers start again at 1 if it is created
  // again). Errors: NOT_FOUND; UNAVAILABLE / DEADLINE_EXCEEDED.
  absl::Status DeleteStream(absl::string_view stream);

  // Direct gets (the stream must allow direct). Errors of all three: NOT_FOUND when there is no
  // such message; DEADLINE_EXCEEDED when nobody answered: also what a stream that does not exist
  // or does not allow direct gets gives (the request goes to the stream's replicas, and JetStream
  // leaves it unanswered), after the client's request_timeout; UNAVAILABLE.
  // The message at stream sequence `sequence` (≥ 1), whatever its subject.
  absl::StatusOr<StoredMessage> DirectGet(absl::string_view stream, uint64_t sequence);
  // The first message of `subject` whose stream sequence is ≥ `sequence` (≥ 1).
  absl::StatusOr<StoredMessage> DirectGetNext(absl::string_view stream, absl::string_view subject,
                                              uint64_t sequence);
  // The last message of `subject`.
  absl::StatusOr<StoredMessage> DirectGetLast(absl::string_view stream, absl::string_view subject);

  // The last message of `subject` as the stream's leader holds it (not a direct get: the leader
  // has every acknowledged message, where a replica answering a direct get may lag behind).
  // Errors: NOT_FOUND when the subject has no message (or the stream does not exist);
  // UNAVAILABLE / DEADLINE_EXCEEDED (e.g. during a leader election).
  absl::StatusOr<StoredMessage> GetLastFromLeader(absl::string_view stream,
                                                  absl::string_view subject);

  // Starts an ordered consumer of `subject` (a subject of `stream`) at stream sequence
  // `start_sequence` (≥ 1), waiting at most `timeout` (zero: request_timeout) for JetStream to
  // create it (creation needs the meta leader). Errors: NOT_FOUND when the stream does not
  // exist; INVALID_ARGUMENT when `subject` is not one of its subjects; UNAVAILABLE /
  // DEADLINE_EXCEEDED.
  absl::StatusOr<std::unique_ptr<SubjectReader>> ReadSubject(
      absl::string_view stream, absl::string_view subject, uint64_t start_sequence,
      absl::Duration timeout = absl::ZeroDuration());

  // Core NATS. Sends `data` to `subject`'s current subscribers, without waiting (libnats buffers
  // it and flushes it on its own thread) and without any guarantee: nothing is stored, a
  // message sent while the connection is down is buffered for the reconnect or lost. Do not
  // send to a subject a JetStream stream takes (it would be stored there). Errors:
  // INVALID_ARGUMENT for a bad subject; UNAVAILABLE when the connection is closed.
  absl::Status PublishCore(absl::string_view subject, absl::string_view data);
  // Calls `handler` for every message sent to `subject` (which may hold wildcards, `*` and `>`)
  // from now on, one message at a time, on a libnats thread; the subscription survives
  // reconnects (messages sent while disconnected are lost). Errors: INVALID_ARGUMENT for a bad
  // subject; UNAVAILABLE when the connection is closed.
  absl::StatusOr<std::unique_ptr<CoreSubscription>> Subscribe(absl::string_view subject,
                                                              CoreMessageHandler handler);

 private:
  NatsClient(__natsConnection* connection, __jsCtx* js, absl::Duration request_timeout,
             std::unique_ptr<AsyncAcks> async_acks);

  // Declared first: destroyed after the connection (its handler runs on libnats' threads).
  std::unique_ptr<AsyncAcks> async_acks_;
  __natsConnection* connection_;
  __jsCtx* js_;
  const absl::Duration request_timeout_;
};

}  // namespace tributary::nats

#endif  // TRIBUTARY_NATS_NATS_CLIENT_H_
