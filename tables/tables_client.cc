#include "tables/tables_client.h"

#include <utility>

#include "common/grpc_client.h"

namespace tributary::tables {

using v1::Tables;

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

absl::StatusOr<v1::ListTableStreamsResponse> TablesClient::ListTableStreams(
    const v1::ListTableStreamsRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::ListTableStreams, request, timeout_);
}

absl::StatusOr<v1::TableStream> TablesClient::DescribeTableStream(
    const v1::DescribeTableStreamRequest& request) {
  return CallUnary(stub_.get(), &Tables::Stub::DescribeTableStream, request, timeout_);
}

}  // namespace tributary::tables
