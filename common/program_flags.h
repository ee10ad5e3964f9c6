// `--version` and `--help` for every binary that parses its flags with gflags (the servers, the
// all-in-one `tributary`, the example function; tribctl has its own parser and prints the same
// version line).
//
// gflags' own `--help` lists every flag linked into the binary (glog's, gflags', and the flags of
// RocksDB's tools that Debian's librocksdb carries: ~370 lines) and exits 1; its `--version`
// prints no version. HandleHelpAndVersion answers both before gflags sees them: the version from
// common/version.h, and a short help with only Tributary's own flags. `--helpfull` is left to
// gflags (every linked flag).
#ifndef TRIBUTARY_COMMON_PROGRAM_FLAGS_H_
#define TRIBUTARY_COMMON_PROGRAM_FLAGS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tributary {

// "<program> <kVersion>", e.g. "tributary 0.1.0" (no newline).
std::string VersionLine(absl::string_view program);

// The short help: `usage`, then every registered gflags flag defined in Tributary's own sources
// (a file path relative to the workspace; flags of system libraries are defined in files whose
// recorded path starts with '/' or '.'), sorted by name, each on one line (`tributary serve` has
// ~60 flags: two lines each made its help longer than a screenful of 120 lines):
//   --name=DEFAULT (type): description
// and a closing line on --version and --helpfull.
std::string ShortHelp(absl::string_view usage);

// When `argv` (argv[1..argc-1]) holds `--version` / `-version`, prints VersionLine(basename of
// argv[0]) to stdout and exits 0; when it holds `--help`, `-help`, `-h`, `--helpshort` or
// `-helpshort`, prints ShortHelp(usage) to stdout and exits 0. Otherwise returns and changes
// nothing. Call before gflags::ParseCommandLineFlags (InitServerMain does).
void HandleHelpAndVersion(int argc, char** argv, absl::string_view usage);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_PROGRAM_FLAGS_H_
