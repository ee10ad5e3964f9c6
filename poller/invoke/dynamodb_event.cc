// Written by hand like the Kinesis event (lambda_event.cc): appends of fixed fragments and the
// escaped strings, on the delivery path of every record.
#include "poller/invoke/dynamodb_event.h"

#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "tables/attribute_value.h"
#include "tables/attribute_value_proto.h"
#include "tables/change_record.h"
#include "tables/stream_ids.h"

namespace tributary::poller {
namespace {

using tables::AttributeMap;
using tables::AttributeValue;
using Type = tables::AttributeValue::Type;

void AppendMap(const AttributeMap& map, std::string* out);

void AppendValue(const AttributeValue& a, std::string* out) {
  out->append("{\"");
  out->append(tables::TypeName(a.type()));
  out->append("\":");
  switch (a.type()) {
    case Type::kS:
    case Type::kN:
      AppendJsonString(a.scalar(), out);
      break;
    case Type::kB:
      absl::StrAppend(out, "\"", absl::Base64Escape(a.scalar()), "\"");
      break;
    case Type::kBool:
      out->append(a.bool_value() ? "true" : "false");
      break;
    case Type::kNull:
      out->append("true");
      break;
    case Type::kM:
      AppendMap(a.map(), out);
      break;
    case Type::kL: {
      out->push_back('[');
      bool first = true;
      for (const AttributeValue& e : a.list()) {
        if (!first) out->push_back(',');
        first = false;
        AppendValue(e, out);
      }
      out->push_back(']');
      break;
    }
    case Type::kSS:
    case Type::kNS:
    case Type::kBS: {
      out->push_back('[');
      bool first = true;
      for (const std::string& e : a.set()) {
        if (!first) out->push_back(',');
        first = false;
        if (a.type() == Type::kBS) {
          absl::StrAppend(out, "\"", absl::Base64Escape(e), "\"");
        } else {
          AppendJsonString(e, out);
        }
      }
      out->push_back(']');
      break;
    }
  }
  out->push_back('}');
}

void AppendMap(const AttributeMap& map, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : map) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(name, out);
    out->push_back(':');
    AppendValue(value, out);
  }
  out->push_back('}');
}

v1::StreamViewType ProtoViewType(tables::StreamViewType type) {
  switch (type) {
    case tables::StreamViewType::kKeysOnly:
      return v1::VIEW_KEYS_ONLY;
    case tables::StreamViewType::kNewImage:
      return v1::VIEW_NEW_IMAGE;
    case tables::StreamViewType::kOldImage:
      return v1::VIEW_OLD_IMAGE;
    case tables::StreamViewType::kNewAndOldImages:
      return v1::VIEW_NEW_AND_OLD_IMAGES;
  }
  return v1::STREAM_VIEW_TYPE_UNSPECIFIED;
}

}  // namespace

absl::StatusOr<TableStreamSource> FindTableStreamSource(TableStreamSources* tables,
                                                        const std::string& stream_name) {
  if (tables == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this poller cannot name the table of stream ", stream_name, " (no Tables service)"));
  }
  absl::StatusOr<TableStreamSource> source = tables->Find(stream_name);
  if (source.ok()) return source;
  return absl::Status(source.status().code(),
                      absl::StatusCode::kNotFound == source.status().code()
                          ? absl::StrCat("the table stream ", stream_name,
                                         " is gone: ", source.status().message())
                          : absl::StrCat("looking up the table of ", stream_name, ": ",
                                         source.status().message()));
}

absl::StatusOr<DynamoDbEventRecord> DecodeDynamoDbEventRecord(const TableStreamSource& source,
                                                              const std::string& stream_name,
                                                              const std::string& shard_id,
                                                              const v1::Record& record) {
  absl::StatusOr<tables::ChangeRecord> change = tables::DecodeChangeRecord(record.data());
  if (!change.ok()) {
    return absl::DataLossError(absl::StrCat("record ", record.sequence_number(), " of ",
                                            stream_name, " is not a change record: ",
                                            change.status().message()));
  }
  const uint32_t shard_index = tables::IndexOfStoreShardId(shard_id).value_or(0);
  return DynamoDbEventRecord{
      tables::EventId(source.table_id, shard_index, record.sequence_number()),
      tables::EdgeSequenceNumber(record.sequence_number()), *std::move(change)};
}

std::string DynamoDbStreamArn(const LambdaAccount& account, const TableStreamSource& source) {
  return tables::TableStreamArn(account.region, account.account_id, source.table_name,
                                source.label);
}

absl::StatusOr<std::string> EncodeLambdaDynamoDbEvent(const LambdaAccount& account,
                                                      const TableStreamSource& source,
                                                      const v1::InvokeRequest& request) {
  std::string source_arn;
  AppendJsonString(DynamoDbStreamArn(account, source), &source_arn);
  std::string region;
  AppendJsonString(account.region, &region);
  const uint32_t shard_index = tables::IndexOfStoreShardId(request.shard_id()).value_or(0);
  std::string out;
  size_t estimate = 64;
  for (const v1::Record& r : request.records()) estimate += 400 + 2 * r.data().size();
  out.reserve(estimate);
  out.append("{\"Records\":[");
  bool first = true;
  for (const v1::Record& r : request.records()) {
    absl::StatusOr<DynamoDbEventRecord> e =
        DecodeDynamoDbEventRecord(source, request.stream_name(), request.shard_id(), r);
    if (!e.ok()) return e.status();
    const tables::ChangeRecord& change = e->change;
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, "{\"eventID\":\"", e->event_id, "\",\"eventName\":\"",
                    tables::ChangeEventName(change.event),
                    "\",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":",
                    region, ",\"dynamodb\":{\"ApproximateCreationDateTime\":",
                    absl::ToUnixSeconds(change.approximate_creation_time), ",\"Keys\":");
    AppendMap(change.keys, &out);
    if (change.new_image) {
      out.append(",\"NewImage\":");
      AppendMap(*change.new_image, &out);
    }
    if (change.old_image) {
      out.append(",\"OldImage\":");
      AppendMap(*change.old_image, &out);
    }
    absl::StrAppend(&out, ",\"SequenceNumber\":\"", e->sequence_number,
                    "\",\"SizeBytes\":", change.size_bytes, ",\"StreamViewType\":\"",
                    tables::StreamViewTypeName(change.view_type), "\"},\"eventSourceARN\":",
                    source_arn, "}");
  }
  out.push_back(']');
  AppendWindowMembers(request, tables::EdgeShardId(shard_index, source.table_id), source_arn,
                      &out);
  out.push_back('}');
  return out;
}

absl::StatusOr<v1::InvokeRequest> DynamoDbInvokeRequest(const LambdaAccount& account,
                                                        const TableStreamSource& source,
                                                        const v1::InvokeRequest& request) {
  const std::string source_arn = DynamoDbStreamArn(account, source);
  v1::InvokeRequest out;
  out.set_event_source_mapping_uuid(request.event_source_mapping_uuid());
  out.set_stream_name(request.stream_name());
  out.set_shard_id(tables::EdgeShardId(
      tables::IndexOfStoreShardId(request.shard_id()).value_or(0), source.table_id));
  if (request.has_window()) *out.mutable_window() = request.window();
  if (request.has_state()) *out.mutable_state() = request.state();
  out.set_is_final_invoke_for_window(request.is_final_invoke_for_window());
  out.set_is_window_terminated_early(request.is_window_terminated_early());
  out.mutable_dynamodb_records()->Reserve(request.records_size());
  for (const v1::Record& r : request.records()) {
    absl::StatusOr<DynamoDbEventRecord> e =
        DecodeDynamoDbEventRecord(source, request.stream_name(), request.shard_id(), r);
    if (!e.ok()) return e.status();
    v1::DynamoDbStreamRecord& d = *out.add_dynamodb_records();
    d.set_event_id(std::move(e->event_id));
    d.set_event_name(tables::ChangeEventName(e->change.event));
    d.set_event_version("1.1");
    d.set_event_source("aws:dynamodb");
    d.set_aws_region(account.region);
    d.set_event_source_arn(source_arn);
    v1::StreamRecord& ddb = *d.mutable_dynamodb();
    *ddb.mutable_approximate_creation_date_time() =
        ToProtoTimestamp(absl::FromUnixSeconds(absl::ToUnixSeconds(e->change.approximate_creation_time)));
    tables::ToProto(e->change.keys, ddb.mutable_keys());
    if (e->change.new_image) tables::ToProto(*e->change.new_image, ddb.mutable_new_image());
    if (e->change.old_image) tables::ToProto(*e->change.old_image, ddb.mutable_old_image());
    ddb.set_sequence_number(std::move(e->sequence_number));
    ddb.set_size_bytes(e->change.size_bytes);
    ddb.set_stream_view_type(ProtoViewType(e->change.view_type));
  }
  return out;
}

void ToStoreItemIdentifiers(v1::InvokeResponse* response) {
  for (v1::BatchItemFailure& failure : *response->mutable_batch_item_failures()) {
    if (std::optional<std::string> store = tables::StoreSequenceNumber(failure.item_identifier())) {
      failure.set_item_identifier(*store);
    }
  }
}

v1::InvokeResponse DecodeLambdaDynamoDbResponse(absl::string_view body) {
  v1::InvokeResponse response = DecodeLambdaResponse(body);
  ToStoreItemIdentifiers(&response);
  return response;
}

}  // namespace tributary::poller
