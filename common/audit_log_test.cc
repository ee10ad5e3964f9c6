#include "common/audit_log.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace tributary {
namespace {

AuditEntry Denied() {
  AuditEntry entry;
  entry.time = absl::FromUnixMillis(1765000000123);
  entry.principal = "alice";
  entry.action = "kinesis:CreateStream";
  entry.resource = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  entry.outcome = absl::StatusCode::kPermissionDenied;
  return entry;
}

std::string TmpPath(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(AuditLineTest, IsOneJsonObjectWithRfc3339TimeAndGrpcCodeName) {
  EXPECT_EQ(AuditLine(Denied()),
            R"({"time":"2025-12-06T05:46:40.123Z","principal":"alice",)"
            R"("action":"kinesis:CreateStream",)"
            R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/orders",)"
            R"("outcome":"PERMISSION_DENIED"})");
}

TEST(AuditLineTest, EscapesWhatAPrincipalMayHold) {
  AuditEntry entry = Denied();
  entry.principal = "CN=a\"b,O=x\ny";
  rapidjson::Document document;
  document.Parse(AuditLine(entry).c_str());
  ASSERT_FALSE(document.HasParseError());
  EXPECT_EQ(std::string(document["principal"].GetString()), entry.principal);
  EXPECT_EQ(AuditLine(entry).find('\n'), std::string::npos);
}

TEST(AuditLogTest, AppendsOneLinePerRecordToAFileCreated0600) {
  const std::string path = TmpPath("audit.log");
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->Record(Denied()).ok());
    AuditEntry ok = Denied();
    ok.outcome = absl::StatusCode::kOk;
    ASSERT_TRUE((*log)->Record(ok).ok());
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(path);
  std::string first, second, third;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  EXPECT_FALSE(std::getline(in, third));
  EXPECT_EQ(first, AuditLine(Denied()));
  EXPECT_NE(second.find("\"outcome\":\"OK\""), std::string::npos);
}

TEST(AuditLogTest, ReopeningAppends) {
  const std::string path = TmpPath("audit2.log");
  for (int i = 0; i < 2; ++i) {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Record(Denied()).ok());
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), AuditLine(Denied()) + "\n" + AuditLine(Denied()) + "\n");
}

TEST(AuditLogTest, OpenFailsNamingThePath) {
  auto log = AuditLog::Open("/nonexistent/dir/audit.log");
  EXPECT_EQ(log.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(log.status().message().find("/nonexistent/dir/audit.log"), std::string::npos);
  EXPECT_EQ(AuditLog::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
