#include "nats/nats_client.h"

#include <nats/nats.h>

#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace tributary::nats {
namespace {

// JetStream's error for a stream whose leader is being elected, or a cluster without a meta
// leader ("JetStream system temporarily unavailable").
constexpr int kJsClusterNotAvailable = JSClusterNotAvailErr;

// Header fields a direct get adds; StoredMessage::headers leaves them out.
bool IsServerHeader(absl::string_view name) {
  return name == "Nats-Stream" || name == "Nats-Sequence" || name == "Nats-Time-Stamp" ||
         name == "Nats-Subject" || name == "Nats-Last-Sequence";
}

int64_t ToMillis(absl::Duration d) {
  // libnats takes milliseconds; 0 would mean "no wait" (or the default) where we mean "tiny".
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return ms < 1 ? 1 : ms;
}

std::string LastErrorText(natsStatus s) {
  const char* text = nats_GetLastError(nullptr);
  if (text != nullptr && *text != '\0') return text;
  return natsStatus_GetText(s);
}

// The one conversion of libnats' statuses (and JetStream's API error codes) to absl's. `what`
// names the call ("publishing to s.1").
absl::Status ToStatus(natsStatus s, jsErrCode js_code, absl::string_view what) {
  if (s == NATS_OK) return absl::OkStatus();
  const std::string message =
      absl::StrCat(what, ": ", LastErrorText(s),
                   js_code != 0 ? absl::StrCat(" (JetStream error ", static_cast<int>(js_code), ")")
                                : std::string());
  switch (static_cast<int>(js_code)) {
    case 0:
      break;
    case JSStreamNotFoundErr:
    case JSNoMessageFoundErr:
    case JSConsumerNotFoundErr:
      return absl::NotFoundError(message);
    case JSStreamNameExistErr:
      return absl::AlreadyExistsError(message);
    case JSStreamWrongLastSequenceErr:
    case JSStreamWrongLastMsgIDErr:
      return absl::FailedPreconditionError(message);
    case kJsClusterNotAvailable:
    case JSClusterNotLeaderErr:
    case JSClusterNotAssignedErr:
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
      return absl::UnavailableError(message);
    case JSInsufficientResourcesErr:
    case JSMaximumStreamsLimitErr:
    case JSMaximumConsumersLimitErr:
    case JSMemoryResourcesExceededErr:
    case JSStorageResourcesExceededErr:
    case JSStreamStoreFailedErr:
      return absl::ResourceExhaustedError(message);
    case JSClusterNoPeersErr:
    case JSStreamReplicasNotSupportedErr:
    case JSStreamSubjectOverlapErr:
    case JSStreamInvalidConfig:
    case JSStreamInvalidErr:
    case JSStreamMessageExceedsMaximumErr:
    case JSStreamMismatchErr:
    case JSConsumerCreateErr:
    case JSConsumerFilterNotSubsetErr:
    case JSStreamReplicasNotUpdatableErr:
    case JSStreamMaxBytesRequiredErr:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
  switch (s) {
    case NATS_TIMEOUT:
      return absl::DeadlineExceededError(absl::StrCat(message, " (outcome unknown)"));
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_IO_ERROR:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
    case NATS_DRAINING:
      return absl::UnavailableError(message);
    case NATS_NOT_FOUND:
      return absl::NotFoundError(message);
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_MAX_PAYLOAD:
    case NATS_INVALID_TIMEOUT:
    case NATS_ADDRESS_MISSING:
      return absl::InvalidArgumentError(message);
    case NATS_SLOW_CONSUMER:
    case NATS_NO_MEMORY:
    case NATS_INSUFFICIENT_BUFFER:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status ToStatus(natsStatus s, absl::string_view what) { return ToStatus(s, static_cast<jsErrCode>(0), what); }

std::string ServerUrl(absl::string_view server) {
  if (absl::StartsWith(server, "nats://")) return std::string(server);
  return absl::StrCat("nats://", server);
}

// Owns a libnats object and destroys it with `destroy`.
template <typename T, void (*destroy)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p != nullptr) destroy(p);
  }
  T* release() { return std::exchange(p, nullptr); }
};
using OwnedMsg = Owned<natsMsg, natsMsg_Destroy>;
using OwnedStreamInfo = Owned<jsStreamInfo, jsStreamInfo_Destroy>;

StreamInfo ToStreamInfo(const jsStreamInfo& si) {
  StreamInfo info;
  if (si.Config != nullptr) {
    const jsStreamConfig& c = *si.Config;
    if (c.Name != nullptr) info.config.name = c.Name;
    for (int i = 0; i < c.SubjectsLen; ++i) info.config.subjects.push_back(c.Subjects[i]);
    info.config.max_age = absl::Nanoseconds(c.MaxAge);
    info.config.file_storage = c.Storage == js_FileStorage;
    info.config.replicas = static_cast<int>(c.Replicas);
    info.config.duplicate_window = absl::Nanoseconds(c.Duplicates);
    info.config.allow_direct = c.AllowDirect;
  }
  info.messages = si.State.Msgs;
  info.bytes = si.State.Bytes;
  info.first_sequence = si.State.FirstSeq;
  info.last_sequence = si.State.LastSeq;
  if (si.Cluster != nullptr) {
    if (si.Cluster->Leader != nullptr) info.leader = si.Cluster->Leader;
    for (int i = 0; i < si.Cluster->ReplicasLen; ++i) {
      const jsPeerInfo* peer = si.Cluster->Replicas[i];
      if (peer == nullptr) continue;
      info.replicas.push_back(
          StreamReplica{peer->Name != nullptr ? peer->Name : "", peer->Current, peer->Offline});
    }
  }
  return info;
}

// Copies a message the library returned (a direct get's or a consumer's).
StoredMessage ToStoredMessage(natsMsg* msg, uint64_t sequence, int64_t time_ns) {
  StoredMessage out;
  const char* subject = natsMsg_GetSubject(msg);
  if (subject != nullptr) out.subject = subject;
  out.sequence = sequence;
  out.time = absl::FromUnixNanos(time_ns);
  const char* data = natsMsg_GetData(msg);
  if (data != nullptr) out.data.assign(data, natsMsg_GetDataLength(msg));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      if (IsServerHeader(keys[i])) continue;
      const char* value = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK) {
        out.headers.emplace_back(keys[i], value != nullptr ? value : "");
      }
    }
    free(keys);
  }
  return out;
}

// jsStreamConfig borrows every string: `subjects` keeps the pointers alive.
void FillConfig(const StreamConfig& config, std::vector<const char*>& subjects,
                jsStreamConfig* out) {
  jsStreamConfig_Init(out);
  out->Name = config.name.c_str();
  for (const std::string& s : config.subjects) subjects.push_back(s.c_str());
  out->Subjects = subjects.data();
  out->SubjectsLen = static_cast<int>(subjects.size());
  out->Retention = js_LimitsPolicy;
  out->MaxAge = absl::ToInt64Nanoseconds(config.max_age);
  out->Storage = config.file_storage ? js_FileStorage : js_MemoryStorage;
  out->Replicas = config.replicas;
  out->Duplicates = absl::ToInt64Nanoseconds(config.duplicate_window);
  out->AllowDirect = config.allow_direct;
}

absl::Status PublishError(natsStatus s, jsErrCode js_code, absl::string_view what) {
  if (s == NATS_NO_RESPONDERS) {
    return absl::UnavailableError(absl::StrCat(
        what, ": no responders (no stream takes this subject, or its leader is being elected)"));
  }
  return ToStatus(s, js_code, what);
}

PubAck ToPubAck(const jsPubAck& ack) {
  PubAck out;
  if (ack.Stream != nullptr) out.stream = ack.Stream;
  out.sequence = ack.Sequence;
  out.duplicate = ack.Duplicate;
  return out;
}

// Builds a message and its publish options (which borrow from `options`).
natsStatus BuildMessage(const std::string& subject, absl::string_view data,
                        const PublishOptions& options, absl::Duration default_timeout,
                        natsMsg** msg, jsPubOptions* pub) {
  natsStatus s = natsMsg_Create(msg, subject.c_str(), nullptr, data.data(),
                                static_cast<int>(data.size()));
  for (const auto& [key, value] : options.headers) {
    if (s == NATS_OK) s = natsMsgHeader_Set(*msg, key.c_str(), value.c_str());
  }
  jsPubOptions_Init(pub);
  pub->MaxWait =
      ToMillis(options.timeout > absl::ZeroDuration() ? options.timeout : default_timeout);
  if (!options.msg_id.empty()) pub->MsgId = options.msg_id.c_str();
  if (options.expected_last_subject_sequence.has_value()) {
    if (*options.expected_last_subject_sequence == 0) {
      pub->ExpectNoMessage = true;
    } else {
      pub->ExpectLastSubjectSeq = *options.expected_last_subject_sequence;
    }
  }
  return s;
}

}  // namespace

// The asynchronous publishes in flight, by their libnats message (the ack handler receives the
// message it acknowledges). A PublishBatch registers its messages before sending them and waits
// until the handler has filled every result, or gives up on the ones left (then a late ack
// finds nothing and is dropped).
struct AsyncAcks {
  struct Batch {
    std::vector<absl::StatusOr<PubAck>>* results;
    std::vector<std::string> subjects;
    size_t outstanding = 0;
  };
  absl::Mutex mu;
  absl::flat_hash_map<natsMsg*, std::pair<Batch*, size_t>> in_flight ABSL_GUARDED_BY(mu);

  void Complete(natsMsg* msg, jsPubAck* ack, jsPubAckErr* error) {
    absl::MutexLock lock(&mu);
    auto it = in_flight.find(msg);
    if (it == in_flight.end()) return;
    auto [batch, index] = it->second;
    in_flight.erase(it);
    absl::StatusOr<PubAck>& result = (*batch->results)[index];
    if (ack != nullptr) {
      result = ToPubAck(*ack);
    } else {
      result = PublishError(error != nullptr ? error->Err : NATS_ERR,
                            error != nullptr ? error->ErrCode : static_cast<jsErrCode>(0),
                            absl::StrCat("publishing to ", batch->subjects[index]));
    }
    --batch->outstanding;
  }
};

namespace {

// libnats' ack handler (on its threads): fills the result and frees the message.
void OnAsyncAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  static_cast<AsyncAcks*>(closure)->Complete(msg, ack, error);
  natsMsg_Destroy(msg);
}

}  // namespace

const std::string* StoredMessage::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

SubjectReader::~SubjectReader() {
  // Unsubscribing tells the server the ephemeral consumer is gone (it would otherwise expire by
  // inactivity); a dead connection just makes it fail.
  natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
}

absl::StatusOr<std::optional<StoredMessage>> SubjectReader::Next(absl::Duration timeout) {
  OwnedMsg msg;
  // libnats: a zero timeout returns a message already received, or NATS_TIMEOUT at once.
  const natsStatus s = natsSubscription_NextMsg(
      &msg.p, sub_, timeout <= absl::ZeroDuration() ? 0 : ToMillis(timeout));
  if (s == NATS_TIMEOUT) return std::nullopt;
  if (s != NATS_OK) return ToStatus(s, "reading an ordered consumer");
  // libnats drops messages past the subscription's pending limits (a slow consumer) after its
  // ordered-consumer sequence check, so no gap is seen and nothing is re-delivered: the reader
  // would skip them. Once anything was dropped, no further message is handed out.
  int64_t dropped = 0;
  if (natsSubscription_GetDropped(sub_, &dropped) == NATS_OK && dropped > 0) {
    return absl::InternalError(absl::StrCat(
        "reading an ordered consumer: ", dropped,
        " messages dropped by the client (slow consumer); start a new reader"));
  }
  jsMsgMetaData* meta = nullptr;
  if (const natsStatus m = natsMsg_GetMetaData(&meta, msg.p); m != NATS_OK) {
    return ToStatus(m, "reading a consumer message's metadata");
  }
  StoredMessage out = ToStoredMessage(msg.p, meta->Sequence.Stream, meta->Timestamp);
  jsMsgMetaData_Destroy(meta);
  return std::optional<StoredMessage>(std::move(out));
}

absl::StatusOr<std::unique_ptr<NatsClient>> NatsClient::Connect(const NatsClientOptions& options) {
  if (options.servers.empty()) return absl::InvalidArgumentError("no NATS server given");
  std::vector<std::string> urls;
  for (const std::string& server : options.servers) {
    if (server.empty()) return absl::InvalidArgumentError("an empty NATS server address");
    urls.push_back(ServerUrl(server));
  }
  std::vector<const char*> url_ptrs;
  for (const std::string& url : urls) url_ptrs.push_back(url.c_str());

  Owned<natsOptions, natsOptions_Destroy> opts;
  natsStatus s = natsOptions_Create(&opts.p);
  if (s == NATS_OK) {
    s = natsOptions_SetServers(opts.p, url_ptrs.data(), static_cast<int>(url_ptrs.size()));
  }
  if (s == NATS_OK) s = natsOptions_SetName(opts.p, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.p, ToMillis(options.connect_timeout));
  // Reconnect for as long as the client lives: a cluster whose members restart one by one is
  // always reachable through some member.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.p, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.p, ToMillis(options.reconnect_wait));
  // A request in flight when the connection breaks fails at once (UNAVAILABLE) instead of
  // waiting out its timeout: a publish is retried sooner on the new connection.
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(opts.p, true);
  if (s != NATS_OK) return ToStatus(s, "setting NATS connection options");

  natsConnection* connection = nullptr;
  s = natsConnection_Connect(&connection, opts.p);
  if (s != NATS_OK) {
    return ToStatus(s == NATS_NO_SERVER ? NATS_NO_SERVER : s,
                    absl::StrCat("connecting to NATS at ", absl::StrJoin(options.servers, ",")));
  }
  auto async_acks = std::make_unique<AsyncAcks>();
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = ToMillis(options.request_timeout);
  js_options.PublishAsync.AckHandler = OnAsyncAck;
  js_options.PublishAsync.AckHandlerClosure = async_acks.get();
  jsCtx* js = nullptr;
  s = natsConnection_JetStream(&js, connection, &js_options);
  if (s != NATS_OK) {
    natsConnection_Destroy(connection);
    return ToStatus(s, "opening a JetStream context");
  }
  return std::unique_ptr<NatsClient>(
      new NatsClient(connection, js, options.request_timeout, std::move(async_acks)));
}

NatsClient::NatsClient(natsConnection* connection, jsCtx* js, absl::Duration request_timeout,
                       std::unique_ptr<AsyncAcks> async_acks)
    : async_acks_(std::move(async_acks)),
      connection_(connection),
      js_(js),
      request_timeout_(request_timeout) {}

NatsClient::~NatsClient() {
  jsCtx_Destroy(js_);
  natsConnection_Destroy(connection_);
}

int64_t NatsClient::max_payload() const { return natsConnection_GetMaxPayload(connection_); }

absl::Status NatsClient::CheckJetStream() {
  jsAccountInfo* info = nullptr;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetAccountInfo(&info, js_, nullptr, &js_code);
  if (s != NATS_OK) return ToStatus(s, js_code, "asking JetStream for account info");
  jsAccountInfo_Destroy(info);
  return absl::OkStatus();
}

absl::StatusOr<PubAck> NatsClient::Publish(absl::string_view subject, absl::string_view data,
                                           const PublishOptions& options) {
  const std::string subject_str(subject);
  const std::string what = absl::StrCat("publishing to ", subject);
  OwnedMsg msg;
  jsPubOptions pub;
  natsStatus s = BuildMessage(subject_str, data, options, request_timeout_, &msg.p, &pub);
  if (s != NATS_OK) return ToStatus(s, what);
  jsPubAck* ack = nullptr;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&ack, js_, msg.p, &pub, &js_code);
  if (s != NATS_OK) return PublishError(s, js_code, what);
  PubAck out = ToPubAck(*ack);
  jsPubAck_Destroy(ack);
  return out;
}

std::vector<absl::StatusOr<PubAck>> NatsClient::PublishBatch(
    absl::Span<const OutgoingMessage> messages) {
  std::vector<absl::StatusOr<PubAck>> results(messages.size(),
                                              absl::InternalError("not published"));
  AsyncAcks::Batch batch;
  batch.results = &results;
  std::vector<natsMsg*> sent(messages.size(), nullptr);
  absl::Duration longest = absl::ZeroDuration();
  for (size_t i = 0; i < messages.size(); ++i) {
    batch.subjects.emplace_back(messages[i].subject);
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const OutgoingMessage& m = messages[i];
    const std::string what = absl::StrCat("publishing to ", m.subject);
    OwnedMsg msg;
    jsPubOptions pub;
    natsStatus s = BuildMessage(batch.subjects[i], m.data, m.options, request_timeout_, &msg.p,
                                &pub);
    if (s != NATS_OK) {
      results[i] = ToStatus(s, what);
      continue;
    }
    longest = std::max(longest, absl::Milliseconds(pub.MaxWait));
    natsMsg* raw = msg.p;
    {
      // Registered before it is sent: its ack may come before js_PublishMsgAsync returns.
      absl::MutexLock lock(&async_acks_->mu);
      async_acks_->in_flight[raw] = {&batch, i};
      ++batch.outstanding;
    }
    s = js_PublishMsgAsync(js_, &msg.p, &pub);  // on success the library owns the message
    if (s != NATS_OK) {
      absl::MutexLock lock(&async_acks_->mu);
      if (async_acks_->in_flight.erase(raw) > 0) {
        --batch.outstanding;
        results[i] = PublishError(s, static_cast<jsErrCode>(0), what);
      }
      continue;
    }
    sent[i] = raw;
  }
  absl::MutexLock lock(&async_acks_->mu);
  auto done = [&batch]() { return batch.outstanding == 0; };
  // libnats times each message out after its MaxWait; the margin covers its timer's period.
  // Past it, a message still unanswered is given up here (its late ack is dropped).
  if (!async_acks_->mu.AwaitWithTimeout(absl::Condition(&done), longest + absl::Seconds(1))) {
    for (size_t i = 0; i < sent.size(); ++i) {
      if (sent[i] != nullptr && async_acks_->in_flight.erase(sent[i]) > 0) {
        --batch.outstanding;
        results[i] = absl::DeadlineExceededError(absl::StrCat(
            "publishing to ", messages[i].subject, ": no ack (outcome unknown)"));
      }
    }
  }
  return results;
}

absl::StatusOr<StreamInfo> NatsClient::CreateStream(const StreamConfig& config) {
  std::vector<const char*> subjects;
  jsStreamConfig cfg;
  FillConfig(config, subjects, &cfg);
  OwnedStreamInfo si;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&si.p, js_, &cfg, nullptr, &js_code);
  if (s != NATS_OK) return ToStatus(s, js_code, absl::StrCat("creating stream ", config.name));
  return ToStreamInfo(*si.p);
}

absl::StatusOr<StreamInfo> NatsClient::UpdateStream(const StreamConfig& config) {
  std::vector<const char*> subjects;
  jsStreamConfig cfg;
  FillConfig(config, subjects, &cfg);
  OwnedStreamInfo si;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s = js_UpdateStream(&si.p, js_, &cfg, nullptr, &js_code);
  if (s != NATS_OK) return ToStatus(s, js_code, absl::StrCat("updating stream ", config.name));
  return ToStreamInfo(*si.p);
}

absl::StatusOr<StreamInfo> NatsClient::GetStreamInfo(absl::string_view stream) {
  const std::string name(stream);
  OwnedStreamInfo si;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si.p, js_, name.c_str(), nullptr, &js_code);
  if (s != NATS_OK) return ToStatus(s, js_code, absl::StrCat("reading stream ", stream));
  return ToStreamInfo(*si.p);
}

absl::Status NatsClient::DeleteStream(absl::string_view stream) {
  const std::string name(stream);
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s = js_DeleteStream(js_, name.c_str(), nullptr, &js_code);
  return ToStatus(s, js_code, absl::StrCat("deleting stream ", stream));
}

namespace {

absl::StatusOr<StoredMessage> DoDirectGet(jsCtx* js, absl::string_view stream,
                                          jsDirectGetMsgOptions* options, absl::string_view what) {
  const std::string name(stream);
  OwnedMsg msg;
  const natsStatus s = js_DirectGetMsg(&msg.p, js, name.c_str(), nullptr, options);
  if (s != NATS_OK) return ToStatus(s, what);
  return ToStoredMessage(msg.p, natsMsg_GetSequence(msg.p), natsMsg_GetTime(msg.p));
}

}  // namespace

absl::StatusOr<StoredMessage> NatsClient::DirectGet(absl::string_view stream, uint64_t sequence) {
  if (sequence == 0) return absl::InvalidArgumentError("direct get: sequence must be >= 1");
  jsDirectGetMsgOptions options;
  jsDirectGetMsgOptions_Init(&options);
  options.Sequence = sequence;
  return DoDirectGet(js_, stream, &options,
                     absl::StrCat("direct get of ", stream, " sequence ", sequence));
}

absl::StatusOr<StoredMessage> NatsClient::DirectGetNext(absl::string_view stream,
                                                        absl::string_view subject,
                                                        uint64_t sequence) {
  if (sequence == 0) return absl::InvalidArgumentError("direct get: sequence must be >= 1");
  const std::string subject_str(subject);
  jsDirectGetMsgOptions options;
  jsDirectGetMsgOptions_Init(&options);
  options.Sequence = sequence;
  options.NextBySubject = subject_str.c_str();
  return DoDirectGet(js_, stream, &options,
                     absl::StrCat("direct get of ", stream, " next ", subject, " from ", sequence));
}

absl::StatusOr<StoredMessage> NatsClient::DirectGetLast(absl::string_view stream,
                                                        absl::string_view subject) {
  const std::string subject_str(subject);
  jsDirectGetMsgOptions options;
  jsDirectGetMsgOptions_Init(&options);
  options.LastBySubject = subject_str.c_str();
  return DoDirectGet(js_, stream, &options,
                     absl::StrCat("direct get of ", stream, " last ", subject));
}

absl::StatusOr<StoredMessage> NatsClient::GetLastFromLeader(absl::string_view stream,
                                                            absl::string_view subject) {
  const std::string stream_str(stream);
  const std::string subject_str(subject);
  OwnedMsg msg;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_GetLastMsg(&msg.p, js_, stream_str.c_str(), subject_str.c_str(), nullptr, &js_code);
  if (s != NATS_OK) {
    return ToStatus(s, js_code, absl::StrCat("leader's last message of ", stream, " ", subject));
  }
  return ToStoredMessage(msg.p, natsMsg_GetSequence(msg.p), natsMsg_GetTime(msg.p));
}

absl::StatusOr<std::unique_ptr<SubjectReader>> NatsClient::ReadSubject(
    absl::string_view stream, absl::string_view subject, uint64_t start_sequence,
    absl::Duration timeout) {
  if (start_sequence == 0) {
    return absl::InvalidArgumentError("ordered consumer: start sequence must be >= 1");
  }
  // Another wait than the client's: a JetStream context of its own for this call (the
  // subscription keeps a reference to the context it was made with; ours is released here).
  jsCtx* js = js_;
  Owned<jsCtx, jsCtx_Destroy> own_js;
  if (timeout > absl::ZeroDuration()) {
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = ToMillis(timeout);
    if (const natsStatus s = natsConnection_JetStream(&own_js.p, connection_, &js_options);
        s != NATS_OK) {
      return ToStatus(s, "opening a JetStream context");
    }
    js = own_js.p;
  }
  const std::string stream_str(stream);
  const std::string subject_str(subject);
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_str.c_str();
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = start_sequence;
  natsSubscription* sub = nullptr;
  jsErrCode js_code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_SubscribeSync(&sub, js, subject_str.c_str(), nullptr, &options, &js_code);
  if (s != NATS_OK) {
    return ToStatus(s, js_code,
                    absl::StrCat("starting an ordered consumer of ", stream, " ", subject));
  }
  return std::unique_ptr<SubjectReader>(new SubjectReader(sub));
}

// A core subscription's state, shared with libnats' callbacks: the handler, and a notification
// that libnats' completion callback fires once the subscription is closed and its handler has
// returned (so the destructor can wait for it).
struct CoreSubscription::State {
  CoreMessageHandler handler;
  natsSubscription* sub = nullptr;
  absl::Notification complete;
};

namespace {

void OnCoreMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* state = static_cast<CoreSubscription::State*>(closure);
  const char* data = natsMsg_GetData(msg);
  state->handler(natsMsg_GetSubject(msg),
                 absl::string_view(data == nullptr ? "" : data,
                                   static_cast<size_t>(natsMsg_GetDataLength(msg))));
  natsMsg_Destroy(msg);
}

void OnCoreComplete(void* closure) {
  static_cast<CoreSubscription::State*>(closure)->complete.Notify();
}

}  // namespace

CoreSubscription::CoreSubscription(std::unique_ptr<State> state) : state_(std::move(state)) {}

CoreSubscription::~CoreSubscription() {
  // Unsubscribe closes the subscription; libnats then calls OnCoreComplete after the handler's
  // last run. It fails only when the connection is closed, which the NatsClient does only in
  // its destructor (it must outlive this).
  if (natsSubscription_Unsubscribe(state_->sub) == NATS_OK) state_->complete.WaitForNotification();
  natsSubscription_Destroy(state_->sub);
}

absl::Status NatsClient::PublishCore(absl::string_view subject, absl::string_view data) {
  const std::string subject_str(subject);
  const natsStatus s = natsConnection_Publish(connection_, subject_str.c_str(), data.data(),
                                              static_cast<int>(data.size()));
  if (s != NATS_OK) return ToStatus(s, absl::StrCat("publishing (core) to ", subject));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CoreSubscription>> NatsClient::Subscribe(
    absl::string_view subject, CoreMessageHandler handler) {
  const std::string subject_str(subject);
  auto state = std::make_unique<CoreSubscription::State>();
  state->handler = std::move(handler);
  natsStatus s = natsConnection_Subscribe(&state->sub, connection_, subject_str.c_str(),
                                          OnCoreMessage, state.get());
  if (s != NATS_OK) return ToStatus(s, absl::StrCat("subscribing to ", subject));
  s = natsSubscription_SetOnCompleteCB(state->sub, OnCoreComplete, state.get());
  if (s == NATS_OK) s = natsConnection_Flush(connection_);  // the server has the interest
  if (s != NATS_OK) {
    natsSubscription_Unsubscribe(state->sub);
    natsSubscription_Destroy(state->sub);
    return ToStatus(s, absl::StrCat("subscribing to ", subject));
  }
  return std::unique_ptr<CoreSubscription>(new CoreSubscription(std::move(state)));
}

}  // namespace tributary::nats
