#include "common/grpc_actions.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/wire_format_lite.h"

namespace tributary {
namespace {

// Keep in the order of the .proto files' services; grpc_actions_test checks it covers them all.
// Control-plane calls (third column) are those an audit log records even when they succeed.
constexpr RpcAction kRpcActions[] = {
    {"/tributary.v1.Streams/CreateStream", "kinesis:CreateStream", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/DeleteStream", "kinesis:DeleteStream", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/DescribeStreamSummary", "kinesis:DescribeStreamSummary", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/ListStreams", "kinesis:ListStreams", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Streams/ListShards", "kinesis:ListShards", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/PutRecord", "kinesis:PutRecord", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/PutRecords", "kinesis:PutRecords", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/GetShardIterator", "kinesis:GetShardIterator", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/GetRecords", "kinesis:GetRecords", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Streams/SubscribeToShard", "kinesis:SubscribeToShard", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/SplitShard", "kinesis:SplitShard", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/MergeShards", "kinesis:MergeShards", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/UpdateShardCount", "kinesis:UpdateShardCount", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/IncreaseStreamRetentionPeriod", "kinesis:IncreaseStreamRetentionPeriod", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/DecreaseStreamRetentionPeriod", "kinesis:DecreaseStreamRetentionPeriod", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/UpdateStreamMode", "kinesis:UpdateStreamMode", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/AddTagsToStream", "kinesis:AddTagsToStream", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/RemoveTagsFromStream", "kinesis:RemoveTagsFromStream", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/ListTagsForStream", "kinesis:ListTagsForStream", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/RegisterStreamConsumer", "kinesis:RegisterStreamConsumer", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/DeregisterStreamConsumer", "kinesis:DeregisterStreamConsumer", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/DescribeStreamConsumer", "kinesis:DescribeStreamConsumer", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Streams/ListStreamConsumers", "kinesis:ListStreamConsumers", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.EventSourceMappings/CreateEventSourceMapping", "lambda:CreateEventSourceMapping", true, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.EventSourceMappings/UpdateEventSourceMapping", "lambda:UpdateEventSourceMapping", true, ResourceKind::kMapping, "uuid"},
    {"/tributary.v1.EventSourceMappings/DeleteEventSourceMapping", "lambda:DeleteEventSourceMapping", true, ResourceKind::kMapping, "uuid"},
    {"/tributary.v1.EventSourceMappings/GetEventSourceMapping", "lambda:GetEventSourceMapping", false, ResourceKind::kMapping, "uuid"},
    {"/tributary.v1.EventSourceMappings/ListEventSourceMappings", "lambda:ListEventSourceMappings", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Functions/CreateFunction", "lambda:CreateFunction", true, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Functions/UpdateFunction", "lambda:UpdateFunctionConfiguration", true, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Functions/GetFunction", "lambda:GetFunction", false, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Functions/ListFunctions", "lambda:ListFunctions", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Functions/DeleteFunction", "lambda:DeleteFunction", true, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Functions/PutFunctionConcurrency", "lambda:PutFunctionConcurrency", true, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Functions/DeleteFunctionConcurrency", "lambda:DeleteFunctionConcurrency", true, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Functions/GetFunctionConcurrency", "lambda:GetFunctionConcurrency", false, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Function/Invoke", "lambda:InvokeFunction", false, ResourceKind::kStream, "stream_name"},
    {"/tributary.v1.Leasing/CreateLeases", "tributary:CreateLeases", true, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/DeleteLeases", "tributary:DeleteLeases", true, ResourceKind::kMapping, "event_source_mapping_uuid"},
    {"/tributary.v1.Leasing/SetMappingEnabled", "tributary:SetMappingEnabled", true, ResourceKind::kMapping, "event_source_mapping_uuid"},
    {"/tributary.v1.Leasing/RegisterPoller", "tributary:RegisterPoller", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/DeregisterPoller", "tributary:DeregisterPoller", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/Heartbeat", "tributary:Heartbeat", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/AcquireLeases", "tributary:AcquireLeases", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/ReleaseLease", "tributary:ReleaseLease", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/Checkpoint", "tributary:Checkpoint", true, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/ListLeases", "tributary:ListLeases", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/GetLease", "tributary:GetLease", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/ListPollers", "tributary:ListPollers", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/SummarizeLeases", "tributary:SummarizeLeases", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Leasing/AcquireInvocationSlots", "tributary:AcquireInvocationSlots", false, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Leasing/ReleaseInvocationSlots", "tributary:ReleaseInvocationSlots", false, ResourceKind::kFunction, "function_name"},
    {"/tributary.v1.Pollers/GetMetrics", "tributary:GetPollerMetrics", false, ResourceKind::kMapping, "event_source_mapping_uuid"},
    {"/tributary.v1.Leasing/UpdateShardCheckpoint", "tributary:UpdateLeaseCheckpoint", true, ResourceKind::kNone, ""},
    {"/tributary.v1.ShardCheckpoints/GetShardCheckpoint", "tributary:GetShardCheckpoint", false, ResourceKind::kNone, ""},
    {"/tributary.v1.ShardCheckpoints/UpdateShardCheckpoint", "tributary:UpdateShardCheckpoint", true, ResourceKind::kNone, ""},
    {"/tributary.v1.Clock/AdvanceClock", "tributary:AdvanceClock", true, ResourceKind::kNone, ""},
    {"/tributary.v1.Clock/SetClock", "tributary:SetClock", true, ResourceKind::kNone, ""},
    {"/tributary.v1.Clock/GetClock", "tributary:GetClock", false, ResourceKind::kNone, ""},
    // Tables: the table's ARN; a table stream's own ARN (DescribeTableStream by stream_arn).
    {"/tributary.v1.Tables/CreateTable", "dynamodb:CreateTable", true, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/DescribeTable", "dynamodb:DescribeTable", false, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/ListTables", "dynamodb:ListTables", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Tables/DeleteTable", "dynamodb:DeleteTable", true, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/UpdateTable", "dynamodb:UpdateTable", true, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/PutItem", "dynamodb:PutItem", false, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/GetItem", "dynamodb:GetItem", false, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/DeleteItem", "dynamodb:DeleteItem", false, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/UpdateItem", "dynamodb:UpdateItem", false, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/Query", "dynamodb:Query", false, ResourceKind::kTable, "table_name"},
    {"/tributary.v1.Tables/Scan", "dynamodb:Scan", false, ResourceKind::kTable, "table_name"},
    // The calls of several tables name them in maps and lists, not in one field: their resource
    // is "*", so only a policy allowing the action on any resource lets them through.
    {"/tributary.v1.Tables/BatchWriteItem", "dynamodb:BatchWriteItem", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Tables/BatchGetItem", "dynamodb:BatchGetItem", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Tables/TransactWriteItems", "dynamodb:TransactWriteItems", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Tables/TransactGetItems", "dynamodb:TransactGetItems", false, ResourceKind::kNone, ""},
    {"/tributary.v1.Tables/ListTableStreams", "dynamodb:ListStreams", false, ResourceKind::kTable, "table_name"},
    // By stream_name (a store stream) the resource is "*": only a policy allowing any resource
    // matches it.
    {"/tributary.v1.Tables/DescribeTableStream", "dynamodb:DescribeStream", false, ResourceKind::kTable, "stream_arn"},
};

const absl::flat_hash_map<absl::string_view, const RpcAction*>& ActionsByMethod() {
  static const auto* by_method = [] {
    auto* map = new absl::flat_hash_map<absl::string_view, const RpcAction*>();
    for (const RpcAction& action : kRpcActions) map->emplace(action.method, &action);
    return map;
  }();
  return *by_method;
}

}  // namespace

absl::Span<const RpcAction> AllRpcActions() { return kRpcActions; }

const RpcAction* FindRpcAction(absl::string_view method) {
  auto it = ActionsByMethod().find(method);
  return it == ActionsByMethod().end() ? nullptr : it->second;
}

std::string RpcResource(const RpcAction& action, const google::protobuf::Message& request,
                        const AwsAccount& account) {
  if (action.kind == ResourceKind::kNone) return "*";
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName(std::string(action.field));
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    return "*";  // grpc_actions_test keeps the table and the protos in step
  }
  const std::string name = request.GetReflection()->GetString(request, field);
  if (name.empty()) return "*";
  if (absl::StartsWith(name, "arn:")) return name;
  switch (action.kind) {
    case ResourceKind::kStream:
      return KinesisStreamArn(account, name);
    case ResourceKind::kFunction:
      return LambdaFunctionArn(account, name);
    case ResourceKind::kMapping:
      return EventSourceMappingArn(account, name);
    case ResourceKind::kTable:
      return DynamoDbTableArn(account, name);
    case ResourceKind::kNone:
      break;
  }
  return "*";
}

bool ReadResourceField(const RpcAction& action, google::protobuf::io::ZeroCopyInputStream* wire,
                       google::protobuf::Message* out) {
  using google::protobuf::internal::WireFormatLite;
  if (action.kind == ResourceKind::kNone) return true;
  const google::protobuf::FieldDescriptor* field =
      out->GetDescriptor()->FindFieldByName(std::string(action.field));
  if (field == nullptr || field->is_repeated() || field->is_extension() ||
      field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    return false;
  }
  const uint32_t wanted =
      WireFormatLite::MakeTag(field->number(), WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  google::protobuf::io::CodedInputStream input(wire);
  std::optional<std::string> value;
  while (true) {
    const uint32_t tag = input.ReadTag();
    if (tag == 0) break;  // the end, or bytes that are no tag (told apart below)
    if (tag == wanted) {
      // The field with another wire type is an unknown field to a parse, as it is here.
      uint32_t length = 0;
      std::string read;
      if (!input.ReadVarint32(&length) || !input.ReadString(&read, static_cast<int>(length))) {
        return false;
      }
      value = std::move(read);
    } else if (!WireFormatLite::SkipField(&input, tag)) {
      return false;  // malformed, or an end-group tag at the top level
    }
  }
  if (!input.ConsumedEntireMessage()) return false;
  if (!value.has_value()) return true;  // absent: the field's default, ""
  if (!google::protobuf::internal::IsStructurallyValidUTF8(value->data(),
                                                           static_cast<int>(value->size()))) {
    return false;  // a parse refuses it (proto3 strings are UTF-8); let it
  }
  out->GetReflection()->SetString(out, field, *std::move(value));
  return true;
}

}  // namespace tributary
