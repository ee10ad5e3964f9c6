#include "common/replica_channel.h"

#include "gtest/gtest.h"

namespace tributary {
namespace {

TEST(ReplicaTargetTest, OneAddressIsLeftToGrpcAsItIs) {
  EXPECT_EQ(*ReplicaTarget("tracker.example:4563"), "tracker.example:4563");
  EXPECT_EQ(*ReplicaTarget("127.0.0.1:4563"), "127.0.0.1:4563");
}

TEST(ReplicaTargetTest, SeveralAddressesAreOneTargetOfTheirFamily) {
  EXPECT_EQ(*ReplicaTarget("127.0.0.1:1,10.0.0.2:2"), "ipv4:127.0.0.1:1,10.0.0.2:2");
  EXPECT_EQ(*ReplicaTarget("[::1]:1,[fe80::1]:2"), "ipv6:[::1]:1,[fe80::1]:2");
  EXPECT_EQ(*ReplicaTarget("localhost:1,127.0.0.1:2"), "ipv4:127.0.0.1:1,127.0.0.1:2");
}

TEST(ReplicaTargetTest, BadListsAreRefused) {
  EXPECT_EQ(ReplicaTarget("127.0.0.1:1,,127.0.0.1:2").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReplicaTarget("127.0.0.1:1,").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReplicaTarget("127.0.0.1:1,127.0.0.1:0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReplicaTarget("127.0.0.1:1,[::1]:2").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReplicaTarget("127.0.0.1:1,no-such-host.invalid:2").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CheckAddressListFlagTest, NamesTheFlag) {
  EXPECT_TRUE(CheckAddressListFlag("leasing", "127.0.0.1:1,127.0.0.1:2").ok());
  absl::Status bad = CheckAddressListFlag("leasing", "127.0.0.1:1,,x:2");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message().rfind("--leasing=", 0), 0u) << bad.message();
}

}  // namespace
}  // namespace tributary
