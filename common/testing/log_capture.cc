#include "common/testing/log_capture.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/await.h"
#include "common/testing/assertions.h"

namespace tributary::testing {
namespace {

bool ContainsAll(const std::string& line, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (!absl::StrContains(line, part)) return false;
  }
  return true;
}

}  // namespace

LogCapture::LogCapture() { google::AddLogSink(this); }

LogCapture::~LogCapture() { google::RemoveLogSink(this); }

void LogCapture::send(google::LogSeverity severity, const char*, const char*, int,
                      const google::LogMessageTime&, const char* message, size_t message_len) {
  // Called under glog's lock: no logging here.
  static constexpr char kLetters[] = "IWEF";
  const char letter = severity >= 0 && severity < 4 ? kLetters[severity] : '?';
  absl::MutexLock lock(&mu_);
  lines_.push_back(
      absl::StrCat(std::string(1, letter), " ", absl::string_view(message, message_len)));
}

std::vector<std::string> LogCapture::Lines() {
  absl::MutexLock lock(&mu_);
  return lines_;
}

std::vector<std::string> LogCapture::Matching(const std::vector<std::string>& parts) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const std::string& line : lines_) {
    if (ContainsAll(line, parts)) out.push_back(line);
  }
  return out;
}

::testing::AssertionResult LogCapture::WaitFor(const std::vector<std::string>& parts, int n,
                                               absl::Duration real_timeout) {
  auto matching = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int count = 0;
    for (const std::string& line : lines_) count += ContainsAll(line, parts) ? 1 : 0;
    return count;
  };
  return IsOk(AwaitFor(
      mu_, real_timeout,
      absl::StrCat(n, " log line(s) containing \"", absl::StrJoin(parts, "\", \""), "\""),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return matching() >= n; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        std::string seen = absl::StrCat(matching(), " matching of ", lines_.size(), " line(s)");
        if (!lines_.empty()) absl::StrAppend(&seen, "; the last: ", lines_.back());
        return seen;
      }));
}

}  // namespace tributary::testing
