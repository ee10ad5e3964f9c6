// tribctl as a library: RunTribctl runs one command line against the services
// at the given endpoints and reports through streams and an exit code, so that
// tests call it in-process and main() stays a few lines.
//
// Output: a table (default) or, with --output=json, protobuf JSON of the
// response (list commands print every page merged into one response; `records
// get --follow` prints one JSON record per line). Errors go to `err` as
// "error: <CODE>: <message>".
//
// Exit codes: kExitOk; kExitError for an error from a service or the network
// (and for records that PutRecords did not write; a connection that fails adds a
// hint naming the endpoint, where it came from and how to set it); kExitUsage for
// a bad command line (with a hint to --help).
#ifndef TRIBUTARY_TOOLS_TRIBCTL_TRIBCTL_H_
#define TRIBUTARY_TOOLS_TRIBCTL_TRIBCTL_H_

#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "tools/tribctl/command_line.h"

namespace tributary::tribctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Ctrl-C for long-running commands (`records get --follow`): main() calls
// Trigger() from its signal thread; the command installs a hook that cancels
// its call. Thread-safe.
class Interrupt {
 public:
  // Marks this interrupted and runs the current hook, if any. Idempotent.
  void Trigger();
  bool triggered();
  // Sets the action Trigger() runs (nullptr clears it). When already
  // triggered, runs `hook` at once. The hook runs under this object's lock:
  // it must be quick and must not call back into this object.
  void SetHook(std::function<void()> hook);

 private:
  absl::Mutex mu_;
  bool triggered_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
};

struct Io {
  std::istream* in;                // `records put` reads stdin lines from here
  std::ostream* out;               // results
  std::ostream* err;               // errors and notes
  Interrupt* interrupt = nullptr;  // may be null: then nothing interrupts
  // The wall clock for the deadline header of a direct invocation over HTTP (`redrive
  // --to-function`); may be null: then common's RealClock.
  Clock* clock = nullptr;
};

// Runs `args` (argv without the program name). `endpoints`: $TRIBUTARY_ENDPOINT and the
// config file, which main() reads (command_line.h). Returns the exit code.
int RunTribctl(const std::vector<std::string>& args, const Io& io,
               const EndpointDefaults& endpoints = {});

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_TRIBCTL_H_
