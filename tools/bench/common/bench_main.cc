#include "tools/bench/common/bench_main.h"

#include "tools/bench/common/bench_common.h"

DEFINE_string(json_out, "", "Also write the JSON results to this file.");
DEFINE_bool(require_nonzero, false, "Exit 1 when a figure is zero (for the smoke test).");

namespace tributary::bench {

int BenchMain(int argc, char** argv, int (*run)()) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  InitBench();
  return run();
}

int FinishRun(bool report_written, bool zero, const char* why) {
  if (!report_written) return 1;
  if (FLAGS_require_nonzero && zero) {
    Progress("%s", why);
    return 1;
  }
  return 0;
}

}  // namespace tributary::bench
