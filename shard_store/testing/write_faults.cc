#include "shard_store/testing/write_faults.h"

namespace tributary::shard_store::testing {

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

bool WriteFaults::WaitUntilHeld(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&held_), timeout);
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
