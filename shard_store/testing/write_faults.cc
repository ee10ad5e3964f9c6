#include "shard_store/testing/write_faults.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/testing/assertions.h"

namespace tributary::shard_store::testing {
namespace {

const char* KindName(WriteKind kind) {
  switch (kind) {
    case WriteKind::kStreamId:
      return "stream id";
    case WriteKind::kCreateStream:
      return "create stream";
    case WriteKind::kDeleteStream:
      return "delete stream";
    case WriteKind::kRecords:
      return "records";
    case WriteKind::kReshard:
      return "reshard";
    case WriteKind::kStreamMetadata:
      return "stream metadata";
    case WriteKind::kTrim:
      return "trim";
  }
  return "unknown";
}

}  // namespace

WriteInterceptor WriteFaults::Interceptor() {
  return [this](WriteKind kind) { return OnWrite(kind); };
}

void WriteFaults::FailNth(WriteKind kind, int n, rocksdb::Status status) {
  absl::MutexLock lock(&mu_);
  fault_ = Fault{kind, n, false, std::move(status)};
}

void WriteFaults::HoldNth(WriteKind kind, int n, rocksdb::Status then) {
  absl::MutexLock lock(&mu_);
  fault_ = Fault{kind, n, true, std::move(then)};
  held_ = false;
  released_ = false;
}

::testing::AssertionResult WriteFaults::WaitUntilHeld(absl::Duration timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, timeout, "the held write to arrive",
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_; },
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        std::string seen = "writes so far:";
        for (const auto& [kind, n] : writes_) absl::StrAppend(&seen, " ", KindName(kind), "=", n);
        if (fault_) {
          absl::StrAppend(&seen, "; armed: ", fault_->hold ? "hold" : "fail", " the write of ",
                          KindName(fault_->kind), " ", fault_->remaining, " from now");
        } else {
          absl::StrAppend(&seen, "; no fault armed");
        }
        return seen;
      }));
}

void WriteFaults::Release() {
  absl::MutexLock lock(&mu_);
  released_ = true;
}

int WriteFaults::writes(WriteKind kind) {
  absl::MutexLock lock(&mu_);
  return writes_[kind];
}

rocksdb::Status WriteFaults::OnWrite(WriteKind kind) {
  absl::MutexLock lock(&mu_);
  ++writes_[kind];
  if (!fault_.has_value() || fault_->kind != kind || --fault_->remaining > 0) {
    return rocksdb::Status::OK();
  }
  Fault fault = std::move(*fault_);
  fault_.reset();
  if (fault.hold) {
    held_ = true;
    // Bounded only as a failure guard for a test that forgets Release().
    mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(60));
  }
  return fault.status;
}

}  // namespace tributary::shard_store::testing
