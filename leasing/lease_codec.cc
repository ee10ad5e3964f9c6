#include "leasing/lease_codec.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "leasing/lease_storage.pb.h"

namespace tributary::leasing {
namespace {

int64_t ToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  return absl::ToUnixMicros(t);
}

absl::Time FromMicros(int64_t us) {
  if (us == INT64_MIN) return absl::InfinitePast();
  return absl::FromUnixMicros(us);
}

void ToStored(const LeaseRecord& r, storage::StoredLease& s) {
  s.set_stream_name(r.stream_name);
  s.set_lease_owner(r.owner);
  s.set_lease_counter(r.lease_counter);
  s.set_checkpoint_type(static_cast<int>(r.checkpoint.type));
  s.set_checkpoint_sequence_number(r.checkpoint.sequence_number);
  s.set_checkpoint_timestamp_us(ToMicros(r.checkpoint.timestamp));
  for (const std::string& p : r.parent_shard_ids) s.add_parent_shard_ids(p);
  for (const std::string& c : r.child_shard_ids) s.add_child_shard_ids(c);
  s.set_owner_switches_since_checkpoint(r.owner_switches_since_checkpoint);
  s.set_enabled(r.enabled);
  s.set_moved_at_us(ToMicros(r.moved_at));
}

absl::StatusOr<storage::StoredLease> ParseStored(absl::string_view row, absl::string_view value) {
  storage::StoredLease s;
  if (!s.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      s.checkpoint_type() < static_cast<int>(CheckpointType::kSequenceNumber) ||
      s.checkpoint_type() > static_cast<int>(CheckpointType::kShardEnd)) {
    return absl::DataLossError(absl::StrCat("lease row ", absl::CEscape(row), " does not decode"));
  }
  return s;
}

// Everything but the key.
LeaseRecord FromStored(const storage::StoredLease& s) {
  LeaseRecord r;
  r.stream_name = s.stream_name();
  r.owner = s.lease_owner();
  r.lease_counter = s.lease_counter();
  r.checkpoint.type = static_cast<CheckpointType>(s.checkpoint_type());
  r.checkpoint.sequence_number = s.checkpoint_sequence_number();
  r.checkpoint.timestamp = FromMicros(s.checkpoint_timestamp_us());
  r.parent_shard_ids.assign(s.parent_shard_ids().begin(), s.parent_shard_ids().end());
  r.child_shard_ids.assign(s.child_shard_ids().begin(), s.child_shard_ids().end());
  r.owner_switches_since_checkpoint = s.owner_switches_since_checkpoint();
  r.enabled = s.enabled();
  r.moved_at = FromMicros(s.moved_at_us());
  return r;
}

}  // namespace

std::string EncodeLease(const LeaseRecord& r) {
  storage::StoredLease s;
  s.set_event_source_mapping_uuid(r.key.mapping_uuid);
  s.set_shard_id(r.key.shard_id);
  ToStored(r, s);
  return s.SerializeAsString();
}

std::string EncodeLeaseWithoutKey(const LeaseRecord& r) {
  storage::StoredLease s;
  ToStored(r, s);
  return s.SerializeAsString();
}

absl::StatusOr<LeaseRecord> DecodeLease(absl::string_view row, absl::string_view value) {
  ASSIGN_OR_RETURN(const storage::StoredLease s, ParseStored(row, value));
  LeaseRecord r = FromStored(s);
  r.key = {s.event_source_mapping_uuid(), s.shard_id()};
  return r;
}

absl::StatusOr<LeaseRecord> DecodeLeaseOf(const LeaseKey& key, absl::string_view row,
                                          absl::string_view value) {
  ASSIGN_OR_RETURN(const storage::StoredLease s, ParseStored(row, value));
  const bool names_a_lease = !s.event_source_mapping_uuid().empty() || !s.shard_id().empty();
  if (names_a_lease &&
      (s.event_source_mapping_uuid() != key.mapping_uuid || s.shard_id() != key.shard_id)) {
    return absl::DataLossError(
        absl::StrCat("lease row ", absl::CEscape(row), " holds another lease"));
  }
  LeaseRecord r = FromStored(s);
  r.key = key;
  return r;
}

std::string EncodePoller(const PollerRecord& r) {
  storage::StoredPoller s;
  s.set_poller_id(r.poller_id);
  s.set_capacity(r.capacity);
  s.set_last_heartbeat_us(ToMicros(r.last_heartbeat));
  return s.SerializeAsString();
}

absl::StatusOr<PollerRecord> DecodePoller(absl::string_view row, absl::string_view value) {
  storage::StoredPoller s;
  if (!s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("poller row ", absl::CEscape(row), " does not decode"));
  }
  return PollerRecord{s.poller_id(), s.capacity(), FromMicros(s.last_heartbeat_us())};
}

}  // namespace tributary::leasing
