// ShardStore under injected RocksDB write faults (testing/write_faults.h), and
// the stream status reported while a write is held in flight. Each test
// arranges, injects, acts, asserts, heals and asserts recovery.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"
#include "shard_store/testing/observe.h"
#include "shard_store/testing/write_faults.h"

namespace tributary::shard_store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::tributary::shard_store::testing::ObserveStore;
using ::tributary::shard_store::testing::WriteFaults;

class ShardStoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = ::tributary::testing::NewTempDir("shard_store_fault");
    options_.write_interceptor = faults_.Interceptor();
    Open();
    CreateStream();
  }
  void Open() {
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options_, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  void CreateStream(const std::string& name = "s") {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(1);
    ASSERT_TRUE(store_->CreateStream(r).ok());
  }

  // PutRecords of `data` (one record each) to shard 0.
  absl::StatusOr<v1::PutRecordsResponse> PutAll(const std::vector<std::string>& data) {
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    for (const std::string& d : data) {
      auto* e = r.add_records();
      e->set_partition_key("k");
      e->set_data(d);
    }
    v1::PutRecordsResponse response;
    absl::Status s = store_->PutRecords(r, &response);
    if (!s.ok()) return s;
    return response;
  }
  // One put that must succeed; returns its sequence number.
  uint64_t Put(const std::string& data) {
    absl::StatusOr<v1::PutRecordsResponse> r = PutAll({data});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->records_size() != 1) return 0;
    EXPECT_EQ(r->records(0).shard_id(), "shardId-000000000000");
    absl::StatusOr<uint64_t> seq = ParseSequenceNumber(r->records(0).sequence_number(), "seq");
    EXPECT_TRUE(seq.ok());
    return seq.ok() ? *seq : 0;
  }

  std::string Iterator(v1::ShardIteratorType type,
                       const std::string& shard = "shardId-000000000000") {
    v1::GetShardIteratorRequest r;
    r.set_stream_name("s");
    r.set_shard_id(shard);
    r.set_shard_iterator_type(type);
    absl::StatusOr<v1::GetShardIteratorResponse> response = store_->GetShardIterator(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->shard_iterator() : "";
  }
  v1::GetRecordsResponse Get(const std::string& iterator) {
    v1::GetRecordsRequest r;
    r.set_shard_iterator(iterator);
    v1::GetRecordsResponse response;
    absl::Status s = store_->GetRecords(r, &response);
    EXPECT_TRUE(s.ok()) << s;
    return response;
  }
  static std::vector<std::string> Data(const v1::GetRecordsResponse& r) {
    std::vector<std::string> out;
    for (const v1::Record& record : r.records()) out.push_back(record.data());
    return out;
  }
  // Every record of shard 0 from TRIM_HORIZON, with its sequence number
  // checked to increase strictly.
  std::vector<std::string> ReadAll(const std::string& shard = "shardId-000000000000") {
    std::vector<std::string> out;
    std::string iterator = Iterator(v1::TRIM_HORIZON, shard);
    uint64_t last = 0;
    for (int i = 0; i < 100 && !iterator.empty(); ++i) {
      v1::GetRecordsResponse r = Get(iterator);
      for (const v1::Record& record : r.records()) {
        absl::StatusOr<uint64_t> seq = ParseSequenceNumber(record.sequence_number(), "seq");
        EXPECT_TRUE(seq.ok() && *seq > last) << record.sequence_number() << " after " << last;
        if (seq.ok()) last = *seq;
        out.push_back(record.data());
      }
      if (r.records().empty()) break;
      iterator = r.next_shard_iterator();
    }
    return out;
  }
  absl::StatusOr<v1::PutRecordResponse> PutTo(const std::string& stream, const std::string& data) {
    v1::PutRecordRequest r;
    r.set_stream_name(stream);
    r.set_partition_key("k");
    r.set_data(data);
    return store_->PutRecord(r);
  }
  // The data of every record of shard 0 of `stream` from TRIM_HORIZON.
  std::vector<std::string> ReadAllOf(const std::string& stream) {
    v1::GetShardIteratorRequest at;
    at.set_stream_name(stream);
    at.set_shard_id("shardId-000000000000");
    at.set_shard_iterator_type(v1::TRIM_HORIZON);
    absl::StatusOr<v1::GetShardIteratorResponse> iterator = store_->GetShardIterator(at);
    EXPECT_TRUE(iterator.ok()) << iterator.status();
    if (!iterator.ok()) return {};
    return Data(Get(iterator->shard_iterator()));
  }
  std::vector<v1::Shard> Shards() {
    v1::ListShardsRequest r;
    r.set_stream_name("s");
    absl::StatusOr<v1::ListShardsResponse> response = store_->ListShards(r);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->shards().begin(), response->shards().end()};
  }
  absl::Status Split() {
    v1::SplitShardRequest r;
    r.set_stream_name("s");
    r.set_shard_to_split("shardId-000000000000");
    r.set_new_starting_hash_key("1000");
    return store_->SplitShard(r);
  }
  v1::StreamStatus DescribedStatus(const std::string& name = "s") {
    v1::DescribeStreamSummaryRequest r;
    r.set_stream_name(name);
    absl::StatusOr<v1::DescribeStreamSummaryResponse> response = store_->DescribeStreamSummary(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->stream_description_summary().stream_status()
                         : v1::STREAM_STATUS_UNSPECIFIED;
  }
  v1::StreamStatus ListedStatus(const std::string& name = "s") {
    absl::StatusOr<v1::ListStreamsResponse> response = store_->ListStreams({});
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return v1::STREAM_STATUS_UNSPECIFIED;
    for (const v1::StreamSummary& s : response->stream_summaries()) {
      if (s.stream_name() == name) return s.stream_status();
    }
    ADD_FAILURE() << name << " not listed";
    return v1::STREAM_STATUS_UNSPECIFIED;
  }

  FakeClock clock_;
  WriteFaults faults_;
  ShardStoreOptions options_;
  std::unique_ptr<ShardStore> store_;
};

TEST_F(ShardStoreFaultTest, FailedPutIsNotAcknowledgedAndLeavesNothingReadable) {
  ASSERT_EQ(Put("a"), 1u);
  struct Case {
    rocksdb::Status fault;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {rocksdb::Status::IOError("injected write fault"), absl::StatusCode::kInternal},
      {rocksdb::Status::Busy("injected write fault"), absl::StatusCode::kUnavailable},
      {rocksdb::Status::NoSpace("injected write fault"), absl::StatusCode::kResourceExhausted},
  };
  for (const Case& c : cases) {
    faults_.FailNth(WriteKind::kRecords, 1, c.fault);
    absl::StatusOr<v1::PutRecordsResponse> failed = PutAll({"lost1", "lost2", "lost3"});
    EXPECT_EQ(failed.status().code(), c.code) << failed.status();
    EXPECT_THAT(std::string(failed.status().message()),
                HasSubstr("none of this call's records were stored"));
  }
  EXPECT_THAT(ReadAll(), ElementsAre("a"));
}

TEST_F(ShardStoreFaultTest, PutsAfterAFailedPutContinueInOrderWithNoReaderSkippingThem) {
  ASSERT_EQ(Put("a"), 1u);
  faults_.FailNth(WriteKind::kRecords, 1);
  ASSERT_FALSE(PutAll({"lost1", "lost2"}).ok());
  // A reader positioned at the tip after the failure must see the next put:
  // the failed numbers are not above the tip (they were given back).
  const std::string latest = Iterator(v1::LATEST);
  const uint64_t b = Put("b");
  const uint64_t c = Put("c");
  EXPECT_GT(b, 1u);
  EXPECT_GT(c, b);
  EXPECT_THAT(Data(Get(latest)), ElementsAre("b", "c"));
  EXPECT_THAT(ReadAll(), ElementsAre("a", "b", "c"));

  Reopen();  // the log alone decides: nothing of the failed call, order kept
  EXPECT_THAT(ReadAll(), ElementsAre("a", "b", "c"));
  EXPECT_GT(Put("d"), c);
}

// The tip never rests on numbers of a failed write, so a position taken at the
// tip stays valid across a restart (which recovers numbers from the log only).
TEST_F(ShardStoreFaultTest, PositionAtTheTipAfterAFailedPutSurvivesARestart) {
  ASSERT_EQ(Put("a"), 1u);
  faults_.FailNth(WriteKind::kRecords, 1);
  ASSERT_FALSE(PutAll({"lost1", "lost2"}).ok());
  const std::string latest = Iterator(v1::LATEST);
  Reopen();
  Put("b");
  EXPECT_THAT(Data(Get(latest)), ElementsAre("b"));
}

// Two puts in flight; the earlier one fails while the later one commits. The
// tip must not stop at the failed run (readers would wait forever) nor pass
// the later run before it commits.
TEST_F(ShardStoreFaultTest, ReaderAtTheTipPassesAFailedWriteThatWasInFlight) {
  const std::string latest = Iterator(v1::LATEST);
  faults_.HoldNth(WriteKind::kRecords, 1, rocksdb::Status::IOError("injected write fault"));
  std::optional<absl::Status> first;
  std::thread writer([&] { first = PutAll({"lost1", "lost2"}).status(); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the first put never reached its write";
  const uint64_t later = Put("later");  // reserved after the held run, commits first
  EXPECT_EQ(later, 3u);
  EXPECT_TRUE(Get(latest).records().empty()) << "visible before the earlier run finished";
  faults_.Release();
  writer.join();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->code(), absl::StatusCode::kInternal) << *first;

  v1::GetRecordsResponse r = Get(latest);
  EXPECT_THAT(Data(r), ElementsAre("later"));
  EXPECT_GT(Put("next"), later);
  EXPECT_THAT(Data(Get(r.next_shard_iterator())), ElementsAre("next"));
  EXPECT_THAT(ReadAll(), ElementsAre("later", "next"));

  Reopen();
  EXPECT_THAT(ReadAll(), ElementsAre("later", "next"));
  EXPECT_GT(Put("after reopen"), later + 1);
}

TEST_F(ShardStoreFaultTest, FailedSplitLeavesTheStreamAsItWas) {
  ASSERT_EQ(Put("a"), 1u);
  faults_.FailNth(WriteKind::kReshard, 1);
  absl::Status split = Split();
  EXPECT_EQ(split.code(), absl::StatusCode::kInternal) << split;
  EXPECT_THAT(std::string(split.message()), HasSubstr("nothing was changed"));

  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0].shard_id(), "shardId-000000000000");
  EXPECT_TRUE(shards[0].sequence_number_range().ending_sequence_number().empty());
  EXPECT_EQ(DescribedStatus(), v1::ACTIVE);
  // Writes still go to the parent, numbered right after "a" (the reserved
  // ending number was given back), and readers do not reach SHARD_END.
  EXPECT_EQ(Put("b"), 2u);
  v1::GetRecordsResponse r = Get(Iterator(v1::TRIM_HORIZON));
  EXPECT_THAT(Data(r), ElementsAre("a", "b"));
  EXPECT_FALSE(r.next_shard_iterator().empty());
  EXPECT_TRUE(r.child_shards().empty());

  Reopen();  // nothing of the split reached the disk either
  EXPECT_EQ(Shards().size(), 1u);
  EXPECT_THAT(ReadAll(), ElementsAre("a", "b"));

  ASSERT_TRUE(Split().ok());  // healed: the split works
  EXPECT_EQ(Shards().size(), 3u);
  r = Get(Iterator(v1::TRIM_HORIZON));
  EXPECT_THAT(Data(r), ElementsAre("a", "b"));
  EXPECT_EQ(r.child_shards_size(), 2);
}

TEST_F(ShardStoreFaultTest, FailedMergeLeavesBothParentsOpen) {
  ASSERT_TRUE(Split().ok());  // children 1 = [0, 999] and 2 = [1000, max]
  faults_.FailNth(WriteKind::kReshard, 1);
  v1::MergeShardsRequest merge;
  merge.set_stream_name("s");
  merge.set_shard_to_merge("shardId-000000000001");
  merge.set_adjacent_shard_to_merge("shardId-000000000002");
  EXPECT_EQ(store_->MergeShards(merge).code(), absl::StatusCode::kInternal);
  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_TRUE(shards[1].sequence_number_range().ending_sequence_number().empty());
  EXPECT_TRUE(shards[2].sequence_number_range().ending_sequence_number().empty());
  v1::PutRecordRequest put;
  put.set_stream_name("s");
  put.set_partition_key("k");
  put.set_data("x");
  put.set_explicit_hash_key("0");
  absl::StatusOr<v1::PutRecordResponse> r = store_->PutRecord(put);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->shard_id(), "shardId-000000000001");
  ASSERT_TRUE(store_->MergeShards(merge).ok());  // healed
  EXPECT_EQ(Shards().size(), 4u);
}

// While the split's metadata write is in flight (and then fails), a reader
// of the parent at its tip never sees SHARD_END.
TEST_F(ShardStoreFaultTest, ReaderDoesNotSeeShardEndOfASplitThatFails) {
  ASSERT_EQ(Put("a"), 1u);
  const std::string latest = Iterator(v1::LATEST);
  faults_.HoldNth(WriteKind::kReshard, 1, rocksdb::Status::IOError("injected write fault"));
  std::optional<absl::Status> split;
  std::thread splitter([&] { split = Split(); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the split never reached its write";
  v1::GetRecordsResponse during = Get(latest);
  EXPECT_TRUE(during.child_shards().empty());
  EXPECT_FALSE(during.next_shard_iterator().empty());
  faults_.Release();
  splitter.join();
  ASSERT_TRUE(split.has_value());
  EXPECT_FALSE(split->ok());
  EXPECT_EQ(Put("b"), 2u);
  v1::GetRecordsResponse after = Get(during.next_shard_iterator());
  EXPECT_THAT(Data(after), ElementsAre("b"));
  EXPECT_TRUE(after.child_shards().empty());
}

// --- Status accuracy ---------------------------------------------------------

TEST_F(ShardStoreFaultTest, StreamIsUpdatingWhileASplitIsInFlightThenActive) {
  EXPECT_EQ(DescribedStatus(), v1::ACTIVE);
  EXPECT_EQ(ListedStatus(), v1::ACTIVE);
  faults_.HoldNth(WriteKind::kReshard, 1, rocksdb::Status::OK());
  std::optional<absl::Status> split;
  std::thread splitter([&] { split = Split(); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the split never reached its write";
  EXPECT_EQ(DescribedStatus(), v1::UPDATING);
  EXPECT_EQ(ListedStatus(), v1::UPDATING);
  v1::UpdateShardCountRequest update;  // a second reshard meanwhile is refused
  update.set_stream_name("s");
  update.set_target_shard_count(2);
  update.set_scaling_type(v1::UNIFORM_SCALING);
  EXPECT_EQ(store_->UpdateShardCount(update).status().code(),
            absl::StatusCode::kFailedPrecondition);
  faults_.Release();
  splitter.join();
  ASSERT_TRUE(split.has_value());
  EXPECT_TRUE(split->ok()) << *split;
  EXPECT_EQ(DescribedStatus(), v1::ACTIVE);
  EXPECT_EQ(ListedStatus(), v1::ACTIVE);
  EXPECT_EQ(Shards().size(), 3u);
}

TEST_F(ShardStoreFaultTest, StreamIsCreatingWhileItsCreateIsInFlight) {
  faults_.HoldNth(WriteKind::kCreateStream, 1, rocksdb::Status::OK());
  std::thread creator([&] { CreateStream("t"); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the create never reached its write";
  EXPECT_EQ(DescribedStatus("t"), v1::CREATING);
  EXPECT_EQ(ListedStatus("t"), v1::CREATING);
  faults_.Release();
  creator.join();
  EXPECT_EQ(DescribedStatus("t"), v1::ACTIVE);
  EXPECT_EQ(ListedStatus("t"), v1::ACTIVE);
}

// Issue 14, item 5: a put that races CreateStream is acknowledged only once the stream exists
// durably. Before, it was acknowledged while the create's write was in flight; when that write
// failed the stream was erased, and after a restart its id was handed out again, so the orphaned
// record reappeared in the next stream created.
TEST_F(ShardStoreFaultTest, APutRacingAFailedCreateIsNotAcknowledgedAndLeavesNothingBehind) {
  faults_.HoldNth(WriteKind::kCreateStream, 1, rocksdb::Status::IOError("injected write fault"));
  std::thread creator([&] {
    v1::CreateStreamRequest r;
    r.set_stream_name("t");
    r.set_shard_count(1);
    EXPECT_EQ(store_->CreateStream(r).code(), absl::StatusCode::kInternal);
  });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the create never reached its write";
  std::optional<absl::Status> put;
  std::thread putter([&] { put = PutTo("t", "orphan").status(); });
  EXPECT_OK(clock_.WaitForWaiters(1)) << "the put did not wait for the stream to exist";
  EXPECT_FALSE(put.has_value() && put->ok()) << "acknowledged before the stream existed";
  faults_.Release();
  creator.join();
  putter.join();
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->code(), absl::StatusCode::kNotFound) << *put;
  Reopen();
  CreateStream("u");
  Reopen();  // recovery reads u's shards' records from the log
  EXPECT_TRUE(ReadAllOf("u").empty()) << "a record of the failed create came back";
}

TEST_F(ShardStoreFaultTest, APutDuringCreatingWaitsAndLandsOnceTheStreamExists) {
  faults_.HoldNth(WriteKind::kCreateStream, 1, rocksdb::Status::OK());
  std::thread creator([&] { CreateStream("t"); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the create never reached its write";
  std::optional<absl::StatusOr<v1::PutRecordResponse>> put;
  std::thread putter([&] { put = PutTo("t", "first"); });
  EXPECT_OK(clock_.WaitForWaiters(1)) << "the put did not wait for the stream to exist";
  faults_.Release();
  creator.join();
  putter.join();
  ASSERT_TRUE(put.has_value());
  ASSERT_TRUE(put->ok()) << put->status();
  EXPECT_EQ((*put)->sequence_number(), "1");
  Reopen();
  EXPECT_THAT(ReadAllOf("t"), ElementsAre("first"));
}

// Issue 14, item 5: stream ids are never reused, also after a restart that follows a failed
// create. Before, the id allocator was written only with the create, so an iterator taken
// during the failed create read the next stream created after a restart.
TEST_F(ShardStoreFaultTest, TheIdOfAFailedCreateIsNeverReusedAfterRestart) {
  faults_.HoldNth(WriteKind::kCreateStream, 1, rocksdb::Status::IOError("injected write fault"));
  std::thread creator([&] {
    v1::CreateStreamRequest r;
    r.set_stream_name("t");
    r.set_shard_count(1);
    EXPECT_EQ(store_->CreateStream(r).code(), absl::StatusCode::kInternal);
  });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the create never reached its write";
  v1::GetShardIteratorRequest at;
  at.set_stream_name("t");
  at.set_shard_id("shardId-000000000000");
  at.set_shard_iterator_type(v1::TRIM_HORIZON);
  absl::StatusOr<v1::GetShardIteratorResponse> iterator = store_->GetShardIterator(at);
  ASSERT_TRUE(iterator.ok()) << iterator.status();  // reads see the CREATING stream, empty
  faults_.Release();
  creator.join();
  Reopen();
  CreateStream("u");
  ASSERT_TRUE(PutTo("u", "someone else's").ok());
  v1::GetRecordsRequest get;
  get.set_shard_iterator(iterator->shard_iterator());
  v1::GetRecordsResponse response;
  absl::Status read = store_->GetRecords(get, &response);
  EXPECT_EQ(read.code(), absl::StatusCode::kNotFound) << read;
  EXPECT_TRUE(response.records().empty()) << "an iterator of the failed stream read stream u";
}

TEST_F(ShardStoreFaultTest, StreamIsDeletingWhileItsDeleteIsInFlight) {
  faults_.HoldNth(WriteKind::kDeleteStream, 1, rocksdb::Status::IOError("injected write fault"));
  v1::DeleteStreamRequest d;
  d.set_stream_name("s");
  std::optional<absl::Status> deleted;
  std::thread deleter([&] { deleted = store_->DeleteStream(d); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the delete never reached its write";
  EXPECT_EQ(DescribedStatus(), v1::DELETING);
  EXPECT_EQ(ListedStatus(), v1::DELETING);
  faults_.Release();
  deleter.join();
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->code(), absl::StatusCode::kInternal);
  // The failed delete left the stream as it was.
  EXPECT_EQ(DescribedStatus(), v1::ACTIVE);
  EXPECT_EQ(Put("still here"), 1u);
  ASSERT_TRUE(store_->DeleteStream(d).ok());
  v1::DescribeStreamSummaryRequest describe;
  describe.set_stream_name("s");
  EXPECT_EQ(store_->DescribeStreamSummary(describe).status().code(), absl::StatusCode::kNotFound);
}

// Issue 14, item 9: a trim that fails in one stream does not stop the pass; the other streams
// are trimmed and the failure is reported. Before, the pass returned at the first failure.
TEST_F(ShardStoreFaultTest, ATrimThatFailsInOneStreamDoesNotStopTheOthers) {
  CreateStream("t");
  Put("expired in s");
  ASSERT_TRUE(PutTo("t", "expired in t").ok());
  clock_.Advance(absl::Hours(25));
  faults_.FailNth(WriteKind::kTrim, 1);  // the first stream's (s, the oldest id)
  absl::StatusOr<int64_t> pass = store_->TrimExpiredRecords();
  EXPECT_EQ(pass.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(pass.status().message()), HasSubstr("stream s"));
  EXPECT_TRUE(ReadAllOf("t").empty()) << "the pass stopped at the failed stream";
  EXPECT_THAT(ReadAll(), ElementsAre("expired in s"));
  // Healed: the next pass trims s too.
  pass = store_->TrimExpiredRecords();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(*pass, 1);
  EXPECT_TRUE(ReadAll().empty());
}

// Issue 14, item 9: a change whose WriteBatch cannot be built (WriteBatch::Put/Delete failing,
// here by the store's batch size limit) writes nothing and fails; it is never written in part.
// Before, ApplyReshard (and create, delete, retention) ignored those statuses and wrote what the
// batch held: the call succeeded, and after a restart the stream was missing shards (or the
// change). Each case sweeps the limit across the change's batch: the store reopened must show
// exactly what the live store showed, and the call either succeeded or was RESOURCE_EXHAUSTED.
class BatchLimitTest : public ::testing::Test {
 protected:
  static std::unique_ptr<ShardStore> Open(const std::string& dir, FakeClock& clock,
                                          size_t max_batch_bytes) {
    ShardStoreOptions options;
    options.data_dir = dir;
    options.max_write_batch_bytes = max_batch_bytes;
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static void CreateStream(ShardStore& store, const std::string& name, int shards) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(shards);
    ASSERT_TRUE(store.CreateStream(r).ok());
  }

  // For each limit from 16 to `max_limit` by `step` bytes: a fresh store holding stream s (2
  // shards, 2 records) is reopened with the limit and runs `act`. Expects both outcomes across
  // the sweep (so it crossed the change's batch). Each limit costs a few reopens, each of which
  // flushes the WAL: the steps are coarse, and every cut inside a batch shows the bug.
  void Sweep(size_t max_limit, size_t step, const std::function<absl::Status(ShardStore&)>& act) {
    int succeeded = 0, refused = 0;
    for (size_t limit = 16; limit <= max_limit; limit += step) {
      SCOPED_TRACE(absl::StrCat("max_write_batch_bytes ", limit));
      FakeClock clock;
      const std::string dir = ::tributary::testing::NewTempDir("batch_limit");
      {
        std::unique_ptr<ShardStore> store = Open(dir, clock, 0);
        ASSERT_NE(store, nullptr);
        CreateStream(*store, "s", 2);
        for (const char* key : {"a", "b"}) {
          v1::PutRecordRequest r;
          r.set_stream_name("s");
          r.set_partition_key(key);
          r.set_data(key);
          ASSERT_TRUE(store->PutRecord(r).ok());
        }
      }
      std::string live;
      {
        std::unique_ptr<ShardStore> store = Open(dir, clock, limit);
        ASSERT_NE(store, nullptr);
        absl::Status status = act(*store);
        if (status.ok()) {
          ++succeeded;
        } else {
          ++refused;
          EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
        }
        live = ObserveStore(*store);
      }
      std::unique_ptr<ShardStore> reopened = Open(dir, clock, 0);
      ASSERT_NE(reopened, nullptr);
      EXPECT_EQ(ObserveStore(*reopened), live) << "written in part";
    }
    EXPECT_GT(succeeded, 0);
    EXPECT_GT(refused, 0);
  }
};

TEST_F(BatchLimitTest, ACreateIsWrittenWhollyOrNotAtAll) {
  Sweep(480, 48, [](ShardStore& store) {
    v1::CreateStreamRequest r;
    r.set_stream_name("c");
    r.set_shard_count(4);
    return store.CreateStream(r);
  });
}

TEST_F(BatchLimitTest, ASplitIsWrittenWhollyOrNotAtAll) {
  Sweep(400, 48, [](ShardStore& store) {
    v1::SplitShardRequest r;
    r.set_stream_name("s");
    r.set_shard_to_split("shardId-000000000000");
    r.set_new_starting_hash_key("1000");
    return store.SplitShard(r);
  });
}

TEST_F(BatchLimitTest, AnUpdateShardCountIsWrittenWhollyOrNotAtAll) {
  Sweep(640, 64, [](ShardStore& store) {
    v1::UpdateShardCountRequest r;
    r.set_stream_name("s");
    r.set_scaling_type(v1::UNIFORM_SCALING);
    r.set_target_shard_count(4);
    return store.UpdateShardCount(r).status();
  });
}

TEST_F(BatchLimitTest, ADeleteIsWrittenWhollyOrNotAtAll) {
  Sweep(176, 16, [](ShardStore& store) {
    v1::DeleteStreamRequest r;
    r.set_stream_name("s");
    return store.DeleteStream(r);
  });
}

TEST_F(BatchLimitTest, ARetentionChangeIsWrittenWhollyOrNotAtAll) {
  Sweep(96, 16, [](ShardStore& store) {
    v1::IncreaseStreamRetentionPeriodRequest r;
    r.set_stream_name("s");
    r.set_retention_period_hours(48);
    return store.IncreaseStreamRetentionPeriod(r);
  });
}

TEST_F(ShardStoreFaultTest, SequenceNumberForOrderingMustBeASequenceNumber) {
  for (const char* bad : {"abc", "12x", "-1", " 1", "1.5", "123456789012345678901"}) {
    v1::PutRecordRequest r;
    r.set_stream_name("s");
    r.set_partition_key("k");
    r.set_data("d");
    r.set_sequence_number_for_ordering(bad);
    absl::Status s = store_->PutRecord(r).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("sequence_number_for_ordering")) << bad;
  }
  EXPECT_TRUE(ReadAll().empty());
  // A valid one (any sequence number) is accepted; order comes from the shard.
  v1::PutRecordRequest r;
  r.set_stream_name("s");
  r.set_partition_key("k");
  r.set_data("ordered");
  r.set_sequence_number_for_ordering("12345");
  absl::StatusOr<v1::PutRecordResponse> ok = store_->PutRecord(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->sequence_number(), "1");
}

}  // namespace
}  // namespace tributary::shard_store
