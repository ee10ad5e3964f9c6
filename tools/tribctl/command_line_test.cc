// ParseCommandLine: every command parses with its required flags; every kind
// of bad command line is a usage error that names the word or flag at fault.
#include "tools/tribctl/command_line.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/streams.pb.h"
#include "tools/tribctl/requests.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

// A valid value for a flag of `spec`'s type.
std::string SampleValue(const FlagSpec& spec) {
  switch (spec.type) {
    case FlagType::kInt:
      return "7";
    case FlagType::kBool:
      return "true";
    case FlagType::kEnum:
    case FlagType::kList:
      return spec.choices.empty() ? "a" : spec.choices.front();
    case FlagType::kTimestamp:
      return "2026-01-02T03:04:05Z";
    case FlagType::kDuration:
      return "5s";
    case FlagType::kString:
      return "value";
    case FlagType::kRepeated:
      return R"({"a":["x","y"]})";
  }
  return "";
}

// The command's words and every required flag with a sample value.
std::vector<std::string> MinimalArgs(const CommandSpec& c) {
  std::vector<std::string> args = {c.group};
  if (!c.verb.empty()) args.push_back(c.verb);
  for (const FlagSpec& f : c.flags) {
    if (f.required) args.push_back(absl::StrCat("--", f.name, "=", SampleValue(f)));
  }
  return args;
}

void ExpectUsageError(const std::vector<std::string>& args, const std::string& fragment) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(args);
  ASSERT_FALSE(line.ok()) << "parsed: " << absl::StrJoin(args, " ");
  EXPECT_TRUE(IsUsageError(line.status())) << line.status();
  EXPECT_EQ(line.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(line.status().message()), HasSubstr(fragment));
}

TEST(CommandLineTest, TheCommandTableHasEveryCommandOfTheIssue) {
  std::vector<std::string> names;
  for (const CommandSpec& c : AllCommands()) names.push_back(c.Name());
  EXPECT_THAT(
      names,
      ::testing::UnorderedElementsAre(
          "streams create", "streams delete", "streams describe", "streams list",
          "streams list-shards", "streams split", "streams merge", "streams update-shard-count",
          "streams increase-retention-period", "streams decrease-retention-period", "records put",
          "records get", "mappings create", "mappings update", "mappings delete", "mappings get",
          "mappings list", "functions create", "functions update", "functions get",
          "functions list", "functions delete", "functions put-function-concurrency",
          "functions get-function-concurrency", "functions delete-function-concurrency",
          "leases list", "leases delete-orphaned", "pollers list", "metrics", "streams tag",
          "streams untag", "streams list-tags", "consumers register", "consumers deregister",
          "consumers describe", "consumers list", "tables create", "tables describe", "tables list",
          "tables update", "tables delete", "tables streams", "items put", "items get",
          "items delete", "items update", "items query", "items scan", "items batch-write",
          "items batch-get", "items transact-write", "completion bash", "completion zsh", "checkpoints get", "checkpoints set",
          "clock advance", "clock set", "clock get", "redrive"));
}

TEST(CommandLineTest, EveryCommandRunsAndEveryFlagFieldIsAFieldOfItsRequest) {
  for (const CommandSpec& c : AllCommands()) {
    EXPECT_TRUE(c.run) << c.Name() << " does nothing";
    absl::Status fields = CheckFields(c);
    EXPECT_TRUE(fields.ok()) << fields;
  }
}

TEST(CommandLineTest, AFlagFieldOfAnotherTypeOrNoneIsFound) {
  CommandSpec c;
  c.group = "streams";
  c.verb = "x";
  c.request = v1::CreateStreamRequest::descriptor();
  c.flags = {IntFlag("stream", "").Sets("stream_name")};
  EXPECT_THAT(std::string(CheckFields(c).message()), HasSubstr("--stream"));
  c.flags = {StringFlag("stream", "").Sets("no_such_field")};
  EXPECT_THAT(std::string(CheckFields(c).message()), HasSubstr("no_such_field"));
  c.flags = {StringFlag("stream", "").Sets("stream_name.deeper")};
  EXPECT_EQ(CheckFields(c).code(), absl::StatusCode::kInternal);
  c.request = nullptr;
  c.flags = {StringFlag("stream", "").Sets("stream_name")};
  EXPECT_EQ(CheckFields(c).code(), absl::StatusCode::kInternal);
}

TEST(CommandLineTest, TheStreamMayBeGivenAsStreamName) {
  auto line = ParseCommandLine({"streams", "describe", "--stream-name=orders"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.StringOr("stream", ""), "orders");
  line = ParseCommandLine({"consumers", "list", "--stream_name", "orders"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.StringOr("stream", ""), "orders");
  ExpectUsageError({"streams", "describe", "--stream=a", "--stream-name=b"},
                   "flag --stream given twice");
  EXPECT_THAT(HelpText(line->command), HasSubstr("--stream|--stream-name=VALUE"));
}

TEST(CommandLineTest, EveryCommandParsesWithItsRequiredFlags) {
  for (const CommandSpec& c : AllCommands()) {
    absl::StatusOr<CommandLine> line = ParseCommandLine(MinimalArgs(c));
    ASSERT_TRUE(line.ok()) << c.Name() << ": " << line.status();
    EXPECT_EQ(line->command, &c);
    EXPECT_FALSE(line->help);
  }
}

TEST(CommandLineTest, EveryCommandAcceptsEveryOneOfItsFlags) {
  for (const CommandSpec& c : AllCommands()) {
    std::vector<std::string> args = {c.group};
    if (!c.verb.empty()) args.push_back(c.verb);
    for (const FlagSpec& f : c.flags)
      args.push_back(absl::StrCat("--", f.name, "=", SampleValue(f)));
    absl::StatusOr<CommandLine> line = ParseCommandLine(args);
    ASSERT_TRUE(line.ok()) << c.Name() << ": " << line.status();
    for (const FlagSpec& f : c.flags) EXPECT_TRUE(line->flags.Has(f.name)) << f.name;
  }
}

TEST(CommandLineTest, EveryMissingRequiredFlagIsNamed) {
  for (const CommandSpec& c : AllCommands()) {
    for (const FlagSpec& missing : c.flags) {
      if (!missing.required) continue;
      std::vector<std::string> args = {c.group};
      if (!c.verb.empty()) args.push_back(c.verb);
      for (const FlagSpec& f : c.flags) {
        if (f.required && f.name != missing.name) {
          args.push_back(absl::StrCat("--", f.name, "=", SampleValue(f)));
        }
      }
      ExpectUsageError(args, absl::StrCat("missing required flag --", missing.name));
    }
  }
}

TEST(CommandLineTest, AnUnknownFlagIsNamedWithItsCommand) {
  for (const CommandSpec& c : AllCommands()) {
    std::vector<std::string> args = MinimalArgs(c);
    args.push_back("--no-such-flag=1");
    ExpectUsageError(args, absl::StrCat("unknown flag --no-such-flag for '", c.Name(), "'"));
  }
}

TEST(CommandLineTest, AFlagOfAnotherCommandIsUnknown) {
  ExpectUsageError({"streams", "describe", "--stream=s", "--batch-size=5"},
                   "unknown flag --batch-size for 'streams describe'");
}

TEST(CommandLineTest, ACommandFlagBeforeTheCommandIsUnknown) {
  ExpectUsageError({"--stream=s", "streams", "describe"},
                   "unknown flag --stream (command flags go after the command)");
}

TEST(CommandLineTest, UnknownGroupAndVerbAreNamed) {
  ExpectUsageError({"shards", "list"}, "unknown command 'shards'");
  ExpectUsageError({"streams", "explode"}, "unknown command 'streams explode'");
}

TEST(CommandLineTest, MissingCommandOrSubcommandIsAUsageError) {
  ExpectUsageError({}, "missing command");
  ExpectUsageError({"--endpoint=h:1"}, "missing command");
  ExpectUsageError({"mappings"}, "missing subcommand for 'mappings'");
}

// gRPC dialled "127.0.0.1:99999" as port 34463 and "h:45x" as port 45 (issue 14).
TEST(CommandLineTest, AMalformedEndpointIsAUsageError) {
  ExpectUsageError({"streams", "list", "--endpoint=127.0.0.1:99999"},
                   "--endpoint=\"127.0.0.1:99999\": port 99999 is out of range 1-65535");
  ExpectUsageError({"streams", "list", "--endpoint=127.0.0.1"},
                   "--endpoint=\"127.0.0.1\": no port");
  ExpectUsageError({"streams", "list", "--endpoint=127.0.0.1:0"}, "port 0 cannot be connected to");
  ExpectUsageError({"pollers", "list", "--poller-endpoint=h:45x"},
                   "--poller-endpoint=\"h:45x\": port \"45x\" is not a decimal number");
  ExpectUsageError({"streams", "list", "--streams_endpoint="}, "--streams-endpoint=\"\": empty");
}

TEST(CommandLineTest, AStrayPositionalIsAUsageError) {
  ExpectUsageError({"streams", "describe", "orders"}, "unexpected argument 'orders'");
  ExpectUsageError({"metrics", "now"}, "unexpected argument 'now'");
}

TEST(CommandLineTest, BadValuesNameTheFlag) {
  ExpectUsageError({"streams", "create", "--stream=s", "--shard-count=four"},
                   "flag --shard-count: expected a 32-bit integer, got 'four'");
  ExpectUsageError({"streams", "create", "--stream=s", "--shard-count=4294967296"},
                   "flag --shard-count: expected a 32-bit integer");
  ExpectUsageError({"records", "get", "--stream=s", "--shard-id=x", "--iterator-type=OLDEST"},
                   "flag --iterator-type: expected one of TRIM_HORIZON");
  ExpectUsageError({"records", "get", "--stream=s", "--shard-id=x", "--follow=maybe"},
                   "flag --follow: expected true or false, got 'maybe'");
  ExpectUsageError({"records", "get", "--stream=s", "--shard-id=x", "--timestamp=yesterday"},
                   "flag --timestamp: expected an RFC 3339 time");
  ExpectUsageError({"streams", "list", "--timeout=soon"}, "flag --timeout: expected a positive");
  ExpectUsageError({"mappings", "update", "--uuid=u", "--function-response-types=Everything"},
                   "flag --function-response-types: expected items from ReportBatchItemFailures");
  ExpectUsageError({"streams", "list", "--output=yaml"}, "flag --output: expected one of");
}

TEST(CommandLineTest, AFlagWithoutItsValueIsNamed) {
  ExpectUsageError({"streams", "describe", "--stream"}, "flag --stream needs a value");
}

TEST(CommandLineTest, AFlagGivenTwiceIsAUsageError) {
  ExpectUsageError({"streams", "describe", "--stream=a", "--stream=b"},
                   "flag --stream given twice");
  ExpectUsageError({"streams", "describe", "--stream=a", "--endpoint=x:1", "--endpoint=y:1"},
                   "flag --endpoint given twice");
}

TEST(CommandLineTest, ANegatedFlagTakesNoValue) {
  ExpectUsageError({"mappings", "update", "--uuid=u", "--no-enabled=true"},
                   "flag --no-enabled takes no value");
}

TEST(CommandLineTest, ValuesMayFollowAsTheNextArgumentEvenWhenNegative) {
  auto line =
      ParseCommandLine({"mappings", "update", "--uuid", "u-1", "--maximum-retry-attempts", "-1"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("uuid"), "u-1");
  EXPECT_EQ(line->flags.Int("maximum-retry-attempts"), -1);
}

TEST(CommandLineTest, BooleansTakeBareNegatedAndExplicitForms) {
  auto line = ParseCommandLine(
      {"mappings", "update", "--uuid=u", "--no-enabled", "--bisect-batch-on-function-error"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.Bool("enabled"), false);
  EXPECT_EQ(line->flags.Bool("bisect-batch-on-function-error"), true);

  line = ParseCommandLine({"mappings", "update", "--uuid=u", "--enabled=false"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.Bool("enabled"), false);
  EXPECT_FALSE(line->flags.Bool("bisect-batch-on-function-error").has_value());
}

TEST(CommandLineTest, EnumsMatchIgnoringCaseAndSeparatorsAndAreCanonical) {
  auto line = ParseCommandLine({"mappings", "create", "--stream=s", "--function-endpoint=f:1",
                                "--starting-position=trim-horizon",
                                "--function-response-types=REPORT_BATCH_ITEM_FAILURES"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("starting-position"), "TRIM_HORIZON");
  EXPECT_EQ(line->flags.List("function-response-types"),
            std::vector<std::string>{"ReportBatchItemFailures"});
}

TEST(CommandLineTest, ListsAccumulateAcrossRepeatsAndCommas) {
  auto line = ParseCommandLine({"mappings", "update", "--uuid=u",
                                "--function-response-types=ReportBatchItemFailures",
                                "--function-response-types", "reportbatchitemfailures,"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.List("function-response-types").size(), 2u);
}

TEST(CommandLineTest, AnEmptyListIsGivenButEmpty) {
  auto line = ParseCommandLine({"mappings", "update", "--uuid=u", "--function-response-types="});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(line->flags.Has("function-response-types"));
  EXPECT_TRUE(line->flags.List("function-response-types").empty());
}

TEST(CommandLineTest, FilterPatternsRepeatAndAreNeverSplitAtCommas) {
  auto line = ParseCommandLine({"mappings", "create", "--stream=s", "--function-endpoint=f:1",
                                "--starting-position=LATEST",
                                R"(--filter-pattern={"data":{"type":["a","b"]}})",
                                "--filter-pattern", R"({"partitionKey":["k"]})"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(
      line->flags.List("filter-pattern"),
      (std::vector<std::string>{R"({"data":{"type":["a","b"]}})", R"({"partitionKey":["k"]})"}));
}

TEST(CommandLineTest, AnEmptyFilterPatternIsGivenButEmpty) {
  auto line = ParseCommandLine({"mappings", "update", "--uuid=u", "--filter-pattern="});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(line->flags.Has("filter-pattern"));
  EXPECT_TRUE(line->flags.List("filter-pattern").empty());
}

TEST(CommandLineTest, GlobalFlagsHaveDefaultsAndServiceEndpointsFollowEndpoint) {
  auto line = ParseCommandLine({"pollers", "list"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("endpoint"), "127.0.0.1:4560");
  EXPECT_EQ(line->flags.String("streams-endpoint"), "127.0.0.1:4560");
  EXPECT_EQ(line->flags.String("output"), "table");
  EXPECT_EQ(line->flags.Duration("timeout"), absl::Seconds(10));

  line = ParseCommandLine({"--endpoint=10.0.0.1:1", "pollers", "list",
                           "--poller_endpoint=10.0.0.2:2", "--timeout=1.5", "--output=JSON"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("leasing-endpoint"), "10.0.0.1:1");
  EXPECT_EQ(line->flags.String("mappings-endpoint"), "10.0.0.1:1");
  EXPECT_EQ(line->flags.String("poller-endpoint"), "10.0.0.2:2");
  EXPECT_EQ(line->flags.Duration("timeout"), absl::Milliseconds(1500));
  EXPECT_EQ(line->flags.String("output"), "json");
}

// Without --endpoint: $TRIBUTARY_ENDPOINT, then the config file, then the default; a
// per-service key of the config file applies only when the endpoint came from the file too.
TEST(CommandLineTest, EndpointComesFromTheEnvironmentThenTheConfigFile) {
  EndpointDefaults defaults;
  defaults.config_path = "/home/op/.config/tributary/config";
  defaults.config_text =
      "# production\n\n  endpoint = 10.0.0.5:4560  # the front\npoller_endpoint=10.0.0.6:4564\n";
  auto line = ParseCommandLine({"pollers", "list"}, defaults);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("endpoint"), "10.0.0.5:4560");
  EXPECT_EQ(line->flags.String("streams-endpoint"), "10.0.0.5:4560");
  EXPECT_EQ(line->flags.String("poller-endpoint"), "10.0.0.6:4564");
  EXPECT_EQ(line->endpoint_source, "/home/op/.config/tributary/config");

  defaults.env_endpoint = "10.0.0.7:4560";
  line = ParseCommandLine({"pollers", "list"}, defaults);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("endpoint"), "10.0.0.7:4560");
  EXPECT_EQ(line->flags.String("poller-endpoint"), "10.0.0.7:4560");
  EXPECT_EQ(line->endpoint_source, "TRIBUTARY_ENDPOINT");

  line = ParseCommandLine({"--endpoint=10.0.0.8:1", "pollers", "list"}, defaults);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.String("endpoint"), "10.0.0.8:1");
  EXPECT_EQ(line->flags.String("poller-endpoint"), "10.0.0.8:1");
  EXPECT_EQ(line->endpoint_source, "--endpoint");

  line = ParseCommandLine({"pollers", "list"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->endpoint_source, "the default");
}

TEST(CommandLineTest, ABadEndpointFromTheEnvironmentOrConfigSaysWhereItCameFrom) {
  EndpointDefaults defaults;
  defaults.env_endpoint = "h:99999";
  auto line = ParseCommandLine({"pollers", "list"}, defaults);
  ASSERT_FALSE(line.ok());
  EXPECT_TRUE(IsUsageError(line.status()));
  EXPECT_THAT(std::string(line.status().message()), HasSubstr("(from TRIBUTARY_ENDPOINT)"));

  defaults = EndpointDefaults();
  defaults.config_path = "/c";
  defaults.config_text = "endpoint = h:1\nendpont = h:2\n";
  line = ParseCommandLine({"pollers", "list"}, defaults);
  ASSERT_FALSE(line.ok());
  EXPECT_THAT(std::string(line.status().message()), HasSubstr("/c:2: unknown key 'endpont'"));
  defaults.config_text = "endpoint h:1\n";
  line = ParseCommandLine({"pollers", "list"}, defaults);
  ASSERT_FALSE(line.ok());
  EXPECT_THAT(std::string(line.status().message()), HasSubstr("/c:1: expected 'key = value'"));
}

TEST(CommandLineTest, ConfigPathFollowsXdgConfigHomeThenHome) {
  EXPECT_EQ(ConfigPath("/x", "/home/op"), "/x/tributary/config");
  EXPECT_EQ(ConfigPath("", "/home/op"), "/home/op/.config/tributary/config");
  EXPECT_EQ(ConfigPath(nullptr, "/home/op"), "/home/op/.config/tributary/config");
  EXPECT_EQ(ConfigPath(nullptr, nullptr), "");
}

TEST(CommandLineTest, UnderscoresAndDashesAreTheSameInFlagNames) {
  auto line = ParseCommandLine({"mappings", "update", "--uuid=u", "--batch_size=10",
                                "--streams_endpoint=h:1", "--no_enabled"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->flags.Int("batch-size"), 10);
  EXPECT_EQ(line->flags.String("streams-endpoint"), "h:1");
  EXPECT_EQ(line->flags.Bool("enabled"), false);
}

TEST(CommandLineTest, HelpInAnyFormSkipsValidation) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"help"},
                                               {"--help"},
                                               {"-h"},
                                               {"streams", "--help"},
                                               {"streams", "create", "--help"}}) {
    auto line = ParseCommandLine(args);
    ASSERT_TRUE(line.ok()) << absl::StrJoin(args, " ") << ": " << line.status();
    EXPECT_TRUE(line->help);
  }
  auto line = ParseCommandLine({"streams", "create", "-h"});
  ASSERT_TRUE(line.ok());
  ASSERT_NE(line->command, nullptr);
  EXPECT_EQ(line->command->Name(), "streams create");
  line = ParseCommandLine({"streams", "--help"});
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->help_group, "streams");
}

TEST(CommandLineTest, HelpTextListsTheCommandsFlagsAndRequiredOnes) {
  const CommandSpec* create = nullptr;
  for (const CommandSpec& c : AllCommands()) {
    if (c.Name() == "mappings create") create = &c;
  }
  ASSERT_NE(create, nullptr);
  const std::string help = HelpText(create);
  EXPECT_THAT(help, HasSubstr("usage: tribctl mappings create"));
  EXPECT_THAT(help, HasSubstr("--[no-]bisect-batch-on-function-error"));
  EXPECT_THAT(help, HasSubstr("--starting-position=TRIM_HORIZON|LATEST|AT_TIMESTAMP"));
  EXPECT_THAT(help, HasSubstr("(required)"));
  EXPECT_THAT(help, HasSubstr("--endpoint"));
  EXPECT_THAT(HelpText(nullptr, "leases"), HasSubstr("leases list"));
  EXPECT_THAT(HelpText(nullptr, "leases"), ::testing::Not(HasSubstr("streams create")));
}

TEST(CommandLineTest, TimestampsAreRfc3339OrUnixSeconds) {
  EXPECT_EQ(*ParseTimestamp("2026-01-02T03:04:05Z"),
            absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5), absl::UTCTimeZone()));
  EXPECT_EQ(*ParseTimestamp("1700000000.5"), absl::FromUnixMillis(1700000000500));
  EXPECT_FALSE(ParseTimestamp("noon").ok());
}

TEST(CommandLineTest, UsageErrorsAreMarkedAndOtherStatusesAreNot) {
  EXPECT_TRUE(IsUsageError(UsageError("x")));
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("x")));
}

}  // namespace
}  // namespace tributary::tribctl
