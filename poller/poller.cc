#include "poller/poller.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "leasing/owned_digest.h"

namespace tributary::poller {
namespace {

bool MappingRunnable(const v1::EventSourceMappingConfiguration& config) {
  if (!config.enabled()) return false;
  switch (config.state()) {
    case v1::DISABLING:
    case v1::DISABLED:
    case v1::DELETING_MAPPING:
      return false;
    default:
      return true;
  }
}

// How long Shutdown waits for each lease's invocation in flight before giving up on it.
constexpr absl::Duration kReleaseTimeout = absl::Seconds(60);

// The lanes' waiter: the scheduler's compensated one when consumers run on it.
Waiter& LaneWaiter(Waiter& waiter, CompensatedWaiter* compensated) {
  return compensated != nullptr ? *compensated : waiter;
}

std::string LeaseName(const std::string& mapping_uuid, const std::string& shard_id,
                      int64_t counter) {
  return absl::StrCat("lease of mapping ", mapping_uuid, " shard ", shard_id, " (counter ", counter,
                      ")");
}

// One line for a consumer that left kRunning.
void LogEnd(const std::string& poller_id, ShardConsumer& c) {
  const std::string lease =
      LeaseName(c.shard().mapping_uuid, c.shard().shard_id, c.lease_counter());
  const std::string checkpoint = c.last_checkpoint().empty() ? "none" : c.last_checkpoint();
  switch (c.state()) {
    case ShardConsumer::State::kLost:
      LOG(WARNING) << "poller " << poller_id << ": lost the " << lease << ": "
                   << (c.end_reason().empty() ? "no reason given" : c.end_reason())
                   << "; stopped at once (last checkpoint " << checkpoint << ")";
      break;
    case ShardConsumer::State::kReleased:
      LOG(INFO) << "poller " << poller_id << ": gave back the " << lease << ": "
                << (c.end_reason().empty() ? "no reason given" : c.end_reason()) << " (checkpoint "
                << checkpoint << ")";
      break;
    case ShardConsumer::State::kShardEnded:
      LOG(INFO) << "poller " << poller_id << ": processed the shard of the " << lease
                << " to SHARD_END and released it";
      break;
    case ShardConsumer::State::kRunning:
      break;
  }
}

}  // namespace

Poller::Poller(PollerOptions options, Clock& clock, Waiter& waiter, LeaseService& leases,
               MappingSource& mappings, ShardReader& reader, FunctionInvoker& invoker,
               FailureDestination& destination, PollerMetrics& metrics)
    : options_(std::move(options)),
      clock_(clock),
      leases_(leases),
      mappings_(mappings),
      reader_(reader),
      scheduler_(options_.run_consumers_inline
                     ? nullptr
                     : std::make_unique<Scheduler>(clock, options_.invoke_threads)),
      compensated_waiter_(scheduler_ == nullptr
                              ? nullptr
                              : std::make_unique<CompensatedWaiter>(waiter, *scheduler_)),
      slots_(leases, options_.poller_id),
      deps_(LaneDeps{clock, LaneWaiter(waiter, compensated_waiter_.get()), invoker, destination,
                     metrics, options_.backoff, options_.seed, options_.window_close_grace,
                     &slots_}),
      metrics_(metrics),
      log_(absl::StrCat("poller ", options_.poller_id)) {}

Poller::~Poller() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  if (heartbeat_loop_.joinable()) heartbeat_loop_.join();
  if (control_loop_.joinable()) control_loop_.join();
  for (auto& consumer : Consumers()) consumer->Stop();
  std::vector<std::shared_ptr<ShardConsumer>> retiring;
  {
    absl::MutexLock lock(&mu_);
    retiring.swap(retiring_);
  }
  for (auto& consumer : retiring) consumer->Stop();
}

std::vector<std::shared_ptr<ShardConsumer>> Poller::Consumers() {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<ShardConsumer>> out;
  for (auto& [key, c] : consumers_) out.push_back(c);
  return out;
}

std::vector<ShardContext> Poller::shards() {
  std::vector<ShardContext> out;
  for (auto& c : Consumers()) out.push_back(c->shard());
  return out;
}

ShardConsumer* Poller::consumer(const std::string& mapping_uuid, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  auto it = consumers_.find(leasing::LeaseKey{mapping_uuid, shard_id});
  return it == consumers_.end() ? nullptr : it->second.get();
}

absl::Status Poller::Register() {
  v1::RegisterPollerRequest request;
  request.set_poller_id(options_.poller_id);
  request.set_capacity(options_.capacity);
  const MonotonicTime now = clock_.MonotonicNow();
  ASSIGN_OR_RETURN(v1::RegisterPollerResponse response, leases_.RegisterPoller(request));
  absl::MutexLock lock(&mu_);
  registered_ = true;
  if (response.heartbeat_interval_ms() > 0) {
    heartbeat_interval_ = absl::Milliseconds(response.heartbeat_interval_ms());
  }
  if (response.lease_duration_ms() > 0) {
    lease_duration_ = absl::Milliseconds(response.lease_duration_ms());
  }
  last_good_heartbeat_ = now;  // registering counts as a heartbeat
  next_heartbeat_ = now + heartbeat_interval_;
  refresh_due_ = true;  // wakes the control pass: it acquires at once
  return absl::OkStatus();
}

void Poller::RemoveFinished() {
  std::vector<std::shared_ptr<ShardConsumer>> done;
  std::vector<std::shared_ptr<ShardConsumer>> ended;  // left kRunning since the last scan
  // Read before scanning: a consumer finishing during the scan is seen by the next one.
  const int64_t events = finished_events_.load();
  {
    absl::MutexLock lock(&mu_);
    if (events == scanned_events_ && retiring_.empty()) return;
    scanned_events_ = events;
    for (auto it = consumers_.begin(); it != consumers_.end();) {
      if (it->second->state() != ShardConsumer::State::kRunning) {
        ended.push_back(it->second);
        retiring_.push_back(it->second);
        it = consumers_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = retiring_.begin(); it != retiring_.end();) {
      if ((*it)->Quiescent()) {
        done.push_back(*it);
        it = retiring_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : ended) LogEnd(options_.poller_id, *c);
  for (auto& c : done) {
    c->Stop();  // returns at once: none of its tasks is left
    bool replaced;
    {
      absl::MutexLock lock(&mu_);
      replaced =
          consumers_.count(leasing::LeaseKey{c->shard().mapping_uuid, c->shard().shard_id}) > 0;
    }
    if (!replaced) metrics_.Remove(c->shard());
  }
}

absl::Status Poller::Heartbeat() {
  v1::HeartbeatRequest request;
  request.set_poller_id(options_.poller_id);
  const auto consumers = Consumers();
  std::vector<const ShardContext*> contexts;
  contexts.reserve(consumers.size());
  for (const auto& c : consumers) contexts.push_back(&c->shard());
  const std::vector<ShardProgress> progress = metrics_.Progress(contexts);
  bool full;
  // What this heartbeat reports: the age always, the result only when it is news (else kNone).
  std::vector<std::pair<leasing::LeaseKey, ShardProgress>> sent;
  {
    absl::MutexLock lock(&mu_);
    full = heartbeats_since_full_ == 0;
    for (size_t i = 0; i < consumers.size(); ++i) {
      leasing::LeaseKey key{consumers[i]->shard().mapping_uuid, consumers[i]->shard().shard_id};
      auto it = reported_.find(key);
      // Leasing starts a lease's age at 0 when its owner changes, and keeps the previous owner's
      // result until ours arrives (Acquire forgets the key, so our first result is news).
      const Reported known = it == reported_.end() ? Reported() : it->second;
      ShardProgress report = progress[i];
      if (!full && report.result == known.result) report.result = ProcessingResult::kNone;
      // The last error goes with a new result (its time is then fresh) and when it is another
      // error; a repeat of the same one waits for the full report to refresh its time.
      if (!full && report.result == ProcessingResult::kNone &&
          report.error.kind == known.error_kind && report.error.message == known.error_message) {
        report.error = LastError();
      }
      if (full || report.iterator_age_ms != known.iterator_age_ms ||
          report.result != ProcessingResult::kNone || report.error.kind != ErrorKind::kNone) {
        sent.emplace_back(std::move(key), report);
      }
    }
  }
  leasing::OwnedDigest digest;
  for (const auto& c : consumers) {
    digest.Add(c->shard().mapping_uuid, c->shard().shard_id, c->lease_counter());
  }
  request.set_owned_digest(digest.value());
  for (const auto& [key, report] : sent) {
    v1::HeldLeaseStatus* held = request.add_held_leases();
    held->mutable_lease_key()->set_event_source_mapping_uuid(key.mapping_uuid);
    held->mutable_lease_key()->set_shard_id(key.shard_id);
    held->set_iterator_age_ms(report.iterator_age_ms);
    if (report.result != ProcessingResult::kNone) {
      held->set_last_processing_result(ProcessingResultText(report.result));
      *held->mutable_last_processing_result_time() = ToProtoTimestamp(report.result_time);
    }
    if (report.error.kind != ErrorKind::kNone) {
      held->set_last_error_kind(ErrorKindName(report.error.kind));
      held->set_last_error_message(report.error.message);
      *held->mutable_last_error_time() = ToProtoTimestamp(report.error.time);
    }
  }
  // Leases are renewed when leasing handles the call, at or after `now`: measuring their expiry
  // from here errs on the safe side.
  const MonotonicTime now = clock_.MonotonicNow();
  int64_t acquires_before;
  {
    absl::MutexLock lock(&mu_);
    acquires_before = acquires_started_;
  }
  absl::StatusOr<v1::HeartbeatResponse> response = leases_.Heartbeat(request);
  if (!response.ok()) {
    bool expired;
    {
      absl::MutexLock lock(&mu_);
      next_heartbeat_ = now + heartbeat_interval_;
      expired = now >= last_good_heartbeat_ + lease_duration_;
    }
    if (expired) {
      const std::string reason = absl::StrCat(
          "no heartbeat succeeded for the lease duration (last: ", response.status().ToString(),
          ")");
      for (const auto& c : consumers) c->Lose(reason);
    }
    if (response.status().code() == absl::StatusCode::kNotFound) {
      absl::MutexLock lock(&mu_);
      registered_ = false;  // leasing forgot us: register again
    }
    return WithContext(response.status(), "heartbeat");
  }
  {
    absl::MutexLock lock(&mu_);
    last_good_heartbeat_ = now;
    next_heartbeat_ = now + heartbeat_interval_;
    heartbeats_since_full_ =
        (heartbeats_since_full_ + 1) % std::max(1, options_.full_progress_every);
    if (full) reported_.clear();  // forget leases no longer held
    for (const auto& [key, report] : sent) {
      Reported& known = reported_[key];
      known.iterator_age_ms = report.iterator_age_ms;
      if (report.result != ProcessingResult::kNone) known.result = report.result;
      if (report.error.kind != ErrorKind::kNone) {
        known.error_kind = report.error.kind;
        known.error_message = report.error.message;
      }
    }
  }
  // Unchanged: leasing's (key, counter) pairs for us are exactly our consumers' — nothing lost,
  // nothing orphaned — and only leases_to_release below is news.
  std::map<leasing::LeaseKey, int64_t> owned;
  if (response->owned_unchanged()) {
    for (const auto& c : consumers) {
      owned[leasing::LeaseKey{c->shard().mapping_uuid, c->shard().shard_id}] = c->lease_counter();
    }
  }
  for (const v1::HeldLease& h : response->owned_leases()) {
    owned[leasing::LeaseKey{h.lease_key().event_source_mapping_uuid(), h.lease_key().shard_id()}] =
        h.lease_counter();
  }
  std::set<leasing::LeaseKey> worked_on;
  for (const auto& c : consumers) {
    const leasing::LeaseKey key{c->shard().mapping_uuid, c->shard().shard_id};
    worked_on.insert(key);
    auto it = owned.find(key);
    if (it == owned.end()) {
      c->Lose("the heartbeat reply does not list it as ours (another poller took it over)");
    } else if (it->second != c->lease_counter()) {
      c->Lose(absl::StrCat("the heartbeat reply lists it with counter ", it->second));
    }
  }
  bool acquire_overlapped;
  {
    absl::MutexLock lock(&mu_);
    acquire_overlapped = acquires_in_progress_ > 0 || acquires_started_ != acquires_before;
    // A consumer started since the snapshot works on its lease too.
    for (const auto& [key, c] : consumers_) worked_on.insert(key);
  }
  // A lease listed as ours that no consumer here works on would stay owned and idle for as long
  // as we heartbeat, since AcquireLeases never returns a lease its caller already owns. That
  // happens when our consumers stopped because heartbeats failed for the lease duration while
  // leasing kept our leases (its restart grace), or when an AcquireLeases reply was lost. Give
  // such a lease back; the next Acquire takes it again under a new counter, from its checkpoint.
  // An AcquireLeases that overlapped this heartbeat may have granted a lease whose consumer is
  // not started yet: orphans are then left to the next heartbeat.
  for (const auto& [key, counter] : owned) {
    if (acquire_overlapped || worked_on.count(key) > 0) continue;
    LOG(INFO) << "poller " << options_.poller_id << ": giving back the "
              << LeaseName(key.mapping_uuid, key.shard_id, counter)
              << ": leasing lists it as ours but nothing here works on it";
    // On failure the lease stays orphaned until the next heartbeat tries again.
    ReleaseIdle(key.mapping_uuid, key.shard_id, counter);
  }
  for (const v1::LeaseKey& k : response->leases_to_release()) {
    if (ShardConsumer* c = consumer(k.event_source_mapping_uuid(), k.shard_id())) {
      c->RequestRelease(true, "leasing asked for it back (balance, or no longer assignable)");
    }
  }

  absl::MutexLock lock(&mu_);
  refresh_due_ = true;
  return absl::OkStatus();
}

void Poller::RefreshConfigs() {
  const auto consumers = Consumers();
  std::set<std::string> in_use;
  for (const auto& c : consumers) in_use.insert(c->shard().mapping_uuid);
  {
    // A mapping no longer worked on may change before its next lease arrives: forget it.
    absl::MutexLock lock(&mu_);
    for (auto it = configs_.begin(); it != configs_.end();) {
      it = in_use.count(it->first) > 0 ? std::next(it) : configs_.erase(it);
    }
  }
  for (const std::string& uuid : in_use) {
    absl::StatusOr<v1::EventSourceMappingConfiguration> config = mappings_.GetMapping(uuid);
    // A failed fetch keeps the cached configuration; logged once per change of outcome.
    log_.Record(absl::StrCat("fetching the configuration of mapping ", uuid),
                absl::IsNotFound(config.status()) ? absl::OkStatus() : config.status());
    if (!config.ok() && config.status().code() != absl::StatusCode::kNotFound) continue;
    int64_t cached_version = -1;
    {
      absl::MutexLock lock(&mu_);
      auto it = configs_.find(uuid);
      if (it != configs_.end()) cached_version = it->second.config_version();
      if (config.ok()) {
        configs_[uuid] = *config;
      } else {
        configs_.erase(uuid);
      }
    }
    for (const auto& c : consumers) {
      if (c->shard().mapping_uuid != uuid) continue;
      if (!config.ok()) {
        c->Lose("its mapping was deleted");  // stop at once
      } else if (!MappingRunnable(*config)) {
        c->RequestRelease(true, "its mapping is disabled");
      } else if (config->config_version() != cached_version) {
        c->UpdateConfig(*config);
      }
    }
  }
}

absl::StatusOr<v1::EventSourceMappingConfiguration> Poller::ConfigForNewLease(
    const std::string& uuid) {
  {
    absl::MutexLock lock(&mu_);
    auto it = configs_.find(uuid);
    // Not runnable when cached, perhaps enabled since: ask again.
    if (it != configs_.end() && MappingRunnable(it->second)) return it->second;
  }
  absl::StatusOr<v1::EventSourceMappingConfiguration> fetched = mappings_.GetMapping(uuid);
  log_.Record(absl::StrCat("fetching the configuration of mapping ", uuid),
              absl::IsNotFound(fetched.status()) ? absl::OkStatus() : fetched.status());
  absl::MutexLock lock(&mu_);
  if (fetched.ok()) {
    configs_[uuid] = *fetched;
  } else if (fetched.status().code() == absl::StatusCode::kNotFound) {
    configs_.erase(uuid);
  }
  return fetched;
}

absl::Status Poller::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!registered_ || static_cast<int>(consumers_.size()) >= options_.capacity) {
      return absl::OkStatus();
    }
    ++acquires_in_progress_;
    ++acquires_started_;
  }
  struct EndOnReturn {
    Poller* poller;
    ~EndOnReturn() {
      absl::MutexLock lock(&poller->mu_);
      --poller->acquires_in_progress_;
    }
  } end{this};
  v1::AcquireLeasesRequest request;
  request.set_poller_id(options_.poller_id);
  ASSIGN_OR_RETURN(v1::AcquireLeasesResponse response, leases_.AcquireLeases(request));
  for (const v1::Lease& lease : response.leases()) {
    const std::string& uuid = lease.event_source_mapping_uuid();
    absl::StatusOr<v1::EventSourceMappingConfiguration> config = ConfigForNewLease(uuid);
    // Unknown for now, deleted, or not runnable: give the lease back so that it is not held
    // idle (it would expire otherwise).
    if (!config.ok() || !MappingRunnable(*config)) {
      LOG(INFO) << "poller " << options_.poller_id << ": giving back the "
                << LeaseName(uuid, lease.shard_id(), lease.lease_counter())
                << " at once: its mapping "
                << (config.ok() ? "is not enabled"
                                : absl::IsNotFound(config.status()) ? "does not exist"
                                                                    : "could not be fetched");
      ReleaseIdle(uuid, lease.shard_id(), lease.lease_counter());
      continue;
    }
    ShardConsumerOptions consumer_options;
    consumer_options.poller_id = options_.poller_id;
    consumer_options.checkpoint_interval = options_.checkpoint_interval;
    consumer_options.finished_counter = &finished_events_;
    consumer_options.read_budget = options_.read_budget;
    LaneDeps deps = deps_;
    std::shared_ptr<ShardConsumer> consumer;
    {
      absl::MutexLock lock(&mu_);
      deps.seed = options_.seed * 1000003 + consumers_started_++;
    }
    consumer =
        std::make_shared<ShardConsumer>(lease, *config, consumer_options, reader_, leases_, deps);
    if (scheduler_ != nullptr) consumer->Start(*scheduler_);
    LOG(INFO) << "poller " << options_.poller_id << ": acquired the "
              << LeaseName(uuid, lease.shard_id(), lease.lease_counter()) << " from checkpoint "
              << (lease.checkpoint().type() == v1::SEQUENCE_NUMBER
                      ? lease.checkpoint().sequence_number()
                      : v1::CheckpointType_Name(lease.checkpoint().type()));
    absl::MutexLock lock(&mu_);
    // A new owner's age starts at 0 in leasing, and our results are not reported yet.
    reported_.erase(leasing::LeaseKey{uuid, lease.shard_id()});
    auto& slot = consumers_[leasing::LeaseKey{uuid, lease.shard_id()}];
    if (slot != nullptr) {
      // A stale consumer of the same lease: superseded.
      slot->Lose(absl::StrCat("superseded by a new grant with counter ", lease.lease_counter()));
      LogEnd(options_.poller_id, *slot);
      retiring_.push_back(slot);
    }
    slot = consumer;
    // Finished before it was listed here: make sure the next RemoveFinished scans.
    if (consumer->state() != ShardConsumer::State::kRunning) finished_events_.fetch_add(1);
  }
  return absl::OkStatus();
}

absl::Status Poller::HeartbeatOnce() {
  bool registered, heartbeat_due;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::FailedPreconditionError("poller shut down");
    registered = registered_;
  }
  if (!registered) {
    absl::Status status = Register();
    if (!status.ok()) {
      // Retried on the next pass, a second from now (not at once: a loop on a leasing address
      // that refuses connections would otherwise spin).
      absl::MutexLock lock(&mu_);
      next_heartbeat_ = clock_.MonotonicNow() + absl::Seconds(1);
      return WithContext(status, "registering poller");
    }
  }
  RemoveFinished();  // so that the heartbeat's digest covers only the leases worked on
  {
    absl::MutexLock lock(&mu_);
    heartbeat_due = clock_.MonotonicNow() >= next_heartbeat_;
  }
  if (!heartbeat_due) return absl::OkStatus();
  return Heartbeat();
}

absl::Status Poller::ControlOnce() {
  bool refresh;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::FailedPreconditionError("poller shut down");
    refresh = refresh_due_;
    refresh_due_ = false;
  }
  RemoveFinished();
  if (refresh) {
    RefreshConfigs();
    RemoveFinished();
  }
  absl::Status status = WithContext(Acquire(), "acquiring leases");
  if (options_.run_consumers_inline) {
    for (auto& c : Consumers()) c->RunOnce();
    RemoveFinished();
  }
  return status;
}

absl::Status Poller::RunOnce() {
  absl::Status status = HeartbeatOnce();
  absl::Status control = ControlOnce();
  return status.ok() ? control : status;
}

void Poller::ReleaseIdle(const std::string& mapping_uuid, const std::string& shard_id,
                         int64_t counter) {
  v1::ReleaseLeaseRequest release;
  release.mutable_lease_key()->set_event_source_mapping_uuid(mapping_uuid);
  release.mutable_lease_key()->set_shard_id(shard_id);
  release.set_poller_id(options_.poller_id);
  release.set_lease_counter(counter);
  log_.Record("releasing leases nobody here works on", leases_.ReleaseLease(release).status());
}

void Poller::Start() {
  heartbeat_loop_ = std::thread([this] {
    while (true) {
      // Retried on the next pass; this loop is the boundary where the error is logged.
      log_.Record("heartbeat", HeartbeatOnce());
      absl::MutexLock lock(&mu_);
      const MonotonicTime wake =
          std::min(next_heartbeat_, clock_.MonotonicNow() + absl::Seconds(1));
      if (clock_.AwaitWithDeadline(&mu_, absl::Condition(&shutting_down_), wake)) return;
    }
  });
  control_loop_ = std::thread([this] {
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return shutting_down_ || refresh_due_;
    };
    while (true) {
      log_.Record("control pass", ControlOnce());  // retried on the next pass
      absl::MutexLock lock(&mu_);
      clock_.AwaitWithDeadline(&mu_, absl::Condition(&wake),
                               clock_.MonotonicNow() + absl::Seconds(1));
      if (shutting_down_) return;
    }
  });
}

void Poller::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shutting_down_ = true;
  }
  if (heartbeat_loop_.joinable()) heartbeat_loop_.join();
  if (control_loop_.joinable()) control_loop_.join();
  const auto consumers = Consumers();
  // DeregisterPoller below gives every lease back in one call; each consumer only checkpoints.
  for (auto& c : consumers) c->RequestRelease(/*release_lease=*/false);
  for (auto& c : consumers) {
    if (options_.run_consumers_inline) {
      c->RunOnce();
    } else {
      c->AwaitFinished(clock_.MonotonicNow() + kReleaseTimeout);
    }
    c->Stop();
  }
  v1::DeregisterPollerRequest request;
  request.set_poller_id(options_.poller_id);
  // Deregistering releases whatever is still held; if it fails the leases expire.
  const absl::Status deregistered = leases_.DeregisterPoller(request).status();
  if (deregistered.ok()) {
    LOG(INFO) << "poller " << options_.poller_id << ": shut down: " << consumers.size()
              << " lease(s) checkpointed and given back";
  } else {
    LOG(WARNING) << "poller " << options_.poller_id << ": shut down: " << consumers.size()
                 << " lease(s) checkpointed; deregistering failed (" << deregistered
                 << "), so they move on only once they expire";
  }
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  consumers_.clear();
}

}  // namespace tributary::poller
