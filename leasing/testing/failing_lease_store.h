// A LeaseStore that wraps another and fails chosen writes: the n-th write from now, or every
// write until healed. A failed write reaches nothing below it. For tests showing that a failed
// write changes nothing in the lease table's memory. Thread-safe; `base` must outlive it.
#ifndef TRIBUTARY_LEASING_TESTING_FAILING_LEASE_STORE_H_
#define TRIBUTARY_LEASING_TESTING_FAILING_LEASE_STORE_H_

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "leasing/lease_store.h"

namespace tributary::leasing::testing {

class FailingLeaseStore : public LeaseStore {
 public:
  explicit FailingLeaseStore(LeaseStore& base) : base_(base) {}

  // The `n`-th write from now (1 = the next one) fails with `error`; later ones pass.
  void FailNthWrite(int n, absl::Status error = absl::UnavailableError("injected write fault")) {
    absl::MutexLock lock(&mu_);
    countdown_ = n;
    fail_all_ = false;
    error_ = std::move(error);
  }
  // Every write fails with `error` until Heal().
  void FailAllWrites(absl::Status error = absl::UnavailableError("injected write fault")) {
    absl::MutexLock lock(&mu_);
    fail_all_ = true;
    error_ = std::move(error);
  }
  void Heal() {
    absl::MutexLock lock(&mu_);
    fail_all_ = false;
    countdown_ = 0;
  }
  // Writes that reached the base store.
  int writes() {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  // The last write that reached the base store.
  LeaseStoreWrite last_write() {
    absl::MutexLock lock(&mu_);
    return last_write_;
  }

  absl::Status Write(const LeaseStoreWrite& write) override {
    {
      absl::MutexLock lock(&mu_);
      if (fail_all_) return error_;
      if (countdown_ > 0 && --countdown_ == 0) return error_;
    }
    absl::Status status = base_.Write(write);
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      ++writes_;
      last_write_ = write;
    }
    return status;
  }
  absl::StatusOr<LeaseStoreContents> Load() override { return base_.Load(); }
  LeaseStoreWrite TakeExternalChanges() override { return base_.TakeExternalChanges(); }
  absl::StatusOr<bool> Barrier() override { return base_.Barrier(); }

 private:
  LeaseStore& base_;
  absl::Mutex mu_;
  int countdown_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_all_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  LeaseStoreWrite last_write_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::leasing::testing

#endif  // TRIBUTARY_LEASING_TESTING_FAILING_LEASE_STORE_H_
