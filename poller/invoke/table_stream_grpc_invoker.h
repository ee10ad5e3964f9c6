// TableStreamGrpcInvoker: a FunctionInvoker in front of the gRPC one (GrpcFunctionInvoker) that
// gives a gRPC function on a table's change stream (a store stream "_tables.*",
// tables/stream_ids.h) DynamoDB Streams records instead of the store's: the request becomes
// DynamoDbInvokeRequest's (dynamodb_event.h: `dynamodb_records`, DynamoDB's shard id, no
// `records`), the stream ARN found through `tables`, and the reply's item identifiers, DynamoDB
// SequenceNumbers, are turned back into the store's (ToStoreItemIdentifiers) before
// BatchProcessor judges them. Requests on any other stream pass to `inner` unchanged.
//
// The conversion happens per call, after batching, filtering, windows and bisection chose the
// records, so every mapping feature works on the store's records as for Kinesis.
//
// Errors: `inner`'s; a failed table lookup (FindTableStreamSource: NOT_FOUND, UNAVAILABLE, ...;
// FAILED_PRECONDITION without `tables`) and DATA_LOSS (a record that is not a change record) are
// the call's status, retried as a failed call, and nothing is invoked.
//
// Thread-safe when `inner` and `tables` are; both (`tables` may be null) must outlive it.
#ifndef TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_GRPC_INVOKER_H_
#define TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_GRPC_INVOKER_H_

#include <string>
#include <utility>

#include "poller/interfaces.h"
#include "poller/invoke/dynamodb_event.h"
#include "poller/invoke/lambda_event.h"

namespace tributary::poller {

class TableStreamGrpcInvoker : public FunctionInvoker {
 public:
  TableStreamGrpcInvoker(FunctionInvoker& inner, LambdaAccount account,
                         TableStreamSources* tables)
      : inner_(inner), account_(std::move(account)), tables_(tables) {}

  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest& request,
                                            absl::Duration timeout) override;

 private:
  FunctionInvoker& inner_;
  const LambdaAccount account_;
  TableStreamSources* const tables_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_TABLE_STREAM_GRPC_INVOKER_H_
