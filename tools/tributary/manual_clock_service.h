// `tributary serve --clock=manual` (issue 23): every service of the process runs on one
// FakeClock (common/clock.h), and tributary.v1.Clock (proto/clock.proto) moves it, so that a
// user's integration test can age records past the maximum age, run out backoffs, expire
// iterators and close tumbling windows without waiting. Time only moves forward, both readings
// together (FakeClock::Advance): everything waiting on the clock whose deadline is reached wakes.
//
// Thread-safe. `clock` must outlive the service.
#ifndef TRIBUTARY_TOOLS_TRIBUTARY_MANUAL_CLOCK_SERVICE_H_
#define TRIBUTARY_TOOLS_TRIBUTARY_MANUAL_CLOCK_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "proto/clock.grpc.pb.h"

namespace tributary {

class ManualClockService final : public v1::Clock::Service {
 public:
  explicit ManualClockService(FakeClock& clock) : clock_(clock) {}

  // INVALID_ARGUMENT for a negative or malformed duration.
  grpc::Status AdvanceClock(grpc::ServerContext* context, const v1::AdvanceClockRequest* request,
                            v1::ClockReading* response) override;
  // INVALID_ARGUMENT without `to`; FAILED_PRECONDITION when `to` is before the clock's time.
  grpc::Status SetClock(grpc::ServerContext* context, const v1::SetClockRequest* request,
                        v1::ClockReading* response) override;
  grpc::Status GetClock(grpc::ServerContext* context, const v1::GetClockRequest* request,
                        v1::ClockReading* response) override;

 private:
  absl::Mutex mu_;  // serializes moves, so that SetClock's check and move are one step
  FakeClock& clock_;
};

// OK when every listener address in `addresses` (flag name, host:port; an empty address is a
// listener that is off) is on loopback: 127.0.0.0/8, ::1 or "localhost". A manual clock is for
// tests on one machine: anyone who reaches the port can move every service's time. Errors:
// INVALID_ARGUMENT naming the first flag that is not, and why.
absl::Status CheckLoopbackListeners(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> addresses);

}  // namespace tributary

#endif  // TRIBUTARY_TOOLS_TRIBUTARY_MANUAL_CLOCK_SERVICE_H_
