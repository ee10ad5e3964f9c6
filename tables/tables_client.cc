#include "tables/tables_client.h"

#include <utility>

#include "absl/strings/cord.h"
#include "common/grpc_client.h"

namespace tributary::tables {
namespace {

using v1::Tables;

constexpr char kTablesErrorPayload[] = "type.googleapis.com/tributary.v1.TablesError";

// CallUnary, keeping the status details (a serialized TablesError) as a payload.
template <typename Request, typename Response>
absl::StatusOr<Response> CallUnary(
    Tables::Stub* stub,
    grpc::Status (Tables::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request, absl::Duration timeout) {
  grpc::ClientContext context;
  SetDeadline(&context, timeout);
  Response response;
  grpc::Status status = (stub->*method)(&context, request, &response);
  if (status.ok()) return response;
  absl::Status out = FromGrpcStatus(status);
  if (!status.error_details().empty()) {
    out.SetPayload(kTablesErrorPayload, absl::Cord(status.error_details()));
  }
  return out;
}

}  // namespace

std::optional<v1::TablesError> TablesErrorOf(const absl::Status& status) {
  auto payload = status.GetPayload(kTablesErrorPayload);
  if (!payload.has_value()) return std::nullopt;
  v1::TablesError error;
  if (!error.ParseFromString(std::string(*payload))) return std::nullopt;
  return error;
}

TablesClient::TablesClient(std::shared_ptr<grpc::Channel> channel, absl::Duration default_timeout)
    : stub_(Tables::NewStub(std::move(channel))), timeout_(default_timeout) {}

absl::StatusOr<v1::TableDescription> TablesClient::CreateTable(
    const v1::CreateTableRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::CreateTable, request, timeout_);
}

absl::StatusOr<v1::TableDescription> TablesClient::DescribeTable(
    const v1::DescribeTableRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::DescribeTable, request, timeout_);
}

absl::StatusOr<v1::ListTablesResponse> TablesClient::ListTables(
    const v1::ListTablesRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::ListTables, request, timeout_);
}

absl::StatusOr<v1::TableDescription> TablesClient::DeleteTable(
    const v1::DeleteTableRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::DeleteTable, request, timeout_);
}

absl::StatusOr<v1::TableDescription> TablesClient::UpdateTable(
    const v1::UpdateTableRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::UpdateTable, request, timeout_);
}

absl::StatusOr<v1::PutItemResponse> TablesClient::PutItem(const v1::PutItemRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::PutItem, request, timeout_);
}

absl::StatusOr<v1::GetItemResponse> TablesClient::GetItem(const v1::GetItemRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::GetItem, request, timeout_);
}

absl::StatusOr<v1::DeleteItemResponse> TablesClient::DeleteItem(
    const v1::DeleteItemRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::DeleteItem, request, timeout_);
}

absl::StatusOr<v1::UpdateItemResponse> TablesClient::UpdateItem(
    const v1::UpdateItemRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::UpdateItem, request, timeout_);
}

absl::StatusOr<v1::QueryResponse> TablesClient::Query(const v1::QueryRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::Query, request, timeout_);
}

absl::StatusOr<v1::ScanResponse> TablesClient::Scan(const v1::ScanRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::Scan, request, timeout_);
}

absl::StatusOr<v1::BatchWriteItemResponse> TablesClient::BatchWriteItem(
    const v1::BatchWriteItemRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::BatchWriteItem, request, timeout_);
}

absl::StatusOr<v1::BatchGetItemResponse> TablesClient::BatchGetItem(
    const v1::BatchGetItemRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::BatchGetItem, request, timeout_);
}

absl::StatusOr<v1::TransactWriteItemsResponse> TablesClient::TransactWriteItems(
    const v1::TransactWriteItemsRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::TransactWriteItems, request, timeout_);
}

absl::StatusOr<v1::TransactGetItemsResponse> TablesClient::TransactGetItems(
    const v1::TransactGetItemsRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::TransactGetItems, request, timeout_);
}

absl::StatusOr<v1::ListTableStreamsResponse> TablesClient::ListTableStreams(
    const v1::ListTableStreamsRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::ListTableStreams, request, timeout_);
}

absl::StatusOr<v1::TableStream> TablesClient::DescribeTableStream(
    const v1::DescribeTableStreamRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::DescribeTableStream, request, timeout_);
}

}  // namespace tributary::tables
