// Helpers for *_main.cc: flag parsing, logging, signal handling and the port
// file that lets a parent process (tests, scripts) learn the port a server
// bound with --listen=...:0.
//
// Flags shared by every server (defined in server_main.cc):
//   --port_file=PATH   after binding, write the bound port (decimal, newline)
//   to PATH
//                      atomically (write to PATH.tmp, rename).
#ifndef TRIBUTARY_COMMON_SERVER_MAIN_H_
#define TRIBUTARY_COMMON_SERVER_MAIN_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace tributary {

// Answers --help (Tributary's flags only) and --version and exits 0 (common/program_flags.h);
// otherwise sets glibc's malloc to keep freed memory (large messages are the norm here), parses
// flags, sets up logging (to stderr, or to glog's files with --log_dir=DIR or
// --logtostderr=false), and blocks SIGINT/SIGTERM/SIGHUP in this
// thread (and every thread started after it) so that WaitForTerminationSignal
// can receive them; sets the umask to 077, so every file the server creates (data, logs, port
// files) is its owner's only. Call first in main().
void InitServerMain(int* argc, char*** argv, const char* usage);

// Writes `port` to --port_file when that flag is set. Errors: INTERNAL naming
// the path.
absl::Status WritePortFile(int port);
// Writes `port` to `path` the same way (a server's second port, e.g. --aws_port_file).
absl::Status WritePortFile(const std::string& path, int port);

// Blocks until SIGINT or SIGTERM arrives; returns the signal number. A SIGHUP meanwhile calls
// `on_hangup` (when given: e.g. re-read the bearer tokens) and the wait goes on; SIGHUP never
// ends a server.
int WaitForTerminationSignal(const std::function<void()>& on_hangup = nullptr);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_SERVER_MAIN_H_
