#include "stream_tracker/remote_backends.h"

#include "common/proto_util.h"
#include "common/status_macros.h"

namespace tributary::stream_tracker {
namespace {

// Leases are created and deleted in requests of at most this many, keeping messages small.
constexpr size_t kLeaseBatch = 500;

}  // namespace

absl::Status RemoteStreamCatalog::CheckStreamExists(const std::string& stream_name) {
  v1::DescribeStreamSummaryRequest request;
  request.set_stream_name(stream_name);
  return client_->DescribeStreamSummary(request).status();
}

absl::StatusOr<std::vector<v1::Shard>> RemoteStreamCatalog::ListShards(
    const std::string& stream_name) {
  return client_->ListAllShards(stream_name);
}

absl::StatusOr<std::vector<std::string>> RemoteStreamCatalog::ListShardIdsOpenFrom(
    const std::string& stream_name, absl::Time time) {
  v1::ShardFilter filter;
  filter.set_type(v1::FROM_TIMESTAMP);
  *filter.mutable_timestamp() = ToProtoTimestamp(time);
  ASSIGN_OR_RETURN(std::vector<v1::Shard> shards, client_->ListAllShards(stream_name, &filter));
  std::vector<std::string> ids;
  for (const v1::Shard& shard : shards) ids.push_back(shard.shard_id());
  return ids;
}

absl::StatusOr<ShardSetProbe> RemoteStreamCatalog::ProbeShardSet(
    const std::string& stream_name, const std::string& after_shard_id) {
  v1::DescribeStreamSummaryRequest describe;
  describe.set_stream_name(stream_name);
  ASSIGN_OR_RETURN(v1::DescribeStreamSummaryResponse summary,
                   client_->DescribeStreamSummary(describe));
  ShardSetProbe probe;
  probe.created =
      FromProtoTimestamp(summary.stream_description_summary().stream_creation_timestamp());
  probe.open_shard_count = summary.stream_description_summary().open_shard_count();
  v1::ListShardsRequest list;
  list.set_stream_name(stream_name);
  list.set_max_results(1);
  if (!after_shard_id.empty()) {
    list.mutable_shard_filter()->set_type(v1::AFTER_SHARD_ID);
    list.mutable_shard_filter()->set_shard_id(after_shard_id);
  }
  ASSIGN_OR_RETURN(v1::ListShardsResponse shards, client_->ListShards(list));
  probe.has_shard_after = shards.shards_size() > 0;
  return probe;
}

absl::StatusOr<int> RemoteLeaseAdmin::CreateLeases(const std::vector<v1::NewLease>& leases) {
  int created = 0;
  for (size_t i = 0; i < leases.size(); i += kLeaseBatch) {
    v1::CreateLeasesRequest request;
    for (size_t j = i; j < leases.size() && j < i + kLeaseBatch; ++j) {
      *request.add_leases() = leases[j];
    }
    ASSIGN_OR_RETURN(v1::CreateLeasesResponse response, client_->CreateLeases(request));
    created += response.created_count();
  }
  return created;
}

absl::Status RemoteLeaseAdmin::DeleteLeases(const std::vector<v1::LeaseKey>& keys) {
  for (size_t i = 0; i < keys.size(); i += kLeaseBatch) {
    v1::DeleteLeasesRequest request;
    for (size_t j = i; j < keys.size() && j < i + kLeaseBatch; ++j) {
      *request.add_lease_keys() = keys[j];
    }
    RETURN_IF_ERROR(client_->DeleteLeases(request).status());
  }
  return absl::OkStatus();
}

absl::Status RemoteLeaseAdmin::DeleteMappingLeases(const std::string& uuid) {
  v1::DeleteLeasesRequest request;
  request.set_event_source_mapping_uuid(uuid);
  return client_->DeleteLeases(request).status();
}

absl::Status RemoteLeaseAdmin::SetMappingEnabled(const std::string& uuid, bool enabled) {
  v1::SetMappingEnabledRequest request;
  request.set_event_source_mapping_uuid(uuid);
  request.set_enabled(enabled);
  return client_->SetMappingEnabled(request).status();
}

absl::StatusOr<std::vector<v1::Lease>> RemoteLeaseAdmin::ListLeases(const std::string& uuid) {
  std::vector<v1::Lease> leases;
  v1::ListLeasesRequest request;
  request.set_event_source_mapping_uuid(uuid);
  request.set_max_results(list_page_size_);
  while (true) {
    ASSIGN_OR_RETURN(v1::ListLeasesResponse response, client_->ListLeases(request));
    for (v1::Lease& lease : *response.mutable_leases()) leases.push_back(std::move(lease));
    if (response.next_token().empty()) break;
    request.set_next_token(response.next_token());
  }
  return leases;
}

absl::StatusOr<std::vector<v1::MappingLeaseSummary>> RemoteLeaseAdmin::SummarizeLeases(
    const std::vector<std::string>& uuids) {
  std::vector<v1::MappingLeaseSummary> summaries;
  summaries.reserve(uuids.size());
  for (size_t i = 0; i < uuids.size(); i += kLeaseBatch) {
    v1::SummarizeLeasesRequest request;
    for (size_t j = i; j < uuids.size() && j < i + kLeaseBatch; ++j) {
      request.add_event_source_mapping_uuids(uuids[j]);
    }
    ASSIGN_OR_RETURN(v1::SummarizeLeasesResponse response, client_->SummarizeLeases(request));
    for (v1::MappingLeaseSummary& s : *response.mutable_summaries()) {
      summaries.push_back(std::move(s));
    }
  }
  return summaries;
}

}  // namespace tributary::stream_tracker
