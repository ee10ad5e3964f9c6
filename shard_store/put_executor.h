// PutExecutor: the threads StreamsService runs PutRecords calls on, never gRPC's callback
// thread (a reaction never blocks, STYLE.md §5): a RocksDB write can stall, and with
// sync_writes it waits for an fsync; several threads let concurrent calls share one fsync
// (RocksDB's group commit).
//
// Tasks start in the order they were submitted, each on whichever thread is free; the queue
// has no bound (gRPC's own limits bound the calls in progress).
//
// Thread-safe. The destructor runs every task already submitted, then joins the threads; no
// task may be submitted once destruction has begun.
#ifndef TRIBUTARY_SHARD_STORE_PUT_EXECUTOR_H_
#define TRIBUTARY_SHARD_STORE_PUT_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tributary::shard_store {

class PutExecutor {
 public:
  // Starts max(1, threads) threads.
  explicit PutExecutor(int threads);
  ~PutExecutor();
  PutExecutor(const PutExecutor&) = delete;
  PutExecutor& operator=(const PutExecutor&) = delete;

  // Queues `task` for a put thread and returns at once (it only takes the queue's lock).
  void Submit(std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_PUT_EXECUTOR_H_
