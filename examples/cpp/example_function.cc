#include "examples/cpp/example_function.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tributary::examples {

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
  return std::unique_ptr<ExampleFunction>(new ExampleFunction(options, clock, deliveries));
}

ExampleFunction::ExampleFunction(const ExampleFunctionOptions& options, Clock& clock,
                                 std::FILE* deliveries)
    : options_(options), clock_(clock), deliveries_(deliveries), random_(options.seed) {}

ExampleFunction::~ExampleFunction() {
  absl::MutexLock lock(&mu_);
  if (deliveries_ != nullptr) std::fclose(deliveries_);
}

std::string ExampleFunction::DescribeBatch(const v1::InvokeRequest& request) {
  const int n = request.records_size();
  return absl::StrCat("mapping=", request.event_source_mapping_uuid(),
                      " stream=", request.stream_name(), " shard=", request.shard_id(),
                      " records=", n, " first=", n > 0 ? request.records(0).sequence_number() : "-",
                      " last=", n > 0 ? request.records(n - 1).sequence_number() : "-");
}

int64_t ExampleFunction::invocations() {
  absl::MutexLock lock(&mu_);
  return invocations_;
}

absl::Status ExampleFunction::RecordDeliveries(const v1::InvokeRequest& request) {
  absl::MutexLock lock(&mu_);
  if (deliveries_ == nullptr) return absl::OkStatus();
  std::string lines;
  for (const v1::Record& r : request.records()) {
    absl::StrAppend(&lines, request.shard_id(), " ", r.sequence_number(), " ", r.partition_key(),
                    "\n");
  }
  if (std::fwrite(lines.data(), 1, lines.size(), deliveries_) != lines.size() ||
      std::fflush(deliveries_) != 0) {
    return absl::InternalError(
        absl::StrCat("writing ", options_.deliveries_file, ": ", std::strerror(errno)));
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
  RETURN_IF_ERROR(RecordDeliveries(request));
  if (options_.latency > absl::ZeroDuration()) clock_.SleepFor(options_.latency);
  v1::InvokeResponse response;
  if (SimulateFailure()) {
    if (options_.fail_with_status) return absl::InternalError("simulated failure (--fail_rate)");
    response.set_function_error("simulated failure (--fail_rate)");
    return response;
  }
  for (const v1::Record& r : request.records()) {
    if (!absl::StartsWith(r.data(), kPoisonPrefix)) continue;
    if (options_.report_batch_item_failures) {
      response.add_batch_item_failures()->set_item_identifier(r.sequence_number());
    } else {
      response.set_function_error(
          absl::StrCat("poison record at sequence number ", r.sequence_number()));
      break;
    }
  }
  return response;
}

}  // namespace tributary::examples
