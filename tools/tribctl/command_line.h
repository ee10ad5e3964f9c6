// tribctl's command line: the table of commands with their flags, and a parser
// that turns argv into a validated CommandLine.
//
// Grammar (shaped like the AWS CLI):
//   tribctl [global flags] <group> <verb> [flags]      e.g. tribctl streams create --stream=s
//   tribctl [global flags] metrics [flags]             (a one-word command)
//   tribctl help | --help | -h, and <group> [<verb>] --help
// Flags may appear anywhere after the program name: --name=value, --name value,
// and for booleans --name, --no-name, --name=true|false. '_' and '-' are the same
// in flag names (--streams_endpoint == --streams-endpoint). A list flag may be
// repeated or given comma-separated; a repeated flag (kRepeated) takes one whole value per
// occurrence. Every value is checked here (type, choices,
// int32 range), so later stages read typed values that cannot be malformed.
//
// Thread-compatible: the command table is immutable after first use.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_COMMAND_LINE_H_
#define TRIBUTARY_TOOLS_TRIBCTL_COMMAND_LINE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tributary::tribctl {

enum class FlagType {
  kString,
  kInt,        // a decimal that fits in int32
  kBool,       // --x, --no-x, --x=true|false
  kEnum,       // one of `choices`, matched ignoring case, '_' and '-'
  kList,       // repeated or comma-separated; elements from `choices` when it is non-empty
  kTimestamp,  // RFC 3339 ("2026-01-02T03:04:05Z") or Unix seconds ("1767322800.5")
  kDuration,   // "10s", "500ms", "2m", or a bare number of seconds
  kRepeated,   // repeated, one whole value each (never split at commas: JSON); --x= alone is
               // given-but-empty
};

struct FlagSpec {
  std::string name;  // kebab-case, without "--"
  FlagType type;
  std::string help;
  bool required = false;
  std::vector<std::string> choices;  // canonical spellings, for kEnum and kList
};

struct CommandSpec {
  std::string group;  // "streams"
  std::string verb;   // "create"; empty for a one-word command ("metrics")
  std::string help;
  std::vector<FlagSpec> flags;

  // "streams create" or "metrics".
  std::string Name() const { return verb.empty() ? group : group + " " + verb; }
};

// Every command, in help order.
const std::vector<CommandSpec>& AllCommands();
// Flags every command accepts: --endpoint, --streams-endpoint, --mappings-endpoint,
// --leasing-endpoint, --poller-endpoint, --output, --timeout.
const std::vector<FlagSpec>& GlobalFlags();

// The validated flags of one command line, by name (kebab-case).
class FlagValues {
 public:
  using Value = std::variant<std::string, int64_t, bool, absl::Time, absl::Duration,
                             std::vector<std::string>>;

  bool Has(absl::string_view name) const { return values_.count(std::string(name)) > 0; }
  // Each getter returns the value when the flag was given (or defaulted), else
  // nullopt / `fallback`. Asking for a flag with another type is a programmer
  // error (it returns nullopt).
  std::optional<std::string> String(absl::string_view name) const;
  std::string StringOr(absl::string_view name, const std::string& fallback) const;
  std::optional<int64_t> Int(absl::string_view name) const;
  std::optional<bool> Bool(absl::string_view name) const;
  std::optional<absl::Time> Time(absl::string_view name) const;
  std::optional<absl::Duration> Duration(absl::string_view name) const;
  // Empty when not given; a given-but-empty list (--x=) is Has() and empty.
  std::vector<std::string> List(absl::string_view name) const;

  void Set(const std::string& name, Value value) { values_[name] = std::move(value); }

 private:
  std::map<std::string, Value> values_;
};

struct CommandLine {
  // The command; null when only help was asked for without a full command.
  const CommandSpec* command = nullptr;
  // --help, -h or `help` was given: print help for `command` (or for `help_group`
  // or everything) instead of running.
  bool help = false;
  std::string help_group;
  FlagValues flags;  // the command's and the global flags
};

// Parses `args` (argv without the program name). Global flags get their
// defaults (--endpoint=127.0.0.1:4560, --output=table, --timeout=10s) and the
// per-service endpoints default to --endpoint.
// Errors (all usage errors, see IsUsageError): INVALID_ARGUMENT naming the
// offending word or flag: an unknown command, group or flag; a flag without
// its value or given twice; a value of the wrong type or outside the choices;
// a missing required flag; an unexpected positional argument.
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// Help text: everything (command null, group empty), one group, or one command
// with its flags.
std::string HelpText(const CommandSpec* command, absl::string_view group = "");

// An INVALID_ARGUMENT status marked as a usage error (tribctl exits 2 for
// these rather than 1).
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// Parses a kTimestamp value. Errors: INVALID_ARGUMENT.
absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_COMMAND_LINE_H_
