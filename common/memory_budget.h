// MemoryBudget: a process-wide count of the bytes that requests in flight hold (put payloads
// waiting for or in a write, read responses being built, the AWS front door's request bodies),
// with a limit (`--memory_budget_mb`). A request reserves its bytes before it is queued or its
// reply is built; a reservation that would pass the limit is refused (the caller answers
// RESOURCE_EXHAUSTED at once), so the accounted bytes never exceed the limit, however hard the
// process is pushed.
//
// It counts what the code reserves, not the allocator's resident set: the limit is meant to sit
// below the process's budget by what the rest of the process holds (RocksDB's block cache and
// memtables, gRPC's buffers, the leases). One object per process, made by the main and handed
// to every server that admits requests.
//
// Thread-safe, lock-free (one atomic). A limit of 0 means no limit (everything is admitted and
// still counted, for metrics and tests).
#ifndef TRIBUTARY_COMMON_MEMORY_BUDGET_H_
#define TRIBUTARY_COMMON_MEMORY_BUDGET_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>

namespace tributary {

class MemoryBudget {
 public:
  // `limit_bytes` ≤ 0: no limit.
  explicit MemoryBudget(int64_t limit_bytes) : limit_(std::max<int64_t>(0, limit_bytes)) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Reserves `bytes` (≥ 0) and returns true, or, when the reserved total would pass the limit,
  // reserves nothing and returns false. Each true must be matched by Release(bytes).
  bool TryReserve(int64_t bytes) {
    int64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (limit_ > 0 && used + bytes > limit_) {
        refusals_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    int64_t peak = peak_.load(std::memory_order_relaxed);
    while (used + bytes > peak &&
           !peak_.compare_exchange_weak(peak, used + bytes, std::memory_order_relaxed)) {
    }
    return true;
  }
  // Reserves as much as is free up to `max_bytes`, if that is at least `min_bytes`, and returns
  // it; else reserves nothing and returns 0 (a read that can shrink to what the budget allows).
  int64_t TryReserveUpTo(int64_t min_bytes, int64_t max_bytes) {
    if (limit_ == 0) return TryReserve(max_bytes) ? max_bytes : 0;
    int64_t used = used_.load(std::memory_order_relaxed);
    int64_t take;
    do {
      take = std::min(max_bytes, limit_ - used);
      if (take < min_bytes) {
        refusals_.fetch_add(1, std::memory_order_relaxed);
        return 0;
      }
    } while (!used_.compare_exchange_weak(used, used + take, std::memory_order_relaxed));
    int64_t peak = peak_.load(std::memory_order_relaxed);
    while (used + take > peak &&
           !peak_.compare_exchange_weak(peak, used + take, std::memory_order_relaxed)) {
    }
    return take;
  }
  // Gives back `bytes` of an earlier TryReserve.
  void Release(int64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  // The limit in bytes (0: none), what is reserved now, the most ever reserved at once, and
  // how many reservations were refused.
  int64_t limit() const { return limit_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  int64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

  // A reservation released on destruction (movable). Empty when default-made or refused.
  class Reservation {
   public:
    Reservation() = default;
    // Tries to reserve `bytes` of `budget` (which may be null: nothing is accounted and the
    // reservation succeeds). ok() says whether it did.
    Reservation(MemoryBudget* budget, int64_t bytes) {
      if (budget == nullptr) {
        ok_ = true;
      } else if (budget->TryReserve(bytes)) {
        budget_ = budget;
        bytes_ = bytes;
        ok_ = true;
      }
    }
    // Reserves what TryReserveUpTo(min_bytes, max_bytes) grants; ok() when it granted any.
    static Reservation UpTo(MemoryBudget* budget, int64_t min_bytes, int64_t max_bytes) {
      Reservation r;
      if (budget == nullptr) {
        r.ok_ = true;
        r.bytes_ = max_bytes;
      } else if (int64_t got = budget->TryReserveUpTo(min_bytes, max_bytes); got > 0) {
        r.budget_ = budget;
        r.bytes_ = got;
        r.ok_ = true;
      }
      return r;
    }
    Reservation(Reservation&& other) noexcept { *this = std::move(other); }
    Reservation& operator=(Reservation&& other) noexcept {
      if (this != &other) {
        Reset();
        budget_ = std::exchange(other.budget_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
        ok_ = std::exchange(other.ok_, false);
      }
      return *this;
    }
    ~Reservation() { Reset(); }

    bool ok() const { return ok_; }
    int64_t bytes() const { return bytes_; }
    // Gives back all but `keep` bytes (a read that needed less than it reserved).
    void ShrinkTo(int64_t keep) {
      if (budget_ != nullptr && keep < bytes_) {
        budget_->Release(bytes_ - keep);
        bytes_ = keep;
      }
    }
    void Reset() {
      if (budget_ != nullptr) budget_->Release(bytes_);
      budget_ = nullptr;
      bytes_ = 0;
      ok_ = false;
    }

   private:
    MemoryBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
    bool ok_ = false;
  };

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> refusals_{0};
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_MEMORY_BUDGET_H_
