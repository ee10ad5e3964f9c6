// The item writes of TableStore. PutItem, DeleteItem, UpdateItem, BatchWriteItem and
// TransactWriteItems all run Execute:
//  1. prepare, no lock held: find every table at once (BeginWrites: counting a write in flight
//     on each, so DeleteTable and UpdateTable wait for us; waiting, holding none, while any is
//     being updated), check the item or key, compute its RocksDB key; a key twice is an error;
//  2. claim every key at once under mu_, waiting while any of them is claimed — so writes that
//     share a key never interleave, and claiming all together cannot deadlock;
//  3. read the current items, check the conditions, compute the new items;
//  4. Commit: every changed item and its change record (tables with a stream) in one RocksDB
//     write; a failed condition or any error before it writes nothing;
//  5. release the keys and the tables (absl::Cleanup, on every path).
// A write that changes nothing (an equal item, deleting a missing one, a condition check) writes
// nothing and emits no change record, as DynamoDB.
#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"
#include "tables/table_store.h"
#include "tables/table_store_internal.h"
#include "tables/update_expression.h"

namespace tributary::tables {

struct TableStore::StagedWrite {
  const ItemWrite* write = nullptr;
  std::shared_ptr<Table> table;  // set once BeginWrites counted us on it
  std::string key;               // the RocksDB key
  AttributeMap key_attributes;   // sorted
  std::optional<AttributeMap> old_item;
  std::string old_encoded;  // old_item as stored (EncodeItem's bytes), for its change record
  std::optional<AttributeMap> new_item;
};

namespace {

constexpr char kConditionItemPayload[] = "type.tributary.dev/tables.condition-item";
constexpr char kTokenErrorPayload[] = "type.tributary.dev/tables.token-error";

// What a token remembers of its request: its SHA-256 (32 bytes), not the request (up to 4 MB).
std::string RequestDigest(absl::string_view request) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(request.data()), request.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

absl::Status TokenError(absl::StatusCode code, absl::string_view dynamodb_code,
                        absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kTokenErrorPayload, absl::Cord(dynamodb_code));
  return status;
}

absl::Status ValidateItem(const AttributeMap& item) {
  for (size_t i = 0; i < item.size(); ++i) {
    const auto& [name, value] = item[i];
    if (name.empty()) {
      return absl::InvalidArgumentError(
          "One or more parameter values were invalid: An attribute name may not be empty");
    }
    if (i > 0 && item[i - 1].first == name) {
      return absl::InvalidArgumentError(
          absl::StrCat("the attribute name '", name, "' appears twice"));
    }
    RETURN_IF_ERROR(ValidateAttributeValue(value, name));
  }
  if (ItemSize(item) > kMaxItemBytes) {
    return absl::InvalidArgumentError("Item size has exceeded the maximum allowed size");
  }
  return absl::OkStatus();
}

// The change record's partition key in the stream (shard_store hashes it to pick the shard):
// "k" + hex of the item's partition key value (S/B bytes, N canonical), at most 127 bytes of it
// so the key stays within 256 characters. Every write of an item maps to one key, hence one
// shard, and its records stay in write order.
std::string RecordPartitionKey(const KeySchema& schema, const AttributeMap& item) {
  const AttributeValue* v = FindAttribute(item, schema.partition_key.name);
  const std::string bytes = v == nullptr ? std::string() : v->scalar();
  return absl::StrCat("k", absl::BytesToHexString(absl::string_view(bytes).substr(0, 127)));
}

absl::Status ConditionFailed(const std::optional<AttributeMap>& item) {
  absl::Status status = absl::FailedPreconditionError("The conditional request failed");
  if (item.has_value()) status.SetPayload(kConditionItemPayload, absl::Cord(EncodeItem(*item)));
  return status;
}

}  // namespace

std::optional<AttributeMap> ItemOfFailedCondition(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kFailedPrecondition) return std::nullopt;
  auto payload = status.GetPayload(kConditionItemPayload);  // absl::optional<absl::Cord>
  if (!payload.has_value()) return std::nullopt;
  absl::StatusOr<AttributeMap> item = DecodeItem(std::string(*payload));
  if (!item.ok()) return std::nullopt;
  return *std::move(item);
}

absl::StatusOr<std::optional<AttributeMap>> TableStore::PutItem(
    absl::string_view table, AttributeMap item, const std::optional<Condition>& condition) {
  std::vector<ItemWrite> writes(1);
  writes[0].kind = ItemWrite::Kind::kPut;
  writes[0].table = std::string(table);
  writes[0].item = std::move(item);
  writes[0].condition = condition;
  ASSIGN_OR_RETURN(ExecuteResult result, Execute(writes, ExecuteMode::kSingle));
  return std::move(result.outcomes[0].old_item);
}

absl::StatusOr<std::optional<AttributeMap>> TableStore::DeleteItem(
    absl::string_view table, const AttributeMap& key, const std::optional<Condition>& condition) {
  std::vector<ItemWrite> writes(1);
  writes[0].kind = ItemWrite::Kind::kDelete;
  writes[0].table = std::string(table);
  writes[0].item = key;
  writes[0].condition = condition;
  ASSIGN_OR_RETURN(ExecuteResult result, Execute(writes, ExecuteMode::kSingle));
  return std::move(result.outcomes[0].old_item);
}

absl::StatusOr<WriteOutcome> TableStore::UpdateItem(absl::string_view table,
                                                    const AttributeMap& key,
                                                    const UpdateExpression& update,
                                                    const std::optional<Condition>& condition) {
  std::vector<ItemWrite> writes(1);
  writes[0].kind = ItemWrite::Kind::kUpdate;
  writes[0].table = std::string(table);
  writes[0].item = key;
  writes[0].update = update;
  writes[0].condition = condition;
  ASSIGN_OR_RETURN(ExecuteResult result, Execute(writes, ExecuteMode::kSingle));
  return std::move(result.outcomes[0]);
}

absl::Status TableStore::BatchWriteItem(const std::vector<ItemWrite>& writes,
                                        std::vector<WriteOutcome>* outcomes) {
  if (writes.empty() || writes.size() > static_cast<size_t>(kMaxBatchWriteItems)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch holds 1-", kMaxBatchWriteItems, " writes"));
  }
  ASSIGN_OR_RETURN(ExecuteResult result, Execute(writes, ExecuteMode::kBatch));
  if (outcomes != nullptr) *outcomes = std::move(result.outcomes);
  return absl::OkStatus();
}

absl::Status TableStore::ExpireTransactionTokens() {
  const std::string from = internal::TokenKey(0, "");
  // Up to and including now: a window that ends now is over (as in TransactWriteItems).
  const std::string to = internal::TokenKey(absl::ToUnixMillis(clock_.Now()) + 1, "");
  rocksdb::WriteBatch batch;
  RETURN_IF_ERROR(FromRocksDbStatus(batch.DeleteRange(tables_, from, to), "staging"));
  return FromRocksDbStatus(db_.db()->Write(WriteOptions(), &batch),
                           "deleting expired transaction tokens");
}

std::string TransactionTokenError(const absl::Status& status) {
  auto payload = status.GetPayload(kTokenErrorPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

absl::StatusOr<TransactionOutcome> TableStore::TransactWriteItems(
    const std::vector<ItemWrite>& writes, const std::optional<TransactionToken>& token) {
  if (writes.empty() || writes.size() > static_cast<size_t>(kMaxTransactionItems)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a transaction holds 1-", kMaxTransactionItems, " writes"));
  }
  int64_t bytes = 0;
  for (const ItemWrite& w : writes) bytes += ItemSize(w.item);
  if (bytes > kMaxTransactionBytes) {
    return absl::InvalidArgumentError("Transaction request cannot be larger than 4 MB");
  }
  if (token.has_value()) {
    absl::MutexLock lock(&mu_);
    const MonotonicTime now = clock_.MonotonicNow();
    while (!token_expiry_.empty() && token_expiry_.front().first <= now) {
      auto it = tokens_.find(token_expiry_.front().second);
      // A token written again later has a later expiry of its own.
      if (it != tokens_.end() && it->second.written && it->second.expires <= now) {
        tokens_.erase(it);
      }
      token_expiry_.pop_front();
    }
    auto it = tokens_.find(token->token);
    if (it != tokens_.end()) {
      const std::string request = RequestDigest(token->request);
      if (!it->second.written) {
        return TokenError(absl::StatusCode::kAborted, "TransactionInProgressException",
                          "Transaction is ongoing for the idempotency token");
      }
      if (it->second.request != request) {
        return TokenError(absl::StatusCode::kInvalidArgument,
                          "IdempotentParameterMismatchException",
                          "The request uses the same client token as a previous, but non-"
                          "identical request.");
      }
      TransactionOutcome replay;
      replay.replayed = true;
      return replay;
    }
    tokens_[token->token] = TokenState{RequestDigest(token->request), false, MonotonicTime()};
  }
  // The token is written with the transaction (also one that changes no item), so that a retry
  // after a restart finds it exactly when the transaction was written.
  shard_store::BatchStage write_token;
  if (token.has_value()) {
    write_token = [&](rocksdb::WriteBatch* batch) {
      std::string value(1, internal::kTokenFormatVersion);
      value += RequestDigest(token->request);
      const int64_t expiry = absl::ToUnixMillis(clock_.Now() + kTransactionTokenWindow);
      return FromRocksDbStatus(batch->Put(tables_, internal::TokenKey(expiry, token->token), value),
                               "adding the transaction's token to the write batch");
    };
  }
  absl::StatusOr<ExecuteResult> result =
      Execute(writes, ExecuteMode::kTransaction, write_token);
  if (token.has_value()) {
    absl::MutexLock lock(&mu_);
    if (result.ok() && result->cancellations.empty()) {
      TokenState& state = tokens_[token->token];
      state.written = true;
      state.expires = clock_.MonotonicNow() + kTransactionTokenWindow;
      token_expiry_.emplace_back(state.expires, token->token);
    } else {
      tokens_.erase(token->token);  // not written: the token stays free
    }
  }
  RETURN_IF_ERROR(result.status());
  TransactionOutcome outcome;
  outcome.cancellation_reasons = std::move(result->cancellations);
  outcome.outcomes = std::move(result->outcomes);
  return outcome;
}

absl::StatusOr<TableStore::ExecuteResult> TableStore::Execute(
    const std::vector<ItemWrite>& writes, ExecuteMode mode, const shard_store::BatchStage& extra) {
  using Kind = ItemWrite::Kind;
  std::vector<StagedWrite> staged(writes.size());
  bool claimed = false;
  absl::Cleanup release = [&] {
    absl::MutexLock lock(&mu_);
    for (StagedWrite& s : staged) {
      if (s.table == nullptr) continue;
      if (claimed) claimed_.erase(s.key);
      --s.table->writers;
    }
  };

  // 1. Prepare.
  std::vector<absl::string_view> names;
  for (const ItemWrite& w : writes) {
    if (mode == ExecuteMode::kBatch &&
        ((w.kind != Kind::kPut && w.kind != Kind::kDelete) || w.condition.has_value())) {
      return absl::InvalidArgumentError("a batch holds puts and deletes without conditions");
    }
    if (w.kind == Kind::kConditionCheck && !w.condition.has_value()) {
      return absl::InvalidArgumentError("a condition check needs a condition");
    }
    names.push_back(w.table);
  }
  // Every table at once, waiting (holding none) while any is being updated: begun one by one, a
  // write could hold one table while waiting for another's UpdateTable, and an UpdateTable of
  // the first wait for it (AWriteOfSeveralTablesHoldsNoneWhileItWaitsForAnUpdate).
  ASSIGN_OR_RETURN(std::vector<std::shared_ptr<Table>> tables, BeginWrites(names));
  for (size_t i = 0; i < writes.size(); ++i) {
    staged[i].write = &writes[i];
    staged[i].table = std::move(tables[i]);  // counted: released by `release`
  }
  for (size_t i = 0; i < writes.size(); ++i) {
    const ItemWrite& w = writes[i];
    StagedWrite& s = staged[i];
    const KeySchema& schema = s.table->description.spec.key_schema;
    AttributeMap source = w.item;
    RETURN_IF_ERROR(SortAttributeMap(&source));
    if (w.kind == Kind::kPut) {
      RETURN_IF_ERROR(ValidateItem(source));
      RETURN_IF_ERROR(CheckItemKey(schema, source));
      RETURN_IF_ERROR(internal::CheckIndexKeys(s.table->description.spec, source));
    } else {
      RETURN_IF_ERROR(CheckKey(schema, source));
    }
    if (w.kind == Kind::kUpdate) RETURN_IF_ERROR(CheckUpdateOfKey(w.update, schema));
    s.key = ItemPrefix(s.table->description.table_id) + EncodeItemKey(schema, source);
    s.key_attributes = KeyOf(schema, source);
    if (w.kind == Kind::kPut) s.new_item = std::move(source);
  }
  std::vector<const std::string*> keys;
  for (const StagedWrite& s : staged) keys.push_back(&s.key);
  std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
  for (size_t i = 1; i < keys.size(); ++i) {
    if (*keys[i] == *keys[i - 1]) {
      return absl::InvalidArgumentError(
          mode == ExecuteMode::kTransaction
              ? "Transaction request cannot include multiple operations on one item"
              : "Provided list of item keys contains duplicates");
    }
  }

  // 2. Claim.
  {
    absl::MutexLock lock(&mu_);
    auto free = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const StagedWrite& s : staged) {
        if (claimed_.count(s.key) > 0) return false;
      }
      return true;
    };
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&free), MonotonicTime::InfiniteFuture());
    for (const StagedWrite& s : staged) claimed_.insert(s.key);
    claimed = true;
  }

  // 3. Read, check, compute.
  ExecuteResult result;
  std::vector<CancellationReason> reasons(writes.size());
  bool cancelled = false;
  for (size_t i = 0; i < staged.size(); ++i) {
    StagedWrite& s = staged[i];
    const ItemWrite& w = *s.write;
    std::string bytes;
    rocksdb::Status read = db_.db()->Get(rocksdb::ReadOptions(), items_, s.key, &bytes);
    if (read.ok()) {
      ASSIGN_OR_RETURN(s.old_item, DecodeItem(bytes));
      s.old_encoded = std::move(bytes);
    } else if (!read.IsNotFound()) {
      return FromRocksDbStatus(read, "reading the item (nothing was written)");
    }
    absl::Status applies;
    if (w.condition.has_value() &&
        !ConditionHolds(*w.condition, s.old_item ? &*s.old_item : nullptr)) {
      applies = ConditionFailed(s.old_item);
    } else if (w.kind == Kind::kConditionCheck) {
      s.new_item = s.old_item;
    } else if (w.kind == Kind::kUpdate) {
      absl::StatusOr<AttributeMap> updated =
          ApplyUpdate(w.update, s.table->description.spec.key_schema, s.key_attributes,
                      s.old_item);
      if (updated.ok()) {
        absl::Status keys = internal::CheckIndexKeys(s.table->description.spec, *updated);
        if (!keys.ok()) updated = keys;
      }
      if (updated.ok()) {
        s.new_item = *std::move(updated);
      } else {
        applies = updated.status();
      }
    }
    if (applies.ok()) continue;
    if (mode != ExecuteMode::kTransaction) return applies;
    cancelled = true;
    reasons[i].status = applies;
    if (applies.code() == absl::StatusCode::kFailedPrecondition) reasons[i].item = s.old_item;
  }
  if (cancelled) {
    result.cancellations = std::move(reasons);
    return result;
  }

  // 4. Write.
  RETURN_IF_ERROR(Commit(staged, extra));
  for (StagedWrite& s : staged) {
    result.outcomes.push_back(WriteOutcome{std::move(s.old_item), std::move(s.new_item)});
  }
  return result;
}

// The index entries of one changed item, in the batch of the item: the old item's entries
// deleted (unless the new item has an entry of the same key, which is then overwritten), the new
// item's put.
absl::Status TableStore::StageIndexEntries(const StagedWrite& s, rocksdb::WriteBatch* batch) {
  const TableDescription& d = s.table->description;  // immutable after creation
  for (size_t i = 0; i < d.spec.indexes.size(); ++i) {
    const IndexSpec& index = d.spec.indexes[i];
    std::optional<std::string> new_key;
    if (s.new_item.has_value() && internal::InIndex(index, *s.new_item)) {
      new_key = internal::IndexEntryKey(d, i, *s.new_item);
      RETURN_IF_ERROR(FromRocksDbStatus(
          batch->Put(items_, *new_key,
                     EncodeItem(internal::ProjectToIndex(d.spec, i, *s.new_item))),
          "adding an index entry to the write batch"));
    }
    if (s.old_item.has_value() && internal::InIndex(index, *s.old_item)) {
      const std::string old_key = internal::IndexEntryKey(d, i, *s.old_item);
      if (old_key != new_key) {
        RETURN_IF_ERROR(FromRocksDbStatus(batch->Delete(items_, old_key),
                                          "adding an index entry to the write batch"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status TableStore::Commit(const std::vector<StagedWrite>& staged,
                                const shard_store::BatchStage& extra) {
  std::vector<const StagedWrite*> changed;
  for (const StagedWrite& s : staged) {
    if (s.write->kind == ItemWrite::Kind::kConditionCheck) continue;
    if (!s.old_item && !s.new_item) continue;
    if (s.old_item && s.new_item && ItemsEqual(*s.old_item, *s.new_item)) continue;
    changed.push_back(&s);
  }
  if (changed.empty() && extra == nullptr) return absl::OkStatus();
  // Each new item encoded once: its value in the batch and its image in the change record.
  std::vector<std::string> encoded(changed.size());
  for (size_t i = 0; i < changed.size(); ++i) {
    if (changed[i]->new_item.has_value()) encoded[i] = EncodeItem(*changed[i]->new_item);
  }
  auto stage = [&](rocksdb::WriteBatch* batch) -> absl::Status {
    if (extra != nullptr) RETURN_IF_ERROR(extra(batch));
    for (size_t i = 0; i < changed.size(); ++i) {
      const StagedWrite* s = changed[i];
      RETURN_IF_ERROR(FromRocksDbStatus(s->new_item.has_value()
                                            ? batch->Put(items_, s->key, encoded[i])
                                            : batch->Delete(items_, s->key),
                                        "adding an item to the write batch"));
      RETURN_IF_ERROR(StageIndexEntries(*s, batch));
    }
    return absl::OkStatus();
  };
  // The change records, one request per stream (a table's stream is one shard_store stream).
  // `changed` holds only writes that change their item, so each has a record.
  std::map<std::string, v1::PutRecordsRequest> records;
  const absl::Time now = clock_.Now();
  for (size_t i = 0; i < changed.size(); ++i) {
    const StagedWrite* s = changed[i];
    const TableDescription& d = s->table->description;  // immutable after creation
    if (!d.spec.stream.enabled) continue;
    v1::PutRecordsRequest& request = records[d.stream_name];
    request.set_stream_name(d.stream_name);
    v1::PutRecordsRequestEntry* entry = request.add_records();
    entry->set_partition_key(RecordPartitionKey(d.spec.key_schema, s->key_attributes));
    entry->set_data(EncodeChange(d.spec.stream.view_type, s->key_attributes, s->old_item,
                                 s->old_encoded, s->new_item, encoded[i], now));
  }
  if (records.empty()) {
    rocksdb::WriteBatch batch;
    RETURN_IF_ERROR(stage(&batch));
    return FromRocksDbStatus(db_.db()->Write(WriteOptions(), &batch),
                             "writing the items (nothing was written)");
  }
  std::vector<v1::PutRecordsRequest> requests;
  for (auto& [stream, request] : records) requests.push_back(std::move(request));
  absl::Status put = options_.streams->PutRecordsStaged(requests, stage);
  if (!put.ok()) {
    return absl::Status(put.code(), absl::StrCat("writing the items and their change records "
                                                 "(none was written): ",
                                                 put.message()));
  }
  return absl::OkStatus();
}

}  // namespace tributary::tables
