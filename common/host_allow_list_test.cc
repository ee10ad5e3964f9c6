#include "common/host_allow_list.h"

#include "gtest/gtest.h"

namespace tributary {
namespace {

HostAllowList List(const char* text) {
  absl::StatusOr<HostAllowList> list = HostAllowList::Parse(text);
  EXPECT_TRUE(list.ok()) << text << ": " << list.status();
  return list.ok() ? *list : HostAllowList();
}

TEST(HostAllowListTest, LoopbackAllowsOnlyLoopbackHosts) {
  const HostAllowList list = List("loopback");
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) {
    EXPECT_TRUE(list.Allows(host)) << host;
  }
  for (const char* host : {"10.0.0.1", "169.254.169.254", "127.evil.example", "example.com",
                           "::2", ""}) {
    EXPECT_FALSE(list.Allows(host)) << host;
  }
}

TEST(HostAllowListTest, NameWildcardsMatchWithinOneLabelCaseInsensitively) {
  const HostAllowList list = List("*.Functions.Internal, fn.example.com.");
  EXPECT_TRUE(list.Allows("a.functions.internal"));
  EXPECT_TRUE(list.Allows("A.FUNCTIONS.INTERNAL."));
  EXPECT_TRUE(list.Allows("fn.example.com"));
  EXPECT_FALSE(list.Allows("a.b.functions.internal"));
  EXPECT_FALSE(list.Allows("functions.internal"));
  EXPECT_FALSE(list.Allows("evil.com"));
  EXPECT_FALSE(list.Allows("fn.example.com.evil.com"));
}

TEST(HostAllowListTest, AddressPatternsMatchAddressLiteralsOnly) {
  const HostAllowList list = List("10.0.1.*,[fd00::1]");
  EXPECT_TRUE(list.Allows("10.0.1.7"));
  EXPECT_FALSE(list.Allows("10.0.1.evil"));
  EXPECT_FALSE(list.Allows("10.0.2.7"));
  EXPECT_TRUE(list.Allows("fd00::1"));
  EXPECT_FALSE(list.Allows("fd00::2"));
}

TEST(HostAllowListTest, StarAllowsEveryHostAndIsTheDefault) {
  EXPECT_TRUE(List("*").Allows("169.254.169.254"));
  EXPECT_TRUE(HostAllowList().AllowsAll());
  EXPECT_FALSE(List("loopback").AllowsAll());
  EXPECT_EQ(List(" loopback , *.fn.internal ").ToString(), "loopback,*.fn.internal");
}

TEST(HostAllowListTest, EmptyEntriesAndStrayCharactersAreRefused) {
  for (const char* bad : {"", "a,,b", "a/b", "http://x", "a b"}) {
    absl::StatusOr<HostAllowList> list = HostAllowList::Parse(bad);
    EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace tributary
