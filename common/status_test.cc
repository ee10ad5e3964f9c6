#include "absl/status/status.h"

#include <string>

#include "absl/status/statusor.h"
#include "common/grpc_status.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

absl::Status FailsWith(absl::StatusCode code) { return absl::Status(code, "boom"); }

absl::Status UsesReturnIfError(absl::StatusCode code, bool* reached_end) {
  RETURN_IF_ERROR(FailsWith(code));
  *reached_end = true;
  return absl::OkStatus();
}

absl::StatusOr<int> Half(int v) {
  if (v % 2 != 0) return absl::InvalidArgumentError("odd");
  return v / 2;
}

absl::StatusOr<int> Quarter(int v) {
  ASSIGN_OR_RETURN(int half, Half(v));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheError) {
  bool reached_end = false;
  absl::Status status = UsesReturnIfError(absl::StatusCode::kNotFound, &reached_end);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(reached_end);
}

TEST(StatusMacrosTest, ReturnIfErrorContinuesOnOk) {
  bool reached_end = false;
  EXPECT_TRUE(UsesReturnIfError(absl::StatusCode::kOk, &reached_end).ok());
  EXPECT_TRUE(reached_end);
}

TEST(StatusMacrosTest, AssignOrReturnAssignsOrPropagates) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(3).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusMacrosTest, WithContextKeepsCodeAndPrependsMessage) {
  absl::Status status = WithContext(absl::NotFoundError("no lease"), "checkpoint ", 7);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "checkpoint 7: no lease");
  EXPECT_TRUE(WithContext(absl::OkStatus(), "ignored").ok());
}

TEST(GrpcStatusTest, EveryCodeRoundTrips) {
  for (int code = 0; code <= 16; ++code) {
    absl::Status status(static_cast<absl::StatusCode>(code), code == 0 ? "" : "message");
    grpc::Status grpc_status = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(grpc_status.error_code()), code);
    EXPECT_EQ(FromGrpcStatus(grpc_status), status);
  }
}

TEST(GrpcStatusTest, MessageIsKept) {
  grpc::Status status = ToGrpcStatus(absl::FailedPreconditionError("stale lease_counter 3"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "stale lease_counter 3");
}

TEST(RocksDbStatusTest, CodesMapAsDocumented) {
  EXPECT_TRUE(FromRocksDbStatus(rocksdb::Status::OK(), "x").ok());
  EXPECT_EQ(FromRocksDbStatus(rocksdb::Status::NotFound(), "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FromRocksDbStatus(rocksdb::Status::Corruption("bad block"), "x").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(FromRocksDbStatus(rocksdb::Status::NoSpace("disk"), "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FromRocksDbStatus(rocksdb::Status::Busy(), "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocksDbStatus(rocksdb::Status::IOError("eio"), "x").code(),
            absl::StatusCode::kInternal);
}

TEST(RocksDbStatusTest, MessageCarriesContext) {
  absl::Status status = FromRocksDbStatus(rocksdb::Status::Corruption("bad block"), "reading");
  EXPECT_NE(status.message().find("reading"), absl::string_view::npos);
  EXPECT_NE(status.message().find("bad block"), absl::string_view::npos);
}

}  // namespace
}  // namespace tributary
