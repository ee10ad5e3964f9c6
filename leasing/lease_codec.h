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

std::string EncodePoller(const PollerRecord& record);
// Errors: DATA_LOSS naming `row` when `value` is not a StoredPoller.
absl::StatusOr<PollerRecord> DecodePoller(absl::string_view row, absl::string_view value);

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASE_CODEC_H_
