#include "etcd/etcd_client.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/grpc_client.h"
#include "common/grpc_status.h"
#include "common/host_port.h"
#include "common/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace tributary::etcd {
namespace {

namespace pb = ::etcdserverpb;

// The end of the range of keys starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd):
// the prefix with its last byte below 0xff incremented and what follows cut; "\0" (every key
// from `prefix` on) when there is none.
std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  for (int i = static_cast<int>(end.size()) - 1; i >= 0; --i) {
    if (static_cast<unsigned char>(end[i]) < 0xff) {
      end[i] = static_cast<char>(static_cast<unsigned char>(end[i]) + 1);
      end.resize(i + 1);
      return end;
    }
  }
  return std::string(1, '\0');
}

// Range of every key with `prefix` (the empty prefix: every key).
void SetPrefixRange(const std::string& prefix, std::string* key, std::string* range_end) {
  if (prefix.empty()) {
    *key = std::string(1, '\0');
    *range_end = std::string(1, '\0');
  } else {
    *key = prefix;
    *range_end = PrefixEnd(prefix);
  }
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(),
                  kv.lease()};
}

void ToProto(const Compare& c, pb::Compare* out) {
  out->set_key(c.key);
  switch (c.result) {
    case Compare::kEqual:
      out->set_result(pb::Compare::EQUAL);
      break;
    case Compare::kNotEqual:
      out->set_result(pb::Compare::NOT_EQUAL);
      break;
    case Compare::kLess:
      out->set_result(pb::Compare::LESS);
      break;
    case Compare::kGreater:
      out->set_result(pb::Compare::GREATER);
      break;
  }
  switch (c.target) {
    case Compare::Target::kVersion:
      out->set_target(pb::Compare::VERSION);
      out->set_version(c.number);
      break;
    case Compare::Target::kCreateRevision:
      out->set_target(pb::Compare::CREATE);
      out->set_create_revision(c.number);
      break;
    case Compare::Target::kModRevision:
      out->set_target(pb::Compare::MOD);
      out->set_mod_revision(c.number);
      break;
    case Compare::Target::kValue:
      out->set_target(pb::Compare::VALUE);
      out->set_value(c.value);
      break;
  }
}

void ToProto(const Op& op, pb::RequestOp* out) {
  switch (op.kind) {
    case Op::Kind::kPut: {
      pb::PutRequest* put = out->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case Op::Kind::kGet: {
      pb::RangeRequest* range = out->mutable_request_range();
      range->set_key(op.key);
      range->set_range_end(op.range_end);
      break;
    }
    case Op::Kind::kDelete: {
      pb::DeleteRangeRequest* del = out->mutable_request_delete_range();
      del->set_key(op.key);
      del->set_range_end(op.range_end);
      break;
    }
  }
}

OpResult FromProto(const pb::ResponseOp& response) {
  OpResult result;
  if (response.has_response_range()) {
    for (const mvccpb::KeyValue& kv : response.response_range().kvs()) {
      result.kvs.push_back(FromProto(kv));
    }
  } else if (response.has_response_delete_range()) {
    result.deleted = response.response_delete_range().deleted();
  }
  return result;
}

bool MayHaveReachedEtcd(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

Compare Compare::ModRevision(std::string key, Result result, int64_t revision) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kModRevision;
  c.result = result;
  c.number = revision;
  return c;
}

Compare Compare::CreateRevision(std::string key, Result result, int64_t revision) {
  Compare c = ModRevision(std::move(key), result, revision);
  c.target = Target::kCreateRevision;
  return c;
}

Compare Compare::Version(std::string key, Result result, int64_t version) {
  Compare c = ModRevision(std::move(key), result, version);
  c.target = Target::kVersion;
  return c;
}

Compare Compare::Value(std::string key, Result result, std::string value) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kValue;
  c.result = result;
  c.value = std::move(value);
  return c;
}

Op Op::Put(std::string key, std::string value, int64_t lease) {
  Op op;
  op.kind = Kind::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

Op Op::Get(std::string key) {
  Op op;
  op.kind = Kind::kGet;
  op.key = std::move(key);
  return op;
}

Op Op::GetPrefix(std::string prefix) {
  Op op;
  op.kind = Kind::kGet;
  SetPrefixRange(prefix, &op.key, &op.range_end);
  return op;
}

Op Op::Delete(std::string key) {
  Op op;
  op.kind = Kind::kDelete;
  op.key = std::move(key);
  return op;
}

Op Op::DeletePrefix(std::string prefix) {
  Op op;
  op.kind = Kind::kDelete;
  SetPrefixRange(prefix, &op.key, &op.range_end);
  return op;
}

EtcdMemberStubs ConnectToMember(const std::string& address) {
  grpc::ChannelArguments args;
  // etcd (grpc-go's enforcement policy, --grpc-keepalive-min-time 5 s, no pings without calls)
  // closes the connection with GOAWAY "too_many_pings" when pinged more often or while idle.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // Reconnect to a restarted member within a second. The minimum backoff is left alone: gRPC
  // also uses it as the connect timeout, and 100 ms failed under load (SCALEOUT.md).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  EtcdMemberStubs stubs;
  stubs.address = address;
  stubs.kv = pb::KV::NewStub(channel);
  stubs.lease = pb::Lease::NewStub(channel);
  stubs.watch = pb::Watch::NewStub(channel);
  stubs.maintenance = pb::Maintenance::NewStub(channel);
  return stubs;
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(Clock& clock,
                                                               EtcdClientOptions options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("etcd client: no endpoint");
  }
  for (const std::string& endpoint : options.endpoints) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(endpoint, AddressUse::kDial);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd client: endpoint ", parsed.status().message()));
    }
  }
  if (options.attempt_timeout <= absl::ZeroDuration() ||
      options.operation_timeout < options.attempt_timeout ||
      options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "etcd client: need 0 < attempt_timeout <= operation_timeout and 0 < initial_backoff <= "
        "max_backoff");
  }
  std::vector<EtcdMemberStubs> members;
  for (const std::string& endpoint : options.endpoints) {
    members.push_back(ConnectToMember(endpoint));
  }
  return std::make_unique<EtcdClient>(clock, std::move(options), std::move(members));
}

EtcdClient::EtcdClient(Clock& clock, EtcdClientOptions options,
                       std::vector<EtcdMemberStubs> members)
    : clock_(clock),
      options_(std::move(options)),
      members_(std::move(members)),
      write_id_nonce_(std::random_device()() * (uint64_t{1} << 32) ^ std::random_device()()) {}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::NewWriteId() {
  return absl::StrFormat("%016x-%d", write_id_nonce_, write_id_counter_.fetch_add(1) + 1);
}

absl::Status EtcdClient::Call(absl::string_view what, bool retry_ambiguous,
                              const Attempt& attempt) {
  const MonotonicTime deadline = clock_.MonotonicNow() + options_.operation_timeout;
  const int n = static_cast<int>(members_.size());
  absl::Duration backoff = options_.initial_backoff;
  int failures_in_a_row = 0;
  while (true) {
    const int index = current_.load();
    EtcdMemberStubs& member = members_[index];
    grpc::ClientContext context;
    const absl::Duration left = deadline - clock_.MonotonicNow();
    SetDeadline(&context, std::max(std::min(options_.attempt_timeout, left),
                                   absl::Milliseconds(1)));
    const absl::Status status = FromGrpcStatus(attempt(member, &context));
    if (status.ok()) return status;
    if (!MayHaveReachedEtcd(status.code())) {
      return WithContext(status, "etcd ", what, " at ", member.address);
    }
    // This member did not answer in time, has no leader or is down: the next call (this one's
    // retry included) starts at the next one. Another thread may have moved on already.
    int expected = index;
    current_.compare_exchange_strong(expected, (index + 1) % n);
    if (!retry_ambiguous) {
      return WithContext(status, "etcd ", what, " at ", member.address, " (outcome unknown)");
    }
    if (++failures_in_a_row % n == 0) {
      const absl::Duration pause = std::min(backoff, deadline - clock_.MonotonicNow());
      if (pause > absl::ZeroDuration()) clock_.SleepFor(pause);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    if (clock_.MonotonicNow() >= deadline) {
      std::vector<std::string> addresses;
      for (const EtcdMemberStubs& m : members_) addresses.push_back(m.address);
      return absl::Status(
          status.code(),
          absl::StrCat("etcd ", what, ": no member of ", absl::StrJoin(addresses, ","),
                       " answered within ", absl::FormatDuration(options_.operation_timeout),
                       " (", failures_in_a_row, " attempts); last, ", member.address, ": ",
                       status.message()));
    }
  }
}

absl::StatusOr<std::optional<KeyValue>> EtcdClient::Get(const std::string& key) {
  pb::RangeRequest request;
  request.set_key(key);
  pb::RangeResponse response;
  RETURN_IF_ERROR(Call("Range", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.kv->Range(context, request, &response);
  }));
  if (response.kvs_size() == 0) return std::nullopt;
  return FromProto(response.kvs(0));
}

absl::StatusOr<RangeResult> EtcdClient::GetPrefix(const std::string& prefix, int64_t page_size) {
  pb::RangeRequest request;
  SetPrefixRange(prefix, request.mutable_key(), request.mutable_range_end());
  request.set_limit(std::max<int64_t>(page_size, 1));
  RangeResult result;
  while (true) {
    pb::RangeResponse response;
    RETURN_IF_ERROR(Call("Range", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
      response.Clear();
      return m.kv->Range(context, request, &response);
    }));
    if (result.revision == 0) {
      // Every later page is read at the first page's revision: one consistent snapshot.
      result.revision = response.header().revision();
      request.set_revision(result.revision);
    }
    for (const mvccpb::KeyValue& kv : response.kvs()) result.kvs.push_back(FromProto(kv));
    if (!response.more() || response.kvs_size() == 0) return result;
    // The next page starts right after the last key read.
    request.set_key(response.kvs(response.kvs_size() - 1).key() + std::string(1, '\0'));
  }
}

absl::StatusOr<int64_t> EtcdClient::Put(const std::string& key, const std::string& value,
                                        int64_t lease) {
  pb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  pb::PutResponse response;
  RETURN_IF_ERROR(Call("Put", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.kv->Put(context, request, &response);
  }));
  return response.header().revision();
}

absl::StatusOr<int64_t> EtcdClient::Delete(const std::string& key) {
  pb::DeleteRangeRequest request;
  request.set_key(key);
  pb::DeleteRangeResponse response;
  RETURN_IF_ERROR(Call("DeleteRange", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.kv->DeleteRange(context, request, &response);
  }));
  return response.deleted();
}

absl::StatusOr<int64_t> EtcdClient::DeletePrefix(const std::string& prefix) {
  pb::DeleteRangeRequest request;
  SetPrefixRange(prefix, request.mutable_key(), request.mutable_range_end());
  pb::DeleteRangeResponse response;
  RETURN_IF_ERROR(Call("DeleteRange", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.kv->DeleteRange(context, request, &response);
  }));
  return response.deleted();
}

absl::StatusOr<TxnResult> EtcdClient::Commit(const Txn& txn, const std::string& marker_key,
                                             std::string* write_id_out, int64_t marker_lease) {
  const bool marked = !marker_key.empty();
  const std::string write_id = marked ? NewWriteId() : "";
  if (write_id_out != nullptr) *write_id_out = write_id;
  pb::TxnRequest request;
  for (const Compare& c : txn.compares) ToProto(c, request.add_compare());
  for (const Op& op : txn.success) ToProto(op, request.add_success());
  for (const Op& op : txn.failure) ToProto(op, request.add_failure());
  if (marked) {
    // Last in each branch, so that the caller's responses keep their indexes.
    ToProto(Op::Put(marker_key, write_id, marker_lease), request.add_success());
    ToProto(Op::Get(marker_key), request.add_failure());
  }
  pb::TxnResponse response;
  RETURN_IF_ERROR(Call("Txn", marked, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.kv->Txn(context, request, &response);
  }));
  TxnResult result;
  result.succeeded = response.succeeded();
  result.revision = response.header().revision();
  int count = response.responses_size();
  if (marked) {
    if (count == 0) return absl::InternalError("etcd Txn: reply without the marker's response");
    --count;
    const pb::ResponseOp& marker = response.responses(count);
    // The write id is unique to this call: only an earlier attempt of it can have put it.
    if (!result.succeeded && marker.has_response_range() &&
        marker.response_range().kvs_size() == 1 &&
        marker.response_range().kvs(0).value() == write_id) {
      result.succeeded = true;
      result.recovered = true;
      result.revision = marker.response_range().kvs(0).mod_revision();
      return result;
    }
  }
  for (int i = 0; i < count; ++i) result.responses.push_back(FromProto(response.responses(i)));
  return result;
}

absl::Status EtcdClient::Compact(int64_t revision) {
  pb::CompactionRequest request;
  request.set_revision(revision);
  pb::CompactionResponse response;
  return Call("Compact", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.kv->Compact(context, request, &response);
  });
}

absl::StatusOr<int64_t> EtcdClient::GrantLease(absl::Duration ttl) {
  pb::LeaseGrantRequest request;
  request.set_ttl(std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)))));
  pb::LeaseGrantResponse response;
  RETURN_IF_ERROR(Call("LeaseGrant", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
    response.Clear();
    return m.lease->LeaseGrant(context, request, &response);
  }));
  if (!response.error().empty()) {
    return absl::InternalError(absl::StrCat("etcd LeaseGrant: ", response.error()));
  }
  return response.id();
}

absl::Status EtcdClient::RevokeLease(int64_t lease) {
  pb::LeaseRevokeRequest request;
  request.set_id(lease);
  pb::LeaseRevokeResponse response;
  absl::Status status =
      Call("LeaseRevoke", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
        response.Clear();
        return m.lease->LeaseRevoke(context, request, &response);
      });
  // "requested lease not found": expired, or revoked by an earlier attempt.
  if (status.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return status;
}

absl::StatusOr<absl::Duration> EtcdClient::KeepAliveOnce(int64_t lease) {
  pb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  pb::LeaseKeepAliveResponse response;
  RETURN_IF_ERROR(
      Call("LeaseKeepAlive", true, [&](EtcdMemberStubs& m, grpc::ClientContext* context) {
        response.Clear();
        // One request and its answer on a stream of their own, bounded by the attempt's
        // deadline (a long-lived stream would need a reader thread to bound each ping).
        std::unique_ptr<grpc::ClientReaderWriterInterface<pb::LeaseKeepAliveRequest,
                                                          pb::LeaseKeepAliveResponse>>
            stream = m.lease->LeaseKeepAlive(context);
        if (!stream->Write(request) || !stream->Read(&response)) return stream->Finish();
        stream->WritesDone();
        // etcd ends the stream once our side is done; its status adds nothing to the answer.
        (void)stream->Finish();
        return grpc::Status::OK;
      }));
  if (response.ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd lease ", lease, " has expired or was revoked"));
  }
  return absl::Seconds(response.ttl());
}

absl::StatusOr<std::unique_ptr<EtcdWatch>> EtcdClient::Watch(const std::string& key, bool prefix,
                                                             int64_t start_revision) {
  pb::WatchRequest request;
  pb::WatchCreateRequest* create = request.mutable_create_request();
  if (prefix) {
    SetPrefixRange(key, create->mutable_key(), create->mutable_range_end());
  } else {
    create->set_key(key);
  }
  create->set_start_revision(start_revision);
  const MonotonicTime deadline = clock_.MonotonicNow() + options_.operation_timeout;
  absl::Status last;
  // Each member in turn until one confirms the watch (a watch is not a call: Call's retry loop
  // does not fit its stream).
  for (int tries = 0; clock_.MonotonicNow() < deadline; ++tries) {
    const int index = current_.load();
    EtcdMemberStubs& member = members_[index];
    std::unique_ptr<EtcdWatch> watch(new EtcdWatch(clock_));
    // Without a leader the member cancels the watch instead of keeping it silent.
    watch->context_.AddMetadata("hasleader", "true");
    watch->from_now_ = start_revision <= 0;
    {
      absl::MutexLock lock(&watch->mu_);
      watch->last_revision_ = start_revision > 0 ? start_revision - 1 : 0;
    }
    watch->stream_ = member.watch->Watch(&watch->context_);
    if (watch->stream_->Write(request)) {
      EtcdWatch* w = watch.get();
      w->reader_ = std::thread([w] { w->ReadLoop(); });
      bool created = false;
      {
        absl::MutexLock lock(&w->mu_);
        auto answered = [w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
          return w->created_ || w->done_;
        };
        clock_.AwaitWithDeadline(
            &w->mu_, absl::Condition(&answered),
            std::min(deadline, clock_.MonotonicNow() + options_.attempt_timeout));
        created = w->created_;
        last = w->done_ ? w->ended_
                        : absl::DeadlineExceededError(absl::StrCat(
                              "etcd Watch at ", member.address, ": not confirmed within ",
                              absl::FormatDuration(options_.attempt_timeout)));
      }
      if (created) return watch;
      if (!MayHaveReachedEtcd(last.code())) return last;
    } else {
      last = WithContext(FromGrpcStatus(watch->stream_->Finish()), "etcd Watch at ",
                         member.address);
      watch->stream_.reset();
    }
    int expected = index;
    current_.compare_exchange_strong(expected, (index + 1) % member_count());
    if ((tries + 1) % member_count() == 0) {
      clock_.SleepFor(std::min(options_.initial_backoff, deadline - clock_.MonotonicNow()));
    }
  }
  if (last.ok()) last = absl::DeadlineExceededError("etcd Watch: no member confirmed the watch");
  return last;
}

EtcdWatch::~EtcdWatch() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void EtcdWatch::ReadLoop() {
  pb::WatchResponse response;
  absl::Status ended;
  while (stream_->Read(&response)) {
    absl::MutexLock lock(&mu_);
    if (response.created()) {
      created_ = true;
      // A watch "from now" starts after the revision etcd was at when it confirmed it.
      if (from_now_) last_revision_ = response.header().revision();
    }
    if (response.compact_revision() != 0) {
      ended = absl::OutOfRangeError(absl::StrCat(
          "etcd Watch: revisions up to ", response.compact_revision(),
          " were compacted; read the current state and watch from its revision + 1"));
      break;
    }
    if (response.canceled()) {
      ended = absl::UnavailableError(
          absl::StrCat("etcd Watch canceled by etcd: ", response.cancel_reason()));
      break;
    }
    for (const mvccpb::Event& e : response.events()) {
      WatchEvent event;
      event.type =
          e.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
      event.kv = FromProto(e.kv());
      pending_.push_back(std::move(event));
    }
  }
  // The stream stays open after etcd cancels one watch (a stream may carry several): end it.
  context_.TryCancel();
  const grpc::Status finished = stream_->Finish();
  absl::MutexLock lock(&mu_);
  if (ended.ok()) {
    ended = finished.ok() ? absl::UnavailableError("etcd Watch: the stream ended")
                          : WithContext(FromGrpcStatus(finished), "etcd Watch");
  }
  ended_ = ended;
  done_ = true;
}

absl::StatusOr<std::vector<WatchEvent>> EtcdWatch::Next(MonotonicTime deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !pending_.empty() || done_; };
  clock_.AwaitWithDeadline(&mu_, absl::Condition(&ready), deadline);
  if (!pending_.empty()) {
    std::vector<WatchEvent> events;
    events.swap(pending_);
    last_revision_ = events.back().kv.mod_revision;
    return events;
  }
  if (done_) return ended_;
  return std::vector<WatchEvent>{};
}

int64_t EtcdWatch::last_revision() {
  absl::MutexLock lock(&mu_);
  return last_revision_;
}

}  // namespace tributary::etcd
