// Parses the command line and runs the command it names (commands.cc holds every command, with
// its request, call and output) in a Context (context.h); prints errors and picks the exit code.
#include "tools/tribctl/tribctl.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "tools/tribctl/command_line.h"
#include "tools/tribctl/context.h"

namespace tributary::tribctl {
namespace {

void PrintError(const absl::Status& status, std::ostream& err) {
  err << "error: " << absl::StatusCodeToString(status.code());
  if (!status.message().empty()) err << ": " << status.message();
  if (status.code() == absl::StatusCode::kUnimplemented) {
    // gRPC's answer when the endpoint serves other services than the one called.
    err << (status.message().empty() ? ": " : " ")
        << "(the endpoint does not serve this RPC: check --endpoint and --streams-endpoint, "
           "--mappings-endpoint, --leasing-endpoint, --poller-endpoint)";
  }
  err << "\n";
}

// After a connection failure (gRPC: "failed to connect to all addresses"): which endpoint,
// where it came from, and how to set it.
void PrintConnectHint(const CommandLine& line, const EndpointDefaults& endpoints,
                      std::ostream& err) {
  std::string answered = line.flags.StringOr("endpoint", "");
  for (const char* service :
       {"streams-endpoint", "mappings-endpoint", "leasing-endpoint", "poller-endpoint"}) {
    const std::string value = line.flags.StringOr(service, "");
    if (value != line.flags.StringOr("endpoint", "")) {
      absl::StrAppend(&answered, ", ", service, " ", value);
    }
  }
  err << "hint: no Tributary answered at " << answered << " (endpoint from "
      << line.endpoint_source << "). Start one (tributary serve), or set the endpoint with "
      << "--endpoint=HOST:PORT, the TRIBUTARY_ENDPOINT variable, or 'endpoint = HOST:PORT' in "
      << (endpoints.config_path.empty() ? std::string("~/.config/tributary/config")
                                        : endpoints.config_path)
      << "\n";
}

}  // namespace

void Interrupt::Trigger() {
  absl::MutexLock lock(&mu_);
  triggered_ = true;
  if (hook_) hook_();
}

bool Interrupt::triggered() {
  absl::MutexLock lock(&mu_);
  return triggered_;
}

void Interrupt::SetHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
  if (triggered_ && hook_) hook_();
}

int RunTribctl(const std::vector<std::string>& args, const Io& io,
               const EndpointDefaults& endpoints) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(args, endpoints);
  if (!line.ok()) {
    PrintError(line.status(), *io.err);
    *io.err << "run 'tribctl help' or 'tribctl <command> --help' for usage\n";
    return kExitUsage;
  }
  if (line->version) {
    *io.out << "tribctl " << kVersion << "\n";
    return kExitOk;
  }
  if (line->help) {
    *io.out << HelpText(line->command, line->help_group);
    return kExitOk;
  }
  if (!line->command->run) {
    PrintError(absl::InternalError(absl::StrCat("no handler for ", line->command->Name())),
               *io.err);
    return kExitError;
  }
  Context context(*line, io);
  absl::Status status = line->command->run(context);
  io.out->flush();
  if (status.ok()) return kExitOk;
  PrintError(status, *io.err);
  if (status.code() == absl::StatusCode::kUnavailable &&
      absl::StrContains(status.message(), "ailed to connect")) {
    PrintConnectHint(*line, endpoints, *io.err);
  }
  if (IsUsageError(status)) {
    *io.err << "run 'tribctl " << line->command->Name() << " --help' for usage\n";
    return kExitUsage;
  }
  return kExitError;
}

}  // namespace tributary::tribctl
