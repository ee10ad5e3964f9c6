#include "common/process.h"

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <string>

#include "common/testing/test_util.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

TEST(SubprocessTest, ReportsExitStatus) {
  auto child = Subprocess::Start("/bin/sh", {"-c", "exit 3"});
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<int> status = child->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_FALSE(child->running());
}

TEST(SubprocessTest, KillNineEndsARunningChild) {
  auto child = Subprocess::Start("/bin/sh", {"-c", "exec tail -f /dev/null"});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE(child->running());
  int status = child->Kill(SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_FALSE(child->running());
}

TEST(SubprocessTest, WaitTimesOutOnARunningChild) {
  auto child = Subprocess::Start("/bin/sh", {"-c", "exec tail -f /dev/null"});
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->Wait(absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(SubprocessTest, OutputGoesToTheLogFile) {
  const std::string log = testing::NewTempDir("process") + "/child.log";
  auto child = Subprocess::Start("/bin/sh", {"-c", "echo hello"}, log);
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(child->Wait(absl::Seconds(30)).ok());
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello");
}

TEST(SubprocessTest, MissingBinaryExits127) {
  auto child = Subprocess::Start("/nonexistent/binary", {});
  ASSERT_TRUE(child.ok());
  absl::StatusOr<int> status = child->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(WEXITSTATUS(*status), 127);
}

TEST(WaitForPortFileTest, ReadsThePortAChildWrites) {
  const std::string path = testing::NewTempDir("process") + "/port";
  auto child = Subprocess::Start(
      "/bin/sh", {"-c", "echo 4242 > " + path + ".tmp && mv " + path + ".tmp " + path});
  ASSERT_TRUE(child.ok());
  absl::StatusOr<int> port = WaitForPortFile(path);
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(*port, 4242);
}

TEST(WaitForPortFileTest, TimesOutWhenNothingIsWritten) {
  const std::string path = testing::NewTempDir("process") + "/never";
  EXPECT_EQ(WaitForPortFile(path, absl::Milliseconds(30)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace tributary
