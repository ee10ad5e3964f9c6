// An etcd KV stub that wraps the real one and loses chosen Txn answers, for tests of what a
// client does when it cannot know whether its write was applied. Faults are counted over Txn
// calls from now (1 = the next Txn):
//   - LoseNthTxnAnswer(n): the n-th Txn reaches etcd and is applied (or not, by its compares),
//     but its caller gets DEADLINE_EXCEEDED, as when the deadline passes while the write is in
//     flight, or the member dies after committing;
//   - DropNthTxn(n): the n-th Txn never reaches etcd; its caller gets UNAVAILABLE.
// `before_fault` (optional) runs just before a faulty Txn is forwarded or dropped: a test's hook
// to let another writer act in between. LoseEveryTxnAnswer() / DropEveryTxn() do the same to
// every Txn until Heal(). Everything else is forwarded. Thread-safe.
#ifndef TRIBUTARY_ETCD_TESTING_FAULTY_KV_H_
#define TRIBUTARY_ETCD_TESTING_FAULTY_KV_H_

#include <functional>
#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace tributary::etcd::testing {

class FaultyKv : public etcdserverpb::KV::StubInterface {
 public:
  explicit FaultyKv(std::unique_ptr<etcdserverpb::KV::StubInterface> base)
      : base_(std::move(base)) {}

  void LoseNthTxnAnswer(int n, std::function<void()> before_fault = nullptr) {
    Arm(n, Fault::kLoseAnswer, std::move(before_fault));
  }
  void DropNthTxn(int n, std::function<void()> before_fault = nullptr) {
    Arm(n, Fault::kDrop, std::move(before_fault));
  }
  void LoseEveryTxnAnswer() { ArmEvery(Fault::kLoseAnswer); }
  void DropEveryTxn() { ArmEvery(Fault::kDrop); }
  void Heal() {
    absl::MutexLock lock(&mu_);
    countdown_ = 0;
    every_ = false;
  }
  // Txn calls seen (forwarded or not).
  int txns() {
    absl::MutexLock lock(&mu_);
    return txns_;
  }

  grpc::Status Txn(grpc::ClientContext* context, const etcdserverpb::TxnRequest& request,
                   etcdserverpb::TxnResponse* response) override {
    Fault fault = Fault::kNone;
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      ++txns_;
      if (every_) {
        fault = fault_;
      } else if (countdown_ > 0 && --countdown_ == 0) {
        fault = fault_;
        hook = std::move(before_fault_);
      }
    }
    if (hook) hook();
    switch (fault) {
      case Fault::kNone:
        return base_->Txn(context, request, response);
      case Fault::kDrop:
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected: Txn dropped");
      case Fault::kLoseAnswer: {
        etcdserverpb::TxnResponse lost;
        (void)base_->Txn(context, request, &lost);
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "injected: Txn answer lost");
      }
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "unreachable");
  }

  grpc::Status Range(grpc::ClientContext* context, const etcdserverpb::RangeRequest& request,
                     etcdserverpb::RangeResponse* response) override {
    return base_->Range(context, request, response);
  }
  grpc::Status Put(grpc::ClientContext* context, const etcdserverpb::PutRequest& request,
                   etcdserverpb::PutResponse* response) override {
    return base_->Put(context, request, response);
  }
  grpc::Status DeleteRange(grpc::ClientContext* context,
                           const etcdserverpb::DeleteRangeRequest& request,
                           etcdserverpb::DeleteRangeResponse* response) override {
    return base_->DeleteRange(context, request, response);
  }
  grpc::Status Compact(grpc::ClientContext* context,
                       const etcdserverpb::CompactionRequest& request,
                       etcdserverpb::CompactionResponse* response) override {
    return base_->Compact(context, request, response);
  }

 private:
  enum class Fault { kNone, kLoseAnswer, kDrop };

  void ArmEvery(Fault fault) {
    absl::MutexLock lock(&mu_);
    every_ = true;
    fault_ = fault;
  }
  void Arm(int n, Fault fault, std::function<void()> before_fault) {
    absl::MutexLock lock(&mu_);
    every_ = false;
    countdown_ = n;
    fault_ = fault;
    before_fault_ = std::move(before_fault);
  }

  // The asynchronous API (unused by EtcdClient) is forwarded as is.
  using RangeReader = grpc::ClientAsyncResponseReaderInterface<etcdserverpb::RangeResponse>;
  using PutReader = grpc::ClientAsyncResponseReaderInterface<etcdserverpb::PutResponse>;
  using DeleteReader = grpc::ClientAsyncResponseReaderInterface<etcdserverpb::DeleteRangeResponse>;
  using TxnReader = grpc::ClientAsyncResponseReaderInterface<etcdserverpb::TxnResponse>;
  using CompactReader = grpc::ClientAsyncResponseReaderInterface<etcdserverpb::CompactionResponse>;
  RangeReader* AsyncRangeRaw(grpc::ClientContext* c, const etcdserverpb::RangeRequest& r,
                             grpc::CompletionQueue* cq) override {
    return base_->AsyncRange(c, r, cq).release();
  }
  RangeReader* PrepareAsyncRangeRaw(grpc::ClientContext* c, const etcdserverpb::RangeRequest& r,
                                    grpc::CompletionQueue* cq) override {
    return base_->PrepareAsyncRange(c, r, cq).release();
  }
  PutReader* AsyncPutRaw(grpc::ClientContext* c, const etcdserverpb::PutRequest& r,
                         grpc::CompletionQueue* cq) override {
    return base_->AsyncPut(c, r, cq).release();
  }
  PutReader* PrepareAsyncPutRaw(grpc::ClientContext* c, const etcdserverpb::PutRequest& r,
                                grpc::CompletionQueue* cq) override {
    return base_->PrepareAsyncPut(c, r, cq).release();
  }
  DeleteReader* AsyncDeleteRangeRaw(grpc::ClientContext* c,
                                    const etcdserverpb::DeleteRangeRequest& r,
                                    grpc::CompletionQueue* cq) override {
    return base_->AsyncDeleteRange(c, r, cq).release();
  }
  DeleteReader* PrepareAsyncDeleteRangeRaw(grpc::ClientContext* c,
                                           const etcdserverpb::DeleteRangeRequest& r,
                                           grpc::CompletionQueue* cq) override {
    return base_->PrepareAsyncDeleteRange(c, r, cq).release();
  }
  TxnReader* AsyncTxnRaw(grpc::ClientContext* c, const etcdserverpb::TxnRequest& r,
                         grpc::CompletionQueue* cq) override {
    return base_->AsyncTxn(c, r, cq).release();
  }
  TxnReader* PrepareAsyncTxnRaw(grpc::ClientContext* c, const etcdserverpb::TxnRequest& r,
                                grpc::CompletionQueue* cq) override {
    return base_->PrepareAsyncTxn(c, r, cq).release();
  }
  CompactReader* AsyncCompactRaw(grpc::ClientContext* c,
                                 const etcdserverpb::CompactionRequest& r,
                                 grpc::CompletionQueue* cq) override {
    return base_->AsyncCompact(c, r, cq).release();
  }
  CompactReader* PrepareAsyncCompactRaw(grpc::ClientContext* c,
                                        const etcdserverpb::CompactionRequest& r,
                                        grpc::CompletionQueue* cq) override {
    return base_->PrepareAsyncCompact(c, r, cq).release();
  }

  std::unique_ptr<etcdserverpb::KV::StubInterface> base_;
  absl::Mutex mu_;
  int countdown_ ABSL_GUARDED_BY(mu_) = 0;
  bool every_ ABSL_GUARDED_BY(mu_) = false;
  Fault fault_ ABSL_GUARDED_BY(mu_) = Fault::kNone;
  std::function<void()> before_fault_ ABSL_GUARDED_BY(mu_);
  int txns_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::etcd::testing

#endif  // TRIBUTARY_ETCD_TESTING_FAULTY_KV_H_
