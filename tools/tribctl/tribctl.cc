// Parses the command line and runs the command it names (commands.cc holds every command, with
// its request, call and output) in a Context (context.h); prints errors and picks the exit code.
#include "tools/tribctl/tribctl.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

int RunTribctl(const std::vector<std::string>& args, const Io& io) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(args);
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
  if (IsUsageError(status)) {
    *io.err << "run 'tribctl " << line->command->Name() << " --help' for usage\n";
    return kExitUsage;
  }
  return kExitError;
}

}  // namespace tributary::tribctl
