// Child processes for tests, the demo and the end-to-end harness: start a binary, learn the
// port it bound (--port_file), kill it (SIGKILL for crash tests), wait for it.
// Waits here are in real time: they watch other processes.
#ifndef TRIBUTARY_COMMON_PROCESS_H_
#define TRIBUTARY_COMMON_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc_security.h"

namespace tributary {

// A child process started with fork/exec. Killed with SIGKILL on destruction if
// still running.
class Subprocess {
 public:
  // Starts `binary` with `args` (argv[1..]); stdout and stderr go to `log_path`
  // when non-empty, otherwise they are inherited. Errors: INTERNAL when
  // fork/exec fails.
  static absl::StatusOr<Subprocess> Start(const std::string& binary,
                                          const std::vector<std::string>& args,
                                          const std::string& log_path = "");

  // A handle to no process: running() is false, Kill and Wait do nothing.
  Subprocess() = default;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends `signal` and reaps the child; returns its wait status. No-op when not
  // running.
  int Kill(int signal);
  // Waits (real time, at most `timeout`) for the child to exit. Returns its
  // wait status, or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// Waits (real time, at most `timeout`) for a server started with
// --port_file=path to write its port, then returns it. Errors:
// DEADLINE_EXCEEDED naming the file.
absl::StatusOr<int> WaitForPortFile(const std::string& path,
                                    absl::Duration timeout = absl::Seconds(30));

// Waits (real time, at most `timeout`) until `address` accepts a gRPC
// connection (the server is up), made as `security` says (a TLS server needs a
// client that trusts it). Errors: DEADLINE_EXCEEDED.
absl::Status WaitForServing(const std::string& address, absl::Duration timeout = absl::Seconds(30),
                            const GrpcClientSecurity& security = GrpcClientSecurity());

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_PROCESS_H_
