// The shard log on NATS JetStream (issue 20, cluster mode part 2): a Tributary stream's records
// kept in a replicated JetStream stream, per shard. The JetStream implementation of the store's
// ShardLog seam (../shard_log.h; ShardStoreOptions::log). Layout, message format and the
// reasons: ../NOTES.md ("The ShardLog seam").
//
// Sequence numbers. A record's sequence number is its message's JetStream sequence << 10 | its
// index in the message. They are strictly increasing within a shard and never reused, also after
// server restarts and leader changes (JetStream never reuses a stream's sequences, and a
// Tributary stream id, which names the JetStream stream, is never reused). They are not
// contiguous: 0x1400, 0x1401, 0x1402, then 0x1C00 (the next message of the shard).
//
// Appends. Append stores one PutRecords call's records of one shard as one message (or several
// "parts" when they exceed the message limit), each with a message id made of the front-end id,
// the call, the shard and the part, so that a retry is stored once (JetStream de-duplicates ids
// within the stream's duplicate window). The call succeeds only when every part is acknowledged.
// A part whose outcome stayed unknown (no ack within the call's deadline) is kept and
// re-published, with the same id, by the shard's next Append before that Append's own records:
// a retry never lands after newer records of the same shard from this log object. Appends to one
// shard take turns (in call order of arrival); appends to different shards run concurrently.
// Group commit: the Append whose turn it is also takes the records of the Appends waiting behind
// it on that shard (while they fit in one message) and publishes them with its own, as one
// message with an id of its own (`<front end>.g<n>.<shard>.<part>`); those Appends return its
// outcome. They were all waiting while the shard's previous message was in flight, so none was
// acknowledged before another began: their order is free, and one message of a shard is still
// in flight at a time.
//
// Example: the records of call 7 to shard 3 of stream 12.
//   ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, log->Append(12, 3, 7, {{"key", "data"}}));
//   ASSIGN_OR_RETURN(LogRead read, log->Read(12, 3, seqs[0], 100, 1 << 20));
//
// Thread-safe. `client` and `clock` must outlive the log. Time: backoff and call deadlines on
// `clock`'s monotonic reading; arrival times are JetStream's (the stream leader's wall clock).
#ifndef TRIBUTARY_SHARD_STORE_JETSTREAM_JETSTREAM_SHARD_LOG_H_
#define TRIBUTARY_SHARD_STORE_JETSTREAM_JETSTREAM_SHARD_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "nats/nats_client.h"
#include "shard_store/jetstream/shard_readers.h"
#include "shard_store/shard_log.h"

namespace tributary::shard_store::jetstream {

// Bits of a sequence number that hold the record's index in its message.
inline constexpr int kIndexBits = 10;
inline constexpr int kMaxRecordsPerMessage = 1 << kIndexBits;

// Headroom for the message's headers below the server's max_payload.
inline constexpr int64_t kHeaderHeadroomBytes = 4096;

struct JetStreamShardLogOptions {
  // Part of every message id; must differ between processes and between starts of one process
  // (e.g. host, pid and start time, or a random 64-bit value). Not empty, no '.'.
  std::string front_end_id;
  // The JetStream names of a Tributary stream: stream `<prefix>_<id>`, subjects
  // `<prefix>.<id>.<shard>` and `<prefix>.<id>.ctl`. One prefix per Tributary installation
  // sharing the NATS cluster (stream ids are only unique within one). Letters, digits, '-'.
  std::string name_prefix = "trib";
  // Copies of every record (the cluster's size at most; 1 on a single server).
  int replicas = 3;
  // The JetStream duplicate window: how long a retried part is recognised. Must exceed
  // append_timeout by a wide margin (a part pending after a failed call is retried later).
  absl::Duration duplicate_window = absl::Minutes(10);
  // One publish attempt's wait for its ack.
  absl::Duration attempt_timeout = absl::Seconds(2);
  // An Append's whole deadline: its turn, its retries, its parts.
  absl::Duration append_timeout = absl::Seconds(30);
  // The largest message body; 0: the server's max_payload minus kHeaderHeadroomBytes.
  int64_t max_message_bytes = 0;
  // Sequential reads (a read starting where the previous one of the shard stopped) from an
  // ordered consumer kept per (stream, shard, position); false: every read by direct gets.
  // (../NOTES.md, "Sequential reads by ordered consumer".)
  bool ordered_reads = true;
  ShardReadersOptions readers;
  // How long a read waits for JetStream to create an ordered consumer (then direct gets).
  absl::Duration consumer_create_timeout = absl::Seconds(1);
  // How long a read of an open shard waits for its consumer to deliver a record known to be
  // stored (at or below `upper`) before reading it by direct get. The consumer's message left
  // the stream's leader when the record was acknowledged, before the tip moved.
  absl::Duration consumer_wait = absl::Milliseconds(5);
};

// A record to append.
using LogRecordView = LogEntry;

// A record read back.
struct LogRecord {
  uint64_t sequence_number = 0;
  absl::Time arrival;  // when JetStream stored its message
  std::string partition_key;
  std::string data;
};

struct LogRead {
  std::vector<LogRecord> records;
  // Where the next Read continues: after the last record returned, or (when the shard had
  // nothing more) at or below the next record to come.
  uint64_t next_sequence_number = 0;
};

class JetStreamShardLog : public ShardLog {
 public:
  // Errors: INVALID_ARGUMENT for a bad front_end_id, replicas < 1, a duplicate window not longer
  // than append_timeout, or (max_message_bytes unset) a server max_payload that cannot carry a
  // maximum record (1 MiB of key and data) with its headers.
  static absl::StatusOr<std::unique_ptr<JetStreamShardLog>> Create(
      nats::NatsClient& client, Clock& clock, JetStreamShardLogOptions options);

  // Creates the JetStream stream of Tributary stream `stream_id` with a subject per shard in
  // `shards` (the open shards) and the control subject; records older than `retention` expire.
  // Idempotent (a second call with the same arguments returns OK). Errors: ALREADY_EXISTS when
  // the stream exists with other shards or retention; those of NatsClient::CreateStream.
  absl::Status CreateStream(uint64_t stream_id, absl::Span<const uint32_t> shards,
                            absl::Duration retention) override;
  // Deletes the stream and every record. Errors: NOT_FOUND; UNAVAILABLE / DEADLINE_EXCEEDED.
  absl::Status DeleteStream(uint64_t stream_id) override;
  // Changes how long records are kept. Errors: NOT_FOUND; UNAVAILABLE / DEADLINE_EXCEEDED.
  absl::Status SetRetention(uint64_t stream_id, absl::Duration retention) override;
  // Closes shards `parents` and opens `children` (a split: one parent, two children; a merge:
  // two parents, one child): the parents' subjects are swapped for the children's, then a close
  // marker is stored. Returns the parents' ending sequence number, above every record they hold;
  // appends to a parent fail from then on. Idempotent: a retry with the same parents (in any
  // order, from any front end) returns the same ending number — within the duplicate window by
  // the marker's message id, after it by finding the marker stored (a direct get may be served
  // by a replica a moment behind and miss it: then a second marker is stored, also above every
  // record of the parents; the store keeps whichever number reached etcd first). Errors:
  // NOT_FOUND; UNAVAILABLE / DEADLINE_EXCEEDED (the update may have been applied: retry).
  absl::StatusOr<uint64_t> CloseShards(uint64_t stream_id, absl::Span<const uint32_t> parents,
                                       absl::Span<const uint32_t> children) override;

  // Appends the records of call `call` (unique per front end, see the options) to shard `shard`,
  // in order. Returns each record's sequence number. Idempotent for the same (call, shard,
  // records) within the duplicate window when no other Append of the shard was waiting (the
  // records went in a message of the call's own id): a retry returns the same numbers and
  // stores nothing again. (The store never repeats a call: its retries are inside Append.) Errors: INVALID_ARGUMENT for no records, more than 500, or a record over the message
  // limit; FAILED_PRECONDITION when the shard is closed (not one of the stream's subjects: re-route
  // the records); NOT_FOUND when the stream does not exist; DEADLINE_EXCEEDED / UNAVAILABLE when
  // not every part was acknowledged within append_timeout: some records may have been stored
  // (a pending part is retried by the shard's next Append, see the top of this file).
  absl::StatusOr<std::vector<uint64_t>> Append(uint64_t stream_id, uint32_t shard, uint64_t call,
                                               absl::Span<const LogRecordView> records) override;
  // Append for several shards of one call at once: every shard's turn is taken together, then
  // the shards' messages are published concurrently (one asynchronous batch per round: each
  // shard's next message, so at most one message of a shard is in flight), retrying unknown
  // outcomes with the same ids. Each shard's result is what Append would return for it, with the
  // same guarantees (pending parts first, a retry never after newer records of the shard).
  // INVALID_ARGUMENT for a shard named twice (both entries).
  std::vector<absl::StatusOr<std::vector<uint64_t>>> AppendCall(
      uint64_t stream_id, uint64_t call, absl::Span<const ShardAppend> shards) override;

  // Reads shard `shard`'s records with sequence numbers ≥ `from`, in order: at most `limit`
  // records, and no more than `max_bytes` of keys and data except that the first record is
  // always returned. Reads what the replica that answers holds (a replica may lag behind the
  // leader by a moment: a scan reads again later). Errors: INVALID_ARGUMENT for limit < 1;
  // DATA_LOSS for a message that does not decode; DEADLINE_EXCEEDED (also for a stream that
  // does not exist: nobody answers direct gets for it); UNAVAILABLE.
  absl::StatusOr<LogRead> Read(uint64_t stream_id, uint32_t shard, uint64_t from, int limit,
                               int64_t max_bytes);

  // The position of the shard's first record stored at or after `at` (AT_TIMESTAMP): its
  // sequence number, or, when every record is older, a position at or below the next record to
  // come. A binary search over the stream's sequences, one direct get per probe (about log2 of
  // the stream's messages). Errors: NOT_FOUND when the stream does not exist; those of Read.
  absl::StatusOr<uint64_t> FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard, absl::Time at);

  // The shard's last sequence number (0 when it holds no record). Errors as Read.
  absl::StatusOr<uint64_t> LastSequence(uint64_t stream_id, uint32_t shard);

  // --- The rest of the ShardLog seam (../shard_log.h) ---------------------------------------
  bool StoreNumbers() const override { return false; }
  // Nothing to stage: JetStream keeps no records in the store's RocksDB database, and MaxAge
  // expires them (DeleteStream drops the stream).
  void StageDeleteStream(StoreBatch*, uint64_t) override {}
  void StageAppend(StoreBatch*, uint64_t, uint32_t, uint64_t, int64_t,
                   absl::Span<const LogEntry>) override {}
  void StageTrim(StoreBatch*, uint64_t, uint32_t, uint64_t, uint64_t) override {}
  // Reads up to `upper`. A read of an open shard that starts where an earlier read of the
  // shard stopped takes the ordered consumer cached there (the second such read creates it)
  // and passes on the messages it has received (waiting up to consumer_wait for the next one
  // when a record is still due); what it has not received then, and every other read (a seek,
  // AT_TIMESTAMP's first read, a closed shard), is read by direct get, message by message. A consumer error drops the consumer (reads go on by direct get; a later
  // sequential read creates another). By direct get, the read is complete up to `upper`
  // (next = upper + 1) only when the replica that answered holds a message at or above upper's
  // (JetStream replicas apply messages in order) or the stream's leader has nothing more of the
  // shard; when it may lag, next stays where the read stopped and the next read asks again.
  // From a consumer (gap-free, in stream order), when it delivered a message above upper's.
  absl::StatusOr<LogReadResult> Read(const LogReadRequest& request,
                                     LogRecordVisitor visit) override;
  // Counters of the reads' consumers and direct gets.
  ShardReadStats read_stats() { return readers_.stats(); }
  // FindFirstAtOrAfter by time, kept within [from, to + 1].
  absl::StatusOr<uint64_t> FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard, uint64_t from,
                                              uint64_t to, int64_t min_arrival_ms) override;
  // The shard's last record: its number and when JetStream stored it.
  absl::StatusOr<LogLast> Last(uint64_t stream_id, uint32_t shard) override;
  // Core NATS (nothing stored): a message to TipSubject(stream_id, shard) holding `last` in
  // decimal; WatchAppends subscribes to every tip subject of this name prefix.
  void AnnounceAppend(uint64_t stream_id, uint32_t shard, uint64_t last) override;
  // One message for all of a call's shards: to CallTipSubject(stream_id), holding
  // `<shard>:<last>` per tip in decimal, comma-separated (a call over 64 shards sent 64 before:
  // BENCHMARKS.md Run 34). WatchAppends understands both forms; a front-end of before this
  // ignores the call form (a 4th token that is not a number), so during a rolling upgrade its
  // readers of other front-ends' appends wait for their next read at the tip, as when an
  // announcement is lost.
  void AnnounceAppends(uint64_t stream_id, absl::Span<const ShardTip> tips) override;
  absl::StatusOr<std::unique_ptr<AppendWatch>> WatchAppends(AppendHandler handler) override;

  // Names (for tests and operators).
  std::string StreamName(uint64_t stream_id) const;
  std::string ShardSubject(uint64_t stream_id, uint32_t shard) const;
  std::string ControlSubject(uint64_t stream_id) const;
  // The stream sequence of the close marker `body` of `parents` (sorted) if one is stored.
  absl::StatusOr<std::optional<uint64_t>> FindCloseMarker(uint64_t stream_id,
                                                          absl::Span<const uint32_t> parents,
                                                          const std::string& body);
  // `<prefix>.tips.<id>.<shard>`: four tokens, so no stream's subject (three) takes it.
  std::string TipSubject(uint64_t stream_id, uint32_t shard) const;
  // `<prefix>.tips.<id>.call`: a call's announcement of several shards (AnnounceAppends).
  std::string CallTipSubject(uint64_t stream_id) const;

 private:
  // An encoded message whose publish had an unknown outcome.
  struct Part {
    std::string msg_id;
    std::string body;
    size_t first_record = 0;  // index in its call's records
    size_t count = 0;
  };
  // One call's records of one shard, encoded (each record's entry, back to back), while the
  // call waits for the shard's turn. The call that holds the turn may take it into its own
  // message (group commit: `taken`), and then sets its outcome (`done`, `status`, numbers).
  // Shared: the call that took it and the call it belongs to (which may have given up).
  struct Contribution {
    std::string entries;          // kMessageHeaderSize bytes of room, then the entries
    std::vector<uint32_t> sizes;  // each record's entry size
    int64_t bytes = 0;            // of the entries
    bool taken = false;
    bool done = false;
    absl::Status status;
    std::vector<uint64_t> sequence_numbers;
  };
  // A shard's append queue: tickets in order of arrival (an Append publishes while `serving`
  // is its ticket), tickets given up by Appends whose deadline passed while they waited or
  // whose records another Append took, the records of the Appends waiting for their turn, and
  // the parts whose outcome is still unknown (re-published first by the next turn).
  struct ShardPipe {
    uint64_t next_ticket = 0;
    uint64_t serving = 0;
    std::set<uint64_t> abandoned;
    std::map<uint64_t, std::shared_ptr<Contribution>> waiting;  // by ticket
    std::vector<Part> pending;
  };

  JetStreamShardLog(nats::NatsClient& client, Clock& clock, JetStreamShardLogOptions options);
  nats::StreamConfig Config(uint64_t stream_id, std::vector<std::string> subjects,
                            absl::Duration retention) const;
  // Checks a shard's records of a call (1-500, each fits in a message) and encodes them.
  absl::StatusOr<std::shared_ptr<Contribution>> Encode(absl::Span<const LogRecordView> records) const;
  // Splits the records of `members` (in this order) into parts with ids `<id_base>.<part>`
  // (deterministic: a retry splits the same way). Moves the entries out of the members.
  std::vector<Part> Split(const std::string& id_base,
                          absl::Span<const std::shared_ptr<Contribution>> members) const;
  // Ends the turn of the append holding `key`'s pipe and skips abandoned tickets.
  void PassTurn(const std::pair<uint64_t, uint32_t>& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes `body` with `msg_id` to `subject` until acknowledged, retrying unknown outcomes
  // until `deadline`. A closed shard (no stream takes the subject any more) is
  // FAILED_PRECONDITION.
  absl::StatusOr<nats::PubAck> PublishUntil(uint64_t stream_id, const std::string& subject,
                                            const std::string& body, const std::string& msg_id,
                                            MonotonicTime deadline);
  int64_t MessageLimit() const;
  // Read's direct-get part: reads from `*position` on, adding to `out`.
  absl::Status ReadByDirectGet(const LogReadRequest& request, LogRecordVisitor visit,
                               uint64_t* position, LogReadResult* out, int64_t* gets);
  // Read's consumer part: passes on what `reader`'s consumer has received, from `*position`
  // on, adding to `out`. Returns true when the read is done (a bound reached, or complete up
  // to `upper`); false when the consumer has nothing more yet (or failed: then it is dropped).
  absl::StatusOr<bool> ReadFromConsumer(const LogReadRequest& request, LogRecordVisitor visit,
                                        ShardReaders::Reader* reader, uint64_t* position,
                                        LogReadResult* out, int64_t* messages);

  nats::NatsClient& client_;
  Clock& clock_;
  const JetStreamShardLogOptions options_;
  ShardReaders readers_;

  absl::Mutex mu_;
  std::map<std::pair<uint64_t, uint32_t>, ShardPipe> pipes_ ABSL_GUARDED_BY(mu_);
  // Numbers the messages that carry several calls' records (their ids: `<front end>.g<n>...`).
  uint64_t next_group_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::shard_store::jetstream

#endif  // TRIBUTARY_SHARD_STORE_JETSTREAM_JETSTREAM_SHARD_LOG_H_
