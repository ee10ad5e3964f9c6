// tribctl redrive against the real all-in-one binary (`tributary serve`) and the C++ example
// function: a mapping with --include-records gives two poison records up to its on-failure
// stream; redrive puts them (keys and data) into another stream — a dry run first, which puts
// nothing; a re-run puts nothing again (the state file); a sequence range picks one.
// Waiting is event-driven (`records get --follow`); timeouts are failure guards only.
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/await.h"
#include "common/process.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "proto/streams.pb.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/tribctl.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

struct Result {
  int code;
  std::string out;
  std::string err;
};

template <typename T>
T Json(const std::string& text) {
  T message;
  auto status = FromJson(text, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << text;
  return message;
}

class TribctlRedriveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("tribctl-redrive");
    auto server =
        Subprocess::Start(tributary::testing::RunfilePath("tools/tributary/tributary"),
                          {"serve", "--listen=127.0.0.1:0", "--port_file=" + dir_ + "/port",
                           "--data_dir=" + dir_ + "/data", "--sync_interval_ms=100"},
                          dir_ + "/tributary.log");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto port = WaitForPortFile(dir_ + "/port");
    ASSERT_TRUE(port.ok()) << port.status();
    endpoint_ = absl::StrCat("127.0.0.1:", *port);
    auto function =
        Subprocess::Start(tributary::testing::RunfilePath("examples/cpp/example_function"),
                          {"--listen=127.0.0.1:0", "--port_file=" + dir_ + "/function_port"},
                          dir_ + "/function.log");
    ASSERT_TRUE(function.ok()) << function.status();
    function_ = std::move(*function);
    auto function_port = WaitForPortFile(dir_ + "/function_port");
    ASSERT_TRUE(function_port.ok()) << function_port.status();
    function_endpoint_ = absl::StrCat("127.0.0.1:", *function_port);
  }

  Result Run(std::vector<std::string> args, const std::string& stdin_text = "",
             Interrupt* interrupt = nullptr) {
    args.insert(args.begin(), "--endpoint=" + endpoint_);
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, interrupt});
    return {code, out.str(), err.str()};
  }

  // Follows `stream`'s only shard until `n` records arrived (a 60 s failure guard).
  std::vector<v1::Record> Follow(const std::string& stream, int n) {
    Interrupt interrupt;
    absl::Notification followed;
    Result got;
    std::thread follower([&] {
      got = Run({"records", "get", "--stream=" + stream, "--shard-id=shardId-000000000000",
                 "--follow", absl::StrCat("--max-records=", n), "--output=jsonl"},
                "", &interrupt);
      followed.Notify();
    });
    const bool arrived = followed.WaitForNotificationWithTimeout(absl::Seconds(60));
    if (!arrived) interrupt.Trigger();
    follower.join();
    EXPECT_TRUE(arrived) << "fewer than " << n << " records on " << stream << " within 60 s";
    std::vector<v1::Record> records;
    std::istringstream lines(got.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) records.push_back(Json<v1::Record>(line));
    }
    return records;
  }

  // Every record of `stream`'s only shard now.
  std::vector<v1::Record> All(const std::string& stream) {
    Result got = Run({"records", "get", "--stream=" + stream, "--shard-id=shardId-000000000000",
                      "--output=json"});
    EXPECT_EQ(got.code, kExitOk) << got.err;
    auto page = Json<v1::GetRecordsResponse>(got.out);
    return {page.records().begin(), page.records().end()};
  }

  google::protobuf::Struct Redrive(std::vector<std::string> args) {
    args.insert(args.begin(), {"redrive", "--source-stream=failures", "--output=json"});
    Result got = Run(args);
    EXPECT_EQ(got.code, kExitOk) << got.err;
    EXPECT_THAT(got.err, HasSubstr("redrive: failures/shardId-000000000000"));
    return Json<google::protobuf::Struct>(got.out);
  }

  static double Count(const google::protobuf::Struct& summary, const std::string& name) {
    return summary.fields().at(name).number_value();
  }

  std::string dir_;
  Subprocess server_;
  Subprocess function_;
  std::string endpoint_;
  std::string function_endpoint_;
};

TEST_F(TribctlRedriveTest, PoisonRecordsAreRedrivenOnceWithTheirKeysAndData) {
  for (const char* stream : {"orders", "failures", "replay"}) {
    ASSERT_EQ(Run({"streams", "create", absl::StrCat("--stream=", stream)}).code, kExitOk);
  }
  Result created =
      Run({"mappings", "create", "--stream=orders", "--function-endpoint=" + function_endpoint_,
           "--starting-position=TRIM_HORIZON", "--batch-size=10",
           "--bisect-batch-on-function-error", "--maximum-retry-attempts=0",
           "--destination=failures", "--include-records", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  std::string input;
  for (int i = 0; i < 10; ++i) {
    input += absl::StrCat("key", i, "\t", i == 3 || i == 7 ? absl::StrCat("poison-", i)
                                                           : absl::StrCat("value-", i), "\n");
  }
  Result put = Run({"records", "put", "--stream=orders", "--output=json"}, input);
  ASSERT_EQ(put.code, kExitOk) << put.err;
  const auto written = Json<v1::PutRecordsResponse>(put.out);
  ASSERT_EQ(written.records_size(), 10);

  const std::vector<v1::Record> failures = Follow("failures", 2);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_THAT(failures[0].data(), HasSubstr("\"records\":[{\"partitionKey\":\"key3\""));

  const std::string state = "--state-file=" + dir_ + "/redrive.state";
  auto dry = Redrive({"--to-stream=replay", "--dry-run", state});
  EXPECT_EQ(Count(dry, "redriven"), 2);
  EXPECT_TRUE(dry.fields().at("dryRun").bool_value());
  EXPECT_TRUE(All("replay").empty()) << "a dry run put something";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/redrive.state"));

  auto first = Redrive({"--to-stream=replay", state});
  EXPECT_EQ(Count(first, "failureRecords"), 2);
  EXPECT_EQ(Count(first, "redriven"), 2);
  std::vector<v1::Record> replayed = All("replay");
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0].partition_key(), "key3");
  EXPECT_EQ(replayed[0].data(), "poison-3");
  EXPECT_EQ(replayed[1].partition_key(), "key7");
  EXPECT_EQ(replayed[1].data(), "poison-7");

  // A re-run puts nothing again.
  auto again = Redrive({"--to-stream=replay", state});
  EXPECT_EQ(Count(again, "redriven"), 0);
  EXPECT_EQ(Count(again, "alreadyRedriven"), 1);  // the last failure record's, read again
  EXPECT_EQ(All("replay").size(), 2u);

  // A sequence range (with a state of its own) picks the second poison record only.
  auto ranged = Redrive({"--to-stream=replay", "--state-file=" + dir_ + "/ranged.state",
                         "--from-sequence-number=" + written.records(5).sequence_number()});
  EXPECT_EQ(Count(ranged, "redriven"), 1);
  EXPECT_EQ(Count(ranged, "outOfRange"), 1);
  replayed = All("replay");
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed[2].data(), "poison-7");

  // The table output is a summary line.
  Result table = Run({"redrive", "--source-stream=failures", "--to-stream=replay", state});
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_THAT(table.out, HasSubstr("redrove 0 record(s) from failures to replay"));
}

TEST_F(TribctlRedriveTest, AMissingTargetIsAUsageError) {
  Result got = Run({"redrive", "--source-stream=failures"});
  EXPECT_EQ(got.code, kExitUsage);
  EXPECT_THAT(got.err, HasSubstr("to-stream"));
}

}  // namespace
}  // namespace tributary::tribctl
