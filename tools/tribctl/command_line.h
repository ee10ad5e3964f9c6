// tribctl's command line: the table of commands with their flags, and a parser
// that turns argv into a validated CommandLine.
//
// Grammar (shaped like the AWS CLI):
//   tribctl [global flags] <group> <verb> [flags]      e.g. tribctl streams create --stream=s
//   tribctl [global flags] metrics [flags]             (a one-word command)
//   tribctl help | --help | -h, and <group> [<verb>] --help; tribctl --version
// Flags may appear anywhere after the program name: --name=value, --name value,
// and for booleans --name, --no-name, --name=true|false. '_' and '-' are the same
// in flag names (--streams_endpoint == --streams-endpoint). A list flag may be
// repeated or given comma-separated; a repeated flag (kRepeated) takes one whole value per
// occurrence. A flag may have aliases (--stream-name for --stream). Every value is checked here
// (type, choices, int32 range), so later stages read typed values that cannot be malformed.
//
// Thread-compatible: the command table is immutable after first use.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_COMMAND_LINE_H_
#define TRIBUTARY_TOOLS_TRIBCTL_COMMAND_LINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

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
  // The request field the flag sets when it is given (see FillRequest in requests.h): a proto
  // field name of the command's request, or a path through singular message fields
  // ("destination_config.on_failure.destination"). Empty when the command's own code reads
  // the flag.
  std::string field;
  // Other names the flag answers to, without "--" ("stream-name" for "stream").
  std::vector<std::string> aliases;

  // This flag, setting request field `request_field`.
  FlagSpec Sets(std::string request_field) const;
  // This flag, also answering to --`alias`.
  FlagSpec Alias(std::string alias) const;
};

// Flags of each type; `required` flags must be given.
FlagSpec StringFlag(std::string name, std::string help, bool required = false);
FlagSpec IntFlag(std::string name, std::string help, bool required = false);
FlagSpec BoolFlag(std::string name, std::string help);
FlagSpec EnumFlag(std::string name, std::string help, std::vector<std::string> choices,
                  bool required = false);
FlagSpec TimeFlag(std::string name, std::string help);
FlagSpec DurationFlag(std::string name, std::string help);
// `choices` empty: any items.
FlagSpec ListFlag(std::string name, std::string help, std::vector<std::string> choices = {},
                  bool required = false);
FlagSpec RepeatedFlag(std::string name, std::string help);

class Context;  // tools/tribctl/context.h: what a running command works with
class FlagValues;

// One command: its words, help, flags, the request its flags fill, and what it does. The table
// of every command is tools/tribctl/commands.cc.
struct CommandSpec {
  std::string group;  // "streams"
  std::string verb;   // "create"; empty for a one-word command ("metrics")
  std::string help;
  std::vector<FlagSpec> flags;
  // The request message the flags' fields belong to; null when the command builds none from
  // its flags.
  const google::protobuf::Descriptor* request = nullptr;
  // What building the request does after setting the flags' fields (FillRequest): rules across
  // flags (usage errors), defaults, fields made from several flags. May be empty.
  std::function<absl::Status(const FlagValues&, google::protobuf::Message*)> finish;
  // Runs the command: builds its request, calls the service(s), prints.
  std::function<absl::Status(Context&)> run;

  // "streams create" or "metrics".
  std::string Name() const { return verb.empty() ? group : group + " " + verb; }
};

// Every command, in help order (defined in commands.cc).
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
  // --version was given: print `tribctl <version>` and nothing else.
  bool version = false;
  std::string help_group;
  FlagValues flags;  // the command's and the global flags
  // Where --endpoint's value came from, for messages: "--endpoint", "TRIBUTARY_ENDPOINT",
  // "<config path>" or "the default".
  std::string endpoint_source;
};

// Where the endpoints come from when the flags do not say. Precedence, highest first: a
// per-service flag (--streams-endpoint, ...); --endpoint; $TRIBUTARY_ENDPOINT; the config
// file's per-service key; its `endpoint`; 127.0.0.1:4560.
//
// The config file (~/.config/tributary/config, or $XDG_CONFIG_HOME/tributary/config) holds
// `key = value` lines; '#' starts a comment; keys are endpoint, streams-endpoint,
// mappings-endpoint, leasing-endpoint and poller-endpoint ('_' and '-' alike), e.g.
//   # the production cluster
//   endpoint = tributary.internal:4560
struct EndpointDefaults {
  std::string env_endpoint;  // $TRIBUTARY_ENDPOINT; empty: unset
  std::string config_path;   // the config file's path (messages name it); empty: none read
  std::string config_text;   // its content
};

// The config file's path: $XDG_CONFIG_HOME/tributary/config when that variable is set, else
// $HOME/.config/tributary/config; empty when neither variable is set.
std::string ConfigPath(const char* xdg_config_home, const char* home);

// Parses `args` (argv without the program name). Global flags get their
// defaults (--output=table, --timeout=10s) and the endpoints theirs from
// `defaults` (see EndpointDefaults).
// Errors (all usage errors, see IsUsageError): INVALID_ARGUMENT naming the
// offending word or flag: an unknown command, group or flag; a flag without
// its value or given twice; a value of the wrong type or outside the choices;
// a missing required flag; an unexpected positional argument; a malformed
// endpoint (naming where it came from); a config file line that is not
// `key = value` with a known key (naming the file and line).
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args,
                                             const EndpointDefaults& defaults = {});

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
