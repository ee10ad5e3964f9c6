// The Leasing service running in this process, on 127.0.0.1 (a free port), over a fresh data
// directory under $TEST_TMPDIR, with the lease table on the caller's clock (a FakeClock in
// tests), and a LeasingClient dialled to it. For any folder's tests that need a real Leasing
// endpoint: the stream tracker's and the poller's.
//
//   FakeClock clock;
//   auto leasing = InProcessLeasing::Start(clock);
//   ASSERT_TRUE(leasing.ok());
//   (*leasing)->client().RegisterPoller(...);
//   clock.Advance(absl::Seconds(11));  // every lease of a silent poller expires
//
// Thread-safe as its parts are. `clock` must outlive it.
#ifndef TRIBUTARY_LEASING_TESTING_IN_PROCESS_LEASING_H_
#define TRIBUTARY_LEASING_TESTING_IN_PROCESS_LEASING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_client.h"
#include "leasing/leasing_service.h"

namespace tributary::leasing::testing {

class InProcessLeasing {
 public:
  // Starts the service. Errors: those of LeasingStack::Create and GrpcServer::Start.
  static absl::StatusOr<std::unique_ptr<InProcessLeasing>> Start(
      Clock& clock, const LeaseTableOptions& options = LeaseTableOptions());

  ~InProcessLeasing();

  // Stops the server, closes the table and store, reopens them over the same directory and
  // serves again on the same port, as a restarted leasing server would (the restart grace of
  // lease_table.h applies). The client reconnects by itself; calls made during the restart fail
  // with UNAVAILABLE. Errors: those of Start (UNAVAILABLE if the port was taken meanwhile).
  absl::Status Restart();

  LeasingClient& client() { return *client_; }
  // The table behind the service, for asserting on state directly.
  LeaseTable& table() { return stack_->table(); }
  // "127.0.0.1:port", for clients of one's own.
  const std::string& address() const { return server_->address(); }
  const std::string& data_dir() const { return data_dir_; }

 private:
  InProcessLeasing() = default;

  Clock* clock_ = nullptr;
  LeaseTableOptions options_;
  std::string data_dir_;
  std::unique_ptr<LeasingStack> stack_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<LeasingClient> client_;
};

}  // namespace tributary::leasing::testing

#endif  // TRIBUTARY_LEASING_TESTING_IN_PROCESS_LEASING_H_
