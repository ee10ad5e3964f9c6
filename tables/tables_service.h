// TablesService: the tributary.v1.Tables gRPC adapter over a TableStore (proto/tables.proto):
// validate → convert (proto ↔ the item model) → call the store → map the status. The store's
// codes are already the service's (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, ABORTED,
// FAILED_PRECONDITION); INTERNAL, DATA_LOSS and UNKNOWN are logged once here.
//
// ARNs (table_arn, latest_stream_arn, stream_arn) are the AWS front door's, of `options`'
// region and account (tables/stream_ids.h), so a stream ARN from here is what Lambda's
// CreateEventSourceMapping and the DynamoDB Streams API take.
//
// The item calls past Put/Get/Delete (UpdateItem, Query, Scan, Batch*, Transact*) and the
// expressions of every item call are the DynamoDB API's: the same store calls and request
// rules (tables/item_requests.h), and DynamoDB's error code, a failed condition's item and a
// cancelled transaction's reasons in a v1::TablesError in the status details (TablesErrorOf).
//
// Thread-safe (unary RPCs on gRPC's sync API). `store` must outlive the service; the gRPC server
// using it must be shut down before it is destroyed.
#ifndef TRIBUTARY_TABLES_TABLES_SERVICE_H_
#define TRIBUTARY_TABLES_TABLES_SERVICE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/tables.grpc.pb.h"
#include "tables/attribute_value_proto.h"
#include "tables/table_store.h"

namespace tributary::tables {

struct TablesServiceOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

// The DynamoDB error code of a TableStore status, as the AWS port names it
// (INVALID_ARGUMENT → "ValidationException", FAILED_PRECONDITION →
// "ConditionalCheckFailedException", a ClientRequestToken error → its own, ...).
std::string DynamoDbErrorCode(const absl::Status& status);

class TablesService : public v1::Tables::Service {
 public:
  TablesService(TableStore& store, TablesServiceOptions options);

  grpc::Status CreateTable(grpc::ServerContext*, const v1::CreateTableRequest* request,
                           v1::TableDescription* response) override;
  grpc::Status DescribeTable(grpc::ServerContext*, const v1::DescribeTableRequest* request,
                             v1::TableDescription* response) override;
  grpc::Status ListTables(grpc::ServerContext*, const v1::ListTablesRequest* request,
                          v1::ListTablesResponse* response) override;
  grpc::Status DeleteTable(grpc::ServerContext*, const v1::DeleteTableRequest* request,
                           v1::TableDescription* response) override;
  grpc::Status UpdateTable(grpc::ServerContext*, const v1::UpdateTableRequest* request,
                           v1::TableDescription* response) override;
  grpc::Status PutItem(grpc::ServerContext*, const v1::PutItemRequest* request,
                       v1::PutItemResponse* response) override;
  grpc::Status GetItem(grpc::ServerContext*, const v1::GetItemRequest* request,
                       v1::GetItemResponse* response) override;
  grpc::Status DeleteItem(grpc::ServerContext*, const v1::DeleteItemRequest* request,
                          v1::DeleteItemResponse* response) override;
  grpc::Status UpdateItem(grpc::ServerContext*, const v1::UpdateItemRequest* request,
                          v1::UpdateItemResponse* response) override;
  grpc::Status Query(grpc::ServerContext*, const v1::QueryRequest* request,
                     v1::QueryResponse* response) override;
  grpc::Status Scan(grpc::ServerContext*, const v1::ScanRequest* request,
                    v1::ScanResponse* response) override;
  grpc::Status BatchWriteItem(grpc::ServerContext*, const v1::BatchWriteItemRequest* request,
                              v1::BatchWriteItemResponse* response) override;
  grpc::Status BatchGetItem(grpc::ServerContext*, const v1::BatchGetItemRequest* request,
                            v1::BatchGetItemResponse* response) override;
  grpc::Status TransactWriteItems(grpc::ServerContext*,
                                  const v1::TransactWriteItemsRequest* request,
                                  v1::TransactWriteItemsResponse* response) override;
  grpc::Status TransactGetItems(grpc::ServerContext*, const v1::TransactGetItemsRequest* request,
                                v1::TransactGetItemsResponse* response) override;
  grpc::Status ListTableStreams(grpc::ServerContext*, const v1::ListTableStreamsRequest* request,
                                v1::ListTableStreamsResponse* response) override;
  grpc::Status DescribeTableStream(grpc::ServerContext*,
                                   const v1::DescribeTableStreamRequest* request,
                                   v1::TableStream* response) override;

 private:
  v1::TableDescription Describe(const TableDescription& d) const;
  v1::TableStream DescribeStream(const TableStreamDescription& s) const;

  TableStore& store_;
  const TablesServiceOptions options_;
};

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_TABLES_SERVICE_H_
