// Kinesis output shapes built from tributary.v1 messages, shared by the operations that return
// them (GetRecords, SubscribeToShard's events).
#ifndef TRIBUTARY_AWS_KINESIS_SHAPES_H_
#define TRIBUTARY_AWS_KINESIS_SHAPES_H_

#include "aws/value.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "proto/streams.pb.h"

namespace tributary::aws {

// {StartingHashKey, EndingHashKey}.
Value HashKeyRangeShape(const v1::HashKeyRange& range);
// [{ShardId, ParentShards, HashKeyRange}].
Value ChildShardsShape(const google::protobuf::RepeatedPtrField<v1::ChildShard>& children);
// [{SequenceNumber, ApproximateArrivalTimestamp, Data, PartitionKey}], moving the records'
// strings out.
Value RecordsShape(google::protobuf::RepeatedPtrField<v1::Record>* records);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_KINESIS_SHAPES_H_
