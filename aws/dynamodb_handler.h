// DynamoDbApi: the DynamoDB JSON API (X-Amz-Target DynamoDB_20120810.*,
// application/x-amz-json-1.0) as a thin adapter over tables::TableStore. Each operation reads its
// input (AttributeValues as {"S": ...}, {"N": "..."}, {"B": base64}, ...), calls the store and
// maps a failed status to DynamoDB's error:
//   INVALID_ARGUMENT → ValidationException, NOT_FOUND → ResourceNotFoundException,
//   ALREADY_EXISTS → ResourceInUseException, FAILED_PRECONDITION →
//   ConditionalCheckFailedException; UNAVAILABLE 503, others 500 InternalFailure (aws_error.h).
// Error bodies carry DynamoDB's __type, "com.amazonaws.dynamodb.v20120810#<Code>" (botocore
// takes the part after '#'), and every reply an x-amz-crc32 header (the CRC-32 of the body, as
// DynamoDB sends it and botocore checks it).
//
// Operations: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable (StreamSpecification:
// a new stream each time one is turned on; BillingMode, ProvisionedThroughput) (here), and the
// item operations (dynamodb_items.cc): PutItem, GetItem, DeleteItem, UpdateItem, Query, Scan,
// BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems, with DynamoDB's expressions
// (tables/expression.h), ReturnValues, ReturnValuesOnConditionCheckFailure,
// TransactionCanceledException with CancellationReasons, ReturnConsumedCapacity (TOTAL, INDEXES)
// and TransactWriteItems' ClientRequestToken (IdempotentParameterMismatchException,
// TransactionInProgressException). CreateTable takes LocalSecondaryIndexes and
// GlobalSecondaryIndexes, Query and Scan an IndexName. Others answer UnknownOperationException.
//
// Thread-safe. `tables` must outlive the API.
#ifndef TRIBUTARY_AWS_DYNAMODB_HANDLER_H_
#define TRIBUTARY_AWS_DYNAMODB_HANDLER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "aws/router.h"
#include "aws/value.h"
#include "tables/table_store.h"

namespace tributary::aws {

struct DynamoDbApiOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

// An AttributeValue as DynamoDB's JSON writes it ({"S": ...}, {"N": "..."}, {"B": bytes},
// {"M": {...}}, ...), and an item (or key) as a map of them; shared by the Streams API.
Value ToDynamoDbJson(const tables::AttributeValue& value);
Value ToDynamoDbJson(const tables::AttributeMap& item);

class DynamoDbApi : public AwsApi {
 public:
  static constexpr char kTargetPrefix[] = "DynamoDB_20120810";

  DynamoDbApi(tables::TableStore& tables, DynamoDbApiOptions options);

  absl::string_view target_prefix() const override { return kTargetPrefix; }
  absl::string_view signing_name() const override { return "dynamodb"; }
  const char* ThrottlingError(absl::string_view operation) const override;
  bool SendsCrc32() const override { return true; }
  AwsOutcome Call(const AwsCall& call) override;

  // "arn:aws:dynamodb:<region>:<account>:table/<name>".
  std::string TableArn(absl::string_view name) const;
  // TableArn(table) + "/stream/" + label.
  std::string StreamArn(absl::string_view table, absl::string_view label) const;

 private:
  tables::TableStore& tables_;
  const DynamoDbApiOptions options_;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_DYNAMODB_HANDLER_H_
