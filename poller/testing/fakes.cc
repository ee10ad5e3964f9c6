#include "poller/testing/fakes.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/await.h"
#include "common/status_macros.h"
#include "common/testing/assertions.h"

namespace tributary::poller::testing {

void ScriptedFunction::SetScript(Script script) {
  absl::MutexLock lock(&mu_);
  script_ = std::move(script);
}

absl::StatusOr<v1::InvokeResponse> ScriptedFunction::Invoke(const std::string& endpoint,
                                                            const v1::InvokeRequest& request,
                                                            absl::Duration timeout) {
  Script script;
  int index;
  {
    absl::MutexLock lock(&mu_);
    index = static_cast<int>(calls_.size());
    calls_.push_back(Call{endpoint, request, timeout});
    script = script_;
  }
  // The script runs without the lock: it may call back into the test's fakes.
  if (!script) return v1::InvokeResponse();
  return script(request, index);
}

std::vector<ScriptedFunction::Call> ScriptedFunction::calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int ScriptedFunction::call_count() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(calls_.size());
}

::testing::AssertionResult ScriptedFunction::Await(
    absl::string_view awaited, const std::function<bool(const std::vector<Call>&)>& done,
    absl::Duration real_timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, real_timeout, absl::StrCat("the function's calls: ", awaited),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(calls_); },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        size_t records = 0;
        for (const Call& c : calls_) records += c.request.records_size();
        std::string seen = absl::StrCat(calls_.size(), " call(s), ", records, " record(s)");
        if (!calls_.empty()) {
          std::vector<std::string> seqs;
          for (const v1::Record& r : calls_.back().request.records()) {
            seqs.push_back(r.sequence_number());
          }
          absl::StrAppend(&seen, "; the last call's sequence numbers: ", absl::StrJoin(seqs, ","));
        }
        return seen;
      }));
}

std::vector<std::vector<std::string>> ScriptedFunction::batches() {
  absl::MutexLock lock(&mu_);
  std::vector<std::vector<std::string>> out;
  for (const Call& c : calls_) {
    std::vector<std::string> seqs;
    for (const v1::Record& r : c.request.records()) seqs.push_back(r.sequence_number());
    out.push_back(std::move(seqs));
  }
  return out;
}

ScriptedFunction::Script ScriptedFunction::FailRecordsWithData(std::set<std::string> bad_data) {
  return [bad_data = std::move(bad_data)](const v1::InvokeRequest& request,
                                          int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse response;
    for (const v1::Record& r : request.records()) {
      if (bad_data.count(r.data())) response.set_function_error("Unhandled");
    }
    return response;
  };
}

ScriptedFunction::Script ScriptedFunction::CountInWindowState(std::set<std::string> bad_data) {
  return [bad_data = std::move(bad_data)](const v1::InvokeRequest& request,
                                          int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse response;
    if (request.is_final_invoke_for_window()) {
      response.mutable_state();  // present, empty
      return response;
    }
    for (const v1::Record& r : request.records()) {
      if (bad_data.count(r.data())) {
        response.set_function_error("Unhandled");
        return response;
      }
    }
    auto& values = *response.mutable_state()->mutable_values();
    values = request.state().values();
    values["count"] = absl::StrCat(CountOf(request.state()) + request.records_size());
    for (const v1::Record& r : request.records()) {
      std::string& seqs = values["seqs"];
      absl::StrAppend(&seqs, seqs.empty() ? "" : ",", r.sequence_number());
    }
    return response;
  };
}

int64_t ScriptedFunction::CountOf(const v1::TumblingWindowState& state) {
  auto it = state.values().find("count");
  int64_t n = 0;
  if (it != state.values().end() && !absl::SimpleAtoi(it->second, &n)) return -1;
  return n;
}

absl::Status RecordingDestination::Put(const std::string& stream_name,
                                       const std::string& partition_key, const std::string& data) {
  std::function<absl::Status(const std::string&)> hook;
  {
    absl::MutexLock lock(&mu_);
    hook = hook_;
  }
  if (hook) RETURN_IF_ERROR(hook(stream_name));
  absl::MutexLock lock(&mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    return absl::UnavailableError("injected destination failure");
  }
  puts_.push_back(Put_{stream_name, partition_key, data});
  return absl::OkStatus();
}

std::vector<RecordingDestination::Put_> RecordingDestination::puts() {
  absl::MutexLock lock(&mu_);
  return puts_;
}

void RecordingDestination::SetPutHook(
    std::function<absl::Status(const std::string& stream_name)> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

void RecordingDestination::FailNext(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
}

bool AdvancingWaiter::WaitUntil(MonotonicTime deadline, StopSignal& stop) {
  if (stop.stopped()) return false;
  const MonotonicTime now = clock_.MonotonicNow();
  {
    absl::MutexLock lock(&mu_);
    waits_.push_back(deadline - now);
  }
  if (deadline > now) clock_.Advance(deadline - now);
  return !stop.stopped();
}

std::vector<absl::Duration> AdvancingWaiter::waits() {
  absl::MutexLock lock(&mu_);
  return waits_;
}

v1::Record MakeRecord(uint64_t seq, const std::string& key, const std::string& data,
                      absl::Time arrival) {
  v1::Record r;
  r.set_sequence_number(absl::StrCat(seq));
  r.set_partition_key(key);
  r.set_data(data);
  const int64_t ns = absl::ToUnixNanos(arrival);
  r.mutable_approximate_arrival_timestamp()->set_seconds(ns / 1000000000);
  r.mutable_approximate_arrival_timestamp()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  return r;
}

}  // namespace tributary::poller::testing
