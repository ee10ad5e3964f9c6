#include "etcd/lease_keeper.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tributary::etcd {

absl::StatusOr<std::unique_ptr<LeaseKeeper>> LeaseKeeper::Create(EtcdClient& client,
                                                                  absl::Duration ttl) {
  if (ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease ttl ", absl::FormatDuration(ttl), " is under 1s"));
  }
  ASSIGN_OR_RETURN(int64_t id, client.GrantLease(ttl));
  return std::unique_ptr<LeaseKeeper>(new LeaseKeeper(client, id, ttl));
}

LeaseKeeper::~LeaseKeeper() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (renewer_.joinable()) renewer_.join();
}

absl::Status LeaseKeeper::RunOnce() {
  absl::StatusOr<absl::Duration> left = client_.KeepAliveOnce(id_);
  if (left.status().code() == absl::StatusCode::kNotFound) {
    absl::MutexLock lock(&mu_);
    lost_ = true;
  }
  return left.status();
}

void LeaseKeeper::StartRenewing() {
  renewer_ = std::thread([this] { RenewLoop(); });
}

void LeaseKeeper::RenewLoop() {
  Clock& clock = client_.clock();
  while (true) {
    const absl::Status renewed = RunOnce();
    const MonotonicTime next = clock.MonotonicNow() + (renewed.ok() ? ttl_ / 3 : ttl_ / 10);
    absl::MutexLock lock(&mu_);
    if (lost_) return;
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
    if (clock.AwaitWithDeadline(&mu_, absl::Condition(&stopping), next)) return;
  }
}

bool LeaseKeeper::lost() {
  absl::MutexLock lock(&mu_);
  return lost_;
}

absl::Status LeaseKeeper::Revoke() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (renewer_.joinable() && renewer_.get_id() != std::this_thread::get_id()) renewer_.join();
  RETURN_IF_ERROR(client_.RevokeLease(id_));
  absl::MutexLock lock(&mu_);
  lost_ = true;
  return absl::OkStatus();
}

}  // namespace tributary::etcd
