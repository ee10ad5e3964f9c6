// How lease and poller rows are encoded in a store: the leasing.storage protos
// (lease_storage.proto), shared by RocksDbLeaseStore and EtcdLeaseStore so that both hold the
// same bytes. Internal to leasing/. Pure functions; thread-safe.
#ifndef TRIBUTARY_LEASING_LEASE_CODEC_H_
#define TRIBUTARY_LEASING_LEASE_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leasing/lease_store.h"

namespace tributary::leasing {

std::string EncodeLease(const LeaseRecord& record);
// Errors: DATA_LOSS naming `row` (the row's key, escaped in the message) when `value` is not a
// StoredLease or its checkpoint type is unknown.
absl::StatusOr<LeaseRecord> DecodeLease(absl::string_view row, absl::string_view value);

// A row whose key already names the lease (etcd: <prefix>leases/<uuid>/<shard>): the StoredLease
// without event_source_mapping_uuid and shard_id (issue 19: the value repeated its key, a third
// of a checkpoint row's bytes, each sent, raft-logged, applied and echoed by every member).
std::string EncodeLeaseWithoutKey(const LeaseRecord& record);
// Decodes either encoding: the lease is `key` (from the row's key); a value that names a lease
// (rows written before the compact encoding) must name `key`. Errors: DATA_LOSS as DecodeLease,
// and "holds another lease" when the value names another.
absl::StatusOr<LeaseRecord> DecodeLeaseOf(const LeaseKey& key, absl::string_view row,
                                          absl::string_view value);

std::string EncodePoller(const PollerRecord& record);
// Errors: DATA_LOSS naming `row` when `value` is not a StoredPoller.
absl::StatusOr<PollerRecord> DecodePoller(absl::string_view row, absl::string_view value);

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASE_CODEC_H_
