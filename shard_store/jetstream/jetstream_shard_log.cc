// Invariants:
//   - a shard's messages are published by one Append at a time per log object (the pipe's
//     tickets), so this object's messages of a shard are stored in the order their Appends took
//     their turns, with pending parts (unknown outcome) re-published before anything newer;
//   - a part's message id depends only on (front end, call, shard, part), and its split only on
//     the records and the message limit, so a retried call produces the same ids and bodies;
//   - sequence number = JetStream sequence << kIndexBits | index, index < kMaxRecordsPerMessage.
#include "shard_store/jetstream/jetstream_shard_log.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "common/status_macros.h"

namespace tributary::shard_store::jetstream {
namespace {

constexpr char kFormatVersion = 1;
constexpr size_t kMessageHeaderSize = 1 + 4;  // version, be32 count
constexpr size_t kEntryHeaderSize = 2 + 4;    // be16 key length, be32 data length
// What one part must be able to carry: the largest record (Kinesis: 1 MiB of key and data,
// a key of up to 256 characters of up to 4 bytes in UTF-8).
constexpr int64_t kLargestRecordBytes = (1 << 20) + 1024;
constexpr int kMaxRecordsPerCall = 500;
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);
// Markers of a stream's control subject CloseShards looks through for one of its parents.
constexpr int kMaxMarkersScanned = 10000;

void AppendBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t ReadBigEndian(absl::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

size_t EntrySize(const LogRecordView& r) {
  return kEntryHeaderSize + r.partition_key.size() + r.data.size();
}

// A decoded message: its records' keys and data point into the message.
struct DecodedEntry {
  absl::string_view partition_key;
  absl::string_view data;
};

absl::StatusOr<std::vector<DecodedEntry>> DecodeMessage(absl::string_view body,
                                                        absl::string_view what) {
  auto bad = [&] { return absl::DataLossError(absl::StrCat("undecodable record message ", what)); };
  if (body.size() < kMessageHeaderSize || body[0] != kFormatVersion) return bad();
  const uint64_t count = ReadBigEndian(body.substr(1), 4);
  if (count == 0 || count > kMaxRecordsPerMessage) return bad();
  body.remove_prefix(kMessageHeaderSize);
  std::vector<DecodedEntry> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (body.size() < kEntryHeaderSize) return bad();
    const size_t key_len = ReadBigEndian(body, 2);
    const size_t data_len = ReadBigEndian(body.substr(2), 4);
    if (body.size() < kEntryHeaderSize + key_len + data_len) return bad();
    out.push_back({body.substr(kEntryHeaderSize, key_len),
                   body.substr(kEntryHeaderSize + key_len, data_len)});
    body.remove_prefix(kEntryHeaderSize + key_len + data_len);
  }
  if (!body.empty()) return bad();
  return out;
}

uint64_t SequenceNumber(uint64_t message_sequence, uint64_t index) {
  return (message_sequence << kIndexBits) | index;
}

bool OutcomeUnknown(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

std::string JetStreamShardLog::StreamName(uint64_t stream_id) const {
  return absl::StrCat(options_.name_prefix, "_", stream_id);
}

std::string JetStreamShardLog::ShardSubject(uint64_t stream_id, uint32_t shard) const {
  return absl::StrCat(options_.name_prefix, ".", stream_id, ".", shard);
}

std::string JetStreamShardLog::ControlSubject(uint64_t stream_id) const {
  return absl::StrCat(options_.name_prefix, ".", stream_id, ".ctl");
}

std::string JetStreamShardLog::TipSubject(uint64_t stream_id, uint32_t shard) const {
  return absl::StrCat(options_.name_prefix, ".tips.", stream_id, ".", shard);
}

std::string JetStreamShardLog::CallTipSubject(uint64_t stream_id) const {
  return absl::StrCat(options_.name_prefix, ".tips.", stream_id, ".call");
}

void JetStreamShardLog::AnnounceAppend(uint64_t stream_id, uint32_t shard, uint64_t last) {
  // Best effort: a failure only delays other front-ends' readers to their next read.
  client_.PublishCore(TipSubject(stream_id, shard), absl::StrCat(last)).IgnoreError();
}

void JetStreamShardLog::AnnounceAppends(uint64_t stream_id, absl::Span<const ShardTip> tips) {
  if (tips.empty()) return;
  if (tips.size() == 1) return AnnounceAppend(stream_id, tips[0].shard, tips[0].last);
  // Each announcement costs every NATS server on its way and every front-end a message,
  // whatever its size: one a call, not one a shard (a call over 64 shards made NATS carry as
  // many announcements as records' messages).
  std::string body;
  body.reserve(tips.size() * 24);
  for (const ShardTip& t : tips) {
    if (!body.empty()) body.push_back(',');
    absl::StrAppend(&body, t.shard, ":", t.last);
  }
  client_.PublishCore(CallTipSubject(stream_id), body).IgnoreError();  // best effort, as above
}

namespace {

class TipWatch : public AppendWatch {
 public:
  explicit TipWatch(std::unique_ptr<nats::CoreSubscription> sub) : sub_(std::move(sub)) {}

 private:
  std::unique_ptr<nats::CoreSubscription> sub_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AppendWatch>> JetStreamShardLog::WatchAppends(
    AppendHandler handler) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<nats::CoreSubscription> sub,
      client_.Subscribe(absl::StrCat(options_.name_prefix, ".tips.>"),
                        [handler = std::move(handler)](absl::string_view subject,
                                                       absl::string_view data) {
                          // <prefix>.tips.<id>.<shard> holding <last>, or
                          // <prefix>.tips.<id>.call holding <shard>:<last>,...; anything
                          // else (or any malformed tip) is ignored.
                          std::vector<absl::string_view> parts = absl::StrSplit(subject, '.');
                          uint64_t stream_id = 0, last = 0;
                          uint32_t shard = 0;
                          if (parts.size() != 4 || !absl::SimpleAtoi(parts[2], &stream_id)) {
                            return;
                          }
                          if (parts[3] == "call") {
                            for (absl::string_view tip : absl::StrSplit(data, ',')) {
                              const size_t colon = tip.find(':');
                              if (colon != absl::string_view::npos &&
                                  absl::SimpleAtoi(tip.substr(0, colon), &shard) &&
                                  absl::SimpleAtoi(tip.substr(colon + 1), &last)) {
                                handler(stream_id, shard, last);
                              }
                            }
                            return;
                          }
                          if (!absl::SimpleAtoi(parts[3], &shard) ||
                              !absl::SimpleAtoi(data, &last)) {
                            return;
                          }
                          handler(stream_id, shard, last);
                        }));
  return std::unique_ptr<AppendWatch>(new TipWatch(std::move(sub)));
}

absl::StatusOr<std::unique_ptr<JetStreamShardLog>> JetStreamShardLog::Create(
    nats::NatsClient& client, Clock& clock, JetStreamShardLogOptions options) {
  if (options.front_end_id.empty() || absl::StrContains(options.front_end_id, '.')) {
    return absl::InvalidArgumentError("front_end_id: must be non-empty, without '.'");
  }
  if (options.name_prefix.empty() ||
      !std::all_of(options.name_prefix.begin(), options.name_prefix.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
      })) {
    return absl::InvalidArgumentError("name_prefix: must be letters, digits and '-'");
  }
  if (options.replicas < 1) return absl::InvalidArgumentError("replicas: must be at least 1");
  if (options.duplicate_window <= options.append_timeout) {
    return absl::InvalidArgumentError(
        "duplicate_window: must be longer than append_timeout (pending parts are retried "
        "after their call failed)");
  }
  std::unique_ptr<JetStreamShardLog> log(new JetStreamShardLog(client, clock, std::move(options)));
  const int64_t needed =
      static_cast<int64_t>(kMessageHeaderSize + kEntryHeaderSize) + kLargestRecordBytes;
  if (log->options_.max_message_bytes == 0 && log->MessageLimit() < needed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the NATS server's max_payload (", client.max_payload(),
        " bytes) cannot carry a maximum record: set max_payload to at least 2MB (nats/NOTES.md)"));
  }
  return log;
}

JetStreamShardLog::JetStreamShardLog(nats::NatsClient& client, Clock& clock,
                                     JetStreamShardLogOptions options)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      readers_(clock, options_.readers) {}

int64_t JetStreamShardLog::MessageLimit() const {
  if (options_.max_message_bytes > 0) return options_.max_message_bytes;
  return client_.max_payload() - kHeaderHeadroomBytes;
}

nats::StreamConfig JetStreamShardLog::Config(uint64_t stream_id, std::vector<std::string> subjects,
                                             absl::Duration retention) const {
  nats::StreamConfig config;
  config.name = StreamName(stream_id);
  config.subjects = std::move(subjects);
  config.max_age = retention;
  config.file_storage = true;
  config.replicas = options_.replicas;
  config.duplicate_window = options_.duplicate_window;
  config.allow_direct = true;
  return config;
}

absl::Status JetStreamShardLog::CreateStream(uint64_t stream_id, absl::Span<const uint32_t> shards,
                                             absl::Duration retention) {
  std::vector<std::string> subjects;
  for (uint32_t shard : shards) subjects.push_back(ShardSubject(stream_id, shard));
  subjects.push_back(ControlSubject(stream_id));
  return client_.CreateStream(Config(stream_id, std::move(subjects), retention)).status();
}

absl::Status JetStreamShardLog::DeleteStream(uint64_t stream_id) {
  return client_.DeleteStream(StreamName(stream_id));
}

absl::Status JetStreamShardLog::SetRetention(uint64_t stream_id, absl::Duration retention) {
  ASSIGN_OR_RETURN(nats::StreamInfo info, client_.GetStreamInfo(StreamName(stream_id)));
  info.config.max_age = retention;
  return client_.UpdateStream(info.config).status();
}

absl::StatusOr<uint64_t> JetStreamShardLog::CloseShards(uint64_t stream_id,
                                                        absl::Span<const uint32_t> parents,
                                                        absl::Span<const uint32_t> children) {
  ASSIGN_OR_RETURN(nats::StreamInfo info, client_.GetStreamInfo(StreamName(stream_id)));
  std::vector<std::string> subjects;
  for (const std::string& s : info.config.subjects) {
    const bool parent = std::any_of(parents.begin(), parents.end(), [&](uint32_t p) {
      return s == ShardSubject(stream_id, p);
    });
    if (!parent) subjects.push_back(s);
  }
  for (uint32_t child : children) {
    const std::string s = ShardSubject(stream_id, child);
    if (std::find(subjects.begin(), subjects.end(), s) == subjects.end()) subjects.push_back(s);
  }
  if (subjects != info.config.subjects) {
    info.config.subjects = subjects;
    RETURN_IF_ERROR(client_.UpdateStream(info.config).status());
  }
  // The marker is stored after the update returned, so above every record of the parents (the
  // update's own reply is not: records in flight can land above it, SCALEOUT.md). Its id and
  // body name the parents (shard indexes are never reused), sorted, so every caller names one
  // reshard alike: within the duplicate window a retry gets the same marker back from
  // JetStream's de-duplication; after it (a reshard finished long after its front-end died),
  // the marker already stored is found above the parents' last records and returned.
  std::vector<uint32_t> sorted(parents.begin(), parents.end());
  std::sort(sorted.begin(), sorted.end());
  const std::string body = absl::StrCat("close ", absl::StrJoin(sorted, "-"));
  const std::string control = ControlSubject(stream_id);
  ASSIGN_OR_RETURN(std::optional<uint64_t> stored,
                   FindCloseMarker(stream_id, sorted, body));
  if (stored.has_value()) return SequenceNumber(*stored, 0);
  ASSIGN_OR_RETURN(nats::PubAck ack,
                   PublishUntil(stream_id, control, body,
                                absl::StrCat("close.", absl::StrJoin(sorted, "-")),
                                clock_.MonotonicNow() + options_.append_timeout));
  return SequenceNumber(ack.sequence, 0);
}

absl::StatusOr<std::optional<uint64_t>> JetStreamShardLog::FindCloseMarker(
    uint64_t stream_id, absl::Span<const uint32_t> parents, const std::string& body) {
  const std::string stream = StreamName(stream_id);
  // A marker of these parents lies above every record of theirs.
  uint64_t from = 1;
  for (uint32_t p : parents) {
    absl::StatusOr<nats::StoredMessage> last =
        client_.DirectGetLast(stream, ShardSubject(stream_id, p));
    if (absl::IsNotFound(last.status())) continue;
    if (!last.ok()) return last.status();
    from = std::max(from, last->sequence + 1);
  }
  // The control subject holds one marker per reshard of the stream (within its retention).
  const std::string control = ControlSubject(stream_id);
  for (int i = 0; i < kMaxMarkersScanned; ++i) {
    absl::StatusOr<nats::StoredMessage> m = client_.DirectGetNext(stream, control, from);
    if (absl::IsNotFound(m.status())) return std::nullopt;
    if (!m.ok()) return m.status();
    if (m->data == body) return m->sequence;
    from = m->sequence + 1;
  }
  return std::nullopt;  // not among the first markers: a second one is harmless (see header)
}

absl::StatusOr<nats::PubAck> JetStreamShardLog::PublishUntil(uint64_t stream_id,
                                                             const std::string& subject,
                                                             const std::string& body,
                                                             const std::string& msg_id,
                                                             MonotonicTime deadline) {
  absl::Duration backoff = kFirstBackoff;
  nats::PublishOptions options;
  options.msg_id = msg_id;
  while (true) {
    const absl::Duration left = deadline - clock_.MonotonicNow();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("publishing ", msg_id, ": no ack within the append deadline"));
    }
    options.timeout = std::min(options_.attempt_timeout, left);
    absl::StatusOr<nats::PubAck> ack = client_.Publish(subject, body, options);
    if (ack.ok() || !OutcomeUnknown(ack.status())) return ack;
    if (absl::IsUnavailable(ack.status())) {
      // No responders: the stream may have dropped the subject (the shard closed) or be gone;
      // or its leader is being elected (then the info call fails too, and we retry).
      absl::StatusOr<nats::StreamInfo> info = client_.GetStreamInfo(StreamName(stream_id));
      if (absl::IsNotFound(info.status())) {
        return absl::NotFoundError(absl::StrCat("stream ", stream_id, " does not exist"));
      }
      if (info.ok() && std::find(info->config.subjects.begin(), info->config.subjects.end(),
                                 subject) == info->config.subjects.end()) {
        return absl::FailedPreconditionError(
            absl::StrCat(subject, " is closed (not a subject of ", StreamName(stream_id), ")"));
      }
    }
    if (clock_.MonotonicNow() + backoff >= deadline) return ack.status();
    clock_.SleepFor(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

absl::StatusOr<std::shared_ptr<JetStreamShardLog::Contribution>> JetStreamShardLog::Encode(
    absl::Span<const LogRecordView> records) const {
  if (records.empty() || records.size() > kMaxRecordsPerCall) {
    return absl::InvalidArgumentError("records: must hold 1-500 records");
  }
  const int64_t limit = MessageLimit();
  auto c = std::make_shared<Contribution>();
  size_t size = kMessageHeaderSize;
  for (size_t i = 0; i < records.size(); ++i) {
    const int64_t entry = static_cast<int64_t>(EntrySize(records[i]));
    if (static_cast<int64_t>(kMessageHeaderSize) + entry > limit) {
      return absl::InvalidArgumentError(absl::StrCat("records[", i, "]: ", entry,
                                                     " bytes do not fit in a message of ", limit));
    }
    size += entry;
  }
  c->entries.reserve(size);
  c->entries.append(kMessageHeaderSize, '\0');
  c->sizes.reserve(records.size());
  for (const LogRecordView& r : records) {
    AppendBigEndian(&c->entries, r.partition_key.size(), 2);
    AppendBigEndian(&c->entries, r.data.size(), 4);
    c->entries.append(r.partition_key.data(), r.partition_key.size());
    c->entries.append(r.data.data(), r.data.size());
    c->sizes.push_back(static_cast<uint32_t>(EntrySize(r)));
  }
  c->bytes = static_cast<int64_t>(size - kMessageHeaderSize);
  c->sequence_numbers.resize(records.size());
  return c;
}

std::vector<JetStreamShardLog::Part> JetStreamShardLog::Split(
    const std::string& id_base, absl::Span<const std::shared_ptr<Contribution>> members) const {
  const int64_t limit = MessageLimit();
  size_t total = 0;
  int64_t total_bytes = 0;
  for (const auto& m : members) total += m->sizes.size(), total_bytes += m->bytes;
  std::vector<Part> parts;
  // The common case, one call's records in one message: its buffer becomes the body.
  if (members.size() == 1 && total <= kMaxRecordsPerMessage &&
      static_cast<int64_t>(kMessageHeaderSize) + members[0]->bytes <= limit) {
    Part part;
    part.msg_id = absl::StrCat(id_base, ".0");
    part.body = std::move(members[0]->entries);
    part.body[0] = kFormatVersion;
    for (int i = 0; i < 4; ++i) part.body[1 + i] = static_cast<char>(total >> (8 * (3 - i)));
    part.first_record = 0;
    part.count = total;
    parts.push_back(std::move(part));
    return parts;
  }
  // Entries in order over the members; a part ends before the entry that would not fit.
  Part part;
  auto finish = [&](size_t next_first) {
    if (part.count == 0) return;
    part.msg_id = absl::StrCat(id_base, ".", parts.size());
    part.body[0] = kFormatVersion;
    for (int i = 0; i < 4; ++i) part.body[1 + i] = static_cast<char>(part.count >> (8 * (3 - i)));
    parts.push_back(std::move(part));
    part = Part();
    part.first_record = next_first;
  };
  size_t index = 0;
  for (const auto& m : members) {
    size_t offset = kMessageHeaderSize;
    for (uint32_t entry : m->sizes) {
      if (part.count > 0 && (static_cast<int64_t>(part.body.size() + entry) > limit ||
                             part.count == kMaxRecordsPerMessage)) {
        finish(index);
      }
      if (part.count == 0) {
        part.first_record = index;
        part.body.reserve(kMessageHeaderSize + std::min(total_bytes, limit));
        part.body.assign(kMessageHeaderSize, '\0');
      }
      part.body.append(m->entries, offset, entry);
      offset += entry;
      total_bytes -= entry;
      ++part.count;
      ++index;
    }
    m->entries.clear();
    m->entries.shrink_to_fit();
  }
  finish(index);
  return parts;
}

void JetStreamShardLog::PassTurn(const std::pair<uint64_t, uint32_t>& key) {
  ShardPipe& pipe = pipes_[key];
  ++pipe.serving;
  while (pipe.abandoned.erase(pipe.serving) > 0) ++pipe.serving;
  if (pipe.serving == pipe.next_ticket && pipe.pending.empty()) pipes_.erase(key);
}

absl::StatusOr<std::vector<uint64_t>> JetStreamShardLog::Append(
    uint64_t stream_id, uint32_t shard, uint64_t call, absl::Span<const LogRecordView> records) {
  const ShardAppend one{shard, records};
  return std::move(AppendCall(stream_id, call, absl::MakeConstSpan(&one, 1))[0]);
}

std::vector<absl::StatusOr<std::vector<uint64_t>>> JetStreamShardLog::AppendCall(
    uint64_t stream_id, uint64_t call, absl::Span<const ShardAppend> shards) {
  std::vector<absl::StatusOr<std::vector<uint64_t>>> results(
      shards.size(), absl::InternalError("not appended"));
  // A shard taking part: its records (`own`), and, once its turn came, the records of later
  // calls it took (`members`, own first) and its messages (earlier pending parts first, then
  // the members' parts), the next one to publish, and how it ended. A lane whose records
  // another call took (`own->taken`) publishes nothing and waits for that call's outcome.
  struct Lane {
    size_t index = 0;  // in `shards`
    std::pair<uint64_t, uint32_t> key;
    std::string subject;
    uint64_t ticket = 0;
    std::shared_ptr<Contribution> own;
    std::vector<std::shared_ptr<Contribution>> members;
    std::string id_base;  // of the members' parts
    std::vector<Part> queue;
    size_t earlier = 0;  // queue[0, earlier) are earlier calls' pending parts
    size_t next = 0;
    std::vector<uint64_t> sequence_numbers;  // over the members' records, in order
    absl::Status status;         // set when the lane failed
    absl::Status unknown;        // the last unknown outcome of queue[next] (being retried)
    std::vector<Part> still_pending;
  };
  std::vector<Lane> lanes;
  std::set<uint32_t> seen;
  std::set<uint32_t> repeated;
  for (const ShardAppend& a : shards) {
    if (!seen.insert(a.shard).second) repeated.insert(a.shard);
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    if (repeated.count(shards[i].shard) > 0) {
      results[i] = absl::InvalidArgumentError(
          absl::StrCat("shard ", shards[i].shard, " appears twice in one call"));
      continue;
    }
    absl::StatusOr<std::shared_ptr<Contribution>> own = Encode(shards[i].records);
    if (!own.ok()) {
      results[i] = own.status();
      continue;
    }
    Lane lane;
    lane.index = i;
    lane.key = {stream_id, shards[i].shard};
    lane.subject = ShardSubject(stream_id, shards[i].shard);
    lane.own = *std::move(own);
    lanes.push_back(std::move(lane));
  }
  if (lanes.empty()) return results;

  // Take a ticket for every shard at once (so two calls' tickets are in the same order on every
  // shard they share: no cycle of waits), leave the records where the call holding the turn
  // can take them, then wait until every turn is ours or every record taken.
  const MonotonicTime deadline = clock_.MonotonicNow() + options_.append_timeout;
  const int64_t limit = MessageLimit();
  {
    absl::MutexLock lock(&mu_);
    for (Lane& lane : lanes) {
      ShardPipe& pipe = pipes_[lane.key];
      lane.ticket = pipe.next_ticket++;
      pipe.waiting[lane.ticket] = lane.own;
    }
    auto all_turns = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const Lane& lane : lanes) {
        if (!lane.own->taken && pipes_[lane.key].serving != lane.ticket) return false;
      }
      return true;
    };
    if (!clock_.AwaitWithDeadline(&mu_, absl::Condition(&all_turns), deadline)) {
      // Give the turns up: a turn already ours passes on, the others are skipped when reached.
      // Nothing of ours was published, except records another call took (outcome unknown).
      for (const Lane& lane : lanes) {
        if (lane.own->taken) {
          results[lane.index] = absl::DeadlineExceededError(absl::StrCat(
              "shard ", lane.key.second, ": waited for earlier appends; this call's records "
              "went with another call's message (outcome unknown)"));
          continue;
        }
        ShardPipe& pipe = pipes_[lane.key];
        pipe.waiting.erase(lane.ticket);
        if (pipe.serving == lane.ticket) {
          PassTurn(lane.key);
        } else {
          pipe.abandoned.insert(lane.ticket);
        }
        results[lane.index] = absl::DeadlineExceededError(absl::StrCat(
            "shard ", lane.key.second, ": waited for earlier appends (none of this call's "
            "records were stored)"));
      }
      return results;
    }
    for (Lane& lane : lanes) {
      if (lane.own->taken) continue;
      ShardPipe& pipe = pipes_[lane.key];
      pipe.waiting.erase(lane.ticket);
      // Group commit: the records of the calls waiting behind us on this shard go in our
      // message, in ticket order, while they fit in one (their tickets are skipped). They
      // arrived while the shard's previous message was in flight: none of them was
      // acknowledged before ours began, so their order among each other and ours is free.
      lane.members.push_back(lane.own);
      int64_t bytes = lane.own->bytes;
      size_t count = lane.own->sizes.size();
      for (auto it = pipe.waiting.begin(); it != pipe.waiting.end();) {
        const Contribution& c = *it->second;
        if (count + c.sizes.size() > kMaxRecordsPerMessage ||
            static_cast<int64_t>(kMessageHeaderSize) + bytes + c.bytes > limit) {
          break;
        }
        count += c.sizes.size();
        bytes += c.bytes;
        it->second->taken = true;
        lane.members.push_back(it->second);
        pipe.abandoned.insert(it->first);
        it = pipe.waiting.erase(it);
      }
      lane.id_base =
          lane.members.size() == 1
              ? absl::StrCat(options_.front_end_id, ".", call, ".", lane.key.second)
              : absl::StrCat(options_.front_end_id, ".g", next_group_++, ".", lane.key.second);
      std::vector<Part>& pending = pipe.pending;
      lane.earlier = pending.size();
      lane.queue.assign(std::make_move_iterator(pending.begin()),
                        std::make_move_iterator(pending.end()));
      pending.clear();
      lane.sequence_numbers.resize(count);
    }
  }
  // The members' buffers are ours alone once taken (their calls only read the outcome): build
  // the messages without the lock.
  for (Lane& lane : lanes) {
    if (lane.own->taken) continue;
    std::vector<Part> parts = Split(lane.id_base, lane.members);
    lane.queue.insert(lane.queue.end(), std::make_move_iterator(parts.begin()),
                      std::make_move_iterator(parts.end()));
  }

  // A lane's end on a definite error, or on an unknown outcome it can no longer retry.
  // `attempted`: queue[next] was published by this call (a part of this call never published
  // was not stored, so it is not kept pending).
  auto fail = [&](Lane& lane, const absl::Status& status, bool attempted = true) {
    const uint32_t shard = lane.key.second;
    const bool unknown = OutcomeUnknown(status) && (attempted || lane.next < lane.earlier);
    if (lane.next < lane.earlier) {
      // An earlier call's part. Closed shard: it landed before the close or never will.
      if (unknown) {
        lane.still_pending.assign(std::make_move_iterator(lane.queue.begin() + lane.next),
                                  std::make_move_iterator(lane.queue.begin() + lane.earlier));
        lane.status = WithContext(status, "an earlier append of shard ", shard,
                                  " is still unacknowledged (none of this call's records were "
                                  "stored)");
      } else {
        lane.status = status;
      }
      return;
    }
    if (unknown) lane.still_pending.push_back(std::move(lane.queue[lane.next]));
    lane.status = WithContext(status, "appending to shard ", shard, " (", lane.next - lane.earlier,
                              " of ", lane.queue.size() - lane.earlier, " parts stored)");
  };

  // Rounds: each lane's next message, all in one asynchronous batch (one message of a shard in
  // flight at a time: a retry cannot overtake a newer message of its shard).
  absl::Duration backoff = kFirstBackoff;
  std::vector<Lane*> active;
  std::vector<nats::OutgoingMessage> batch;
  while (true) {
    active.clear();
    for (Lane& lane : lanes) {
      if (!lane.own->taken && lane.status.ok() && lane.next < lane.queue.size()) {
        active.push_back(&lane);
      }
    }
    if (active.empty()) break;
    const absl::Duration left = deadline - clock_.MonotonicNow();
    if (left <= absl::ZeroDuration()) {
      for (Lane* lane : active) {
        if (lane->unknown.ok()) {
          fail(*lane,
               absl::DeadlineExceededError(absl::StrCat("publishing ",
                                                        lane->queue[lane->next].msg_id,
                                                        ": the append deadline passed")),
               /*attempted=*/false);
        } else {
          fail(*lane, lane->unknown);
        }
      }
      break;
    }
    batch.clear();
    for (Lane* lane : active) {
      nats::OutgoingMessage m;
      m.subject = lane->subject;
      m.data = lane->queue[lane->next].body;
      m.options.msg_id = lane->queue[lane->next].msg_id;
      m.options.timeout = std::min(options_.attempt_timeout, left);
      batch.push_back(std::move(m));
    }
    std::vector<absl::StatusOr<nats::PubAck>> acks = client_.PublishBatch(batch);
    std::optional<absl::StatusOr<nats::StreamInfo>> info;  // asked once per round, if needed
    bool retry = false;
    for (size_t k = 0; k < active.size(); ++k) {
      Lane& lane = *active[k];
      if (acks[k].ok()) {
        const Part& part = lane.queue[lane.next];
        if (lane.next >= lane.earlier) {
          for (size_t i = 0; i < part.count; ++i) {
            lane.sequence_numbers[part.first_record + i] = SequenceNumber(acks[k]->sequence, i);
          }
        }
        ++lane.next;
        lane.unknown = absl::OkStatus();
        continue;
      }
      absl::Status status = acks[k].status();
      if (absl::IsUnavailable(status)) {
        // No responders: the stream may have dropped the subject (the shard closed) or be gone;
        // or its leader is being elected (then the info call fails too, and we retry).
        if (!info.has_value()) info = client_.GetStreamInfo(StreamName(stream_id));
        if (absl::IsNotFound(info->status())) {
          status = absl::NotFoundError(absl::StrCat("stream ", stream_id, " does not exist"));
        } else if (info->ok() &&
                   std::find((*info)->config.subjects.begin(), (*info)->config.subjects.end(),
                             lane.subject) == (*info)->config.subjects.end()) {
          status = absl::FailedPreconditionError(absl::StrCat(
              lane.subject, " is closed (not a subject of ", StreamName(stream_id), ")"));
        }
      }
      if (OutcomeUnknown(status)) {
        lane.unknown = status;
        retry = true;
      } else {
        fail(lane, status);
      }
    }
    if (!retry) continue;
    if (clock_.MonotonicNow() + backoff >= deadline) {
      for (Lane* lane : active) {
        if (lane->status.ok() && !lane->unknown.ok()) fail(*lane, lane->unknown);
      }
      continue;  // the lanes still going publish their next messages
    }
    clock_.SleepFor(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }

  {
    absl::MutexLock lock(&mu_);
    for (Lane& lane : lanes) {
      if (lane.own->taken) continue;
      pipes_[lane.key].pending = std::move(lane.still_pending);
      PassTurn(lane.key);
      // Each member's outcome: stored when every part holding its records was acknowledged
      // (the parts before `next`, when the lane failed).
      size_t acknowledged = lane.sequence_numbers.size();
      if (!lane.status.ok()) {
        acknowledged = 0;  // the parts before queue[next] (earlier calls' parts hold none)
        for (size_t q = lane.earlier; q < lane.next; ++q) acknowledged += lane.queue[q].count;
      }
      size_t offset = 0;
      for (const std::shared_ptr<Contribution>& m : lane.members) {
        const size_t n = m->sizes.size();
        if (offset + n <= acknowledged) {
          m->status = absl::OkStatus();
          std::copy(lane.sequence_numbers.begin() + offset,
                    lane.sequence_numbers.begin() + offset + n, m->sequence_numbers.begin());
        } else {
          m->status = lane.status.ok() ? absl::InternalError("not appended") : lane.status;
        }
        m->done = true;
        offset += n;
      }
    }
    // Lanes whose records another call took: wait for its outcome.
    auto taken_done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const Lane& lane : lanes) {
        if (lane.own->taken && !lane.own->done) return false;
      }
      return true;
    };
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&taken_done), deadline);
    for (Lane& lane : lanes) {
      if (!lane.own->done) {
        results[lane.index] = absl::DeadlineExceededError(absl::StrCat(
            "shard ", lane.key.second, ": this call's records went with another call's message, "
            "not acknowledged within the append deadline (outcome unknown)"));
      } else if (lane.own->status.ok()) {
        results[lane.index] = lane.own->sequence_numbers;
      } else {
        results[lane.index] = lane.own->status;
      }
    }
  }
  return results;
}

absl::StatusOr<LogRead> JetStreamShardLog::Read(uint64_t stream_id, uint32_t shard,
                                                uint64_t from, int limit, int64_t max_bytes) {
  if (limit < 1) return absl::InvalidArgumentError("limit: must be at least 1");
  const std::string stream = StreamName(stream_id);
  const std::string subject = ShardSubject(stream_id, shard);
  LogRead out;
  uint64_t position = std::max<uint64_t>(from, SequenceNumber(1, 0));
  int64_t bytes = 0;
  while (static_cast<int>(out.records.size()) < limit) {
    const uint64_t message_sequence = position >> kIndexBits;
    const uint64_t first_index = position & (kMaxRecordsPerMessage - 1);
    absl::StatusOr<nats::StoredMessage> m =
        client_.DirectGetNext(stream, subject, message_sequence);
    if (absl::IsNotFound(m.status())) break;  // nothing more (on the replica that answered)
    if (!m.ok()) return m.status();
    ASSIGN_OR_RETURN(std::vector<DecodedEntry> entries,
                     DecodeMessage(m->data, absl::StrCat(stream, " sequence ", m->sequence)));
    const uint64_t skip = m->sequence == message_sequence ? first_index : 0;
    for (uint64_t i = skip; i < entries.size(); ++i) {
      const int64_t size = static_cast<int64_t>(entries[i].partition_key.size() +
                                                entries[i].data.size());
      if (static_cast<int>(out.records.size()) == limit ||
          (!out.records.empty() && bytes + size > max_bytes)) {
        out.next_sequence_number = SequenceNumber(m->sequence, i);
        return out;
      }
      LogRecord r;
      r.sequence_number = SequenceNumber(m->sequence, i);
      r.arrival = m->time;
      r.partition_key = std::string(entries[i].partition_key);
      r.data = std::string(entries[i].data);
      out.records.push_back(std::move(r));
      bytes += size;
    }
    position = SequenceNumber(m->sequence + 1, 0);
  }
  out.next_sequence_number = position;
  return out;
}

absl::StatusOr<uint64_t> JetStreamShardLog::FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard,
                                                               absl::Time at) {
  const std::string stream = StreamName(stream_id);
  const std::string subject = ShardSubject(stream_id, shard);
  ASSIGN_OR_RETURN(nats::StreamInfo info, client_.GetStreamInfo(stream));
  // P(x) = "the shard's first message at or after stream sequence x is absent, or was stored at
  // or after `at`": monotone in x while store times do not decrease along the shard. The
  // smallest x with P(x) in [first, last + 1] (P(last + 1) holds) starts the answer.
  uint64_t lo = std::max<uint64_t>(info.first_sequence, 1);
  uint64_t hi = info.last_sequence + 1;
  absl::Status error;
  auto holds = [&](uint64_t x) {
    absl::StatusOr<nats::StoredMessage> m = client_.DirectGetNext(stream, subject, x);
    if (absl::IsNotFound(m.status())) return true;
    if (!m.ok()) {
      error = m.status();
      return true;
    }
    return m->time >= at;
  };
  while (lo < hi && error.ok()) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (holds(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  RETURN_IF_ERROR(error);
  absl::StatusOr<nats::StoredMessage> first = client_.DirectGetNext(stream, subject, lo);
  if (absl::IsNotFound(first.status())) return SequenceNumber(info.last_sequence + 1, 0);
  if (!first.ok()) return first.status();
  return SequenceNumber(first->sequence, 0);
}

absl::StatusOr<uint64_t> JetStreamShardLog::LastSequence(uint64_t stream_id, uint32_t shard) {
  const std::string stream = StreamName(stream_id);
  absl::StatusOr<nats::StoredMessage> m =
      client_.DirectGetLast(stream, ShardSubject(stream_id, shard));
  if (absl::IsNotFound(m.status())) return 0;
  if (!m.ok()) return m.status();
  ASSIGN_OR_RETURN(std::vector<DecodedEntry> entries,
                   DecodeMessage(m->data, absl::StrCat(stream, " sequence ", m->sequence)));
  return SequenceNumber(m->sequence, entries.size() - 1);
}

namespace {

// A consumer is dropped when this many sequential reads in a row found records by direct get
// that it had not delivered and it delivered nothing for kConsumerSilence: the server lost it
// (e.g. with the stream's leader) and libnats has not made it again yet. A later sequential
// read creates another. (A consumer only a moment behind an append is not dropped.)
constexpr int kMaxConsumerMisses = 3;
constexpr absl::Duration kConsumerSilence = absl::Seconds(1);

enum class Taken {
  kWhole,    // every record of the message at or after the position was passed on or skipped
  kStopped,  // the read ends in (or before) this message: a bound, or a record above upper
};

// Passes the records of message `m` (a message of the shard at or after `*position`'s) from
// `*position` on to `visit`, up to the request's upper bound, limit and bytes, skipping those
// that arrived before min_arrival_ms. kWhole moves `*position` to the next message's first
// number; either way `out->next` is where the next read starts.
absl::StatusOr<Taken> TakeMessage(const nats::StoredMessage& m, absl::string_view stream,
                                  const LogReadRequest& request, LogRecordVisitor visit,
                                  uint64_t* position, LogReadResult* out) {
  if (m.sequence > (request.upper >> kIndexBits)) {
    out->next = request.upper + 1;  // every message of the shard up to `upper` was read
    return Taken::kStopped;
  }
  ASSIGN_OR_RETURN(std::vector<DecodedEntry> entries,
                   DecodeMessage(m.data, absl::StrCat(stream, " sequence ", m.sequence)));
  const int64_t arrival_ms = absl::ToUnixMillis(m.time);
  const uint64_t skip =
      m.sequence == (*position >> kIndexBits) ? (*position & (kMaxRecordsPerMessage - 1)) : 0;
  for (uint64_t i = skip; i < entries.size(); ++i) {
    const uint64_t seq = SequenceNumber(m.sequence, i);
    if (seq > request.upper) {
      out->next = request.upper + 1;
      return Taken::kStopped;
    }
    if (arrival_ms < request.min_arrival_ms) {
      out->next = seq + 1;
      continue;
    }
    const int64_t size =
        static_cast<int64_t>(entries[i].partition_key.size() + entries[i].data.size());
    if (out->count == request.limit ||
        (out->count > 0 && out->bytes + size > request.max_bytes)) {
      return Taken::kStopped;
    }
    visit(seq, arrival_ms, entries[i].partition_key, entries[i].data);
    ++out->count;
    out->bytes += size;
    out->last_arrival_ms = arrival_ms;
    out->next = seq + 1;
  }
  *position = SequenceNumber(m.sequence + 1, 0);
  out->next = std::max(out->next, *position);
  return Taken::kWhole;
}

}  // namespace

absl::Status JetStreamShardLog::ReadByDirectGet(const LogReadRequest& request,
                                                LogRecordVisitor visit, uint64_t* position,
                                                LogReadResult* out, int64_t* gets) {
  const std::string stream = StreamName(request.stream_id);
  const std::string subject = ShardSubject(request.stream_id, request.shard);
  while (*position <= request.upper) {
    const uint64_t message_sequence = *position >> kIndexBits;
    absl::StatusOr<nats::StoredMessage> m =
        client_.DirectGetNext(stream, subject, message_sequence);
    ++*gets;
    if (absl::IsNotFound(m.status())) {
      // Nothing more of the shard on the replica that answered, which may lag. Complete up to
      // `upper` only if the stream's leader (which has every acknowledged message, so all up
      // to `upper`) has no message of the shard at or after `position` either; else read again
      // later. (Asking a second direct get whether upper's message is there was not enough:
      // another replica may answer it. front_end_failover_test lost records to that, 1 run in
      // 6: a read on a replica that lacked them ended past them.)
      absl::StatusOr<nats::StoredMessage> last = client_.GetLastFromLeader(stream, subject);
      if (absl::IsNotFound(last.status()) || (last.ok() && last->sequence < message_sequence)) {
        out->next = request.upper + 1;
      } else if (!last.ok()) {
        return last.status();
      }
      return absl::OkStatus();
    }
    if (!m.ok()) return m.status();
    ASSIGN_OR_RETURN(Taken taken, TakeMessage(*m, stream, request, visit, position, out));
    if (taken == Taken::kStopped) return absl::OkStatus();
  }
  out->next = std::max(out->next, request.upper + 1);
  return absl::OkStatus();
}

absl::StatusOr<bool> JetStreamShardLog::ReadFromConsumer(const LogReadRequest& request,
                                                         LogRecordVisitor visit,
                                                         ShardReaders::Reader* reader,
                                                         uint64_t* position, LogReadResult* out,
                                                         int64_t* messages) {
  const std::string stream = StreamName(request.stream_id);
  bool waited = false;
  while (*position <= request.upper) {
    std::optional<nats::StoredMessage> m;
    if (reader->held.has_value()) {
      m = std::move(reader->held);
      reader->held.reset();
    } else {
      // A record at or below `upper` is still due (it is stored): wait for it, once a read.
      absl::StatusOr<std::optional<nats::StoredMessage>> next =
          reader->consumer->Next(absl::ZeroDuration());
      if (next.ok() && !next->has_value() && !waited) {
        waited = true;
        next = reader->consumer->Next(options_.consumer_wait);
      }
      if (!next.ok()) {
        reader->consumer.reset();
        readers_.Dropped();
        return false;
      }
      if (!next->has_value()) return false;  // nothing more received yet
      m = std::move(*next);
      ++*messages;
      reader->heard = clock_.MonotonicNow();
    }
    // The consumer delivers every message of the shard in stream order; one below the position
    // was read already (by direct get, while the consumer was behind).
    if (m->sequence < (*position >> kIndexBits)) continue;
    ASSIGN_OR_RETURN(Taken taken, TakeMessage(*m, stream, request, visit, position, out));
    if (taken == Taken::kStopped) {
      reader->held = std::move(m);
      return true;
    }
  }
  out->next = std::max(out->next, request.upper + 1);
  return true;
}

absl::StatusOr<LogReadResult> JetStreamShardLog::Read(const LogReadRequest& request,
                                                      LogRecordVisitor visit) {
  if (request.limit < 1) return absl::InvalidArgumentError("limit: must be at least 1");
  LogReadResult out;
  out.next = request.from;
  uint64_t position = std::max<uint64_t>(request.from, SequenceNumber(1, 0));
  std::unique_ptr<ShardReaders::Reader> reader;
  // Closed shards by direct get: their ending number is no record's, so the consumer's silence
  // after their last record would be waited for.
  const bool ordered = options_.ordered_reads && !request.closed;
  if (ordered) {
    reader = readers_.Take(request.stream_id, request.shard, request.from);
    if (reader != nullptr && reader->consumer == nullptr && readers_.MayCreate()) {
      // The second read in a row of this reader: sequential reading, worth a consumer.
      absl::StatusOr<std::unique_ptr<nats::SubjectReader>> consumer =
          client_.ReadSubject(StreamName(request.stream_id),
                              ShardSubject(request.stream_id, request.shard),
                              position >> kIndexBits, options_.consumer_create_timeout);
      readers_.Created(consumer.ok());
      if (consumer.ok()) {
        reader->consumer = std::move(consumer).value();
        reader->heard = clock_.MonotonicNow();
        reader->misses = 0;
      }
    }
  }
  int64_t messages = 0, gets = 0;
  bool done = false;
  absl::Status status;
  if (reader != nullptr && reader->consumer != nullptr) {
    absl::StatusOr<bool> from_consumer =
        ReadFromConsumer(request, visit, reader.get(), &position, &out, &messages);
    if (from_consumer.ok()) {
      done = *from_consumer;
    } else {
      status = from_consumer.status();
    }
  }
  if (status.ok() && !done && out.count < request.limit) {
    // What the consumer has not delivered (yet), or no consumer: direct gets.
    const int before = out.count;
    status = ReadByDirectGet(request, visit, &position, &out, &gets);
    if (reader != nullptr && reader->consumer != nullptr) {
      if (out.count > before && messages == 0 && ++reader->misses >= kMaxConsumerMisses &&
          clock_.MonotonicNow() - reader->heard > kConsumerSilence) {
        reader->consumer.reset();
        reader->held.reset();
        readers_.Dropped();
      }
    }
  }
  if (reader != nullptr && messages > 0) reader->misses = 0;
  readers_.Count(messages, gets);
  RETURN_IF_ERROR(status);  // the reader is dropped (a read after an error starts afresh)
  if (ordered) {
    if (reader == nullptr) reader = std::make_unique<ShardReaders::Reader>();  // a hint
    readers_.Put(request.stream_id, request.shard, out.next, std::move(reader));
  }
  return out;
}

absl::StatusOr<uint64_t> JetStreamShardLog::FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard,
                                                               uint64_t from, uint64_t to,
                                                               int64_t min_arrival_ms) {
  ASSIGN_OR_RETURN(uint64_t found,
                   FindFirstAtOrAfter(stream_id, shard, absl::FromUnixMillis(min_arrival_ms)));
  const uint64_t end = to == UINT64_MAX ? to : to + 1;
  return std::min(std::max(found, from), end);
}

absl::StatusOr<LogLast> JetStreamShardLog::Last(uint64_t stream_id, uint32_t shard) {
  const std::string stream = StreamName(stream_id);
  absl::StatusOr<nats::StoredMessage> m =
      client_.DirectGetLast(stream, ShardSubject(stream_id, shard));
  if (absl::IsNotFound(m.status())) return LogLast();
  if (!m.ok()) return m.status();
  ASSIGN_OR_RETURN(std::vector<DecodedEntry> entries,
                   DecodeMessage(m->data, absl::StrCat(stream, " sequence ", m->sequence)));
  LogLast last;
  last.sequence_number = SequenceNumber(m->sequence, entries.size() - 1);
  last.arrival_ms = absl::ToUnixMillis(m->time);
  return last;
}

}  // namespace tributary::shard_store::jetstream
