// What tribctl's tests keep of one run (exit code, standard output and error) and the JSON
// parsing of its --output=json, shared by the test files that drive RunTribctl.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_TESTING_RUN_RESULT_H_
#define TRIBUTARY_TOOLS_TRIBCTL_TESTING_RUN_RESULT_H_

#include <string>

#include "gtest/gtest.h"
#include "tools/tribctl/format.h"

namespace tributary::tribctl {

struct Result {
  int code;
  std::string out;
  std::string err;
};

// `text` parsed as the JSON of a T (a failure of the calling test when it does not parse).
template <typename T>
T Json(const std::string& text) {
  T message;
  auto status = FromJson(text, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text;
  return message;
}

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_TESTING_RUN_RESULT_H_
