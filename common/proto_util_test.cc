#include "common/proto_util.h"

#include "gtest/gtest.h"

namespace tributary {
namespace {

TEST(ParseSequenceNumberTest, AcceptsTheWholeUnsignedRange) {
  EXPECT_EQ(ParseSequenceNumber("0", "f").value(), 0u);
  EXPECT_EQ(ParseSequenceNumber("00042", "f").value(), 42u);
  EXPECT_EQ(ParseSequenceNumber("18446744073709551615", "f").value(), ~uint64_t{0});
}

TEST(ParseSequenceNumberTest, RejectsAnythingElseNamingTheField) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.0", "0x10", "abc",
                          "18446744073709551616", "123456789012345678901"}) {
    absl::StatusOr<uint64_t> parsed = ParseSequenceNumber(bad, "checkpoint.sequence_number");
    ASSERT_FALSE(parsed.ok()) << "\"" << bad << "\" was accepted";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("checkpoint.sequence_number"),
              absl::string_view::npos);
  }
}

TEST(ProtoTimestampTest, RoundTripsToTheNanosecondAlsoBeforeTheEpoch) {
  for (absl::Time t : {absl::UnixEpoch(), absl::FromUnixNanos(1'700'000'000'123'456'789),
                       absl::FromUnixNanos(-1), absl::FromUnixNanos(-1'500'000'000)}) {
    google::protobuf::Timestamp ts = ToProtoTimestamp(t);
    EXPECT_GE(ts.nanos(), 0);
    EXPECT_LT(ts.nanos(), 1'000'000'000);
    EXPECT_EQ(FromProtoTimestamp(ts), t);
  }
  google::protobuf::Timestamp before = ToProtoTimestamp(absl::FromUnixNanos(-1));
  EXPECT_EQ(before.seconds(), -1);
  EXPECT_EQ(before.nanos(), 999'999'999);
}

}  // namespace
}  // namespace tributary
