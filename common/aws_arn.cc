#include "common/aws_arn.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tributary {

absl::Status ValidateAwsAccount(const AwsAccount& account) {
  bool region_ok = !account.region.empty();
  for (char c : account.region) {
    const unsigned char u = static_cast<unsigned char>(c);
    region_ok = region_ok && (absl::ascii_islower(u) || absl::ascii_isdigit(u) || c == '-');
  }
  if (!region_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("aws_region \"", account.region, "\": expected a region such as us-east-1"));
  }
  bool account_ok = account.account_id.size() == 12;
  for (char c : account.account_id) {
    account_ok = account_ok && absl::ascii_isdigit(static_cast<unsigned char>(c));
  }
  if (!account_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("aws_account_id \"", account.account_id, "\": expected 12 digits"));
  }
  return absl::OkStatus();
}

std::string KinesisStreamArn(const AwsAccount& account, absl::string_view stream_name) {
  return absl::StrCat("arn:aws:kinesis:", account.region, ":", account.account_id, ":stream/",
                      stream_name);
}

std::string LambdaFunctionArn(const AwsAccount& account, absl::string_view function_name) {
  return absl::StrCat("arn:aws:lambda:", account.region, ":", account.account_id,
                      ":function:", function_name);
}

std::string EventSourceMappingArn(const AwsAccount& account, absl::string_view uuid) {
  return absl::StrCat("arn:aws:lambda:", account.region, ":", account.account_id,
                      ":event-source-mapping:", uuid);
}

std::string DynamoDbTableArn(const AwsAccount& account, absl::string_view table_name) {
  return absl::StrCat("arn:aws:dynamodb:", account.region, ":", account.account_id, ":table/",
                      table_name);
}

}  // namespace tributary
