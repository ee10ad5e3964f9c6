#include "etcd/election.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tributary::etcd {

absl::StatusOr<std::unique_ptr<Election>> Election::Create(EtcdClient& client,
                                                            ElectionOptions options,
                                                            OnChange on_change) {
  if (options.key.empty() || options.value.empty()) {
    return absl::InvalidArgumentError("an election needs a key and a value");
  }
  if (options.ttl < absl::Seconds(2) || absl::Trunc(options.ttl, absl::Seconds(1)) != options.ttl) {
    return absl::InvalidArgumentError(absl::StrCat("election ttl ", absl::FormatDuration(options.ttl),
                                                   " must be whole seconds, at least 2 s"));
  }
  return std::unique_ptr<Election>(
      new Election(client, std::move(options), std::move(on_change)));
}

Election::~Election() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Stop the work first, then let the others in.
  SetLeading(false, MonotonicTime());
  if (lease_ != 0) client_.RevokeLease(lease_).IgnoreError();  // deletes the key if ours
}

bool Election::leading() {
  absl::MutexLock lock(&mu_);
  return leading_ && client_.clock().MonotonicNow() < valid_until_;
}

void Election::SetLeading(bool leading, MonotonicTime valid_until) {
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    changed = leading_ != leading;
    leading_ = leading;
    valid_until_ = valid_until;
  }
  if (changed && on_change_) on_change_(leading);
}

absl::Status Election::RunOnce() {
  bool was_leading;
  MonotonicTime valid_until;
  {
    absl::MutexLock lock(&mu_);
    was_leading = leading_;
    valid_until = valid_until_;
  }
  if (was_leading && valid_until <= client_.clock().MonotonicNow()) {
    // No renewal accepted for a whole ttl: etcd may have expired the key by now.
    SetLeading(false, MonotonicTime());
    was_leading = false;
  }
  return was_leading ? Renew() : Campaign();
}

absl::Status Election::Campaign() {
  if (lease_ == 0) {
    ASSIGN_OR_RETURN(lease_, client_.GrantLease(options_.ttl));
  }
  Txn txn;
  txn.compares.push_back(Compare::CreateRevision(options_.key, Compare::kEqual, 0));
  txn.success.push_back(Op::Put(options_.key, options_.value, lease_));
  txn.failure.push_back(Op::Get(options_.key));
  // Tried once: after a lost answer the next campaign finds the key on our lease.
  absl::StatusOr<TxnResult> result = client_.Commit(txn);
  if (absl::IsNotFound(result.status())) lease_ = 0;  // our lease expired: a new one next time
  RETURN_IF_ERROR(result.status());
  const bool ours = result->succeeded ||
                    (!result->responses.empty() && result->responses[0].kvs.size() == 1 &&
                     result->responses[0].kvs[0].lease == lease_);
  if (!ours) return absl::OkStatus();
  // Count the validity from a renewal sent from now on (the lease may be older than this win).
  return Renew();
}

absl::Status Election::Renew() {
  const MonotonicTime sent = client_.clock().MonotonicNow();
  absl::StatusOr<absl::Duration> left = client_.KeepAliveOnce(lease_);
  if (absl::IsNotFound(left.status())) {
    lease_ = 0;
    SetLeading(false, MonotonicTime());
    return WithContext(left.status(), "election ", options_.key, ": lease lost");
  }
  RETURN_IF_ERROR(left.status());  // still leading until the validity runs out
  // The lease lives; is the key still on it (not deleted by hand, say)?
  ASSIGN_OR_RETURN(std::optional<KeyValue> kv, client_.Get(options_.key));
  if (!kv.has_value() || kv->lease != lease_) {
    SetLeading(false, MonotonicTime());
    return absl::AbortedError(
        absl::StrCat("election ", options_.key, ": the key is no longer on this candidate's lease"));
  }
  SetLeading(true, sent + std::min(*left, options_.ttl));
  return absl::OkStatus();
}

void Election::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Election::Loop() {
  Clock& clock = client_.clock();
  auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  while (true) {
    RunOnce().IgnoreError();  // the state says what came of it; the next step retries
    absl::MutexLock lock(&mu_);
    const MonotonicTime now = clock.MonotonicNow();
    const MonotonicTime next = leading_ ? std::min(now + options_.ttl / 3, valid_until_)
                                        : now + options_.ttl / 4;
    if (clock.AwaitWithDeadline(&mu_, absl::Condition(&stopping), next)) return;
  }
}

}  // namespace tributary::etcd
