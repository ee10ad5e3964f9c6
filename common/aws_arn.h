// The AWS account Tributary's AWS-shaped names speak for (--aws_region, --aws_account_id), and
// the ARNs made from it: the one place their format lives, for the AWS front door (aws/), the
// stream tracker (function ARNs, a mapping's event_source_arn, so tribctl shows what Lambda's
// API returns), and the pollers (Lambda's event, the on-failure record).
//
//   KinesisStreamArn({"us-east-1", "000000000000"}, "orders")
//       → "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
//   LambdaFunctionArn({"us-east-1", "000000000000"}, "f")
//       → "arn:aws:lambda:us-east-1:000000000000:function:f"
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_COMMON_AWS_ARN_H_
#define TRIBUTARY_COMMON_AWS_ARN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tributary {

// An AWS region ("us-east-1") and a 12-digit account id. The defaults are LocalStack's.
struct AwsAccount {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

// Checks `account` with the AWS front door's rules: a region of lower-case letters, digits and
// '-' (not empty); an account id of exactly 12 digits. Errors: INVALID_ARGUMENT naming
// aws_region or aws_account_id and the value.
absl::Status ValidateAwsAccount(const AwsAccount& account);

// "arn:aws:kinesis:<region>:<account_id>:stream/<stream_name>".
std::string KinesisStreamArn(const AwsAccount& account, absl::string_view stream_name);

// "arn:aws:lambda:<region>:<account_id>:function:<function_name>".
std::string LambdaFunctionArn(const AwsAccount& account, absl::string_view function_name);

// "arn:aws:lambda:<region>:<account_id>:event-source-mapping:<uuid>" (Lambda's format).
std::string EventSourceMappingArn(const AwsAccount& account, absl::string_view uuid);

// "arn:aws:dynamodb:<region>:<account_id>:table/<table_name>"; a table's stream ARN is this plus
// "/stream/<label>".
std::string DynamoDbTableArn(const AwsAccount& account, absl::string_view table_name);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_AWS_ARN_H_
