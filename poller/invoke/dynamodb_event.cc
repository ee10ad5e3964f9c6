// Written by hand like the Kinesis event (lambda_event.cc): appends of fixed fragments and the
// escaped strings, on the delivery path of every record.
#include "poller/invoke/dynamodb_event.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tables/attribute_value.h"
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

}  // namespace

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
    absl::StatusOr<tables::ChangeRecord> change = tables::DecodeChangeRecord(r.data());
    if (!change.ok()) {
      return absl::DataLossError(absl::StrCat("record ", r.sequence_number(), " of ",
                                              request.stream_name(), " is not a change record: ",
                                              change.status().message()));
    }
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, "{\"eventID\":\"",
                    tables::EventId(source.table_id, shard_index, r.sequence_number()),
                    "\",\"eventName\":\"", tables::ChangeEventName(change->event),
                    "\",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":",
                    region, ",\"dynamodb\":{\"ApproximateCreationDateTime\":",
                    absl::ToUnixSeconds(change->approximate_creation_time), ",\"Keys\":");
    AppendMap(change->keys, &out);
    if (change->new_image) {
      out.append(",\"NewImage\":");
      AppendMap(*change->new_image, &out);
    }
    if (change->old_image) {
      out.append(",\"OldImage\":");
      AppendMap(*change->old_image, &out);
    }
    absl::StrAppend(&out, ",\"SequenceNumber\":\"",
                    tables::EdgeSequenceNumber(r.sequence_number()),
                    "\",\"SizeBytes\":", change->size_bytes, ",\"StreamViewType\":\"",
                    tables::StreamViewTypeName(change->view_type), "\"},\"eventSourceARN\":",
                    source_arn, "}");
  }
  out.push_back(']');
  AppendWindowMembers(request, tables::EdgeShardId(shard_index, source.table_id), source_arn,
                      &out);
  out.push_back('}');
  return out;
}

v1::InvokeResponse DecodeLambdaDynamoDbResponse(absl::string_view body) {
  v1::InvokeResponse response = DecodeLambdaResponse(body);
  for (v1::BatchItemFailure& failure : *response.mutable_batch_item_failures()) {
    if (std::optional<std::string> store = tables::StoreSequenceNumber(failure.item_identifier())) {
      failure.set_item_identifier(*store);
    }
  }
  return response;
}

}  // namespace tributary::poller
