// Issue 23's operator tools against the real all-in-one binary (`tributary serve`, a separate
// process on a free loopback port) and the C++ example function:
// - `tribctl checkpoints get|set`: a shard's checkpoint moved back to TRIM_HORIZON while its
//   owner is busy replays every record, and nothing the old owner had in flight carries the
//   checkpoint past the new position (fencing); every position flag; usage errors.
// - `tributary serve --clock=manual` with `tribctl clock advance|set`: records aged past the
//   mapping's maximum record age by moving the clock (a failing batch's backoff wakes, the batch
//   is skipped and reported to the on-failure destination as Lambda does), an iterator expired
//   the same way, and the loopback rule.
// Waiting on another process is a real-time poll whose timeout is only a failure guard.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/await.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/clock.pb.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/leasing.pb.h"
#include "proto/streams.pb.h"
#include "shard_store/shard_store_client.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/tribctl.h"
#include "tools/tribctl/testing/run_result.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

const std::string kShard = "shardId-000000000000";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TribctlOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tributary::testing::NewTempDir("tribctl-operations"); }

  void StartFunction(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen=127.0.0.1:0", "--port_file=" + dir_ + "/fport",
                                     "--deliveries_file=" + dir_ + "/deliveries.txt"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto function =
        Subprocess::Start(tributary::testing::RunfilePath("examples/cpp/example_function"), args,
                          dir_ + "/function.log");
    ASSERT_TRUE(function.ok()) << function.status();
    function_ = std::move(*function);
    auto port = WaitForPortFile(dir_ + "/fport");
    ASSERT_TRUE(port.ok()) << port.status();
    function_endpoint_ = absl::StrCat("127.0.0.1:", *port);
  }

  void StartServer(std::vector<std::string> extra = {}) {
    // --logtostderr: under a test glog would write to files in TEST_TMPDIR.
    std::vector<std::string> args = {"serve", "--logtostderr", "--listen=127.0.0.1:0",
                                     "--port_file=" + dir_ + "/port",
                                     "--data_dir=" + dir_ + "/data"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = Subprocess::Start(tributary::testing::RunfilePath("tools/tributary/tributary"),
                                    args, ServerLog());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto port = WaitForPortFile(dir_ + "/port");
    ASSERT_TRUE(port.ok()) << port.status();
    endpoint_ = absl::StrCat("127.0.0.1:", *port);
  }
  std::string ServerLog() const { return dir_ + "/tributary.log"; }

  Result Run(std::vector<std::string> args, const std::string& stdin_text = "",
             Interrupt* interrupt = nullptr) {
    args.insert(args.begin(), "--endpoint=" + endpoint_);
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, interrupt});
    return {code, out.str(), err.str()};
  }

  std::string Deliveries() { return ReadFile(dir_ + "/deliveries.txt"); }
  // Whether `text` (a slice of the deliveries file) has the record `seq` of kShard.
  static bool HasDelivery(const std::string& text, const std::string& seq) {
    return absl::StrContains(text, absl::StrCat(kShard, " ", seq, " "));
  }

  [[nodiscard]] static ::testing::AssertionResult WaitUntil(
      absl::string_view awaited, const std::function<bool()>& done,
      const std::function<std::string()>& last_seen, absl::Duration timeout = absl::Seconds(60)) {
    return tributary::testing::IsOk(
        PollFor(timeout, absl::Milliseconds(20), awaited, done, last_seen));
  }

  std::string CreateMapping(const std::string& stream, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"mappings",
                                     "create",
                                     "--stream=" + stream,
                                     "--function-endpoint=" + function_endpoint_,
                                     "--starting-position=TRIM_HORIZON",
                                     "--output=json"};
    args.insert(args.end(), extra.begin(), extra.end());
    Result created = Run(args);
    EXPECT_EQ(created.code, kExitOk) << created.err;
    return Json<v1::EventSourceMappingConfiguration>(created.out).uuid();
  }

  std::vector<std::string> Put(const std::string& stream, const std::string& lines) {
    Result put = Run({"records", "put", "--stream=" + stream, "--output=json"}, lines);
    EXPECT_EQ(put.code, kExitOk) << put.err;
    std::vector<std::string> seqs;
    const auto response = Json<v1::PutRecordsResponse>(put.out);
    for (const auto& r : response.records()) {
      seqs.push_back(r.sequence_number());
    }
    return seqs;
  }

  // The lease as `checkpoints get` shows it (an empty lease when there is none yet).
  v1::Lease Checkpoint(const std::string& uuid) {
    Result got =
        Run({"checkpoints", "get", "--mapping=" + uuid, "--shard-id=" + kShard, "--output=json"});
    return got.code == kExitOk ? Json<v1::Lease>(got.out) : v1::Lease();
  }

  std::string dir_;
  Subprocess server_;
  Subprocess function_;
  std::string endpoint_;
  std::string function_endpoint_;
};

// ---- Checkpoints an operator can move ----

// The poison-pill escape in reverse: an operator replays a shard. The function is busy (100 ms a
// record, one record a batch) when the checkpoint is moved back to TRIM_HORIZON, so the owner has
// an invocation and a checkpoint in flight. Every record is delivered again after the move, and
// every checkpoint seen after it names a record the replay had already delivered: nothing the
// old owner had in flight moved it past the new position.
TEST_F(TribctlOperationsTest, ACheckpointMovedBackReplaysTheShardAndTheOldOwnerIsFencedOut) {
  StartServer({"--sync_interval_ms=100"});
  StartFunction({"--latency_ms=100"});
  ASSERT_EQ(Run({"streams", "create", "--stream=orders"}).code, kExitOk);
  const std::string uuid = CreateMapping("orders", {"--batch-size=1"});
  std::string lines;
  for (int i = 0; i < 10; ++i) lines += absl::StrCat("k", i, "\tv", i, "\n");
  std::vector<std::string> seqs = Put("orders", lines);
  ASSERT_EQ(seqs.size(), 10u);
  ASSERT_TRUE(WaitUntil(
      "the first 10 records checkpointed",
      [&] { return Checkpoint(uuid).checkpoint().sequence_number() == seqs.back(); },
      [&] { return Checkpoint(uuid).ShortDebugString(); }));
  Result table = Run({"checkpoints", "get", "--mapping=" + uuid, "--shard-id=" + kShard});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_THAT(table.out, HasSubstr(kShard));
  EXPECT_THAT(table.out, HasSubstr(seqs.back()));

  // Ten more; move back while they are being delivered.
  lines.clear();
  for (int i = 10; i < 20; ++i) lines += absl::StrCat("k", i, "\tv", i, "\n");
  for (const std::string& s : Put("orders", lines)) seqs.push_back(s);
  ASSERT_TRUE(WaitUntil(
      "record 12 delivered", [&] { return HasDelivery(Deliveries(), seqs[12]); },
      [&] { return Deliveries(); }));
  const size_t before_move = Deliveries().size();
  Result moved = Run({"checkpoints", "set", "--mapping=" + uuid, "--shard-id=" + kShard,
                      "--trim-horizon", "--requested-by=replay-test"});
  ASSERT_EQ(moved.code, kExitOk) << moved.err;
  EXPECT_THAT(moved.out, HasSubstr("-> TRIM_HORIZON"));
  EXPECT_THAT(moved.out, HasSubstr("was fenced out"));

  // Until the replay has delivered all 20 again, sample the checkpoint: each one seen must name
  // a record delivered after the move (read after the checkpoint: a checkpoint follows its
  // delivery).
  auto replayed = [&](const std::string& seq) {
    return HasDelivery(Deliveries().substr(before_move), seq);
  };
  int samples = 0;
  std::string past_the_replay;  // the first checkpoint seen ahead of the replay
  ASSERT_TRUE(WaitUntil(
      "every record delivered again, with every checkpoint behind the replay",
      [&] {
        const v1::Lease lease = Checkpoint(uuid);
        ++samples;
        if (lease.checkpoint().type() == v1::SEQUENCE_NUMBER &&
            !replayed(lease.checkpoint().sequence_number())) {
          past_the_replay =
              absl::StrCat("checkpoint ", lease.checkpoint().sequence_number(), " after ", samples,
                           " sample(s); delivered since the "
                           "move:\n",
                           Deliveries().substr(before_move));
          return true;
        }
        for (const std::string& s : seqs) {
          if (!replayed(s)) return false;
        }
        return true;
      },
      [&] { return Deliveries().substr(before_move); }));
  EXPECT_EQ(past_the_replay, "");
  for (const std::string& s : seqs) EXPECT_TRUE(replayed(s)) << "record " << s << " not replayed";
  EXPECT_GT(samples, 1);
  ASSERT_TRUE(WaitUntil(
      "the replay checkpointed to the end",
      [&] { return Checkpoint(uuid).checkpoint().sequence_number() == seqs.back(); },
      [&] { return Checkpoint(uuid).ShortDebugString(); }));

  // One audit line, naming who asked through which way.
  std::vector<std::string> audit;
  for (absl::string_view line : absl::StrSplit(ReadFile(ServerLog()), '\n')) {
    if (absl::StrContains(line, "AUDIT ")) audit.emplace_back(line);
  }
  ASSERT_EQ(audit.size(), 1u) << ReadFile(ServerLog());
  EXPECT_THAT(audit[0], HasSubstr(uuid));
  EXPECT_THAT(audit[0], HasSubstr("replay-test via stream tracker from"));
  EXPECT_THAT(audit[0], HasSubstr("-> TRIM_HORIZON"));
}

// Every position flag, as the lease shows it afterwards; and what tribctl refuses.
TEST_F(TribctlOperationsTest, CheckpointsSetTakesExactlyOnePosition) {
  StartServer({"--sync_interval_ms=100"});
  StartFunction();
  ASSERT_EQ(Run({"streams", "create", "--stream=s"}).code, kExitOk);
  const std::string uuid = CreateMapping("s");
  ASSERT_TRUE(WaitUntil(
      "the shard's lease", [&] { return Checkpoint(uuid).shard_id() == kShard; },
      [&] {
        return Run({"leases", "list"}).out;
      }));
  auto set = [&](const std::string& position) {
    return Run({"checkpoints", "set", "--mapping=" + uuid, "--shard-id=" + kShard, position,
                "--output=json"});
  };
  auto moved_to = [&](const Result& r) {
    EXPECT_EQ(r.code, kExitOk) << r.err;
    return Json<v1::UpdateShardCheckpointResponse>(r.out).lease().checkpoint();
  };
  v1::Checkpoint c = moved_to(set("--sequence-number=42"));  // start AT 42
  EXPECT_EQ(c.type(), v1::SEQUENCE_NUMBER);
  EXPECT_EQ(c.sequence_number(), "41");
  c = moved_to(set("--after-sequence-number=42"));
  EXPECT_EQ(c.type(), v1::SEQUENCE_NUMBER);
  EXPECT_EQ(c.sequence_number(), "42");
  c = moved_to(set("--at-timestamp=2026-01-02T03:04:05Z"));
  EXPECT_EQ(c.type(), v1::AT_TIMESTAMP_CHECKPOINT);
  EXPECT_EQ(c.timestamp().seconds(), 1767323045);
  EXPECT_EQ(moved_to(set("--latest")).type(), v1::LATEST_CHECKPOINT);
  EXPECT_EQ(moved_to(set("--trim-horizon")).type(), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_EQ(moved_to(set("--sequence-number=0")).type(), v1::TRIM_HORIZON_CHECKPOINT);

  Result none = Run({"checkpoints", "set", "--mapping=" + uuid, "--shard-id=" + kShard});
  EXPECT_EQ(none.code, kExitUsage);
  EXPECT_THAT(none.err, HasSubstr("exactly one of"));
  Result two = Run({"checkpoints", "set", "--mapping=" + uuid, "--shard-id=" + kShard, "--latest",
                    "--trim-horizon"});
  EXPECT_EQ(two.code, kExitUsage);
  Result bad = set("--sequence-number=12x");
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--sequence-number"));
  Result unknown =
      Run({"checkpoints", "set", "--mapping=" + uuid, "--shard-id=shardId-9", "--latest"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  Result missing = Run({"checkpoints", "get", "--mapping=" + uuid});
  EXPECT_EQ(missing.code, kExitUsage);
}

// ---- Deterministic time ----

// A poison record fails, and the batch waits in its backoff (retried forever, Lambda's default)
// on the manual clock. Advancing the clock past MaximumRecordAgeInSeconds wakes the backoff; the
// batch is now too old and goes to the on-failure destination as RecordAgeExceeded, as Lambda
// does, and the shard moves on. A shard iterator expires the same way.
TEST_F(TribctlOperationsTest, AManualClockAgesRecordsPastTheMaximumAgeAndExpiresIterators) {
  StartServer({"--clock=manual"});
  StartFunction();
  ASSERT_EQ(Run({"streams", "create", "--stream=orders"}).code, kExitOk);
  ASSERT_EQ(Run({"streams", "create", "--stream=orders-failures"}).code, kExitOk);
  const std::string uuid = CreateMapping(
      "orders", {"--maximum-record-age-in-seconds=60", "--destination=orders-failures"});
  ASSERT_TRUE(WaitUntil(
      "the shard's lease", [&] { return Checkpoint(uuid).shard_id() == kShard; },
      [&] {
        return Run({"leases", "list"}).out;
      }));
  const std::vector<std::string> seqs = Put("orders", "k\tpoison-1\n");
  ASSERT_EQ(seqs.size(), 1u);
  // The poller's own loops run on the manual clock too: a few seconds let it take the lease.
  Result advanced = Run({"clock", "advance", "--by=5s"});
  ASSERT_EQ(advanced.code, kExitOk) << advanced.err;
  ASSERT_TRUE(WaitUntil(
      "the poison record delivered (and failed)",
      [&] { return HasDelivery(Deliveries(), seqs[0]); }, [&] { return Deliveries(); }));
  // Nothing reaches the destination while the clock stands still: the batch waits in backoff.
  v1::Lease lease = Checkpoint(uuid);
  EXPECT_NE(lease.checkpoint().sequence_number(), seqs[0]);

  advanced = Run({"clock", "advance", "--by=90s", "--output=json"});
  ASSERT_EQ(advanced.code, kExitOk) << advanced.err;
  Interrupt interrupt;
  absl::Notification followed;
  Result failure;
  std::thread follower([&] {
    failure = Run({"records", "get", "--stream=orders-failures", "--shard-id=" + kShard, "--follow",
                   "--max-records=1", "--output=json"},
                  "", &interrupt);
    followed.Notify();
  });
  const bool arrived = followed.WaitForNotificationWithTimeout(absl::Seconds(60));
  if (!arrived) interrupt.Trigger();
  follower.join();
  ASSERT_TRUE(arrived) << "no failure record within 60 s";
  ASSERT_EQ(failure.code, kExitOk) << failure.err;
  const std::string record = Json<v1::Record>(failure.out).data();
  EXPECT_THAT(record, HasSubstr("\"condition\":\"RecordAgeExceeded\""));
  EXPECT_THAT(record, HasSubstr(absl::StrCat("\"startSequenceNumber\":\"", seqs[0], "\"")));
  ASSERT_TRUE(WaitUntil(
      "the shard checkpointed past the skipped record",
      [&] { return Checkpoint(uuid).checkpoint().sequence_number() == seqs[0]; },
      [&] { return Checkpoint(uuid).ShortDebugString(); }));

  // An iterator lasts 5 minutes of the store's clock.
  shard_store::ShardStoreClient store(MakeChannel(endpoint_));
  v1::GetShardIteratorRequest iterator_request;
  iterator_request.set_stream_name("orders");
  iterator_request.set_shard_id(kShard);
  iterator_request.set_shard_iterator_type(v1::TRIM_HORIZON);
  absl::StatusOr<v1::GetShardIteratorResponse> iterator = store.GetShardIterator(iterator_request);
  ASSERT_TRUE(iterator.ok()) << iterator.status();
  Result set = Run({"clock", "get", "--output=json"});
  ASSERT_EQ(set.code, kExitOk) << set.err;
  const int64_t now = Json<v1::ClockReading>(set.out).now().seconds();
  ASSERT_EQ(Run({"clock", "set", absl::StrCat("--to=", now + 301)}).code, kExitOk);
  v1::GetRecordsRequest records_request;
  records_request.set_shard_iterator(iterator->shard_iterator());
  absl::StatusOr<v1::GetRecordsResponse> records = store.GetRecords(records_request);
  EXPECT_EQ(records.status().code(), absl::StatusCode::kFailedPrecondition) << records.status();
  EXPECT_THAT(std::string(records.status().message()), HasSubstr("expired"));

  Result back = Run({"clock", "set", absl::StrCat("--to=", now)});
  EXPECT_EQ(back.code, 1);
  EXPECT_THAT(back.err, HasSubstr("only moves forward"));
}

TEST_F(TribctlOperationsTest, AManualClockIsRefusedOffLoopbackAndTheRealClockHasNoClockService) {
  auto refused = Subprocess::Start(
      tributary::testing::RunfilePath("tools/tributary/tributary"),
      {"serve", "--clock=manual", "--listen=0.0.0.0:0", "--data_dir=" + dir_ + "/refused"},
      dir_ + "/refused.log");
  ASSERT_TRUE(refused.ok()) << refused.status();
  absl::StatusOr<int> status = refused->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << *status;
  EXPECT_THAT(ReadFile(dir_ + "/refused.log"),
              HasSubstr("--clock=manual needs every listener on loopback"));

  StartServer();
  Result advance = Run({"clock", "advance", "--by=1s"});
  EXPECT_EQ(advance.code, 1);
  EXPECT_THAT(advance.err, HasSubstr("UNIMPLEMENTED"));
}

}  // namespace
}  // namespace tributary::tribctl
