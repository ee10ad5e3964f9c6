// leasing_server: the tributary.v1.Leasing service on its own (flags and wiring only).
//
//   leasing_server --data_dir=/var/lib/tributary/leasing [--listen=127.0.0.1:4562]
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/server_main.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_service.h"

DEFINE_string(listen, "127.0.0.1:4562", "host:port to serve tributary.v1.Leasing on (port 0: any)");
DEFINE_string(data_dir, "", "Directory of the lease table's RocksDB database (required)");
DEFINE_int64(lease_duration_ms, 10000,
             "A lease whose owner has not heartbeated for this long is expired");
DEFINE_int64(forget_poller_after_ms, 3600000,
             "A poller silent this long is forgotten and its leases released (>= lease duration)");
DEFINE_int64(min_hold_ms, 30000,
             "A lease granted to a poller is not asked back for balance "
             "before this long");
DEFINE_bool(sync_writes, false,
            "fsync every write except heartbeats (power-loss durability); without it writes "
            "survive a process crash through the WAL");

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv,
                            "Serves the Tributary lease table (tributary.v1.Leasing)");
  if (absl::Status s =
          tributary::CheckAddressFlags({{"listen", FLAGS_listen, tributary::AddressUse::kListen}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (FLAGS_data_dir.empty()) {
    LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  tributary::leasing::LeaseTableOptions options;
  options.lease_duration = absl::Milliseconds(FLAGS_lease_duration_ms);
  options.min_hold = absl::Milliseconds(FLAGS_min_hold_ms);
  options.forget_poller_after = absl::Milliseconds(FLAGS_forget_poller_after_ms);
  options.sync_writes = FLAGS_sync_writes;
  auto stack = tributary::leasing::LeasingStack::Create(tributary::RealClock::Get(), FLAGS_data_dir,
                                                        options);
  if (!stack.ok()) {
    LOG(ERROR) << "opening the lease table: " << stack.status();
    return 1;
  }
  auto server = tributary::GrpcServer::Start(FLAGS_listen, {&(*stack)->service()});
  if (!server.ok()) {
    LOG(ERROR) << "starting the server: " << server.status();
    return 1;
  }
  absl::Status written = tributary::WritePortFile((*server)->port());
  if (!written.ok()) {
    LOG(ERROR) << written;
    return 1;
  }
  LOG(INFO) << "leasing_server serving on " << (*server)->address() << ", data in "
            << FLAGS_data_dir;
  const int signal = tributary::WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal << ": shutting down";
  (*server)->Shutdown();
  return 0;
}
