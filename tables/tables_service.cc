// The Tables adapter: request → item model → TableStore → reply. No table logic lives here.
#include "tables/tables_service.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/proto_util.h"
#include "glog/logging.h"
#include "tables/stream_ids.h"

namespace tributary::tables {
namespace {

using Type = AttributeValue::Type;

grpc::Status Reply(const char* method, const absl::Status& status) {
  if (!status.ok() && (status.code() == absl::StatusCode::kInternal ||
                       status.code() == absl::StatusCode::kDataLoss ||
                       status.code() == absl::StatusCode::kUnknown)) {
    LOG(WARNING) << "Tables." << method << ": " << status;
  }
  return ToGrpcStatus(status);
}

absl::StatusOr<AttributeValue::Type> KeyType(const v1::KeyAttribute& k, absl::string_view field) {
  if (k.attribute_type() == "S") return Type::kS;
  if (k.attribute_type() == "N") return Type::kN;
  if (k.attribute_type() == "B") return Type::kB;
  return absl::InvalidArgumentError(
      absl::StrCat(field, ".attribute_type: must be S, N or B (got \"", k.attribute_type(),
                   "\")"));
}

v1::KeyAttribute KeyOf(const KeyAttribute& k) {
  v1::KeyAttribute out;
  out.set_attribute_name(k.name);
  out.set_attribute_type(TypeName(k.type));
  return out;
}

v1::StreamViewType ViewOf(StreamViewType t) {
  switch (t) {
    case StreamViewType::kKeysOnly:
      return v1::VIEW_KEYS_ONLY;
    case StreamViewType::kNewImage:
      return v1::VIEW_NEW_IMAGE;
    case StreamViewType::kOldImage:
      return v1::VIEW_OLD_IMAGE;
    case StreamViewType::kNewAndOldImages:
      return v1::VIEW_NEW_AND_OLD_IMAGES;
  }
  return v1::STREAM_VIEW_TYPE_UNSPECIFIED;
}

absl::StatusOr<StreamSpecification> FromProto(const v1::StreamSpecification& s) {
  StreamSpecification out;
  out.enabled = s.stream_enabled();
  if (!s.stream_enabled()) {
    if (s.stream_view_type() != v1::STREAM_VIEW_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "stream_specification.stream_view_type: only with stream_enabled");
    }
    return out;
  }
  switch (s.stream_view_type()) {
    case v1::VIEW_KEYS_ONLY:
      out.view_type = StreamViewType::kKeysOnly;
      return out;
    case v1::VIEW_NEW_IMAGE:
      out.view_type = StreamViewType::kNewImage;
      return out;
    case v1::VIEW_OLD_IMAGE:
      out.view_type = StreamViewType::kOldImage;
      return out;
    case v1::VIEW_NEW_AND_OLD_IMAGES:
      out.view_type = StreamViewType::kNewAndOldImages;
      return out;
    default:
      return absl::InvalidArgumentError(
          "stream_specification.stream_view_type: required with stream_enabled");
  }
}

absl::StatusOr<std::vector<std::string>> Numbers(const v1::StringSet& set) {
  std::vector<std::string> out;
  for (const std::string& n : set.values()) {
    absl::StatusOr<std::string> canonical = ParseNumber(n);
    if (!canonical.ok()) return canonical.status();
    out.push_back(*std::move(canonical));
  }
  return out;
}

}  // namespace

absl::StatusOr<AttributeValue> FromProto(const v1::AttributeValue& v) {
  switch (v.value_case()) {
    case v1::AttributeValue::kS:
      return AttributeValue::S(v.s());
    case v1::AttributeValue::kN: {
      absl::StatusOr<std::string> n = ParseNumber(v.n());
      if (!n.ok()) return n.status();
      return AttributeValue::N(*std::move(n));
    }
    case v1::AttributeValue::kB:
      return AttributeValue::B(v.b());
    case v1::AttributeValue::kBool:
      return AttributeValue::Bool(v.bool_());
    case v1::AttributeValue::kNull:
      if (!v.null()) {
        return absl::InvalidArgumentError(
            "One or more parameter values were invalid: Null attribute value types must have "
            "the value of true");
      }
      return AttributeValue::Null();
    case v1::AttributeValue::kM: {
      absl::StatusOr<AttributeMap> m = FromProto(v.m().attributes());
      if (!m.ok()) return m.status();
      return AttributeValue::M(*std::move(m));
    }
    case v1::AttributeValue::kL: {
      std::vector<AttributeValue> list;
      for (const v1::AttributeValue& e : v.l().values()) {
        absl::StatusOr<AttributeValue> element = FromProto(e);
        if (!element.ok()) return element.status();
        list.push_back(*std::move(element));
      }
      return AttributeValue::L(std::move(list));
    }
    case v1::AttributeValue::kSs:
      return AttributeValue::SS({v.ss().values().begin(), v.ss().values().end()});
    case v1::AttributeValue::kNs: {
      absl::StatusOr<std::vector<std::string>> numbers = Numbers(v.ns());
      if (!numbers.ok()) return numbers.status();
      return AttributeValue::NS(*std::move(numbers));
    }
    case v1::AttributeValue::kBs:
      return AttributeValue::BS({v.bs().values().begin(), v.bs().values().end()});
    case v1::AttributeValue::VALUE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
}

absl::StatusOr<AttributeMap> FromProto(
    const google::protobuf::Map<std::string, v1::AttributeValue>& map) {
  AttributeMap out;
  out.reserve(map.size());
  for (const auto& [name, value] : map) {
    absl::StatusOr<AttributeValue> v = FromProto(value);
    if (!v.ok()) return v.status();
    out.emplace_back(name, *std::move(v));
  }
  absl::Status sorted = SortAttributeMap(&out);
  if (!sorted.ok()) return sorted;
  return out;
}

v1::AttributeValue ToProto(const AttributeValue& a) {
  v1::AttributeValue out;
  switch (a.type()) {
    case Type::kS:
      out.set_s(a.scalar());
      break;
    case Type::kN:
      out.set_n(a.scalar());
      break;
    case Type::kB:
      out.set_b(a.scalar());
      break;
    case Type::kBool:
      out.set_bool_(a.bool_value());
      break;
    case Type::kNull:
      out.set_null(true);
      break;
    case Type::kM:
      ToProto(a.map(), out.mutable_m()->mutable_attributes());
      break;
    case Type::kL:
      for (const AttributeValue& e : a.list()) *out.mutable_l()->add_values() = ToProto(e);
      break;
    case Type::kSS:
      for (const std::string& e : a.set()) out.mutable_ss()->add_values(e);
      break;
    case Type::kNS:
      for (const std::string& e : a.set()) out.mutable_ns()->add_values(e);
      break;
    case Type::kBS:
      for (const std::string& e : a.set()) out.mutable_bs()->add_values(e);
      break;
  }
  return out;
}

void ToProto(const AttributeMap& map,
             google::protobuf::Map<std::string, v1::AttributeValue>* out) {
  for (const auto& [name, value] : map) (*out)[name] = ToProto(value);
}

TablesService::TablesService(TableStore& store, TablesServiceOptions options)
    : store_(store), options_(std::move(options)) {}

v1::TableDescription TablesService::Describe(const TableDescription& d) const {
  v1::TableDescription out;
  out.set_table_name(d.spec.name);
  *out.mutable_partition_key() = KeyOf(d.spec.key_schema.partition_key);
  if (d.spec.key_schema.sort_key) *out.mutable_sort_key() = KeyOf(*d.spec.key_schema.sort_key);
  out.set_billing_mode(d.spec.billing_mode == BillingMode::kPayPerRequest
                           ? v1::BILLING_PAY_PER_REQUEST
                           : v1::BILLING_PROVISIONED);
  out.set_read_capacity_units(d.spec.read_capacity_units);
  out.set_write_capacity_units(d.spec.write_capacity_units);
  out.mutable_stream_specification()->set_stream_enabled(d.spec.stream.enabled);
  if (d.spec.stream.enabled) {
    out.mutable_stream_specification()->set_stream_view_type(ViewOf(d.spec.stream.view_type));
  }
  out.set_table_status(d.status == TableStatus::kActive ? v1::TABLE_ACTIVE : v1::TABLE_DELETING);
  *out.mutable_creation_date_time() = ToProtoTimestamp(d.creation_time);
  out.set_table_id(d.table_id);
  out.set_table_arn(TableArn(options_.region, options_.account_id, d.spec.name));
  if (!d.stream_label.empty()) {
    out.set_latest_stream_label(d.stream_label);
    out.set_latest_stream_arn(
        TableStreamArn(options_.region, options_.account_id, d.spec.name, d.stream_label));
    out.set_latest_stream_name(d.stream_name);
  }
  for (const IndexSpec& index : d.spec.indexes) {
    if (index.kind != IndexKind::kGlobal) continue;
    v1::GlobalSecondaryIndex* g = out.add_global_secondary_indexes();
    g->set_index_name(index.name);
    *g->mutable_partition_key() = KeyOf(index.key_schema.partition_key);
    if (index.key_schema.sort_key) *g->mutable_sort_key() = KeyOf(*index.key_schema.sort_key);
    g->set_projection_type(index.projection == ProjectionType::kAll        ? "ALL"
                           : index.projection == ProjectionType::kKeysOnly ? "KEYS_ONLY"
                                                                           : "INCLUDE");
    for (const std::string& a : index.non_key_attributes) g->add_non_key_attributes(a);
    g->set_read_capacity_units(index.read_capacity_units);
    g->set_write_capacity_units(index.write_capacity_units);
    g->set_index_status("ACTIVE");
  }
  return out;
}

v1::TableStream TablesService::DescribeStream(const TableStreamDescription& s) const {
  v1::TableStream out;
  out.set_stream_arn(TableStreamArn(options_.region, options_.account_id, s.table_name, s.label));
  out.set_stream_label(s.label);
  out.set_table_name(s.table_name);
  out.set_table_id(s.table_id);
  out.set_stream_name(s.stream_name);
  out.set_stream_view_type(ViewOf(s.view_type));
  out.set_enabled(s.enabled);
  *out.mutable_creation_date_time() = ToProtoTimestamp(s.creation_time);
  if (!s.enabled) *out.mutable_disabled_date_time() = ToProtoTimestamp(s.disabled_time);
  *out.mutable_partition_key() = KeyOf(s.key_schema.partition_key);
  if (s.key_schema.sort_key) *out.mutable_sort_key() = KeyOf(*s.key_schema.sort_key);
  return out;
}

grpc::Status TablesService::CreateTable(grpc::ServerContext*,
                                        const v1::CreateTableRequest* request,
                                        v1::TableDescription* response) {
  TableSpec spec;
  spec.name = request->table_name();
  if (request->partition_key().attribute_name().empty()) {
    return Reply("CreateTable",
                 absl::InvalidArgumentError("partition_key.attribute_name: required"));
  }
  absl::StatusOr<Type> type = KeyType(request->partition_key(), "partition_key");
  if (!type.ok()) return Reply("CreateTable", type.status());
  spec.key_schema.partition_key = {request->partition_key().attribute_name(), *type};
  if (request->has_sort_key()) {
    type = KeyType(request->sort_key(), "sort_key");
    if (!type.ok()) return Reply("CreateTable", type.status());
    spec.key_schema.sort_key = KeyAttribute{request->sort_key().attribute_name(), *type};
  }
  spec.billing_mode = request->billing_mode() == v1::BILLING_PAY_PER_REQUEST
                          ? BillingMode::kPayPerRequest
                          : BillingMode::kProvisioned;
  spec.read_capacity_units = request->read_capacity_units();
  spec.write_capacity_units = request->write_capacity_units();
  if (request->has_stream_specification()) {
    absl::StatusOr<StreamSpecification> stream = FromProto(request->stream_specification());
    if (!stream.ok()) return Reply("CreateTable", stream.status());
    spec.stream = *stream;
  }
  absl::StatusOr<TableDescription> d = store_.CreateTable(spec);
  if (!d.ok()) return Reply("CreateTable", d.status());
  *response = Describe(*d);
  return grpc::Status::OK;
}

grpc::Status TablesService::DescribeTable(grpc::ServerContext*,
                                          const v1::DescribeTableRequest* request,
                                          v1::TableDescription* response) {
  absl::StatusOr<TableDescription> d = store_.DescribeTable(request->table_name());
  if (!d.ok()) return Reply("DescribeTable", d.status());
  *response = Describe(*d);
  return grpc::Status::OK;
}

grpc::Status TablesService::ListTables(grpc::ServerContext*, const v1::ListTablesRequest* request,
                                       v1::ListTablesResponse* response) {
  absl::StatusOr<TableList> list = store_.ListTables(
      request->exclusive_start_table_name(), request->limit() == 0 ? 100 : request->limit());
  if (!list.ok()) return Reply("ListTables", list.status());
  for (const std::string& name : list->names) response->add_table_names(name);
  response->set_last_evaluated_table_name(list->last_evaluated_name);
  return grpc::Status::OK;
}

grpc::Status TablesService::DeleteTable(grpc::ServerContext*,
                                        const v1::DeleteTableRequest* request,
                                        v1::TableDescription* response) {
  absl::StatusOr<TableDescription> d = store_.DeleteTable(request->table_name());
  if (!d.ok()) return Reply("DeleteTable", d.status());
  *response = Describe(*d);
  return grpc::Status::OK;
}

grpc::Status TablesService::UpdateTable(grpc::ServerContext*,
                                        const v1::UpdateTableRequest* request,
                                        v1::TableDescription* response) {
  TableUpdate update;
  if (request->has_stream_specification()) {
    absl::StatusOr<StreamSpecification> stream = FromProto(request->stream_specification());
    if (!stream.ok()) return Reply("UpdateTable", stream.status());
    update.stream = *stream;
  }
  if (request->billing_mode() != v1::TABLE_BILLING_MODE_UNSPECIFIED) {
    update.billing_mode = request->billing_mode() == v1::BILLING_PAY_PER_REQUEST
                              ? BillingMode::kPayPerRequest
                              : BillingMode::kProvisioned;
  }
  if (request->has_read_capacity_units()) {
    update.read_capacity_units = request->read_capacity_units();
  }
  if (request->has_write_capacity_units()) {
    update.write_capacity_units = request->write_capacity_units();
  }
  if (request->has_create_global_secondary_index()) {
    const v1::GlobalSecondaryIndex& g = request->create_global_secondary_index();
    IndexSpec index;
    index.name = g.index_name();
    index.kind = IndexKind::kGlobal;
    absl::StatusOr<Type> type =
        KeyType(g.partition_key(), "create_global_secondary_index.partition_key");
    if (!type.ok()) return Reply("UpdateTable", type.status());
    index.key_schema.partition_key = {g.partition_key().attribute_name(), *type};
    if (g.has_sort_key()) {
      type = KeyType(g.sort_key(), "create_global_secondary_index.sort_key");
      if (!type.ok()) return Reply("UpdateTable", type.status());
      index.key_schema.sort_key = KeyAttribute{g.sort_key().attribute_name(), *type};
    }
    if (g.projection_type().empty() || g.projection_type() == "ALL") {
      index.projection = ProjectionType::kAll;
    } else if (g.projection_type() == "KEYS_ONLY") {
      index.projection = ProjectionType::kKeysOnly;
    } else if (g.projection_type() == "INCLUDE") {
      index.projection = ProjectionType::kInclude;
    } else {
      return Reply("UpdateTable",
                   absl::InvalidArgumentError("create_global_secondary_index.projection_type: "
                                              "must be ALL, KEYS_ONLY or INCLUDE"));
    }
    index.non_key_attributes.assign(g.non_key_attributes().begin(),
                                    g.non_key_attributes().end());
    index.read_capacity_units = g.read_capacity_units();
    index.write_capacity_units = g.write_capacity_units();
    update.create_index = std::move(index);
  }
  if (!request->delete_global_secondary_index().empty()) {
    update.delete_index = request->delete_global_secondary_index();
  }
  absl::StatusOr<TableDescription> d = store_.UpdateTable(request->table_name(), update);
  if (!d.ok()) return Reply("UpdateTable", d.status());
  *response = Describe(*d);
  return grpc::Status::OK;
}

grpc::Status TablesService::PutItem(grpc::ServerContext*, const v1::PutItemRequest* request,
                                    v1::PutItemResponse* response) {
  absl::StatusOr<AttributeMap> item = FromProto(request->item());
  if (!item.ok()) return Reply("PutItem", item.status());
  absl::StatusOr<std::optional<AttributeMap>> old =
      store_.PutItem(request->table_name(), *std::move(item), std::nullopt);
  if (!old.ok()) return Reply("PutItem", old.status());
  if (request->return_values() == v1::RETURN_ALL_OLD && old->has_value()) {
    ToProto(**old, response->mutable_attributes());
  }
  return grpc::Status::OK;
}

grpc::Status TablesService::GetItem(grpc::ServerContext*, const v1::GetItemRequest* request,
                                    v1::GetItemResponse* response) {
  absl::StatusOr<AttributeMap> key = FromProto(request->key());
  if (!key.ok()) return Reply("GetItem", key.status());
  absl::StatusOr<std::optional<AttributeMap>> item = store_.GetItem(request->table_name(), *key);
  if (!item.ok()) return Reply("GetItem", item.status());
  if (item->has_value()) ToProto(**item, response->mutable_item());
  return grpc::Status::OK;
}

grpc::Status TablesService::DeleteItem(grpc::ServerContext*,
                                       const v1::DeleteItemRequest* request,
                                       v1::DeleteItemResponse* response) {
  absl::StatusOr<AttributeMap> key = FromProto(request->key());
  if (!key.ok()) return Reply("DeleteItem", key.status());
  absl::StatusOr<std::optional<AttributeMap>> old =
      store_.DeleteItem(request->table_name(), *key, std::nullopt);
  if (!old.ok()) return Reply("DeleteItem", old.status());
  if (request->return_values() == v1::RETURN_ALL_OLD && old->has_value()) {
    ToProto(**old, response->mutable_attributes());
  }
  return grpc::Status::OK;
}

grpc::Status TablesService::ListTableStreams(grpc::ServerContext*,
                                             const v1::ListTableStreamsRequest* request,
                                             v1::ListTableStreamsResponse* response) {
  std::pair<std::string, std::string> after;
  if (!request->exclusive_start_stream_arn().empty()) {
    auto parts = ParseTableStreamArn(options_.region, options_.account_id,
                                     request->exclusive_start_stream_arn());
    if (!parts) {
      return Reply("ListTableStreams",
                   absl::InvalidArgumentError(absl::StrCat(
                       "exclusive_start_stream_arn: not a stream ARN of this endpoint: ",
                       request->exclusive_start_stream_arn())));
    }
    after = *std::move(parts);
  }
  absl::StatusOr<TableStreamList> list =
      store_.ListStreams(request->table_name(), after.first, after.second,
                         request->limit() == 0 ? 100 : request->limit());
  if (!list.ok()) return Reply("ListTableStreams", list.status());
  for (const TableStreamDescription& s : list->streams) {
    *response->add_streams() = DescribeStream(s);
  }
  if (list->more && !list->streams.empty()) {
    response->set_last_evaluated_stream_arn(response->streams().rbegin()->stream_arn());
  }
  return grpc::Status::OK;
}

grpc::Status TablesService::DescribeTableStream(grpc::ServerContext*,
                                                const v1::DescribeTableStreamRequest* request,
                                                v1::TableStream* response) {
  const bool by_arn = !request->stream_arn().empty();
  if (by_arn == !request->stream_name().empty()) {
    return Reply("DescribeTableStream",
                 absl::InvalidArgumentError("exactly one of stream_arn and stream_name"));
  }
  absl::StatusOr<TableStreamDescription> s;
  if (by_arn) {
    auto parts =
        ParseTableStreamArn(options_.region, options_.account_id, request->stream_arn());
    if (!parts) {
      return Reply("DescribeTableStream",
                   absl::InvalidArgumentError(absl::StrCat(
                       "stream_arn: not a stream ARN of this endpoint: ", request->stream_arn())));
    }
    s = store_.DescribeStream(parts->first, parts->second);
  } else {
    s = store_.DescribeStreamByName(request->stream_name());
  }
  if (!s.ok()) return Reply("DescribeTableStream", s.status());
  *response = DescribeStream(*s);
  return grpc::Status::OK;
}

}  // namespace tributary::tables
