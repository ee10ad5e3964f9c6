#include "aws/kinesis_shapes.h"

#include <string>
#include <utility>

#include "common/proto_util.h"

namespace tributary::aws {

Value HashKeyRangeShape(const v1::HashKeyRange& range) {
  Value out = Value::Map();
  out.Add("StartingHashKey", Value::String(range.starting_hash_key()));
  out.Add("EndingHashKey", Value::String(range.ending_hash_key()));
  return out;
}

Value ChildShardsShape(const google::protobuf::RepeatedPtrField<v1::ChildShard>& children) {
  Value list = Value::List();
  for (const v1::ChildShard& c : children) {
    Value& child = list.Append(Value::Map());
    child.Add("ShardId", Value::String(c.shard_id()));
    Value& parents = child.Add("ParentShards", Value::List());
    for (const std::string& p : c.parent_shards()) parents.Append(Value::String(p));
    child.Add("HashKeyRange", HashKeyRangeShape(c.hash_key_range()));
  }
  return list;
}

Value RecordsShape(google::protobuf::RepeatedPtrField<v1::Record>* records) {
  Value list = Value::List();
  list.Reserve(records->size());
  for (v1::Record& record : *records) {
    Value& item = list.Append(Value::Map());
    item.Reserve(4);
    item.Add("SequenceNumber", Value::String(std::move(*record.mutable_sequence_number())));
    item.Add("ApproximateArrivalTimestamp",
             Value::Timestamp(FromProtoTimestamp(record.approximate_arrival_timestamp())));
    item.Add("Data", Value::Bytes(std::move(*record.mutable_data())));
    item.Add("PartitionKey", Value::String(std::move(*record.mutable_partition_key())));
  }
  return list;
}

}  // namespace tributary::aws
