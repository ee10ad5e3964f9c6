#include "common/auth_tokens.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Sha256HexTest, IsTheLowerCaseHexDigest) {
  EXPECT_EQ(Sha256Hex("password"),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AuthTokensTest, ATokenStandsForItsPrincipal) {
  auto tokens = AuthTokens::Parse(absl::StrCat("# operators\n\n", Sha256Hex("s3cret"), " alice\n",
                                               "  ", Sha256Hex("other"), "\tpoller-1  \n"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2);
  EXPECT_EQ(tokens->PrincipalOf("s3cret"), "alice");
  EXPECT_EQ(tokens->PrincipalOf("other"), "poller-1");
  EXPECT_EQ(tokens->PrincipalOf("S3cret"), std::nullopt);
  EXPECT_EQ(tokens->PrincipalOf(""), std::nullopt);
}

TEST(AuthTokensTest, TheHashIsNotTheToken) {
  // Someone who read the file and sends a hash as the token is refused.
  auto tokens = AuthTokens::Parse(absl::StrCat(Sha256Hex("s3cret"), " alice\n"));
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->PrincipalOf(Sha256Hex("s3cret")), std::nullopt);
}

TEST(AuthTokensTest, UpperCaseHashesAreTheSame) {
  std::string hash = Sha256Hex("s3cret");
  for (char& c : hash) c = static_cast<char>(toupper(c));
  auto tokens = AuthTokens::Parse(absl::StrCat(hash, " alice"));
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->PrincipalOf("s3cret"), "alice");
}

TEST(AuthTokensTest, ABadLineIsRefusedByNumberWithoutItsContent) {
  const std::string good = absl::StrCat(Sha256Hex("a"), " alice\n");
  struct Case {
    std::string text;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {good + "deadbeef bob\n", "line 2: the hash is not 64 hex digits"},
           {good + Sha256Hex("b") + "\n", "line 2: no principal"},
           {good + Sha256Hex("b") + " bob extra\n", "line 2: more than a hash and a principal"},
           {good + Sha256Hex("a") + " mallory\n", "line 2: this hash appears on an earlier line"},
           {std::string(63, 'a') + "g bob\n", "line 1: the hash is not 64 hex digits"},
       }) {
    auto tokens = AuthTokens::Parse(c.text);
    ASSERT_FALSE(tokens.ok()) << c.text;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tokens.status().message(), HasSubstr(c.says));
    EXPECT_THAT(tokens.status().message(), Not(HasSubstr("bob")));
    EXPECT_THAT(tokens.status().message(), Not(HasSubstr(Sha256Hex("b"))));
  }
}

TEST(AuthTokensTest, ReadFileNamesAMissingFileAndPrefixesParseErrors) {
  const std::string dir = testing::NewTempDir("tokens");
  auto missing = AuthTokens::ReadFile(dir + "/none");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir + "/none"));

  const std::string path = dir + "/tokens";
  std::ofstream(path) << "not a hash\n";
  auto bad = AuthTokens::ReadFile(path);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr(path + ": line 1"));

  std::ofstream(path, std::ios::trunc) << Sha256Hex("t") << " carol\n";
  auto good = AuthTokens::ReadFile(path);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->PrincipalOf("t"), "carol");
}

}  // namespace
}  // namespace tributary
