// A typed client for tributary.v1.Tables (proto/tables.proto). Thread-safe; cheap to share.
//
// Every method takes the request proto and returns the response or the call's status: the
// server's (INVALID_ARGUMENT, NOT_FOUND, ...) or the transport's (UNAVAILABLE,
// DEADLINE_EXCEEDED; UNIMPLEMENTED from a server that does not serve tables). Each call has a
// deadline of the client's `default_timeout`. No retries: item writes are not idempotent in what
// they return, and callers own their retry loops.
//
// A failed call's status carries the server's v1::TablesError (DynamoDB's error code, a failed
// condition's item, a cancelled transaction's reasons): TablesErrorOf gives it back.
#ifndef TRIBUTARY_TABLES_TABLES_CLIENT_H_
#define TRIBUTARY_TABLES_TABLES_CLIENT_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/tables.grpc.pb.h"

namespace tributary::tables {

class TablesClient {
 public:
  explicit TablesClient(std::shared_ptr<grpc::Channel> channel,
                        absl::Duration default_timeout = absl::Seconds(10));

  absl::StatusOr<v1::TableDescription> CreateTable(const v1::CreateTableRequest& request);
  absl::StatusOr<v1::TableDescription> DescribeTable(const v1::DescribeTableRequest& request);
  absl::StatusOr<v1::ListTablesResponse> ListTables(const v1::ListTablesRequest& request);
  absl::StatusOr<v1::TableDescription> DeleteTable(const v1::DeleteTableRequest& request);
  absl::StatusOr<v1::TableDescription> UpdateTable(const v1::UpdateTableRequest& request);
  absl::StatusOr<v1::PutItemResponse> PutItem(const v1::PutItemRequest& request);
  absl::StatusOr<v1::GetItemResponse> GetItem(const v1::GetItemRequest& request);
  absl::StatusOr<v1::DeleteItemResponse> DeleteItem(const v1::DeleteItemRequest& request);
  absl::StatusOr<v1::UpdateItemResponse> UpdateItem(const v1::UpdateItemRequest& request);
  absl::StatusOr<v1::QueryResponse> Query(const v1::QueryRequest& request);
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& request);
  absl::StatusOr<v1::BatchWriteItemResponse> BatchWriteItem(
      const v1::BatchWriteItemRequest& request);
  absl::StatusOr<v1::BatchGetItemResponse> BatchGetItem(const v1::BatchGetItemRequest& request);
  absl::StatusOr<v1::TransactWriteItemsResponse> TransactWriteItems(
      const v1::TransactWriteItemsRequest& request);
  absl::StatusOr<v1::TransactGetItemsResponse> TransactGetItems(
      const v1::TransactGetItemsRequest& request);
  absl::StatusOr<v1::ListTableStreamsResponse> ListTableStreams(
      const v1::ListTableStreamsRequest& request);
  absl::StatusOr<v1::TableStream> DescribeTableStream(
      const v1::DescribeTableStreamRequest& request);

 private:
  std::unique_ptr<v1::Tables::Stub> stub_;
  const absl::Duration timeout_;
};

// The TablesError a failed call of TablesClient carries, or nullopt (OK, a transport error, a
// server without it).
std::optional<v1::TablesError> TablesErrorOf(const absl::Status& status);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_TABLES_CLIENT_H_
