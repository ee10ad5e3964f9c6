#include "tools/tribctl/command_line.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"

namespace tributary::tribctl {
namespace {

constexpr char kUsagePayloadUrl[] = "type.tributary/tribctl.UsageError";

std::string Normalize(absl::string_view word) {
  std::string out;
  for (char ch : word) {
    if (ch == '_' || ch == '-') continue;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(ch)));
  }
  return out;
}

std::string FlagName(absl::string_view raw) {
  std::string name(raw);
  for (char& ch : name) {
    if (ch == '_') ch = '-';
  }
  return name;
}

std::optional<std::string> MatchChoice(const FlagSpec& spec, absl::string_view value) {
  for (const std::string& choice : spec.choices) {
    if (Normalize(choice) == Normalize(value)) return choice;
  }
  return std::nullopt;
}

absl::StatusOr<absl::Duration> ParseDurationValue(absl::string_view text) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds) && seconds > 0) return absl::Seconds(seconds);
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration()) return d;
  return absl::InvalidArgumentError("expected a positive duration such as 10s or 500ms");
}

// Converts the text of one flag into its typed value, or explains why not.
absl::StatusOr<FlagValues::Value> ParseValue(const FlagSpec& spec, absl::string_view text) {
  switch (spec.type) {
    case FlagType::kString:
      return FlagValues::Value(std::string(text));
    case FlagType::kInt: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v) || v < std::numeric_limits<int32_t>::min() ||
          v > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected a 32-bit integer, got '", text, "'"));
      }
      return FlagValues::Value(v);
    }
    case FlagType::kBool: {
      bool v = false;
      if (!absl::SimpleAtob(text, &v)) {
        return absl::InvalidArgumentError(absl::StrCat("expected true or false, got '", text, "'"));
      }
      return FlagValues::Value(v);
    }
    case FlagType::kEnum: {
      std::optional<std::string> choice = MatchChoice(spec, text);
      if (!choice) {
        return absl::InvalidArgumentError(absl::StrCat(
            "expected one of ", absl::StrJoin(spec.choices, ", "), ", got '", text, "'"));
      }
      return FlagValues::Value(*choice);
    }
    case FlagType::kList: {
      std::vector<std::string> items;
      for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
        item = absl::StripAsciiWhitespace(item);
        if (spec.choices.empty()) {
          items.emplace_back(item);
          continue;
        }
        std::optional<std::string> choice = MatchChoice(spec, item);
        if (!choice) {
          return absl::InvalidArgumentError(absl::StrCat(
              "expected items from ", absl::StrJoin(spec.choices, ", "), ", got '", item, "'"));
        }
        items.push_back(*choice);
      }
      return FlagValues::Value(std::move(items));
    }
    case FlagType::kRepeated: {
      std::vector<std::string> items;
      if (!text.empty()) items.emplace_back(text);
      return FlagValues::Value(std::move(items));
    }
    case FlagType::kTimestamp: {
      absl::StatusOr<absl::Time> t = ParseTimestamp(text);
      if (!t.ok()) return t.status();
      return FlagValues::Value(*t);
    }
    case FlagType::kDuration: {
      absl::StatusOr<absl::Duration> d = ParseDurationValue(text);
      if (!d.ok()) return d.status();
      return FlagValues::Value(*d);
    }
  }
  return absl::InternalError("unknown flag type");
}

const CommandSpec* FindCommand(absl::string_view group, absl::string_view verb) {
  for (const CommandSpec& c : AllCommands()) {
    if (c.group == group && c.verb == verb) return &c;
  }
  return nullptr;
}

bool IsGroup(absl::string_view group) {
  for (const CommandSpec& c : AllCommands()) {
    if (c.group == group) return true;
  }
  return false;
}

std::vector<std::string> VerbsOf(absl::string_view group) {
  std::vector<std::string> verbs;
  for (const CommandSpec& c : AllCommands()) {
    if (c.group == group) verbs.push_back(c.verb);
  }
  return verbs;
}

const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags, absl::string_view name) {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
    for (const std::string& alias : f.aliases) {
      if (alias == name) return &f;
    }
  }
  return nullptr;
}

std::string FlagUsage(const FlagSpec& f) {
  std::string left = absl::StrCat("  --", f.name);
  for (const std::string& alias : f.aliases) absl::StrAppend(&left, "|--", alias);
  switch (f.type) {
    case FlagType::kBool:
      left = absl::StrCat("  --[no-]", f.name);
      break;
    case FlagType::kEnum:
      absl::StrAppend(&left, "=", absl::StrJoin(f.choices, "|"));
      break;
    case FlagType::kInt:
      absl::StrAppend(&left, "=N");
      break;
    case FlagType::kTimestamp:
      absl::StrAppend(&left, "=TIME");
      break;
    case FlagType::kDuration:
      absl::StrAppend(&left, "=DURATION");
      break;
    case FlagType::kList:
      absl::StrAppend(&left, "=A,B");
      break;
    case FlagType::kRepeated:
      absl::StrAppend(&left, "=VALUE...");
      break;
    case FlagType::kString:
      absl::StrAppend(&left, "=VALUE");
      break;
  }
  std::string line = left;
  if (line.size() < 44)
    line.resize(44, ' ');
  else
    line += "\n" + std::string(44, ' ');
  absl::StrAppend(&line, f.help, f.required ? " (required)" : "", "\n");
  return line;
}

}  // namespace

FlagSpec FlagSpec::Sets(std::string request_field) const {
  FlagSpec copy = *this;
  copy.field = std::move(request_field);
  return copy;
}

FlagSpec FlagSpec::Alias(std::string alias) const {
  FlagSpec copy = *this;
  copy.aliases.push_back(std::move(alias));
  return copy;
}

FlagSpec StringFlag(std::string name, std::string help, bool required) {
  return {std::move(name), FlagType::kString, std::move(help), required, {}, {}, {}};
}
FlagSpec IntFlag(std::string name, std::string help, bool required) {
  return {std::move(name), FlagType::kInt, std::move(help), required, {}, {}, {}};
}
FlagSpec BoolFlag(std::string name, std::string help) {
  return {std::move(name), FlagType::kBool, std::move(help), false, {}, {}, {}};
}
FlagSpec EnumFlag(std::string name, std::string help, std::vector<std::string> choices,
                  bool required) {
  return {std::move(name), FlagType::kEnum, std::move(help), required, std::move(choices), {}, {}};
}
FlagSpec TimeFlag(std::string name, std::string help) {
  return {std::move(name), FlagType::kTimestamp, std::move(help), false, {}, {}, {}};
}
FlagSpec DurationFlag(std::string name, std::string help) {
  return {std::move(name), FlagType::kDuration, std::move(help), false, {}, {}, {}};
}
FlagSpec ListFlag(std::string name, std::string help, std::vector<std::string> choices,
                  bool required) {
  return {std::move(name), FlagType::kList, std::move(help), required, std::move(choices), {}, {}};
}
FlagSpec RepeatedFlag(std::string name, std::string help) {
  return {std::move(name), FlagType::kRepeated, std::move(help), false, {}, {}, {}};
}

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      StringFlag("endpoint", "the Tributary gRPC address (default 127.0.0.1:4560)"),
      StringFlag("streams-endpoint", "the Streams service (default --endpoint)"),
      StringFlag("mappings-endpoint",
                 "the stream tracker: EventSourceMappings and Functions (default --endpoint)"),
      StringFlag("leasing-endpoint", "the Leasing service (default --endpoint)"),
      StringFlag("poller-endpoint", "the Pollers service (default --endpoint)"),
      EnumFlag("output", "table (default) or json", {"table", "json"}),
      DurationFlag("timeout", "deadline of each call (default 10s)"),
  };
  return *flags;
}

std::optional<std::string> FlagValues::String(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
  return std::nullopt;
}

std::string FlagValues::StringOr(absl::string_view name, const std::string& fallback) const {
  return String(name).value_or(fallback);
}

std::optional<int64_t> FlagValues::Int(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  if (const auto* v = std::get_if<int64_t>(&it->second)) return *v;
  return std::nullopt;
}

std::optional<bool> FlagValues::Bool(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  if (const auto* v = std::get_if<bool>(&it->second)) return *v;
  return std::nullopt;
}

std::optional<absl::Time> FlagValues::Time(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  if (const auto* v = std::get_if<absl::Time>(&it->second)) return *v;
  return std::nullopt;
}

std::optional<absl::Duration> FlagValues::Duration(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  if (const auto* v = std::get_if<absl::Duration>(&it->second)) return *v;
  return std::nullopt;
}

std::vector<std::string> FlagValues::List(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return {};
  if (const auto* v = std::get_if<std::vector<std::string>>(&it->second)) return *v;
  return {};
}

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayloadUrl, absl::Cord("usage"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayloadUrl).has_value();
}

absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    return absl::FromUnixNanos(static_cast<int64_t>(seconds * 1e9));
  }
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  return absl::InvalidArgumentError(absl::StrCat(
      "expected an RFC 3339 time (2026-01-02T03:04:05Z) or Unix seconds, got '", text, "'"));
}

namespace {

constexpr const char* kServiceEndpoints[] = {"streams-endpoint", "mappings-endpoint",
                                             "leasing-endpoint", "poller-endpoint"};

// The config file's keys and values. Errors: a usage error naming the file and line.
absl::StatusOr<std::map<std::string, std::string>> ParseConfig(const EndpointDefaults& defaults) {
  std::map<std::string, std::string> config;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(defaults.config_text, '\n')) {
    ++number;
    line = line.substr(0, line.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    const std::string where = absl::StrCat(defaults.config_path, ":", number, ": ");
    if (eq == absl::string_view::npos) {
      return UsageError(absl::StrCat(where, "expected 'key = value', got '", line, "'"));
    }
    std::string key(absl::StripAsciiWhitespace(line.substr(0, eq)));
    std::replace(key.begin(), key.end(), '_', '-');
    const std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key != "endpoint" && std::find(std::begin(kServiceEndpoints), std::end(kServiceEndpoints),
                                       key) == std::end(kServiceEndpoints)) {
      return UsageError(absl::StrCat(where, "unknown key '", key,
                                     "' (endpoint, streams-endpoint, mappings-endpoint, "
                                     "leasing-endpoint, poller-endpoint)"));
    }
    config[key] = value;
  }
  return config;
}

}  // namespace

std::string ConfigPath(const char* xdg_config_home, const char* home) {
  if (xdg_config_home != nullptr && xdg_config_home[0] != '\0') {
    return absl::StrCat(xdg_config_home, "/tributary/config");
  }
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.config/tributary/config");
  return "";
}

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args,
                                             const EndpointDefaults& defaults) {
  CommandLine line;
  std::vector<std::string> words;
  std::map<std::string, std::string> given_as;  // flag name -> the spelling first used
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h" || (words.empty() && arg == "help")) {
      line.help = true;
      continue;
    }
    if (arg == "--version") {
      line.version = true;
      return line;  // nothing else on the line matters
    }
    if (absl::StartsWith(arg, "--") && arg.size() > 2) {
      absl::string_view body = absl::string_view(arg).substr(2);
      std::optional<std::string> inline_value;
      size_t eq = body.find('=');
      if (eq != absl::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      std::string name = FlagName(body);
      const std::vector<FlagSpec> empty;
      const std::vector<FlagSpec>& command_flags =
          line.command != nullptr ? line.command->flags : empty;
      const FlagSpec* spec = FindFlag(command_flags, name);
      if (spec == nullptr) spec = FindFlag(GlobalFlags(), name);
      bool negated = false;
      if (spec == nullptr && absl::StartsWith(name, "no-")) {
        const FlagSpec* positive = FindFlag(command_flags, name.substr(3));
        if (positive != nullptr && positive->type == FlagType::kBool) {
          spec = positive;
          negated = true;
        }
      }
      if (spec == nullptr) {
        if (line.command != nullptr) {
          return UsageError(
              absl::StrCat("unknown flag --", name, " for '", line.command->Name(), "'"));
        }
        return UsageError(
            absl::StrCat("unknown flag --", name, " (command flags go after the command)"));
      }
      const bool accumulates = spec->type == FlagType::kList || spec->type == FlagType::kRepeated;
      if (given_as.count(spec->name) > 0 && !accumulates) {
        return UsageError(absl::StrCat("flag --", spec->name, " given twice"));
      }
      given_as[spec->name] = name;
      std::string text;
      if (negated) {
        if (inline_value) {
          return UsageError(absl::StrCat("flag --", name, " takes no value"));
        }
        text = "false";
      } else if (inline_value) {
        text = *inline_value;
      } else if (spec->type == FlagType::kBool) {
        text = "true";
      } else if (i + 1 < args.size()) {
        text = args[++i];
      } else {
        return UsageError(absl::StrCat("flag --", spec->name, " needs a value"));
      }
      absl::StatusOr<FlagValues::Value> value = ParseValue(*spec, text);
      if (!value.ok()) {
        return UsageError(absl::StrCat("flag --", spec->name, ": ", value.status().message()));
      }
      if (accumulates && line.flags.Has(spec->name)) {
        std::vector<std::string> merged = line.flags.List(spec->name);
        for (std::string& item : std::get<std::vector<std::string>>(*value)) {
          merged.push_back(std::move(item));
        }
        line.flags.Set(spec->name, std::move(merged));
      } else {
        line.flags.Set(spec->name, std::move(*value));
      }
      continue;
    }
    if (line.command != nullptr) {
      return UsageError(absl::StrCat("unexpected argument '", arg, "' after '",
                                     line.command->Name(), "' (values go in flags)"));
    }
    words.push_back(arg);
    if (words.size() == 1) {
      if (!IsGroup(arg)) return UsageError(absl::StrCat("unknown command '", arg, "'"));
      line.command = FindCommand(arg, "");
    } else {
      line.command = FindCommand(words[0], arg);
      if (line.command == nullptr) {
        return UsageError(absl::StrCat("unknown command '", words[0], " ", arg,
                                       "' (one of: ", absl::StrJoin(VerbsOf(words[0]), ", "), ")"));
      }
    }
  }
  if (line.help) {
    if (line.command == nullptr && !words.empty()) line.help_group = words[0];
    return line;
  }
  if (line.command == nullptr) {
    if (words.empty()) return UsageError("missing command (try 'tribctl help')");
    return UsageError(absl::StrCat("missing subcommand for '", words[0],
                                   "' (one of: ", absl::StrJoin(VerbsOf(words[0]), ", "), ")"));
  }
  for (const FlagSpec& f : line.command->flags) {
    if (f.required && !line.flags.Has(f.name)) {
      return UsageError(
          absl::StrCat("missing required flag --", f.name, " for '", line.command->Name(), "'"));
    }
  }
  std::map<std::string, std::string> config;
  if (!defaults.config_text.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> parsed = ParseConfig(defaults);
    if (!parsed.ok()) return parsed.status();
    config = *std::move(parsed);
  }
  // Where each endpoint came from, for messages.
  std::map<std::string, std::string> source;
  if (line.flags.Has("endpoint")) {
    line.endpoint_source = "--endpoint";
  } else if (!defaults.env_endpoint.empty()) {
    line.flags.Set("endpoint", defaults.env_endpoint);
    line.endpoint_source = "TRIBUTARY_ENDPOINT";
  } else if (config.count("endpoint") > 0) {
    line.flags.Set("endpoint", config["endpoint"]);
    line.endpoint_source = defaults.config_path;
  } else {
    line.flags.Set("endpoint", std::string("127.0.0.1:4560"));
    line.endpoint_source = "the default";
  }
  source["endpoint"] = line.endpoint_source;
  const bool endpoint_given = line.endpoint_source == "--endpoint" ||
                              line.endpoint_source == "TRIBUTARY_ENDPOINT";
  for (const char* service : kServiceEndpoints) {
    if (line.flags.Has(service)) {
      source[service] = absl::StrCat("--", service);
    } else if (!endpoint_given && config.count(service) > 0) {
      line.flags.Set(service, config[service]);
      source[service] = defaults.config_path;
    } else {
      line.flags.Set(service, line.flags.StringOr("endpoint", ""));
      source[service] = line.endpoint_source;
    }
  }
  // gRPC would dial "h:99999" as port 34463 and "h:45x" as port 45; say what is wrong instead.
  for (const char* name : {"endpoint", "streams-endpoint", "mappings-endpoint", "leasing-endpoint",
                           "poller-endpoint"}) {
    const std::string value = line.flags.StringOr(name, "");
    if (absl::Status s = CheckAddressFlags({{name, value, AddressUse::kDial}}); !s.ok()) {
      if (source[name] == absl::StrCat("--", name)) return UsageError(s.message());
      return UsageError(absl::StrCat(s.message(), " (from ", source[name], ")"));
    }
  }
  if (!line.flags.Has("output")) line.flags.Set("output", std::string("table"));
  if (!line.flags.Has("timeout")) line.flags.Set("timeout", absl::Seconds(10));
  return line;
}

std::string HelpText(const CommandSpec* command, absl::string_view group) {
  std::string out;
  if (command != nullptr) {
    absl::StrAppend(&out, "usage: tribctl ", command->Name(), " [flags]\n\n", command->help,
                    "\n\nflags:\n");
    for (const FlagSpec& f : command->flags) absl::StrAppend(&out, FlagUsage(f));
    absl::StrAppend(&out, "\nglobal flags:\n");
    for (const FlagSpec& f : GlobalFlags()) absl::StrAppend(&out, FlagUsage(f));
    return out;
  }
  absl::StrAppend(&out,
                  "usage: tribctl [global flags] <command> [flags]\n"
                  "Tributary's operator CLI. 'tribctl <command> --help' shows a command's "
                  "flags.\n\ncommands:\n");
  for (const CommandSpec& c : AllCommands()) {
    if (!group.empty() && c.group != group) continue;
    std::string name = absl::StrCat("  ", c.Name());
    if (name.size() < 38)
      name.resize(38, ' ');
    else
      name += " ";
    absl::StrAppend(&out, name, c.help, "\n");
  }
  absl::StrAppend(&out, "\nglobal flags:\n");
  for (const FlagSpec& f : GlobalFlags()) absl::StrAppend(&out, FlagUsage(f));
  absl::StrAppend(&out,
                  "\nexit status: 0 success, 1 an error from a service (printed as "
                  "'error: CODE: message'), 2 a usage error\n"
                  "'tribctl --version' prints the version.\n");
  return out;
}

}  // namespace tributary::tribctl
