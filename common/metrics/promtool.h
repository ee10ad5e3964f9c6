// Test helper: runs the real `promtool check metrics` (Debian's prometheus package, installed by
// tools/setup.sh) over exposition text. testonly.
#ifndef TRIBUTARY_COMMON_METRICS_PROMTOOL_H_
#define TRIBUTARY_COMMON_METRICS_PROMTOOL_H_

#include <string>

#include "gtest/gtest.h"

namespace tributary::metrics {

// Success when promtool exits 0 and prints no lint problem; else a failure carrying its output
// and the text. Fails too when promtool is not installed.
::testing::AssertionResult PromtoolCheckMetrics(const std::string& text);

}  // namespace tributary::metrics

#endif  // TRIBUTARY_COMMON_METRICS_PROMTOOL_H_
