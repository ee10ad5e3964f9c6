#include "poller/runtime/outcome_log.h"

#include "glog/logging.h"

namespace tributary::poller {

bool OutcomeLog::Record(const std::string& subject, const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    auto it = failing_.find(subject);
    if (status.ok()) {
      if (it == failing_.end()) return false;
      failing_.erase(it);
    } else {
      if (it != failing_.end() && it->second == status) return false;
      failing_[subject] = status;
    }
  }
  // Logged outside the lock (glog takes its own).
  if (status.ok()) {
    LOG(INFO) << prefix_ << ": " << subject << ": succeeds again";
  } else {
    LOG(WARNING) << prefix_ << ": " << subject << ": " << status
                 << " (logged again only when the outcome changes)";
  }
  return true;
}

}  // namespace tributary::poller
