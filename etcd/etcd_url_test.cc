// What --coordination=etcd://... accepts, and the reason it gives for what it refuses.
#include "etcd/etcd_url.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::etcd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EtcdUrlTest, OneOrMoreMembersInTheOrderGiven) {
  EXPECT_THAT(*ParseEtcdUrl("etcd://127.0.0.1:2379"), ElementsAre("127.0.0.1:2379"));
  EXPECT_THAT(*ParseEtcdUrl("etcd://10.0.0.3:2379,etcd-1.internal:2379,[::1]:2379"),
              ElementsAre("10.0.0.3:2379", "etcd-1.internal:2379", "[::1]:2379"));
}

TEST(EtcdUrlTest, BadUrlsAreRefusedWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"127.0.0.1:2379", "not an etcd:// URL"},
      {"http://127.0.0.1:2379", "not an etcd:// URL"},
      {"etcd://", "no address"},
      {"etcd://127.0.0.1:2379,", "an empty address"},
      {"etcd://127.0.0.1", "127.0.0.1"},
      {"etcd://127.0.0.1:0", "port 0"},
      {"etcd://127.0.0.1:99999", "out of range"},
      {"etcd://a:1,a:1", "a:1 is given twice"},
  };
  for (const auto& [url, why] : cases) {
    absl::StatusOr<std::vector<std::string>> parsed = ParseEtcdUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(why)) << url;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(url)) << "quotes the URL";
  }
}

}  // namespace
}  // namespace tributary::etcd
