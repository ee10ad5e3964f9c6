// The shard store's Prometheus families (issue 24), registered on a metrics::Registry:
//   tributary_store_records_in_total{stream}        records acknowledged by puts
//   tributary_store_bytes_in_total{stream}          their partition key + data bytes
//   tributary_store_put_throttled_records_total{stream}  records refused ProvisionedThroughputExceeded
//   tributary_store_put_refusals_total{code}        put calls refused whole (status code name)
//   tributary_store_put_latency_seconds             put call latency (ShardStore's clock)
//   tributary_store_records_out_total{stream}       records returned by GetRecords and
//                                                   SubscribeToShard
//   tributary_store_bytes_out_total{stream}         their partition key + data bytes
//   tributary_store_rocksdb_pending_compaction_bytes     rocksdb.estimate-pending-compaction-bytes
//   tributary_store_rocksdb_write_stopped           rocksdb.is-write-stopped (0 or 1)
//   tributary_store_rocksdb_delayed_write_rate_bytes     rocksdb.actual-delayed-write-rate (bytes/s;
//                                                   0 when writes are not being slowed)
// Records out are counted where both reads read (ShardStore::ReadRecords), which holds the
// stream and so its name.
//
// Thread-safe; the update methods are atomics plus one map lookup per call (Family::With's own
// lock, never held with another). `registry` and `db` must outlive this object's last Render.
#ifndef TRIBUTARY_SHARD_STORE_STORE_METRICS_H_
#define TRIBUTARY_SHARD_STORE_STORE_METRICS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/metrics/registry.h"

namespace rocksdb {
class DB;
}

namespace tributary::shard_store {

class StoreMetrics {
 public:
  // Registers the families; `db` (may be null: no RocksDB families) is read at each scrape.
  StoreMetrics(metrics::Registry& registry, rocksdb::DB* db);

  // A put call on `stream` finished: `status` is the call's (not OK: refused whole); `records`
  // and `bytes` were acknowledged, `throttled` records were refused for throughput.
  void Put(absl::string_view stream, const absl::Status& status, int64_t records, int64_t bytes,
           int64_t throttled, absl::Duration latency);
  // A read (GetRecords, or a SubscribeToShard event) of `stream` returned `records` records of
  // `bytes` bytes.
  void Read(absl::string_view stream, int64_t records, int64_t bytes);

 private:
  metrics::Family<metrics::Counter>& records_in_;
  metrics::Family<metrics::Counter>& bytes_in_;
  metrics::Family<metrics::Counter>& throttled_;
  metrics::Family<metrics::Counter>& refusals_;
  metrics::Histogram& put_latency_;
  metrics::Family<metrics::Counter>& records_out_;
  metrics::Family<metrics::Counter>& bytes_out_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STORE_METRICS_H_
