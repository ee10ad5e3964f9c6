#include "stream_tracker/testing/fake_services.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/grpc_status.h"
#include "common/testing/assertions.h"

namespace tributary::stream_tracker::testing {
namespace {

// Reads a page token: the index of the first item of the page.
bool PageStart(const std::string& token, size_t* start) {
  *start = 0;
  return token.empty() || absl::SimpleAtoi(token, start);
}

}  // namespace

grpc::Status FakeStreamsService::DescribeStreamSummary(
    grpc::ServerContext*, const v1::DescribeStreamSummaryRequest* request,
    v1::DescribeStreamSummaryResponse* response) {
  absl::Status status = catalog_->CheckStreamExists(request->stream_name());
  if (!status.ok()) return ToGrpcStatus(status);
  response->mutable_stream_description_summary()->set_stream_name(request->stream_name());
  response->mutable_stream_description_summary()->set_stream_status(v1::ACTIVE);
  return grpc::Status::OK;
}

grpc::Status FakeStreamsService::ListShards(grpc::ServerContext*,
                                            const v1::ListShardsRequest* request,
                                            v1::ListShardsResponse* response) {
  // As in Kinesis, a request with next_token names no stream: the token ("<index>/<stream>")
  // carries it.
  size_t start = 0;
  std::string stream_name = request->stream_name();
  if (!request->next_token().empty()) {
    const size_t slash = request->next_token().find('/');
    if (!request->stream_name().empty() || slash == std::string::npos ||
        !absl::SimpleAtoi(request->next_token().substr(0, slash), &start)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad next_token");
    }
    stream_name = request->next_token().substr(slash + 1);
  }
  absl::StatusOr<std::vector<v1::Shard>> shards = catalog_->ListShards(stream_name);
  if (!shards.ok()) return ToGrpcStatus(shards.status());
  const size_t limit = request->max_results() > 0 ? request->max_results() : 1000;
  for (size_t i = start; i < shards->size() && i < start + limit; ++i) {
    *response->add_shards() = (*shards)[i];
  }
  if (start + limit < shards->size()) {
    response->set_next_token(absl::StrCat(start + limit, "/", stream_name));
  }
  return grpc::Status::OK;
}

grpc::Status FakeLeasingService::CreateLeases(grpc::ServerContext*,
                                              const v1::CreateLeasesRequest* request,
                                              v1::CreateLeasesResponse* response) {
  absl::StatusOr<int> created = table_->CreateLeases(
      std::vector<v1::NewLease>(request->leases().begin(), request->leases().end()));
  if (!created.ok()) return ToGrpcStatus(created.status());
  response->set_created_count(*created);
  absl::MutexLock lock(&mu_);
  created_ += *created;
  return grpc::Status::OK;
}

grpc::Status FakeLeasingService::DeleteLeases(grpc::ServerContext*,
                                              const v1::DeleteLeasesRequest* request,
                                              v1::DeleteLeasesResponse*) {
  absl::Status status = table_->DeleteLeases(
      std::vector<v1::LeaseKey>(request->lease_keys().begin(), request->lease_keys().end()));
  if (status.ok() && !request->event_source_mapping_uuid().empty()) {
    status = table_->DeleteMappingLeases(request->event_source_mapping_uuid());
  }
  return ToGrpcStatus(status);
}

grpc::Status FakeLeasingService::SetMappingEnabled(grpc::ServerContext*,
                                                   const v1::SetMappingEnabledRequest* request,
                                                   v1::SetMappingEnabledResponse*) {
  return ToGrpcStatus(
      table_->SetMappingEnabled(request->event_source_mapping_uuid(), request->enabled()));
}

grpc::Status FakeLeasingService::ListLeases(grpc::ServerContext*,
                                            const v1::ListLeasesRequest* request,
                                            v1::ListLeasesResponse* response) {
  size_t start;
  if (!PageStart(request->next_token(), &start)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad next_token");
  }
  absl::StatusOr<std::vector<v1::Lease>> leases =
      table_->ListLeases(request->event_source_mapping_uuid());
  if (!leases.ok()) return ToGrpcStatus(leases.status());
  const size_t limit = request->max_results() > 0 ? request->max_results() : 1000;
  for (size_t i = start; i < leases->size() && i < start + limit; ++i) {
    *response->add_leases() = (*leases)[i];
  }
  if (start + limit < leases->size()) response->set_next_token(absl::StrCat(start + limit));
  return grpc::Status::OK;
}

grpc::Status FakeLeasingService::SummarizeLeases(grpc::ServerContext*,
                                                 const v1::SummarizeLeasesRequest* request,
                                                 v1::SummarizeLeasesResponse* response) {
  absl::StatusOr<std::vector<v1::MappingLeaseSummary>> summaries = table_->SummarizeLeases(
      std::vector<std::string>(request->event_source_mapping_uuids().begin(),
                               request->event_source_mapping_uuids().end()));
  if (!summaries.ok()) return ToGrpcStatus(summaries.status());
  for (v1::MappingLeaseSummary& s : *summaries) *response->add_summaries() = std::move(s);
  return grpc::Status::OK;
}

::testing::AssertionResult FakeLeasingService::WaitForCreatedLeases(int n,
                                                                    absl::Duration real_timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, real_timeout, absl::StrCat(n, " leases created by CreateLeases"),
      [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return created_ >= n; },
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrCat(created_, " created"); }));
}

}  // namespace tributary::stream_tracker::testing
