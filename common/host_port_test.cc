// ParseHostPort as a table: what every address flag accepts, and the reason it gives for what it
// refuses; CheckAddressFlags names the flag.
#include "common/host_port.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

struct Good {
  std::string address;
  AddressUse use;
  std::string host;
  int port;
};

TEST(ParseHostPortTest, AcceptsHostColonPort) {
  const Good cases[] = {
      {"127.0.0.1:4560", AddressUse::kListen, "127.0.0.1", 4560},
      {"127.0.0.1:0", AddressUse::kListen, "127.0.0.1", 0},
      {"0.0.0.0:65535", AddressUse::kListen, "0.0.0.0", 65535},
      {"localhost:1", AddressUse::kDial, "localhost", 1},
      {"shard-store.internal_1:4561", AddressUse::kDial, "shard-store.internal_1", 4561},
      {"[::1]:80", AddressUse::kDial, "::1", 80},
      {"[::]:0", AddressUse::kListen, "::", 0},
      {"[fe80::1%eth0]:9", AddressUse::kDial, "fe80::1%eth0", 9},
      {"[::ffff:10.0.0.1]:8080", AddressUse::kDial, "::ffff:10.0.0.1", 8080},
      {"h:080", AddressUse::kDial, "h", 80},  // leading zeros are still decimal
  };
  for (const Good& c : cases) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(c.address, c.use);
    ASSERT_TRUE(parsed.ok()) << c.address << ": " << parsed.status();
    EXPECT_EQ(parsed->host, c.host) << c.address;
    EXPECT_EQ(parsed->port, c.port) << c.address;
  }
}

struct BadCase {
  std::string address;
  AddressUse use;
  std::string reason;  // a part of the message
};

TEST(ParseHostPortTest, RefusesWithAReason) {
  const BadCase cases[] = {
      // The case: gRPC would serve on 99999 mod 65536 = 34463.
      {"127.0.0.1:99999", AddressUse::kListen, "port 99999 is out of range 0-65535"},
      {"127.0.0.1:65536", AddressUse::kListen, "port 65536 is out of range 0-65535"},
      {"127.0.0.1:4294967297", AddressUse::kListen, "out of range"},
      {"127.0.0.1:000000000000080000", AddressUse::kListen, "out of range"},
      {"127.0.0.1:99999", AddressUse::kDial, "port 99999 is out of range 1-65535"},
      {"127.0.0.1:0", AddressUse::kDial, "port 0 cannot be connected to"},
      {"127.0.0.1:-1", AddressUse::kListen, "port \"-1\" is not a decimal number"},
      {"127.0.0.1:+80", AddressUse::kListen, "not a decimal number"},
      {"127.0.0.1: 80", AddressUse::kListen, "not a decimal number"},
      {"127.0.0.1:80 ", AddressUse::kListen, "not a decimal number"},  // trailing garbage
      {"127.0.0.1:80x", AddressUse::kListen, "not a decimal number"},
      {"127.0.0.1:http", AddressUse::kListen, "not a decimal number"},  // no service names
      {"127.0.0.1:", AddressUse::kListen, "no port after ':'"},
      {"127.0.0.1", AddressUse::kListen, "no port"},
      {"", AddressUse::kListen, "empty"},
      {":80", AddressUse::kListen, "no host; say 0.0.0.0:80 for every interface"},
      {":80", AddressUse::kDial, "\":80\": no host (expected"},
      {"::1:80", AddressUse::kDial, "an IPv6 host needs brackets"},
      {"[::1]", AddressUse::kDial, "no ':' and port after ']'"},
      {"[::1]80", AddressUse::kDial, "no ':' and port after ']'"},
      {"[::1:80", AddressUse::kDial, "'[' without ']'"},
      {"[]:80", AddressUse::kDial, "\"\" is not an IPv6 address"},
      {"[not-v6]:80", AddressUse::kDial, "\"not-v6\" is not an IPv6 address"},
      {"[::1]:99999", AddressUse::kListen, "out of range"},
      {"300.1.1.1:80", AddressUse::kListen, "host 300.1.1.1 is not an IPv4 address"},
      {"my host:80", AddressUse::kListen, "may only hold letters, digits"},
      {"dns:///localhost:80", AddressUse::kDial, "gRPC target URIs"},
      {"unix:/tmp/socket", AddressUse::kDial, "gRPC target URIs"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(c.address, c.use);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << c.address << "\"";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.address;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.reason)) << c.address;
    EXPECT_THAT(parsed.status().message(), HasSubstr("expected host:port")) << c.address;
  }
}

TEST(HostPortTest, ToStringBracketsIpv6) {
  EXPECT_EQ((HostPort{"127.0.0.1", 80}).ToString(), "127.0.0.1:80");
  EXPECT_EQ((HostPort{"::1", 80}).ToString(), "[::1]:80");
  EXPECT_EQ(ParseHostPort("[::1]:0", AddressUse::kListen)->ToString(), "[::1]:0");
}

TEST(CheckAddressFlagsTest, NamesTheFirstBadFlag) {
  EXPECT_TRUE(CheckAddressFlags({{"listen", "127.0.0.1:0", AddressUse::kListen},
                                 {"leasing", "127.0.0.1:4562", AddressUse::kDial},
                                 {"metrics_listen", "", AddressUse::kListen, true}})
                  .ok());
  absl::Status status = CheckAddressFlags({{"listen", "127.0.0.1:0", AddressUse::kListen},
                                           {"leasing", "127.0.0.1:99999", AddressUse::kDial},
                                           {"shard_store", "nope", AddressUse::kDial}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "--leasing=\"127.0.0.1:99999\": port 99999 is out of range 1-65535 (expected "
            "host:port)");
  // Empty is only "off" for a flag that says so.
  EXPECT_THAT(CheckAddressFlags({{"listen", "", AddressUse::kListen}}).message(),
              HasSubstr("--listen=\"\": empty"));
}

TEST(LoopbackAddressOfTest, AWildcardBecomesLoopback) {
  EXPECT_EQ(LoopbackAddressOf("0.0.0.0:4560"), "127.0.0.1:4560");
  EXPECT_EQ(LoopbackAddressOf("[::]:4560"), "[::1]:4560");
  EXPECT_EQ(LoopbackAddressOf("10.0.0.5:4560"), "10.0.0.5:4560");
  EXPECT_EQ(LoopbackAddressOf("localhost:1"), "localhost:1");
  EXPECT_EQ(LoopbackAddressOf("nonsense"), "nonsense");
}

TEST(IsLoopbackHostTest, OnlyAddressesOfThisMachine) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("tributary.example"));
  EXPECT_FALSE(IsLoopbackHost(""));
}

}  // namespace
}  // namespace tributary
