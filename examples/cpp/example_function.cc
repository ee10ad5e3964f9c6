#include "examples/cpp/example_function.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace tributary::examples {

using ::google::protobuf::util::TimeUtil;

namespace {

// A table stream's item key as text: its key attributes' values (S and N as they are, B as
// hex), "/"-joined in name order: {"id": {"S": "o-1"}} → "o-1".
std::string ItemKey(const google::protobuf::Map<std::string, v1::AttributeValue>& keys) {
  const std::map<std::string, v1::AttributeValue> sorted(keys.begin(), keys.end());
  std::string out;
  for (const auto& [name, value] : sorted) {
    if (!out.empty()) out += "/";
    out += value.has_b() ? absl::BytesToHexString(value.b())
           : value.has_n() ? value.n()
                           : value.s();
  }
  return out;
}

}  // namespace

std::vector<ExampleFunction::Item> ExampleFunction::Items(const v1::InvokeRequest& request) {
  std::vector<Item> items;
  for (const v1::Record& r : request.records()) {
    items.push_back({r.sequence_number(), r.partition_key(),
                     absl::StartsWith(r.data(), kPoisonPrefix)});
  }
  // A table stream's changes (DynamoDB Streams records): a change is poison when the item
  // written has an attribute named "poison".
  for (const v1::DynamoDbStreamRecord& r : request.dynamodb_records()) {
    items.push_back({r.dynamodb().sequence_number(), ItemKey(r.dynamodb().keys()),
                     r.dynamodb().new_image().count(kPoisonPrefix) > 0});
  }
  return items;
}

absl::StatusOr<std::unique_ptr<ExampleFunction>> ExampleFunction::Create(
    const ExampleFunctionOptions& options, Clock& clock) {
  if (!(options.fail_rate >= 0 && options.fail_rate <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("fail_rate: must be in [0, 1], got ", options.fail_rate));
  }
  if (options.latency < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("latency: must be >= 0");
  }
  std::FILE* deliveries = nullptr;
  if (!options.deliveries_file.empty()) {
    deliveries = std::fopen(options.deliveries_file.c_str(), "a");
    if (deliveries == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "deliveries_file: cannot open ", options.deliveries_file, ": ", std::strerror(errno)));
    }
  }
  std::FILE* windows = nullptr;
  if (!options.windows_file.empty()) {
    windows = std::fopen(options.windows_file.c_str(), "a");
    if (windows == nullptr) {
      const int error = errno;
      if (deliveries != nullptr) std::fclose(deliveries);
      return absl::FailedPreconditionError(absl::StrCat(
          "windows_file: cannot open ", options.windows_file, ": ", std::strerror(error)));
    }
  }
  return std::unique_ptr<ExampleFunction>(new ExampleFunction(options, clock, deliveries, windows));
}

ExampleFunction::ExampleFunction(const ExampleFunctionOptions& options, Clock& clock,
                                 std::FILE* deliveries, std::FILE* windows)
    : options_(options),
      clock_(clock),
      deliveries_(deliveries),
      windows_(windows),
      random_(options.seed) {}

ExampleFunction::~ExampleFunction() {
  absl::MutexLock lock(&mu_);
  if (deliveries_ != nullptr) std::fclose(deliveries_);
  if (windows_ != nullptr) std::fclose(windows_);
}

std::string ExampleFunction::DescribeBatch(const v1::InvokeRequest& request) {
  const std::vector<Item> items = Items(request);
  const size_t n = items.size();
  return absl::StrCat("mapping=", request.event_source_mapping_uuid(),
                      " stream=", request.stream_name(), " shard=", request.shard_id(),
                      " records=", n, " first=", n > 0 ? items[0].sequence_number : "-",
                      " last=", n > 0 ? items[n - 1].sequence_number : "-");
}

int64_t ExampleFunction::invocations() {
  absl::MutexLock lock(&mu_);
  return invocations_;
}

absl::Status ExampleFunction::RecordDeliveries(const v1::InvokeRequest& request,
                                               const std::vector<Item>& items) {
  absl::MutexLock lock(&mu_);
  if (deliveries_ == nullptr) return absl::OkStatus();
  std::string lines;
  for (const Item& item : items) {
    absl::StrAppend(&lines, request.shard_id(), " ", item.sequence_number, " ", item.key, "\n");
  }
  if (std::fwrite(lines.data(), 1, lines.size(), deliveries_) != lines.size() ||
      std::fflush(deliveries_) != 0) {
    return absl::InternalError(
        absl::StrCat("writing ", options_.deliveries_file, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ExampleFunction::AggregateWindow(const v1::InvokeRequest& request,
                                              const std::vector<Item>& items, size_t succeeded,
                                              v1::InvokeResponse* response) {
  auto& counts = *response->mutable_state()->mutable_values();
  counts = request.state().values();
  for (size_t i = 0; i < succeeded; ++i) {
    std::string& count = counts[items[i].key];
    int64_t n = 0;
    if (!count.empty() && !absl::SimpleAtoi(count, &n)) n = 0;  // not ours: start over
    count = absl::StrCat(n + 1);
  }
  if (!request.is_final_invoke_for_window()) return absl::OkStatus();
  // The window is closed: report its counts (sorted by key) and start the next one empty.
  const std::map<std::string, std::string> sorted(counts.begin(), counts.end());
  std::string line = absl::StrCat(request.shard_id(), " ",
                                  TimeUtil::TimestampToMilliseconds(request.window().start()), " ",
                                  TimeUtil::TimestampToMilliseconds(request.window().end()), " ");
  if (sorted.empty()) line += "-";
  bool first = true;
  for (const auto& [key, count] : sorted) {
    absl::StrAppend(&line, first ? "" : ",", key, "=", count);
    first = false;
  }
  if (request.is_window_terminated_early()) line += " early";
  line += "\n";
  counts.clear();
  absl::MutexLock lock(&mu_);
  if (windows_ == nullptr) return absl::OkStatus();
  if (std::fwrite(line.data(), 1, line.size(), windows_) != line.size() ||
      std::fflush(windows_) != 0) {
    return absl::InternalError(
        absl::StrCat("writing ", options_.windows_file, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool ExampleFunction::SimulateFailure() {
  if (options_.fail_rate <= 0) return false;
  absl::MutexLock lock(&mu_);
  return std::bernoulli_distribution(options_.fail_rate)(random_);
}

absl::StatusOr<v1::InvokeResponse> ExampleFunction::Invoke(const v1::InvokeRequest& request) {
  struct CountOnExit {
    ExampleFunction* f;
    ~CountOnExit() {
      absl::MutexLock lock(&f->mu_);
      ++f->invocations_;
    }
  } count{this};
  const std::vector<Item> items = Items(request);
  RETURN_IF_ERROR(RecordDeliveries(request, items));
  if (options_.latency > absl::ZeroDuration()) clock_.SleepFor(options_.latency);
  v1::InvokeResponse response;
  const bool windowed = request.has_window();
  if (SimulateFailure()) {
    if (options_.fail_with_status) return absl::InternalError("simulated failure (--fail_rate)");
    response.set_function_error("simulated failure (--fail_rate)");
    if (windowed) *response.mutable_state() = request.state();
    return response;
  }
  size_t succeeded = items.size();  // records before the first failed one
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].poison) continue;
    succeeded = std::min(succeeded, i);
    if (options_.report_batch_item_failures) {
      response.add_batch_item_failures()->set_item_identifier(items[i].sequence_number);
    } else {
      response.set_function_error(
          absl::StrCat("poison record at sequence number ", items[i].sequence_number));
      break;
    }
  }
  if (windowed) {
    if (!response.function_error().empty()) {
      *response.mutable_state() = request.state();
    } else {
      RETURN_IF_ERROR(AggregateWindow(request, items, succeeded, &response));
    }
  }
  return response;
}

}  // namespace tributary::examples
