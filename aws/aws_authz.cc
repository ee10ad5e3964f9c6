#include "aws/aws_authz.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace tributary::aws {
namespace {

// The operations that change configuration: audited even when they succeed.
constexpr absl::string_view kControlPlane[] = {
    "kinesis:CreateStream",
    "kinesis:DeleteStream",
    "kinesis:SplitShard",
    "kinesis:MergeShards",
    "kinesis:UpdateShardCount",
    "kinesis:IncreaseStreamRetentionPeriod",
    "kinesis:DecreaseStreamRetentionPeriod",
    "kinesis:UpdateStreamMode",
    "kinesis:AddTagsToStream",
    "kinesis:RemoveTagsFromStream",
    "kinesis:RegisterStreamConsumer",
    "kinesis:DeregisterStreamConsumer",
    "dynamodb:CreateTable",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "lambda:CreateEventSourceMapping",
    "lambda:UpdateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
};

const std::string* StringMember(const Value& input, absl::string_view name) {
  const Value* v = input.type() == Value::Type::kMap ? input.Find(name) : nullptr;
  if (v == nullptr || v->type() != Value::Type::kString || v->string_value().empty()) {
    return nullptr;
  }
  return &v->string_value();
}

void AddUnique(std::vector<std::string>& resources, std::string resource) {
  if (std::find(resources.begin(), resources.end(), resource) == resources.end()) {
    resources.push_back(std::move(resource));
  }
}

std::string ArnOr(const std::string& name, std::string arn) {
  return absl::StartsWith(name, "arn:") ? name : std::move(arn);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AwsAuthz>> AwsAuthz::Create(AwsAuthzOptions options,
                                                           Clock& clock) {
  std::unique_ptr<Authorizer> authorizer;
  if (!options.policy_file.empty()) {
    absl::StatusOr<std::unique_ptr<Authorizer>> created = Authorizer::Create(
        options.policy_file, options.account, options.policy_check_interval);
    if (!created.ok()) return created.status();
    authorizer = *std::move(created);
  }
  std::unique_ptr<AuditLog> audit_log;
  if (!options.audit_log.empty()) {
    absl::StatusOr<std::unique_ptr<AuditLog>> opened = AuditLog::Open(options.audit_log);
    if (!opened.ok()) return opened.status();
    audit_log = *std::move(opened);
  }
  return std::unique_ptr<AwsAuthz>(
      new AwsAuthz(std::move(options), std::move(authorizer), std::move(audit_log), clock));
}

AwsAuthzTarget AwsAuthz::TargetOf(absl::string_view signing_name,
                                  absl::string_view target_prefix, absl::string_view operation,
                                  const Value& input) const {
  AwsAuthzTarget target;
  target.action = absl::StrCat(signing_name, ":", operation);
  for (absl::string_view c : kControlPlane) {
    if (absl::EqualsIgnoreCase(c, target.action)) target.control_plane = true;
  }
  const AwsAccount& account = options_.account;
  std::vector<std::string>& resources = target.resources;
  const bool streams_api = absl::StartsWith(target_prefix, "DynamoDBStreams_");

  if (operation == "GetRecords") {
    // The stream is named only inside the iterator (DynamoDB Streams': "table:index:store").
    if (const std::string* iterator = StringMember(input, "ShardIterator");
        iterator != nullptr && options_.stream_of_iterator) {
      absl::string_view store_iterator = *iterator;
      if (streams_api) {
        std::vector<absl::string_view> parts =
            absl::StrSplit(store_iterator, absl::MaxSplits(':', 2));
        store_iterator = parts.size() == 3 ? parts[2] : absl::string_view();
      }
      absl::StatusOr<std::string> stream = options_.stream_of_iterator(store_iterator);
      if (!stream.ok()) target.unresolved_iterator = true;
      if (stream.ok()) {
        if (!streams_api) {
          AddUnique(resources, KinesisStreamArn(account, *stream));
        } else if (options_.table_stream_arn) {
          std::optional<std::string> arn = options_.table_stream_arn(*stream);
          if (arn.has_value()) AddUnique(resources, *arn);
        }
      }
    }
  } else if (signing_name == "kinesis") {
    if (const std::string* name = StringMember(input, "StreamName")) {
      AddUnique(resources, KinesisStreamArn(account, *name));
    }
    for (const char* field : {"StreamARN", "ConsumerARN"}) {
      if (const std::string* arn = StringMember(input, field)) AddUnique(resources, *arn);
    }
  } else if (signing_name == "dynamodb" && streams_api) {
    if (const std::string* arn = StringMember(input, "StreamArn")) AddUnique(resources, *arn);
    if (const std::string* table = StringMember(input, "TableName")) {
      AddUnique(resources, ArnOr(*table, DynamoDbTableArn(account, *table)));
    }
  } else if (signing_name == "dynamodb") {
    auto add_table = [&](const Value& holder) {
      if (const std::string* table = StringMember(holder, "TableName")) {
        AddUnique(resources, ArnOr(*table, DynamoDbTableArn(account, *table)));
      }
    };
    add_table(input);
    if (const Value* items = input.Find("RequestItems");
        items != nullptr && items->type() == Value::Type::kMap) {
      for (const Value::Member& m : items->members()) {
        AddUnique(resources, ArnOr(m.first, DynamoDbTableArn(account, m.first)));
      }
    }
    if (const Value* items = input.Find("TransactItems");
        items != nullptr && items->type() == Value::Type::kList) {
      for (const Value& item : items->list()) {
        if (item.type() != Value::Type::kMap) continue;
        for (const Value::Member& m : item.members()) add_table(m.second);  // Put, Get, ...
      }
    }
  } else if (signing_name == "lambda") {
    if (const std::string* uuid = StringMember(input, "UUID")) {
      AddUnique(resources, EventSourceMappingArn(account, *uuid));
    }
    if (operation == "CreateEventSourceMapping") {
      if (const std::string* arn = StringMember(input, "EventSourceArn")) {
        AddUnique(resources, *arn);
      }
    } else if (const std::string* name = StringMember(input, "FunctionName");
               name != nullptr && !absl::StartsWith(operation, "List")) {
      AddUnique(resources, ArnOr(*name, LambdaFunctionArn(account, *name)));
    }
  }
  if (resources.empty()) resources.push_back("*");
  return target;
}

std::optional<AwsError> AwsAuthz::Check(absl::string_view principal,
                                        const AwsAuthzTarget& target, int http_status) {
  if (authorizer_ == nullptr || target.unresolved_iterator) return std::nullopt;
  absl::Status reload = authorizer_->MaybeReload(clock_.MonotonicNow());
  if (!reload.ok()) LOG(WARNING) << "policy_file: " << reload;  // once per change of the file
  for (const std::string& resource : target.resources) {
    if (authorizer_->CheckAction(principal, target.action, resource).ok()) continue;
    Audit(principal, target.action, resource, absl::StatusCode::kPermissionDenied);
    // AWS's wording; the policy's contents are never quoted.
    return MakeError(kAccessDenied,
                     absl::StrCat("User: ", principal.empty() ? "anonymous" : principal,
                                  " is not authorized to perform: ", target.action,
                                  " on resource: ", resource),
                     http_status);
  }
  return std::nullopt;
}

void AwsAuthz::AuditOutcome(absl::string_view principal, const AwsAuthzTarget& target,
                            const AwsError* error) {
  if (!target.control_plane) return;
  const absl::StatusCode code = error == nullptr ? absl::StatusCode::kOk : AuditCodeOf(*error);
  Audit(principal, target.action, target.resources.front(), code);
}

void AwsAuthz::Audit(absl::string_view principal, absl::string_view action,
                     absl::string_view resource, absl::StatusCode outcome) {
  if (audit_log_ == nullptr) return;
  absl::Status written =
      audit_log_->Record(AuditEntry{clock_.Now(), std::string(principal), std::string(action),
                                    std::string(resource), outcome});
  if (!written.ok()) LOG(ERROR) << written;
}

absl::Status AwsAuthz::ReloadPolicy() {
  if (authorizer_ == nullptr) return absl::OkStatus();
  return authorizer_->Reload();
}

absl::StatusCode AuditCodeOf(const AwsError& error) {
  const absl::string_view type = error.type;
  if (type == kAccessDenied) return absl::StatusCode::kPermissionDenied;
  if (error.http_status == 404 || type == kResourceNotFound) return absl::StatusCode::kNotFound;
  if (error.http_status == 429 || type == kLimitExceeded ||
      type == kProvisionedThroughputExceeded || absl::StrContains(type, "Throttl")) {
    return absl::StatusCode::kResourceExhausted;
  }
  if (error.http_status == 503) return absl::StatusCode::kUnavailable;
  if (error.http_status >= 500) return absl::StatusCode::kInternal;
  if (error.http_status == 409 || type == kResourceInUse) {
    return absl::StatusCode::kFailedPrecondition;
  }
  return absl::StatusCode::kInvalidArgument;
}

}  // namespace tributary::aws
