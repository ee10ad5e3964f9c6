// An example Tributary function: the logic behind //examples/cpp:example_function,
// kept free of gRPC so tests can call it directly.
//
// For each batch it (1) appends one line per record, "shard_id sequence_number
// partition_key", to the deliveries file, flushed before answering, (2) waits
// the configured latency on the injected clock, (3) fails the whole batch with
// probability fail_rate (a function_error, or a non-OK status with
// fail_with_status), and (4) fails records whose data starts with "poison":
// listed in batch_item_failures when report_batch_item_failures is set (every
// poison record, in order), otherwise as a function_error naming the first.
//
// A mapping on a table's change stream sends DynamoDB Streams records
// (`dynamodb_records`, proto/function.proto) instead of `records`: the function
// treats each change as a record whose sequence number is its
// dynamodb.sequence_number (what batch_item_failures must name), whose
// "partition key" is the item's key values ("/"-joined in attribute name order,
// B as hex), and which is poison when the item written (NewImage) has an
// attribute named "poison".
//
// Every record received counts as a delivery, whether or not the batch then
// fails: the deliveries file is a log of what Tributary delivered, which is what
// an at-least-once check needs (a retried record appears more than once).
//
// Tumbling windows (a request with `window` set, from a mapping with
// tumbling_window_in_seconds): the function counts records per partition key in
// the window's state — the state it returns is the request's state plus the
// records it succeeded on (those before the first failed one: the poller
// retries from there) — and on the window's final invocation appends one line
// to the windows file:
//   "shard_id window_start_ms window_end_ms key=count,key=count,...\n"
// (keys sorted; "-" for an empty window; " early" appended when the window was
// terminated early), then returns an empty state. A failed batch returns the
// request's state unchanged.
//
// Thread-safe: Invoke may run concurrently (one call per lane); deliveries of
// one batch are written together. `clock` must outlive the object.
#ifndef TRIBUTARY_EXAMPLES_CPP_EXAMPLE_FUNCTION_H_
#define TRIBUTARY_EXAMPLES_CPP_EXAMPLE_FUNCTION_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "proto/function.pb.h"

namespace tributary::examples {

// The prefix of a record's data that makes the function fail the record.
inline constexpr char kPoisonPrefix[] = "poison";

struct ExampleFunctionOptions {
  // Report poison records through batch_item_failures instead of failing the
  // whole batch with function_error.
  bool report_batch_item_failures = false;
  // Probability in [0, 1] that a batch fails as a whole (simulated errors).
  double fail_rate = 0;
  // Simulated failures answer with a non-OK status (INTERNAL) instead of a
  // function_error.
  bool fail_with_status = false;
  // How long each invocation takes (>= 0), waited on the clock.
  absl::Duration latency = absl::ZeroDuration();
  // Where to append deliveries; empty for none.
  std::string deliveries_file;
  // Seed of the simulated failures (the same seed gives the same sequence).
  uint64_t seed = 1;
  // Where to append each closed tumbling window's counts; empty for none.
  std::string windows_file;
};

class ExampleFunction {
 public:
  // Errors: INVALID_ARGUMENT for fail_rate outside [0, 1] or a negative
  // latency; FAILED_PRECONDITION when the deliveries or windows file cannot be
  // opened for appending (the message names the path).
  static absl::StatusOr<std::unique_ptr<ExampleFunction>> Create(
      const ExampleFunctionOptions& options, Clock& clock);
  ~ExampleFunction();

  // Handles one batch (see the file comment for the order of the steps).
  // Returns the response to send — empty when every record succeeded — or
  // INTERNAL for a simulated failure with fail_with_status, or INTERNAL when the
  // deliveries or a closed window could not be written (the batch should then
  // be retried).
  absl::StatusOr<v1::InvokeResponse> Invoke(const v1::InvokeRequest& request);

  // A one-line summary for logs:
  // "mapping=M stream=S shard=X records=N first=F last=L".
  static std::string DescribeBatch(const v1::InvokeRequest& request);

  // How many Invoke calls have finished.
  int64_t invocations();

 private:
  // A record as this function sees it: a stream record or a table change.
  struct Item {
    std::string sequence_number;
    std::string key;  // the partition key, or a change's item key
    bool poison = false;
  };
  static std::vector<Item> Items(const v1::InvokeRequest& request);

  ExampleFunction(const ExampleFunctionOptions& options, Clock& clock, std::FILE* deliveries,
                  std::FILE* windows);
  absl::Status RecordDeliveries(const v1::InvokeRequest& request, const std::vector<Item>& items);
  // Fills response->state (see the file comment); the first `succeeded` items
  // of the request were processed.
  absl::Status AggregateWindow(const v1::InvokeRequest& request, const std::vector<Item>& items,
                               size_t succeeded, v1::InvokeResponse* response);
  bool SimulateFailure();

  const ExampleFunctionOptions options_;
  Clock& clock_;
  absl::Mutex mu_;
  std::FILE* deliveries_ ABSL_GUARDED_BY(mu_);  // null without a deliveries file
  std::FILE* windows_ ABSL_GUARDED_BY(mu_);     // null without a windows file
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  int64_t invocations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::examples

#endif  // TRIBUTARY_EXAMPLES_CPP_EXAMPLE_FUNCTION_H_
