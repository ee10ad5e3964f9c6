// The put path: PutRecords / PutRecord and PutInternal — validate, route each
// record by its hash key (Routing), reserve runs of sequence numbers per shard
// under the stream's put_mu, build one chunk per (call, shard) in one
// WriteBatch, write with no lock held, then finish the runs and advance the
// visible tips (Shard::Finish) and wake readers and watchers. See
// "Concurrency and visibility" in shard_state.h.
//
// Thread-safety: thread-safe like every ShardStore method; concurrent calls
// may write the same shard at once.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/proto_util.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "proto/streams.pb.h"
#include "rocksdb/slice.h"
#include "shard_store/hash_key.h"
#include "shard_store/routing.h"
#include "shard_store/shard_state.h"
#include "shard_store/shard_store.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_internal.h"

namespace tributary::shard_store {

struct ShardStore::RecordView {
  absl::string_view partition_key;
  absl::string_view data;
  absl::string_view explicit_hash_key;
};

struct ShardStore::PutResult {
  uint64_t sequence_number = 0;
  uint32_t shard_index = 0;
  const char* error_code = nullptr;  // null = written
  const char* error_message = nullptr;
  // The record's shard was closing past ShardStoreOptions::reshard_put_wait (error_code is
  // InternalFailure): PutRecord and whole calls fail UNAVAILABLE, not INTERNAL.
  bool resharding = false;
};

namespace {

constexpr char kReshardingMessage[] =
    "the record's shard is being resharded (closing, the new shard set not yet published: its "
    "reshard may be waiting for another front-end to finish it); nothing was stored, retry";

// Counts UTF-8 code points (bytes that are not continuation bytes).
size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `index` < 0 for PutRecord (no "records[i]." prefix in messages).
absl::Status ValidateRecord(absl::string_view pk, absl::string_view data, absl::string_view ehk,
                            int index, absl::uint128* hash_key) {
  auto prefix = [index]() {
    return index < 0 ? std::string() : absl::StrCat("records[", index, "].");
  };
  if (pk.empty() || Utf8Length(pk) > kMaxPartitionKeyChars) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix(), "partition_key: must be 1-256 characters"));
  }
  if (static_cast<int64_t>(pk.size() + data.size()) > kMaxRecordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix(), "data: partition key + data must be at most 1 MiB"));
  }
  if (ehk.empty()) {
    *hash_key = PartitionKeyHash(pk);
  } else {
    ASSIGN_OR_RETURN(*hash_key, ParseHashKey(ehk, absl::StrCat(prefix(), "explicit_hash_key")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ShardStore::PutRecords(const v1::PutRecordsRequest& request,
                                    v1::PutRecordsResponse* response) {
  response->Clear();
  const int n = request.records_size();
  if (n < 1 || n > kMaxPutRecordsCount) {
    return absl::InvalidArgumentError("records: must hold 1-500 records");
  }
  absl::InlinedVector<RecordView, 64> views(n);
  for (int i = 0; i < n; ++i) {
    const v1::PutRecordsRequestEntry& e = request.records(i);
    views[i] = {e.partition_key(), e.data(), e.explicit_hash_key()};
  }
  absl::InlinedVector<PutResult, 64> results(n);
  const absl::Time start = clock_.Now();
  const absl::Status put =
      PutInternal(request.stream_name(), views.data(), n, false, results.data());
  RecordPut(request.stream_name(), put, views.data(), n, results.data(), start);
  RETURN_IF_ERROR(put);
  auto* out = response->mutable_records();
  out->Reserve(n);
  int failed = 0;
  for (int i = 0; i < n; ++i) {
    v1::PutRecordsResultEntry* e = out->Add();
    const PutResult& r = results[i];
    if (r.error_code != nullptr) {
      ++failed;
      e->set_error_code(r.error_code);
      e->set_error_message(r.error_message);
    } else {
      AppendDecimal(r.sequence_number, e->mutable_sequence_number());
      *e->mutable_shard_id() = ShardIdFromIndex(r.shard_index);
    }
  }
  response->set_failed_record_count(failed);
  return absl::OkStatus();
}

absl::StatusOr<v1::PutRecordResponse> ShardStore::PutRecord(const v1::PutRecordRequest& request) {
  return PutRecordStaged(request, nullptr);
}

absl::StatusOr<v1::PutRecordResponse> ShardStore::PutRecordStaged(
    const v1::PutRecordRequest& request, const BatchStage& stage) {
  if (!request.sequence_number_for_ordering().empty()) {
    RETURN_IF_ERROR(
        ParseSequenceNumber(request.sequence_number_for_ordering(), "sequence_number_for_ordering")
            .status());
  }
  RecordView view{request.partition_key(), request.data(), request.explicit_hash_key()};
  PutResult result;
  const absl::Time start = clock_.Now();
  const BatchWriter staged = [&](Batch* batch) -> absl::Status {
    RETURN_IF_ERROR(stage(batch->batch()));
    return FromRocksDbStatus(Write(WriteKind::kRecords, batch),
                             "writing records (none of this call's records were stored)");
  };
  const absl::Status put =
      PutInternal(request.stream_name(), &view, 1, true, &result, stage ? &staged : nullptr);
  RecordPut(request.stream_name(), put, &view, 1, &result, start);
  RETURN_IF_ERROR(put);
  if (result.error_code != nullptr) {
    if (result.resharding) {
      return absl::UnavailableError(absl::StrCat("stream ", request.stream_name(), ": ",
                                                 result.error_message));
    }
    if (std::strcmp(result.error_code, kThroughputExceeded) == 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat(kThroughputExceeded, ": ", result.error_message));
    }
    return absl::InternalError(result.error_message);
  }
  v1::PutRecordResponse response;
  response.set_shard_id(ShardIdFromIndex(result.shard_index));
  AppendDecimal(result.sequence_number, response.mutable_sequence_number());
  return response;
}

absl::Status ShardStore::PutRecordsStaged(const std::vector<v1::PutRecordsRequest>& requests,
                                          const BatchStage& stage) {
  std::vector<const v1::PutRecordsRequest*> ordered;
  for (const v1::PutRecordsRequest& r : requests) {
    const int n = r.records_size();
    if (n < 1 || n > kMaxPutRecordsCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("records of stream ", r.stream_name(), ": must hold 1-500 records"));
    }
    ordered.push_back(&r);
  }
  if (ordered.empty()) return absl::InvalidArgumentError("requests: must hold 1 or more");
  std::sort(ordered.begin(), ordered.end(),
            [](const auto* a, const auto* b) { return a->stream_name() < b->stream_name(); });
  for (size_t i = 1; i < ordered.size(); ++i) {
    if (ordered[i]->stream_name() == ordered[i - 1]->stream_name()) {
      return absl::InvalidArgumentError(
          absl::StrCat("requests: stream ", ordered[i]->stream_name(), " appears twice"));
    }
  }
  return PutChain(ordered, 0, nullptr, stage);
}

// Each link reserves its stream's sequence numbers, builds its records into the one batch and
// hands it to the next link; the last adds `stage` and writes. Every link then finishes its
// runs with the write's outcome, after the write, as a lone put does.
absl::Status ShardStore::PutChain(const std::vector<const v1::PutRecordsRequest*>& requests,
                                  size_t i, Batch* into, const BatchStage& stage) {
  const v1::PutRecordsRequest& request = *requests[i];
  const int n = request.records_size();
  absl::InlinedVector<RecordView, 16> views(n);
  for (int k = 0; k < n; ++k) {
    const v1::PutRecordsRequestEntry& e = request.records(k);
    views[k] = {e.partition_key(), e.data(), e.explicit_hash_key()};
  }
  absl::InlinedVector<PutResult, 16> results(n);
  const BatchWriter next = [&](Batch* batch) -> absl::Status {
    if (i + 1 < requests.size()) return PutChain(requests, i + 1, batch, stage);
    RETURN_IF_ERROR(stage(batch->batch()));
    return FromRocksDbStatus(Write(WriteKind::kRecords, batch),
                             "writing records (none of this call's records were stored)");
  };
  const absl::Time start = clock_.Now();
  const absl::Status put = PutInternal(request.stream_name(), views.data(), n, false,
                                       results.data(), &next, into, /*whole=*/true);
  RecordPut(request.stream_name(), put, views.data(), n, results.data(), start);
  return put;
}

void ShardStore::EnableMetrics(metrics::Registry& registry) {
  CHECK(metrics_owner_ == nullptr) << "EnableMetrics called twice";
  metrics_owner_ = std::make_unique<StoreMetrics>(registry, db_ != nullptr ? db_->db() : nullptr);
  metrics_.store(metrics_owner_.get());
}

void ShardStore::RecordPut(absl::string_view stream_name, const absl::Status& status,
                           const RecordView* records, int count, const PutResult* results,
                           absl::Time start) {
  StoreMetrics* m = metrics_.load(std::memory_order_acquire);
  if (m == nullptr) return;
  int64_t acknowledged = 0, bytes = 0, throttled = 0;
  if (status.ok()) {
    for (int i = 0; i < count; ++i) {
      if (results[i].error_code == nullptr) {
        ++acknowledged;
        bytes += records[i].partition_key.size() + records[i].data.size();
      } else if (std::strcmp(results[i].error_code, kThroughputExceeded) == 0) {
        ++throttled;
      }
    }
  }
  m->Put(stream_name, status, acknowledged, bytes, throttled, clock_.Now() - start);
}

absl::Status ShardStore::PutInternal(absl::string_view stream_name, const RecordView* records,
                                     int n, bool single, PutResult* results,
                                     const BatchWriter* writer, Batch* into, bool whole) {
  const bool store_numbers = log_->StoreNumbers();
  if (!store_numbers && (writer != nullptr || into != nullptr)) {
    return absl::FailedPreconditionError(
        "a staged put needs the records in the store's RocksDB database; this store keeps them "
        "in another log (--log)");
  }
  // 1. Validate everything before touching any state.
  absl::InlinedVector<absl::uint128, 64> hash_keys(n);
  int64_t total_bytes = 0;
  for (int i = 0; i < n; ++i) {
    const RecordView& r = records[i];
    total_bytes += r.partition_key.size() + r.data.size();
    absl::Status s = ValidateRecord(r.partition_key, r.data, r.explicit_hash_key, single ? -1 : i,
                                    &hash_keys[i]);
    if (!s.ok()) return s;
  }
  if (!whole && total_bytes > kMaxPutRecordsBytes) {
    return absl::InvalidArgumentError("records: the request must be at most 5 MiB");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(stream_name));
  {
    // Acknowledge nothing before the stream exists durably: while CreateStream's write is in
    // flight, wait for it (a clock wait, so that tests can see the put parked). If it fails,
    // the stream is gone and nothing was written under its id. The check takes the lock
    // shared, so that concurrent puts to one stream do not queue behind each other here.
    bool creating;
    {
      absl::ReaderMutexLock lock(&stream->mu);
      creating = stream->creating;
    }
    if (creating) {
      absl::MutexLock lock(&stream->mu);
      auto created = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->mu) { return !stream->creating; };
      clock_.AwaitWithDeadline(&stream->mu, absl::Condition(&created),
                               MonotonicTime::InfiniteFuture());
      if (stream->deleted) {
        return absl::NotFoundError(
            absl::StrCat("stream ", stream->name, " not found (its creation failed)"));
      }
    }
  }

  // 2. Route and reserve sequence numbers, one shard lock at a time, records of a
  //    shard in call order. A record whose shard closed meanwhile routes again
  //    once the new shard set is published.
  // The stream's write limits (its mode, else the server's), read once a routing round below.
  double records_rate = 0, bytes_rate = 0;
  bool limited = false;
  struct Reservation {
    Shard* shard;  // held by a routing in `routings`
    InFlight* ticket;
  };
  // A log that numbers records (store_numbers false): each round's records per shard, appended
  // after the put lock is released; `accepted` holds their indexes, shard by shard.
  struct Group {
    Shard* shard;  // held by a routing in `routings`
    size_t begin, end;  // in `accepted`
  };
  absl::InlinedVector<Group, 8> groups;
  absl::InlinedVector<uint32_t, 64> accepted;
  const uint64_t call = store_numbers ? 0 : next_call_.fetch_add(1);
  absl::Status log_status;  // the first failed append, if any
  int appended = 0;         // records the log acknowledged
  absl::InlinedVector<Reservation, 8> reservations;
  absl::InlinedVector<std::shared_ptr<const Routing>, 2> routings;
  absl::InlinedVector<uint32_t, 64> pending(n);  // (slot << 16 | record) while routing
  absl::InlinedVector<int64_t, 64> arrival(n);
  for (int i = 0; i < n; ++i) pending[i] = i;
  int remaining = n;
  std::shared_ptr<const Routing> routing;
  uint64_t version = 0;
  // The end of this call's waits for a closing shard's new shard set (set at the first).
  std::optional<MonotonicTime> reshard_wait_until;
  while (remaining > 0) {
    {
      absl::ReaderMutexLock lock(&stream->mu);
      routing = stream->routing;
      version = stream->routing_version;
      std::tie(records_rate, bytes_rate) = WriteRatesFor(stream->attributes.mode);
      limited = records_rate > 0 || bytes_rate > 0;
      routings.push_back(routing);
      if (stream->deleted || routing->shards.empty()) {
        for (int k = 0; k < remaining; ++k) {
          PutResult& r = results[pending[k] & 0xFFFF];
          r.error_code = kInternalFailure;
          r.error_message = stream->deleted ? "the stream was deleted"
                                            : "the stream has no open shard (sealed)";
        }
        break;
      }
    }
    for (int k = 0; k < remaining; ++k) {
      uint32_t i = pending[k] & 0xFFFF;
      pending[k] = (static_cast<uint32_t>(routing->Find(hash_keys[i])) << 16) | i;
    }
    std::sort(pending.begin(), pending.begin() + remaining);
    int retry = 0;
    groups.clear();
    accepted.clear();
    const int64_t now_ms = ToMs(clock_.Now());
    const MonotonicTime refill_at = clock_.MonotonicNow();
    {
      absl::MutexLock put_lock(&stream->put_mu);  // one lock for every shard of the call
      for (int k = 0; k < remaining;) {
        const uint32_t slot = pending[k] >> 16;
        int end = k;
        while (end < remaining && (pending[end] >> 16) == slot) ++end;
        Shard* shard = routing->shards[slot].get();
        shard->AssertPutMuHeld();  // put_lock
        if (shard->closed || shard->closing || shard->removed) {
          for (int j = k; j < end; ++j) pending[retry++] = pending[j];
          k = end;
          continue;
        }
        const int64_t at = std::max(now_ms, shard->last_arrival_ms);
        shard->last_arrival_ms = at;
        if (limited) {
          // The first refill fills the buckets (elapsed is infinite).
          const double elapsed = absl::ToDoubleSeconds(refill_at - shard->bucket_at);
          shard->bucket_at = refill_at;
          const double rr = records_rate;
          const double br = bytes_rate;
          if (rr > 0) shard->record_tokens = std::min(rr, shard->record_tokens + elapsed * rr);
          if (br > 0) shard->byte_tokens = std::min(br, shard->byte_tokens + elapsed * br);
        }
        uint64_t first = shard->next_seq;
        for (int j = k; j < end; ++j) {
          const uint32_t i = pending[j] & 0xFFFF;
          PutResult& r = results[i];
          if (limited) {
            const double bytes =
                static_cast<double>(records[i].partition_key.size() + records[i].data.size());
            const bool over_records = records_rate > 0 && shard->record_tokens < 1;
            const bool over_bytes = bytes_rate > 0 && shard->byte_tokens < bytes;
            if (over_records || over_bytes) {
              r.error_code = kThroughputExceeded;
              r.error_message = over_records ? "rate exceeded for shard (records per second)"
                                             : "rate exceeded for shard (bytes per second)";
              continue;
            }
            shard->record_tokens -= 1;
            shard->byte_tokens -= bytes;
          }
          if (store_numbers) {
            r.sequence_number = shard->next_seq++;
          } else {
            accepted.push_back(i);
          }
          r.shard_index = shard->index;
          arrival[i] = at;
        }
        if (store_numbers && shard->next_seq != first) {
          shard->in_flight.push_back({shard->next_seq - 1});
          reservations.push_back({shard, &shard->in_flight.back()});
        }
        if (!store_numbers && (groups.empty() ? 0 : groups.back().end) < accepted.size()) {
          groups.push_back({shard, groups.empty() ? 0 : groups.back().end, accepted.size()});
        }
        k = end;
      }
    }
    if (!groups.empty()) {
      // A log that numbers records: one AppendCall for every shard of the call (the log
      // appends them concurrently), no lock held. A shard the log has closed (a reshard is
      // under way) routes its records again once the new shard set is published, as a closing
      // shard's do above.
      absl::InlinedVector<LogEntry, 64> entries;
      absl::InlinedVector<ShardAppend, 8> appends;
      absl::InlinedVector<std::pair<Shard*, uint64_t>, 8> tips;
      entries.reserve(accepted.size());  // no reallocation: `appends` holds views into it
      for (const Group& g : groups) {
        for (size_t m = g.begin; m < g.end; ++m) {
          entries.push_back({records[accepted[m]].partition_key, records[accepted[m]].data});
        }
      }
      for (const Group& g : groups) {
        appends.push_back({g.shard->index, absl::MakeConstSpan(entries).subspan(
                                               g.begin, g.end - g.begin)});
      }
      std::vector<absl::StatusOr<std::vector<uint64_t>>> appended_shards =
          log_->AppendCall(stream->id, call, appends);
      for (size_t a = 0; a < groups.size(); ++a) {
        const Group& g = groups[a];
        absl::StatusOr<std::vector<uint64_t>>& seqs = appended_shards[a];
        bool reroute = false;
        if (absl::IsFailedPrecondition(seqs.status())) {
          if (etcd_ != nullptr) {
            // Closed by another front-end's reshard, whose lineage etcd has before the log
            // closes the shard: learn it here (the watch may not have brought it yet).
            if (absl::Status refreshed = RefreshStream(stream->name); !refreshed.ok()) {
              LOG(WARNING) << "re-reading stream " << stream->name << ": " << refreshed;
            }
          }
          absl::MutexLock put_lock(&stream->put_mu);
          g.shard->AssertPutMuHeld();  // put_lock
          reroute = g.shard->closing || g.shard->closed || g.shard->removed;
        }
        for (size_t m = g.begin; m < g.end; ++m) {
          PutResult& r = results[accepted[m]];
          if (seqs.ok()) {
            r.sequence_number = (*seqs)[m - g.begin];
            ++appended;
          } else if (reroute) {
            pending[retry++] = accepted[m];
          } else {
            r.error_code = kInternalFailure;
            r.error_message = "the shard log did not acknowledge the record (it may be stored)";
          }
        }
        if (seqs.ok()) {
          tips.push_back({g.shard, seqs->back()});
        } else if (!reroute && log_status.ok()) {
          log_status = WithContext(seqs.status(), "stream ", stream_name);
        }
      }
      if (!tips.empty()) {
        {
          absl::MutexLock put_lock(&stream->put_mu);
          for (auto& [shard, last] : tips) {
            shard->AssertPutMuHeld();  // put_lock
            if (last > shard->tip.load(std::memory_order_relaxed)) {
              shard->tip.store(last, std::memory_order_release);
            }
          }
        }
        std::atomic_thread_fence(std::memory_order_seq_cst);  // see WakeTipWaitersAfterFence
        absl::InlinedVector<ShardTip, 8> announced;
        for (auto& [shard, last] : tips) {
          shard->WakeTipWaitersAfterFence();
          shard->Notify();
          if (etcd_ != nullptr) announced.push_back({shard->index, last});
        }
        // Wakes readers of these shards on the other front-ends: one announcement a call.
        if (etcd_ != nullptr) log_->AnnounceAppends(stream->id, announced);
      }
    }
    remaining = retry;
    if (remaining > 0) {
      // Wait for the new shard set (published right after the closing reshard's
      // metadata write), on the clock and bounded: a reshard whose front-end died is finished
      // only once that front-end's session expires, and the wait holds a put thread. Past
      // the bound the records left fail retryably; none of them has a number or was appended,
      // so nothing unstored is acknowledged and nothing lands in a parent after its end.
      if (!reshard_wait_until) {
        reshard_wait_until = clock_.MonotonicNow() + options_.reshard_put_wait;
      }
      bool changed_in_time;
      {
        absl::MutexLock lock(&stream->mu);
        auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->mu) {
          return stream->routing_version != version || stream->deleted;
        };
        changed_in_time =
            clock_.AwaitWithDeadline(&stream->mu, absl::Condition(&changed), *reshard_wait_until);
      }
      if (!changed_in_time) {
        for (int k = 0; k < remaining; ++k) {
          PutResult& r = results[pending[k] & 0xFFFF];
          r.error_code = kInternalFailure;
          r.error_message = kReshardingMessage;
          r.resharding = true;
        }
        remaining = 0;
      }
    }
  }
  // A log that numbers records: a call of which the log acknowledged nothing fails whole with
  // the log's status (UNAVAILABLE while it elects a leader: the caller retries), as a failed
  // RocksDB write does; otherwise the failed records are InternalFailure, as in Kinesis.
  if (!log_status.ok() && (appended == 0 || single || whole)) {
    return WithContext(log_status, appended == 0
                                       ? "no record of this call was acknowledged (some may "
                                         "be stored: a retry may store them twice)"
                                       : "some records of this call were not acknowledged");
  }
  // A whole call writes nothing unless every record has its sequence number.
  absl::Status status;
  for (int i = 0; whole && status.ok() && i < n; ++i) {
    const PutResult& r = results[i];
    if (r.error_code == nullptr) continue;
    if (r.resharding) {
      status = absl::UnavailableError(absl::StrCat("stream ", stream_name, ": ", r.error_message));
      break;
    }
    status = std::strcmp(r.error_code, kThroughputExceeded) == 0
                 ? absl::ResourceExhaustedError(absl::StrCat(kThroughputExceeded, ": stream ",
                                                             stream_name, ": ", r.error_message))
                 : absl::InternalError(absl::StrCat("stream ", stream_name, ": ",
                                                    r.error_message));
  }
  // 3. One WriteBatch, no lock held: one entry (chunk) per shard written (StageAppend).
  if (!reservations.empty() && status.ok()) {
    size_t reserve = 64 + reservations.size() * (kRecordKeySize + kChunkHeaderSize + 16);
    absl::InlinedVector<uint64_t, 64> order;  // shard index << 32 | record, call order per shard
    order.reserve(n);
    for (int i = 0; i < n; ++i) {
      if (results[i].error_code != nullptr) continue;
      reserve += kEntryHeaderSize + records[i].partition_key.size() + records[i].data.size();
      order.push_back((uint64_t{results[i].shard_index} << 32) | static_cast<uint32_t>(i));
    }
    std::sort(order.begin(), order.end());
    std::optional<Batch> own;
    Batch& batch = into != nullptr ? *into : own.emplace(NewBatch(reserve));
    absl::InlinedVector<LogEntry, 64> entries(order.size());
    for (size_t m = 0; m < order.size(); ++m) {
      const RecordView& r = records[order[m] & 0xFFFFFFFF];
      entries[m] = {r.partition_key, r.data};
    }
    for (size_t k = 0; k < order.size() && status.ok();) {
      const uint32_t shard_index = static_cast<uint32_t>(order[k] >> 32);
      size_t end = k;
      while (end < order.size() && static_cast<uint32_t>(order[end] >> 32) == shard_index) ++end;
      const int first = static_cast<int>(order[k] & 0xFFFFFFFF);
      log_->StageAppend(&batch, stream->id, shard_index, results[first].sequence_number,
                        arrival[first], absl::MakeConstSpan(entries).subspan(k, end - k));
      status = FromRocksDbStatus(batch.status(), "building the write batch");
      k = end;
    }
    if (status.ok() && writer != nullptr) {
      status = (*writer)(&batch);
    } else if (status.ok()) {
      status = FromRocksDbStatus(Write(WriteKind::kRecords, &batch),
                                 "writing records (none of this call's records were stored)");
    }
  }
  // 4. Publish: finish each run (advancing the tips) and wake readers.
  if (!reservations.empty()) {
    absl::MutexLock lock(&stream->put_mu);
    for (const Reservation& r : reservations) {
      r.shard->AssertPutMuHeld();  // lock
      r.shard->Finish(r.ticket, status.ok());
    }
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // see WakeTipWaitersAfterFence
  for (const Reservation& r : reservations) {
    r.shard->WakeTipWaitersAfterFence();
    r.shard->Notify();
  }
  return status;
}

}  // namespace tributary::shard_store
