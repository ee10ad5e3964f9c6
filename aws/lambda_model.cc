#include "aws/lambda_model.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/aws_arn.h"
#include "common/proto_util.h"

namespace tributary::aws {
namespace {

bool AllOf(absl::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnumOrDash(char c) { return absl::ascii_isalnum(c) || c == '-'; }
bool IsLetterOrDash(char c) { return absl::ascii_isalpha(c) || c == '-'; }
bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }
bool IsNamespacedNameChar(char c) { return IsNameChar(c) || c == '.'; }

// [a-z]{2}(-gov)?-[a-z]+-\d{1}
bool MatchesRegion(absl::string_view s) {
  if (s.size() < 2 || !IsLower(s[0]) || !IsLower(s[1])) return false;
  auto rest_matches = [](absl::string_view rest) {  // -[a-z]+-\d
    if (rest.size() < 4 || rest[0] != '-' || !IsDigit(rest.back()) ||
        rest[rest.size() - 2] != '-') {
      return false;
    }
    return AllOf(rest.substr(1, rest.size() - 3), IsLower);
  };
  const absl::string_view rest = s.substr(2);
  return rest_matches(rest) || (absl::StartsWith(rest, "-gov") && rest_matches(rest.substr(4)));
}

bool IsTwelveDigits(absl::string_view s) { return s.size() == 12 && AllOf(s, IsDigit); }

// A function name pattern over its ':'-separated tokens (no part of the pattern matches ':').
// The optional groups are tried in every combination, so that a token that could be either
// ("function" as the name, twelve digits as the name) is matched as the regex would.
bool MatchesFunctionTokens(const std::vector<absl::string_view>& t, bool namespaced) {
  for (int arn = 0; arn < 2; ++arn) {
    for (int region = 0; region < 2; ++region) {
      for (int account = 0; account < 2; ++account) {
        for (int keyword = 0; keyword < 2; ++keyword) {
          size_t i = 0;
          if (arn) {
            if (t.size() < i + 3 || t[i] != "arn" || t[i + 2] != "lambda") continue;
            const absl::string_view partition = t[i + 1];
            if (!partition.empty() && !(absl::StartsWith(partition, "aws") &&
                                        AllOf(partition.substr(3), IsLetterOrDash))) {
              continue;
            }
            i += 3;
          }
          if (region) {
            if (t.size() <= i || !MatchesRegion(t[i])) continue;
            ++i;
          }
          if (account) {
            if (t.size() <= i || !IsTwelveDigits(t[i])) continue;
            ++i;
          }
          if (keyword) {
            if (t.size() <= i || t[i] != "function") continue;
            ++i;
          }
          if (t.size() <= i || t[i].empty() ||
              !AllOf(t[i], namespaced ? IsNamespacedNameChar : IsNameChar)) {
            continue;
          }
          ++i;
          if (i == t.size()) return true;
          if (i + 1 == t.size() &&
              (t[i] == "$LATEST" || (!t[i].empty() && AllOf(t[i], IsNameChar)))) {
            return true;
          }
        }
      }
    }
  }
  return false;
}

}  // namespace

bool MatchesArn(absl::string_view s) {
  // Five ':' separate arn, partition, service, region and account; the resource may hold more.
  std::vector<absl::string_view> parts = absl::StrSplit(s, absl::MaxSplits(':', 5));
  if (parts.size() != 6 || parts[0] != "arn") return false;
  const absl::string_view partition = parts[1], service = parts[2], region = parts[3],
                          account = parts[4], resource = parts[5];
  if (!absl::StartsWith(partition, "aws") || !AllOf(partition.substr(3), IsAlnumOrDash)) {
    return false;
  }
  if (service.empty() || !AllOf(service, IsAlnumOrDash)) return false;
  if (!region.empty() && !MatchesRegion(region)) return false;
  if (!account.empty() && !IsTwelveDigits(account)) return false;
  // (.*): any characters but line terminators.
  return resource.find_first_of("\r\n") == absl::string_view::npos;
}

bool MatchesFunctionName(absl::string_view s, bool namespaced) {
  const std::vector<absl::string_view> tokens = absl::StrSplit(s, ':');
  return MatchesFunctionTokens(tokens, namespaced);
}

std::string KinesisStreamArn(const LambdaApiOptions& options, absl::string_view stream_name) {
  return ::tributary::KinesisStreamArn({options.region, options.account_id}, stream_name);
}

std::string LambdaFunctionArn(const LambdaApiOptions& options, absl::string_view function_name) {
  return ::tributary::LambdaFunctionArn({options.region, options.account_id}, function_name);
}

absl::StatusOr<std::string> StreamOfArn(const LambdaApiOptions& options, absl::string_view field,
                                        absl::string_view arn) {
  std::vector<absl::string_view> parts = absl::StrSplit(arn, absl::MaxSplits(':', 5));
  const bool kinesis_stream = parts.size() == 6 && parts[0] == "arn" && parts[2] == "kinesis" &&
                              absl::StartsWith(parts[5], "stream/") && parts[5].size() > 7 &&
                              parts[5].find('/', 7) == absl::string_view::npos;
  if (!kinesis_stream) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", arn,
        " is not the ARN of a Kinesis stream: Tributary's event sources are its streams, "
        "arn:aws:kinesis:",
        options.region, ":", options.account_id, ":stream/NAME"));
  }
  if (parts[1] != "aws" || parts[3] != options.region || parts[4] != options.account_id) {
    return absl::NotFoundError(absl::StrCat(
        field, " ", arn, ": no such stream here (this endpoint's streams are arn:aws:kinesis:",
        options.region, ":", options.account_id, ":stream/NAME)"));
  }
  return std::string(parts[5].substr(7));
}

absl::string_view StateName(v1::EventSourceMappingState state) {
  switch (state) {
    case v1::CREATING_MAPPING:
      return "Creating";
    case v1::ENABLING:
      return "Enabling";
    case v1::ENABLED:
      return "Enabled";
    case v1::DISABLING:
      return "Disabling";
    case v1::DISABLED:
      return "Disabled";
    case v1::UPDATING_MAPPING:
      return "Updating";
    case v1::DELETING_MAPPING:
      return "Deleting";
    default:
      return "";
  }
}

Value EventSourceMappingShape(const v1::EventSourceMappingConfiguration& m,
                              const LambdaApiOptions& options) {
  Value out = Value::Map();
  out.Add("UUID", Value::String(m.uuid()));
  if (const absl::string_view position = StartingPositionName(m.starting_position());
      !position.empty()) {
    out.Add("StartingPosition", Value::String(std::string(position)));
  }
  if (m.has_starting_position_timestamp()) {
    out.Add("StartingPositionTimestamp",
            Value::Timestamp(FromProtoTimestamp(m.starting_position_timestamp())));
  }
  out.Add("BatchSize", Value::Integer(m.batch_size()));
  out.Add("MaximumBatchingWindowInSeconds", Value::Integer(m.maximum_batching_window_in_seconds()));
  out.Add("ParallelizationFactor", Value::Integer(m.parallelization_factor()));
  std::optional<std::string> table_stream =
      options.table_streams != nullptr ? options.table_streams->ArnOfStream(m.stream_name())
                                       : std::nullopt;
  out.Add("EventSourceArn",
          Value::String(table_stream ? *table_stream : KinesisStreamArn(options, m.stream_name())));
  if (m.filter_criteria().filters_size() > 0) {
    Value& filters = out.Add("FilterCriteria", Value::Map()).Add("Filters", Value::List());
    for (const v1::Filter& filter : m.filter_criteria().filters()) {
      filters.Append(Value::Map()).Add("Pattern", Value::String(filter.pattern()));
    }
  }
  if (!m.function_name().empty()) {
    out.Add("FunctionArn", Value::String(LambdaFunctionArn(options, m.function_name())));
  }
  out.Add("LastModified", Value::Timestamp(FromProtoTimestamp(m.last_modified())));
  out.Add("LastProcessingResult", Value::String(m.last_processing_result()));
  out.Add("State", Value::String(std::string(StateName(m.state()))));
  out.Add("StateTransitionReason", Value::String(m.state_transition_reason()));
  // As Lambda writes it for a stream source: OnFailure is there, empty without a destination.
  Value& destinations = out.Add("DestinationConfig", Value::Map());
  Value& on_failure = destinations.Add("OnFailure", Value::Map());
  if (const std::string& d = m.destination_config().on_failure().destination(); !d.empty()) {
    on_failure.Add("Destination", Value::String(KinesisStreamArn(options, d)));
  }
  // Tributary's extension (not Lambda's for stream sources): only when there is one.
  if (const std::string& d = m.destination_config().on_success().destination(); !d.empty()) {
    destinations.Add("OnSuccess", Value::Map())
        .Add("Destination", Value::String(KinesisStreamArn(options, d)));
  }
  out.Add("MaximumRecordAgeInSeconds", Value::Integer(m.maximum_record_age_in_seconds()));
  out.Add("BisectBatchOnFunctionError", Value::Bool(m.bisect_batch_on_function_error()));
  out.Add("MaximumRetryAttempts", Value::Integer(m.maximum_retry_attempts()));
  out.Add("TumblingWindowInSeconds", Value::Integer(m.tumbling_window_in_seconds()));
  Value& types = out.Add("FunctionResponseTypes", Value::List());
  for (int type : m.function_response_types()) {
    if (type == v1::REPORT_BATCH_ITEM_FAILURES) {
      types.Append(Value::String("ReportBatchItemFailures"));
    }
  }
  return out;
}

Value FunctionConfigurationShape(const v1::FunctionConfiguration& f) {
  Value out = Value::Map();
  out.Add("FunctionName", Value::String(f.function_name()));
  out.Add("FunctionArn", Value::String(f.function_arn()));
  out.Add("Timeout", Value::Integer(f.timeout_seconds()));
  out.Add("CodeSize", Value::Integer(0));
  out.Add("LastModified", Value::String(absl::FormatTime("%Y-%m-%dT%H:%M:%E3S+0000",
                                                         FromProtoTimestamp(f.last_modified()),
                                                         absl::UTCTimeZone())));
  out.Add("Version", Value::String("$LATEST"));
  out.Add("State", Value::String("Active"));
  out.Add("LastUpdateStatus", Value::String("Successful"));
  return out;
}

Value ConcurrencyShape(const v1::FunctionConcurrency& concurrency) {
  Value out = Value::Map();
  if (concurrency.has_reserved_concurrent_executions()) {
    out.Add("ReservedConcurrentExecutions",
            Value::Integer(concurrency.reserved_concurrent_executions()));
  }
  return out;
}

}  // namespace tributary::aws
