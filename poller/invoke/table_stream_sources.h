// RemoteTableStreamSources: TableStreamSources (dynamodb_event.h) over the Tables service of the
// shard store (tributary.v1.Tables, DescribeTableStream by stream name). A table stream's table
// and label never change, so each found one is kept for the poller's life: one call per stream,
// not per batch. Failures are not kept (the next batch asks again).
//
// Thread-safe. `client` must outlive it.
#ifndef TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_SOURCES_H_
#define TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_SOURCES_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "poller/invoke/dynamodb_event.h"
#include "tables/tables_client.h"

namespace tributary::poller {

class RemoteTableStreamSources : public TableStreamSources {
 public:
  explicit RemoteTableStreamSources(tables::TablesClient& client) : client_(client) {}

  // Errors: the client's (NOT_FOUND, UNAVAILABLE, UNIMPLEMENTED from a store without tables).
  absl::StatusOr<TableStreamSource> Find(const std::string& stream_name) override;

 private:
  tables::TablesClient& client_;
  absl::Mutex mu_;
  std::map<std::string, TableStreamSource> found_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_SOURCES_H_
