#include "tools/tributary/manual_clock_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/host_port.h"
#include "common/proto_util.h"
#include "glog/logging.h"

namespace tributary {
namespace {

void Read(FakeClock& clock, v1::ClockReading* response) {
  *response->mutable_now() = ToProtoTimestamp(clock.Now());
}

// 127.0.0.0/8 as a dotted-quad literal (not a name such as "127.example.com"), ::1, localhost.
bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  if (!absl::StartsWith(host, "127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace

grpc::Status ManualClockService::AdvanceClock(grpc::ServerContext*,
                                              const v1::AdvanceClockRequest* request,
                                              v1::ClockReading* response) {
  const google::protobuf::Duration& by = request->by();
  if (by.seconds() < 0 || by.nanos() < 0 || by.nanos() > 999'999'999) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("by: time only moves forward; got ", by.seconds(), "s ", by.nanos(), "ns")));
  }
  const absl::Duration d = absl::Seconds(by.seconds()) + absl::Nanoseconds(by.nanos());
  absl::MutexLock lock(&mu_);
  const absl::Time before = clock_.Now();
  clock_.Advance(d);
  LOG(INFO) << "manual clock advanced by " << d << ": " << before << " -> " << clock_.Now();
  Read(clock_, response);
  return grpc::Status::OK;
}

grpc::Status ManualClockService::SetClock(grpc::ServerContext*, const v1::SetClockRequest* request,
                                          v1::ClockReading* response) {
  if (!request->has_to()) return ToGrpcStatus(absl::InvalidArgumentError("to: required"));
  const absl::Time to = FromProtoTimestamp(request->to());
  absl::MutexLock lock(&mu_);
  const absl::Time before = clock_.Now();
  if (to < before) {
    return ToGrpcStatus(absl::FailedPreconditionError(
        absl::StrCat("to: ", absl::FormatTime(absl::RFC3339_full, to, absl::UTCTimeZone()),
                     " is before the clock's time ",
                     absl::FormatTime(absl::RFC3339_full, before, absl::UTCTimeZone()),
                     ": the manual clock only moves forward")));
  }
  clock_.SetTime(to);
  LOG(INFO) << "manual clock set: " << before << " -> " << clock_.Now();
  Read(clock_, response);
  return grpc::Status::OK;
}

grpc::Status ManualClockService::GetClock(grpc::ServerContext*, const v1::GetClockRequest*,
                                          v1::ClockReading* response) {
  Read(clock_, response);
  return grpc::Status::OK;
}

absl::Status CheckLoopbackListeners(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> addresses) {
  for (const auto& [flag, address] : addresses) {
    if (address.empty()) continue;
    absl::StatusOr<HostPort> parsed = ParseHostPort(address, AddressUse::kListen);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=\"", address, "\": ", parsed.status().message()));
    }
    if (!IsLoopbackHost(parsed->host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--clock=manual needs every listener on loopback (127.0.0.1, ::1 or localhost): --", flag,
          "=", address, " is not; anyone who reaches it could move every service's time"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tributary
