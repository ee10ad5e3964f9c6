#include "stream_tracker/testing/fake_stream_catalog.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace tributary::stream_tracker::testing {
namespace {

std::string Decimal(absl::uint128 v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

absl::Status FakeStreamCatalog::TakeFailure() {
  if (failures_left_ == 0) return absl::OkStatus();
  --failures_left_;
  return failure_;
}

FakeStreamCatalog::FakeStream& FakeStreamCatalog::StreamOrDie(const std::string& name) {
  auto it = streams_.find(name);
  CHECK(it != streams_.end()) << "no stream " << name;
  return it->second;
}

std::string FakeStreamCatalog::AddShard(FakeStream& stream, absl::uint128 start, absl::uint128 end,
                                        const std::string& parent,
                                        const std::string& adjacent_parent) {
  FakeShard fake;
  fake.start = start;
  fake.end = end;
  v1::Shard& shard = fake.shard;
  shard.set_shard_id(absl::StrFormat("shardId-%012d", stream.next_shard_number++));
  shard.set_parent_shard_id(parent);
  shard.set_adjacent_parent_shard_id(adjacent_parent);
  shard.mutable_hash_key_range()->set_starting_hash_key(Decimal(start));
  shard.mutable_hash_key_range()->set_ending_hash_key(Decimal(end));
  shard.mutable_sequence_number_range()->set_starting_sequence_number(
      absl::StrCat(stream.next_sequence++));
  const std::string id = shard.shard_id();
  stream.shards[id] = std::move(fake);
  return id;
}

void FakeStreamCatalog::Close(FakeStream& stream, FakeShard& shard) {
  CHECK(shard.shard.sequence_number_range().ending_sequence_number().empty())
      << shard.shard.shard_id() << " is already closed";
  shard.shard.mutable_sequence_number_range()->set_ending_sequence_number(
      absl::StrCat(stream.next_sequence++));
  shard.closed_at = clock_.Now();
}

absl::Status FakeStreamCatalog::CheckStreamExists(const std::string& stream_name) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  if (streams_.count(stream_name) == 0) {
    return absl::NotFoundError(absl::StrCat("stream ", stream_name, " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Shard>> FakeStreamCatalog::ListShards(
    const std::string& stream_name) {
  absl::MutexLock lock(&mu_);
  ++list_shards_calls_;
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  auto it = streams_.find(stream_name);
  if (it == streams_.end()) {
    return absl::NotFoundError(absl::StrCat("stream ", stream_name, " not found"));
  }
  std::vector<v1::Shard> shards;
  for (const auto& [id, fake] : it->second.shards) shards.push_back(fake.shard);
  return shards;
}

absl::StatusOr<std::vector<std::string>> FakeStreamCatalog::ListShardIdsOpenFrom(
    const std::string& stream_name, absl::Time time) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  auto it = streams_.find(stream_name);
  if (it == streams_.end()) {
    return absl::NotFoundError(absl::StrCat("stream ", stream_name, " not found"));
  }
  std::vector<std::string> ids;
  for (const auto& [id, fake] : it->second.shards) {
    if (fake.closed_at >= time) ids.push_back(id);
  }
  return ids;
}

absl::StatusOr<ShardSetProbe> FakeStreamCatalog::ProbeShardSet(const std::string& stream_name,
                                                               const std::string& after_shard_id) {
  absl::MutexLock lock(&mu_);
  ++probe_calls_;
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  auto it = streams_.find(stream_name);
  if (it == streams_.end()) {
    return absl::NotFoundError(absl::StrCat("stream ", stream_name, " not found"));
  }
  ShardSetProbe probe;
  probe.created = it->second.created;
  for (const auto& [id, fake] : it->second.shards) {
    if (fake.closed_at == absl::InfiniteFuture()) ++probe.open_shard_count;
  }
  probe.has_shard_after = it->second.shards.upper_bound(after_shard_id) != it->second.shards.end();
  return probe;
}

std::vector<std::string> FakeStreamCatalog::CreateStream(const std::string& stream_name,
                                                         int shard_count) {
  absl::MutexLock lock(&mu_);
  CHECK(streams_.count(stream_name) == 0) << "stream " << stream_name << " exists";
  CHECK_GE(shard_count, 1);
  FakeStream& stream = streams_[stream_name];
  stream.created = clock_.Now();
  std::vector<std::string> ids;
  const absl::uint128 width = absl::Uint128Max() / shard_count;
  for (int i = 0; i < shard_count; ++i) {
    const absl::uint128 start = width * i;
    const absl::uint128 end = i == shard_count - 1 ? absl::Uint128Max() : width * (i + 1) - 1;
    ids.push_back(AddShard(stream, start, end, "", ""));
  }
  return ids;
}

void FakeStreamCatalog::DeleteStream(const std::string& stream_name) {
  absl::MutexLock lock(&mu_);
  CHECK(streams_.erase(stream_name) == 1) << "no stream " << stream_name;
}

std::vector<std::string> FakeStreamCatalog::SplitShard(const std::string& stream_name,
                                                       const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  FakeStream& stream = StreamOrDie(stream_name);
  auto it = stream.shards.find(shard_id);
  CHECK(it != stream.shards.end()) << "no shard " << shard_id;
  Close(stream, it->second);
  const absl::uint128 start = it->second.start;
  const absl::uint128 end = it->second.end;
  const absl::uint128 middle = start + (end - start) / 2;
  std::string lower = AddShard(stream, start, middle, shard_id, "");
  std::string upper = AddShard(stream, middle + 1, end, shard_id, "");
  return {lower, upper};
}

std::string FakeStreamCatalog::MergeShards(const std::string& stream_name,
                                           const std::string& shard_id,
                                           const std::string& adjacent_shard_id) {
  absl::MutexLock lock(&mu_);
  FakeStream& stream = StreamOrDie(stream_name);
  auto a = stream.shards.find(shard_id);
  auto b = stream.shards.find(adjacent_shard_id);
  CHECK(a != stream.shards.end() && b != stream.shards.end()) << "no such shards";
  CHECK(a->second.end + 1 == b->second.start || b->second.end + 1 == a->second.start)
      << shard_id << " and " << adjacent_shard_id << " are not adjacent";
  Close(stream, a->second);
  Close(stream, b->second);
  const absl::uint128 start = std::min(a->second.start, b->second.start);
  const absl::uint128 end = std::max(a->second.end, b->second.end);
  return AddShard(stream, start, end, shard_id, adjacent_shard_id);
}

void FakeStreamCatalog::CloseShard(const std::string& stream_name, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  FakeStream& stream = StreamOrDie(stream_name);
  auto it = stream.shards.find(shard_id);
  CHECK(it != stream.shards.end()) << "no shard " << shard_id;
  Close(stream, it->second);
}

void FakeStreamCatalog::TrimShard(const std::string& stream_name, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  CHECK(StreamOrDie(stream_name).shards.erase(shard_id) == 1) << "no shard " << shard_id;
}

void FakeStreamCatalog::FailNextCalls(absl::Status status, int count) {
  absl::MutexLock lock(&mu_);
  failure_ = std::move(status);
  failures_left_ = count;
}

int FakeStreamCatalog::list_shards_calls() {
  absl::MutexLock lock(&mu_);
  return list_shards_calls_;
}

int FakeStreamCatalog::probe_calls() {
  absl::MutexLock lock(&mu_);
  return probe_calls_;
}

}  // namespace tributary::stream_tracker::testing
