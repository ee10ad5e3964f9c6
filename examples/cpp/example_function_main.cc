// example_function: a tributary.v1.Function server for demos and tests. It logs
// each batch, fails records whose data starts with "poison", and can simulate
// errors and slowness. See examples/README.md.
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/server_main.h"
#include "examples/cpp/example_function.h"
#include "examples/cpp/example_function_service.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(listen, "127.0.0.1:4570", "host:port to serve tributary.v1.Function on");
DEFINE_bool(report_batch_item_failures, false,
            "report poison records in batch_item_failures instead of failing the whole batch");
DEFINE_double(fail_rate, 0, "probability in [0, 1] that a batch fails (simulated errors)");
DEFINE_bool(fail_with_status, false,
            "simulated failures answer a non-OK gRPC status instead of function_error");
DEFINE_int32(latency_ms, 0, "time each invocation takes, in milliseconds");
DEFINE_string(deliveries_file, "",
              "append 'shard_id sequence_number partition_key' per delivered record");
DEFINE_uint64(seed, 1, "seed for --fail_rate");
DEFINE_string(windows_file, "",
              "append each closed tumbling window's per-key counts here "
              "(\"shard start_ms end_ms key=count,...\")");

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv, "example_function --listen=127.0.0.1:4570");
  if (absl::Status s =
          tributary::CheckAddressFlags({{"listen", FLAGS_listen, tributary::AddressUse::kListen}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  tributary::examples::ExampleFunctionOptions options;
  options.report_batch_item_failures = FLAGS_report_batch_item_failures;
  options.fail_rate = FLAGS_fail_rate;
  options.fail_with_status = FLAGS_fail_with_status;
  options.latency = absl::Milliseconds(FLAGS_latency_ms);
  options.deliveries_file = FLAGS_deliveries_file;
  options.seed = FLAGS_seed;
  options.windows_file = FLAGS_windows_file;
  auto function =
      tributary::examples::ExampleFunction::Create(options, tributary::RealClock::Get());
  if (!function.ok()) {
    LOG(ERROR) << function.status();
    return 2;
  }
  tributary::examples::ExampleFunctionService service(function->get());
  auto server = tributary::GrpcServer::Start(FLAGS_listen, {&service});
  if (!server.ok()) {
    LOG(ERROR) << server.status();
    return 1;
  }
  if (absl::Status s = tributary::WritePortFile((*server)->port()); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  LOG(INFO) << "example_function serving on " << (*server)->address();
  const int signal = tributary::WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal << ": stopping after " << (*function)->invocations()
            << " invocation(s)";
  (*server)->Shutdown();
  return 0;
}
