#include "shard_store/store_metrics.h"

#include "absl/status/status.h"
#include "rocksdb/db.h"

namespace tributary::shard_store {

StoreMetrics::StoreMetrics(metrics::Registry& registry, rocksdb::DB* db)
    : records_in_(registry.AddCounter("tributary_store_records_in_total",
                                      "Records acknowledged by PutRecord(s), by stream.",
                                      {"stream"})),
      bytes_in_(registry.AddCounter("tributary_store_bytes_in_total",
                                    "Partition key and data bytes of acknowledged records.",
                                    {"stream"})),
      throttled_(registry.AddCounter(
          "tributary_store_put_throttled_records_total",
          "Records refused with ProvisionedThroughputExceeded, by stream.", {"stream"})),
      refusals_(registry.AddCounter("tributary_store_put_refusals_total",
                                    "Put calls refused whole, by status code.", {"code"})),
      put_latency_(registry
                       .AddHistogram("tributary_store_put_latency_seconds",
                                     "Latency of PutRecord(s) calls in the store.", {},
                                     metrics::LatencySecondsBounds())
                       .With({})),
      records_out_(registry.AddCounter("tributary_store_records_out_total",
                                       "Records returned by GetRecords and SubscribeToShard, by "
                                       "stream.",
                                       {"stream"})),
      bytes_out_(registry.AddCounter("tributary_store_bytes_out_total",
                                     "Partition key and data bytes of the records returned.",
                                     {"stream"})) {
  if (db == nullptr) return;
  registry.AddCollector([db](std::string* out) {
    uint64_t v = 0;
    if (db->GetIntProperty(rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      metrics::WriteHeader(out, "tributary_store_rocksdb_pending_compaction_bytes", "gauge",
                           "RocksDB's estimate of the bytes compaction has to rewrite.");
      metrics::WriteSample(out, "tributary_store_rocksdb_pending_compaction_bytes", {},
                           static_cast<double>(v));
    }
    if (db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &v)) {
      metrics::WriteHeader(out, "tributary_store_rocksdb_write_stopped", "gauge",
                           "1 while RocksDB stops writes (a write stall), else 0.");
      metrics::WriteSample(out, "tributary_store_rocksdb_write_stopped", {},
                           static_cast<double>(v));
    }
    if (db->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &v)) {
      metrics::WriteHeader(out, "tributary_store_rocksdb_delayed_write_rate_bytes", "gauge",
                           "The rate RocksDB slows writes to in bytes per second; 0 when not "
                           "slowed.");
      metrics::WriteSample(out, "tributary_store_rocksdb_delayed_write_rate_bytes", {},
                           static_cast<double>(v));
    }
  });
}

void StoreMetrics::Put(absl::string_view stream, const absl::Status& status, int64_t records,
                       int64_t bytes, int64_t throttled, absl::Duration latency) {
  put_latency_.Observe(absl::ToDoubleSeconds(latency));
  if (!status.ok()) {
    refusals_.With({absl::StatusCodeToString(status.code())}).Increment();
    return;
  }
  const std::vector<std::string> labels = {std::string(stream)};
  if (records > 0) {
    records_in_.With(labels).Increment(records);
    bytes_in_.With(labels).Increment(bytes);
  }
  if (throttled > 0) throttled_.With(labels).Increment(throttled);
}

void StoreMetrics::Read(absl::string_view stream, int64_t records, int64_t bytes) {
  const std::vector<std::string> labels = {std::string(stream)};
  records_out_.With(labels).Increment(records);
  bytes_out_.With(labels).Increment(bytes);
}

}  // namespace tributary::shard_store
