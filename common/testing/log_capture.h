// LogCapture: the glog lines logged while it lives, for tests that specify what a component
// logs (once per change of outcome, not once per event). Every severity is captured, from
// every thread of the process, so tests count the lines that name what they look for.
//
// Thread-safe. Create it before the code under test logs, destroy it after.
#ifndef TRIBUTARY_COMMON_TESTING_LOG_CAPTURE_H_
#define TRIBUTARY_COMMON_TESTING_LOG_CAPTURE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace tributary::testing {

class LogCapture : public google::LogSink {
 public:
  LogCapture();
  ~LogCapture() override;
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  void send(google::LogSeverity severity, const char* full_filename, const char* base_filename,
            int line, const google::LogMessageTime& time, const char* message,
            size_t message_len) override;

  // Every captured line so far, as "<I|W|E|F> <message>".
  std::vector<std::string> Lines();
  // The captured lines that contain every one of `parts`.
  std::vector<std::string> Matching(const std::vector<std::string>& parts);
  int Count(const std::vector<std::string>& parts) {
    return static_cast<int>(Matching(parts).size());
  }
  // Blocks until at least `n` lines contain every one of `parts`, or `real_timeout` passed (a
  // failure guard, never a way to pass time). A failure says how many lines matched and the last
  // line captured.
  [[nodiscard]] ::testing::AssertionResult WaitFor(const std::vector<std::string>& parts, int n = 1,
                                                   absl::Duration real_timeout = absl::Seconds(30));

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_COMMON_TESTING_LOG_CAPTURE_H_
