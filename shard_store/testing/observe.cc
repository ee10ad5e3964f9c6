#include "shard_store/testing/observe.h"

#include "absl/strings/str_cat.h"

namespace tributary::shard_store::testing {

std::string ObserveStore(ShardStore& store) {
  std::string out;
  v1::ListStreamsRequest list;
  list.set_limit(10000);
  absl::StatusOr<v1::ListStreamsResponse> streams = store.ListStreams(list);
  if (!streams.ok()) return streams.status().ToString();
  for (const std::string& name : streams->stream_names()) {
    v1::DescribeStreamSummaryRequest describe;
    describe.set_stream_name(name);
    absl::StatusOr<v1::DescribeStreamSummaryResponse> summary =
        store.DescribeStreamSummary(describe);
    if (!summary.ok()) return summary.status().ToString();
    const v1::StreamDescriptionSummary& s = summary->stream_description_summary();
    absl::StrAppend(&out, "stream ", name, " ", v1::StreamStatus_Name(s.stream_status()),
                    " retention ", s.retention_period_hours(), "h, ", s.open_shard_count(),
                    " open shards, ", s.consumer_count(), " consumers\n");
    v1::ListTagsForStreamRequest tags_request;
    tags_request.set_stream_name(name);
    absl::StatusOr<v1::ListTagsForStreamResponse> tags = store.ListTagsForStream(tags_request);
    if (!tags.ok()) return tags.status().ToString();
    for (const v1::Tag& tag : tags->tags()) {
      absl::StrAppend(&out, "  tag ", tag.key(), "=", tag.value(), "\n");
    }
    v1::ListStreamConsumersRequest consumers_request;
    consumers_request.set_stream_name(name);
    absl::StatusOr<v1::ListStreamConsumersResponse> consumers =
        store.ListStreamConsumers(consumers_request);
    if (!consumers.ok()) return consumers.status().ToString();
    for (const v1::Consumer& c : consumers->consumers()) {
      absl::StrAppend(&out, "  consumer ", c.ShortDebugString(), "\n");
    }
    v1::ListShardsRequest shards_request;
    shards_request.set_stream_name(name);
    shards_request.set_max_results(10000);
    absl::StatusOr<v1::ListShardsResponse> shards = store.ListShards(shards_request);
    if (!shards.ok()) return shards.status().ToString();
    for (const v1::Shard& shard : shards->shards()) {
      absl::StrAppend(&out, "  ", shard.ShortDebugString(), "\n");
      v1::GetShardIteratorRequest at;
      at.set_stream_name(name);
      at.set_shard_id(shard.shard_id());
      at.set_shard_iterator_type(v1::TRIM_HORIZON);
      absl::StatusOr<v1::GetShardIteratorResponse> it = store.GetShardIterator(at);
      if (!it.ok()) return it.status().ToString();
      std::string iterator = it->shard_iterator();
      while (!iterator.empty()) {
        v1::GetRecordsRequest get;
        get.set_shard_iterator(iterator);
        v1::GetRecordsResponse records;
        absl::Status status = store.GetRecords(get, &records);
        if (!status.ok()) return status.ToString();
        for (const v1::Record& r : records.records()) {
          absl::StrAppend(&out, "    record ", r.sequence_number(), " ", r.partition_key(), "=",
                          r.data(), "\n");
        }
        for (const v1::ChildShard& c : records.child_shards()) {
          absl::StrAppend(&out, "    child ", c.shard_id(), "\n");
        }
        if (records.records().empty()) break;  // at the tip (or at SHARD_END: no iterator)
        iterator = records.next_shard_iterator();
      }
    }
  }
  return out;
}

}  // namespace tributary::shard_store::testing
