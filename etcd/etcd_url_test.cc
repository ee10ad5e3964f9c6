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


// The --coordination / --data_dir pair every server main checks with ParseCoordinationFlags.
TEST(CoordinationFlagsTest, WithoutCoordinationTheStateIsInTheDataDirectory) {
  absl::StatusOr<std::vector<std::string>> parsed =
      ParseCoordinationFlags("", "/var/lib/x", "the lease table lives", DataDirWithEtcd::kExcluded);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->empty());
  parsed = ParseCoordinationFlags("", "", "the lease table lives", DataDirWithEtcd::kExcluded);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "--data_dir is required (or --coordination=etcd://...)");
  parsed = ParseCoordinationFlags("", "", "the lease table lives", DataDirWithEtcd::kRequired);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "--data_dir is required");
}

TEST(CoordinationFlagsTest, WithCoordinationTheMembersAreReturned) {
  EXPECT_THAT(*ParseCoordinationFlags("etcd://a:1,b:2", "", "the lease table lives",
                                      DataDirWithEtcd::kExcluded),
              ElementsAre("a:1", "b:2"));
  EXPECT_THAT(*ParseCoordinationFlags("etcd://a:1", "/d", "the records live",
                                      DataDirWithEtcd::kRequired),
              ElementsAre("a:1"));
}

TEST(CoordinationFlagsTest, RefusalsNameTheFlags) {
  struct Case {
    std::string coordination, data_dir;
    DataDirWithEtcd with_etcd;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"http://a:1", "", DataDirWithEtcd::kExcluded, "--coordination=\"http://a:1\": not an etcd"},
      {"etcd://a:1", "/d", DataDirWithEtcd::kExcluded,
       "--data_dir and --coordination exclude each other: the lease table lives in RocksDB or in "
       "etcd"},
      {"etcd://a:1", "", DataDirWithEtcd::kRequired,
       "--data_dir is required, also with --coordination: the lease table lives there"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<std::string>> parsed =
        ParseCoordinationFlags(c.coordination, c.data_dir, "the lease table lives", c.with_etcd);
    ASSERT_FALSE(parsed.ok()) << c.coordination;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.why));
  }
}

}  // namespace
}  // namespace tributary::etcd
