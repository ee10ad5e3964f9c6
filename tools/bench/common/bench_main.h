// The frame of a load driver that reports through Report (bench_common.h): its main() and the
// end of its run. The flags every such driver takes live here:
//   --json_out=PATH      also write the report's JSON to PATH
//   --require_nonzero    exit 1 when a figure is zero (the smoke tests pass it)
//
// A driver:
//   int Main() {
//     Report report("read");
//     ...                            // rows, and `zero = true` when a figure is zero
//     c.Shutdown();
//     return FinishRun(report.Finish(FLAGS_json_out), zero, "a figure is zero");
//   }
//   int main(int argc, char** argv) { return tributary::bench::BenchMain(argc, argv, Main); }
#ifndef TRIBUTARY_TOOLS_BENCH_COMMON_BENCH_MAIN_H_
#define TRIBUTARY_TOOLS_BENCH_COMMON_BENCH_MAIN_H_

#include "gflags/gflags.h"

DECLARE_string(json_out);
DECLARE_bool(require_nonzero);

namespace tributary::bench {

// A driver's main(): parses the command line (gflags, removing the flags it took), applies
// InitBench() and returns `run()` as the process's exit code.
int BenchMain(int argc, char** argv, int (*run)());

// The exit code at the end of a run: 1 when the report could not be written (`report_written`
// is false, as Report::Finish returned it); 1 when --require_nonzero is set and the run found a
// zero figure (`zero`), after printing `why` to stderr; 0 otherwise.
int FinishRun(bool report_written, bool zero, const char* why);

}  // namespace tributary::bench

#endif  // TRIBUTARY_TOOLS_BENCH_COMMON_BENCH_MAIN_H_
