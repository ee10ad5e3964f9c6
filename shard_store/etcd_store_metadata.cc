#include "shard_store/etcd_store_metadata.h"

#include <openssl/rand.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace tributary::shard_store {
namespace {

constexpr char kSecret[] = "secret";
constexpr char kNextStreamId[] = "next_stream_id";
constexpr char kStreams[] = "streams/";
constexpr char kShards[] = "shards/";
constexpr char kWriters[] = "writers/";  // etcd/marked_session.h's markers
constexpr size_t kSecretSize = 32;  // tokens.h kMacSize
// Conflicts in a row with other front-ends' allocations before AllocateStreamId gives up.
constexpr int kMaxAllocationConflicts = 100;

template <typename M>
absl::Status Decode(const std::string& value, M* message, absl::string_view key) {
  if (!message->ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("undecodable store metadata at ", key));
  }
  return absl::OkStatus();
}

// "<id %020>/<index %010>" → (id, index).
absl::Status ParseShardSuffix(absl::string_view suffix, absl::string_view key, uint64_t* id,
                              uint32_t* index) {
  const size_t slash = suffix.find('/');
  if (slash == absl::string_view::npos || !absl::SimpleAtoi(suffix.substr(0, slash), id) ||
      !absl::SimpleAtoi(suffix.substr(slash + 1), index)) {
    return absl::DataLossError(absl::StrCat("bad shard metadata key ", key));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdStoreMetadata>> EtcdStoreMetadata::Create(
    etcd::EtcdClient& client, EtcdStoreMetadataOptions options) {
  if (options.prefix.empty() || options.prefix.back() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("store prefix \"", options.prefix, "\" must end with '/'"));
  }
  std::unique_ptr<EtcdStoreMetadata> metadata(new EtcdStoreMetadata(client, std::move(options)));
  absl::MutexLock lock(&metadata->mu_);
  RETURN_IF_ERROR(metadata->session_.Start());
  return metadata;
}

std::string EtcdStoreMetadata::StreamKey(const std::string& name) const {
  return absl::StrCat(options_.prefix, kStreams, name);
}

std::string EtcdStoreMetadata::ShardsOf(uint64_t stream_id) const {
  return absl::StrCat(options_.prefix, kShards, absl::StrFormat("%020d", stream_id), "/");
}

std::string EtcdStoreMetadata::ShardKey(uint64_t stream_id, uint32_t index) const {
  return absl::StrCat(ShardsOf(stream_id), absl::StrFormat("%010d", index));
}

absl::StatusOr<etcd::TxnResult> EtcdStoreMetadata::Commit(const etcd::Txn& txn,
                                                          absl::string_view what) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<etcd::TxnResult> result = session_.Commit(txn);
  if (!result.ok()) return WithContext(result.status(), what);
  if (result->succeeded) return result;
  // The compares failed: another front-end's write, unless our session (and with it the marker
  // that would have shown an earlier attempt of ours) is gone.
  RETURN_IF_ERROR(session_.CheckCompareFailure(what, "read the metadata again"));
  return result;
}

std::string EtcdStoreMetadata::WriterKey() {
  absl::MutexLock lock(&mu_);
  return session_.marker_key();
}

absl::StatusOr<bool> EtcdStoreMetadata::WriterAlive(const std::string& key) {
  if (key.empty()) return false;
  ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> kv, client_.Get(key));
  return kv.has_value();
}

absl::StatusOr<std::string> EtcdStoreMetadata::LoadOrCreateSecret() {
  const std::string key = options_.prefix + kSecret;
  std::string secret(kSecretSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), kSecretSize) != 1) {
    return absl::InternalError("generating the iterator secret: RAND_bytes failed");
  }
  etcd::Txn txn;
  txn.compares.push_back(etcd::Compare::CreateRevision(key, etcd::Compare::kEqual, 0));
  txn.success.push_back(etcd::Op::Put(key, secret));
  txn.failure.push_back(etcd::Op::Get(key));
  ASSIGN_OR_RETURN(etcd::TxnResult result, Commit(txn, "creating the iterator secret"));
  if (!result.succeeded) {
    if (result.responses.empty() || result.responses[0].kvs.empty()) {
      return absl::UnavailableError("reading the iterator secret: it vanished; try again");
    }
    secret = result.responses[0].kvs[0].value;
  }
  if (secret.size() != kSecretSize) {
    return absl::DataLossError(absl::StrCat("the iterator secret at ", key, " has ",
                                            secret.size(), " bytes, not ", kSecretSize));
  }
  return secret;
}

absl::StatusOr<uint64_t> EtcdStoreMetadata::AllocateStreamId() {
  const std::string key = options_.prefix + kNextStreamId;
  for (int conflicts = 0; conflicts < kMaxAllocationConflicts; ++conflicts) {
    ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> kv, client_.Get(key));
    uint64_t id = 1;
    int64_t revision = 0;  // absent
    if (kv.has_value()) {
      if (!absl::SimpleAtoi(kv->value, &id) || id == 0) {
        return absl::DataLossError(absl::StrCat("undecodable stream id allocator at ", key));
      }
      revision = kv->mod_revision;
    }
    etcd::Txn txn;
    // Once the put applied, the compare no longer holds (Commit's rule for recognising an
    // earlier attempt's write).
    txn.compares.push_back(etcd::Compare::ModRevision(key, etcd::Compare::kEqual, revision));
    txn.success.push_back(etcd::Op::Put(key, absl::StrCat(id + 1)));
    ASSIGN_OR_RETURN(etcd::TxnResult result,
                     Commit(txn, "allocating a stream id (nothing was created)"));
    if (result.succeeded) return id;
  }
  return absl::UnavailableError(absl::StrCat("allocating a stream id: ", kMaxAllocationConflicts,
                                             " conflicts in a row with other front-ends"));
}

absl::StatusOr<StoreMetadataSnapshot> EtcdStoreMetadata::Load() {
  // Streams and shards in one read (one revision): the prefix holds both.
  ASSIGN_OR_RETURN(etcd::RangeResult range, client_.GetPrefix(options_.prefix));
  StoreMetadataSnapshot snapshot;
  snapshot.revision = range.revision;
  std::map<uint64_t, StoredStream*> by_id;
  const std::string streams = options_.prefix + kStreams;
  const std::string shards = options_.prefix + kShards;
  for (const etcd::KeyValue& kv : range.kvs) {  // in key order: "shards/" before "streams/"
    if (!absl::StartsWith(kv.key, streams)) continue;
    StoredStream stored;
    RETURN_IF_ERROR(Decode(kv.value, &stored.stream, kv.key));
    stored.revision = kv.mod_revision;
    StoredStream& s = snapshot.streams[stored.stream.name()] = std::move(stored);
    by_id[s.stream.stream_id()] = &s;
  }
  for (const etcd::KeyValue& kv : range.kvs) {
    absl::string_view rest = kv.key;
    if (!absl::ConsumePrefix(&rest, shards)) continue;
    uint64_t id;
    uint32_t index;
    RETURN_IF_ERROR(ParseShardSuffix(rest, kv.key, &id, &index));
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;  // cannot happen: a delete removes both in one Txn
    RETURN_IF_ERROR(Decode(kv.value, &it->second->shards[index], kv.key));
  }
  return snapshot;
}

absl::StatusOr<std::optional<StoredStream>> EtcdStoreMetadata::ReadStream(
    const std::string& name) {
  const std::string key = StreamKey(name);
  // The record and its shards at one revision: a Txn of two reads.
  for (int attempt = 0; attempt < kMaxAllocationConflicts; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> kv, client_.Get(key));
    if (!kv.has_value()) return std::nullopt;
    StoredStream stored;
    RETURN_IF_ERROR(Decode(kv->value, &stored.stream, key));
    stored.revision = kv->mod_revision;
    // The shards as of that record: read them only if the record is still the same.
    etcd::Txn txn;
    txn.compares.push_back(
        etcd::Compare::ModRevision(key, etcd::Compare::kEqual, stored.revision));
    txn.success.push_back(etcd::Op::GetPrefix(ShardsOf(stored.stream.stream_id())));
    ASSIGN_OR_RETURN(etcd::TxnResult result, client_.Commit(txn));
    if (!result.succeeded) continue;  // changed meanwhile: read again
    const std::string shards = ShardsOf(stored.stream.stream_id());
    for (const etcd::KeyValue& shard : result.responses[0].kvs) {
      uint64_t id;
      uint32_t index;
      RETURN_IF_ERROR(ParseShardSuffix(
          absl::string_view(shard.key).substr(options_.prefix.size() + sizeof(kShards) - 1),
          shard.key, &id, &index));
      RETURN_IF_ERROR(Decode(shard.value, &stored.shards[index], shard.key));
    }
    return stored;
  }
  return absl::UnavailableError(absl::StrCat("reading stream ", name, ": changing constantly"));
}

absl::StatusOr<int64_t> EtcdStoreMetadata::CreateStream(
    const internal::StreamMetadata& stream, const std::vector<internal::ShardMetadata>& shards) {
  const std::string key = StreamKey(stream.name());
  etcd::Txn txn;
  txn.compares.push_back(etcd::Compare::CreateRevision(key, etcd::Compare::kEqual, 0));
  txn.success.push_back(etcd::Op::Put(key, stream.SerializeAsString()));
  for (const internal::ShardMetadata& shard : shards) {
    txn.success.push_back(
        etcd::Op::Put(ShardKey(stream.stream_id(), shard.index()), shard.SerializeAsString()));
  }
  ASSIGN_OR_RETURN(etcd::TxnResult result,
                   Commit(txn, absl::StrCat("creating stream ", stream.name())));
  if (!result.succeeded) {
    return absl::AlreadyExistsError(absl::StrCat("stream ", stream.name(), " already exists"));
  }
  return result.revision;
}

absl::Status EtcdStoreMetadata::Conflict(const std::string& name, int64_t expected_revision) {
  ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> kv, client_.Get(StreamKey(name)));
  if (!kv.has_value()) return absl::NotFoundError(absl::StrCat("stream ", name, " not found"));
  return absl::FailedPreconditionError(absl::StrCat(
      "stream ", name, " was changed by another front-end (revision ", kv->mod_revision,
      ", expected ", expected_revision, "): read it again"));
}

absl::StatusOr<int64_t> EtcdStoreMetadata::UpdateStream(
    const internal::StreamMetadata& stream, const std::vector<internal::ShardMetadata>& put_shards,
    const std::vector<uint32_t>& removed_shards, int64_t expected_revision) {
  const std::string key = StreamKey(stream.name());
  etcd::Txn txn;
  txn.compares.push_back(etcd::Compare::ModRevision(key, etcd::Compare::kEqual,
                                                    expected_revision));
  // The record is written with every change, so its mod_revision is the stream's version.
  txn.success.push_back(etcd::Op::Put(key, stream.SerializeAsString()));
  for (const internal::ShardMetadata& shard : put_shards) {
    txn.success.push_back(
        etcd::Op::Put(ShardKey(stream.stream_id(), shard.index()), shard.SerializeAsString()));
  }
  for (uint32_t index : removed_shards) {
    txn.success.push_back(etcd::Op::Delete(ShardKey(stream.stream_id(), index)));
  }
  ASSIGN_OR_RETURN(etcd::TxnResult result,
                   Commit(txn, absl::StrCat("changing stream ", stream.name())));
  if (!result.succeeded) return Conflict(stream.name(), expected_revision);
  return result.revision;
}

absl::Status EtcdStoreMetadata::DeleteStream(const std::string& name, uint64_t stream_id,
                                             int64_t expected_revision) {
  const std::string key = StreamKey(name);
  etcd::Txn txn;
  txn.compares.push_back(etcd::Compare::ModRevision(key, etcd::Compare::kEqual,
                                                    expected_revision));
  txn.success.push_back(etcd::Op::Delete(key));
  txn.success.push_back(etcd::Op::DeletePrefix(ShardsOf(stream_id)));
  ASSIGN_OR_RETURN(etcd::TxnResult result, Commit(txn, absl::StrCat("deleting stream ", name)));
  if (!result.succeeded) return Conflict(name, expected_revision);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StoreMetadataWatch>> EtcdStoreMetadata::Watch(
    int64_t start_revision) {
  ASSIGN_OR_RETURN(std::unique_ptr<etcd::EtcdWatch> watch,
                   client_.Watch(options_.prefix, /*prefix=*/true, start_revision));
  return std::unique_ptr<StoreMetadataWatch>(
      new StoreMetadataWatch(options_.prefix, std::move(watch)));
}

absl::StatusOr<std::vector<StoreMetadataEvent>> StoreMetadataWatch::Next(MonotonicTime deadline) {
  ASSIGN_OR_RETURN(std::vector<etcd::WatchEvent> events, watch_->Next(deadline));
  std::vector<StoreMetadataEvent> out;
  const std::string streams = prefix_ + kStreams;
  const std::string shards = prefix_ + kShards;
  const std::string writers = prefix_ + kWriters;
  for (etcd::WatchEvent& e : events) {
    const bool put = e.type == etcd::WatchEvent::Type::kPut;
    StoreMetadataEvent event;
    event.revision = e.kv.mod_revision;
    absl::string_view rest = e.kv.key;
    if (absl::ConsumePrefix(&rest, streams)) {
      event.stream_name = std::string(rest);
      event.kind = put ? StoreMetadataEvent::Kind::kStreamPut
                       : StoreMetadataEvent::Kind::kStreamDeleted;
      if (put) RETURN_IF_ERROR(Decode(e.kv.value, &event.stream, e.kv.key));
    } else if (absl::ConsumePrefix(&rest, shards)) {
      RETURN_IF_ERROR(ParseShardSuffix(rest, e.kv.key, &event.stream_id, &event.shard_index));
      event.kind = put ? StoreMetadataEvent::Kind::kShardPut
                       : StoreMetadataEvent::Kind::kShardDeleted;
      if (put) RETURN_IF_ERROR(Decode(e.kv.value, &event.shard, e.kv.key));
    } else if (!put && absl::StartsWith(e.kv.key, writers)) {
      event.kind = StoreMetadataEvent::Kind::kWriterDeleted;  // a front-end's session ended
      event.writer_key = e.kv.key;
    } else {
      continue;  // the allocator, the secret, writers' markers being put
    }
    out.push_back(std::move(event));
  }
  return out;
}

}  // namespace tributary::shard_store
