// The Tables adapter: request → item model → TableStore → reply. No table logic lives here.
#include "tables/tables_service.h"

#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_status.h"
#include "common/proto_util.h"
#include "glog/logging.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "tables/capacity.h"
#include "tables/item_requests.h"
#include "tables/projection.h"
#include "tables/stream_ids.h"

namespace tributary::tables {
namespace {

using Type = AttributeValue::Type;

using ProtoMap = google::protobuf::Map<std::string, v1::AttributeValue>;

// A failed call's status with DynamoDB's error in its details: `detail` when given (its code
// set), else the code of `status`; a failed condition's item when `return_item`.
grpc::Status Reply(const char* method, const absl::Status& status, bool return_item = false,
                   v1::TablesError detail = v1::TablesError()) {
  if (status.ok()) return grpc::Status::OK;
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kDataLoss ||
      status.code() == absl::StatusCode::kUnknown) {
    LOG(WARNING) << "Tables." << method << ": " << status;
  }
  if (detail.code().empty()) detail.set_code(DynamoDbErrorCode(status));
  if (return_item) {
    if (std::optional<AttributeMap> item = ItemOfFailedCondition(status)) {
      ToProto(*item, detail.mutable_item());
    }
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      detail.SerializeAsString());
}

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

std::optional<std::string> Text(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

// ExpressionAttributeNames / Values of a request into `texts` (an empty map: none, as proto3
// cannot tell it from an absent one).
absl::Status AddNames(const google::protobuf::Map<std::string, std::string>& names,
                      ExpressionTexts* texts) {
  if (!names.empty()) texts->names.emplace(names.begin(), names.end());
  return absl::OkStatus();
}
absl::Status AddValues(const ProtoMap& values, ExpressionTexts* texts) {
  if (values.empty()) return absl::OkStatus();
  texts->values.emplace();
  for (const auto& [key, raw] : values) {
    absl::StatusOr<AttributeValue> v = FromProto(raw);
    if (!v.ok()) {
      return Invalid(absl::StrCat("ExpressionAttributeValues contains invalid value: ",
                                  v.status().message(), " for key ", key));
    }
    (*texts->values)[key] = *std::move(v);
  }
  return absl::OkStatus();
}

// A write's condition, names and values parsed (a ConditionCheck, Put, Delete or Update).
template <typename Request>
absl::StatusOr<RequestExpressions> WriteExpressions(const Request& r,
                                                    std::optional<std::string> update) {
  ExpressionTexts texts;
  texts.condition = Text(r.condition_expression());
  texts.update = std::move(update);
  if (absl::Status s = AddNames(r.expression_attribute_names(), &texts); !s.ok()) return s;
  if (absl::Status s = AddValues(r.expression_attribute_values(), &texts); !s.ok()) return s;
  return ParseRequestExpressions(std::move(texts), nullptr);
}

// A ProjectionExpression with its names (GetItem, BatchGetItem, TransactGetItems).
absl::StatusOr<std::optional<Projection>> ProjectionOf(
    const std::string& projection, const google::protobuf::Map<std::string, std::string>& names) {
  ExpressionTexts texts;
  texts.projection = Text(projection);
  if (absl::Status s = AddNames(names, &texts); !s.ok()) return s;
  absl::StatusOr<RequestExpressions> e = ParseRequestExpressions(std::move(texts), nullptr);
  if (!e.ok()) return e.status();
  return std::move(e->projection);
}

AttributeMap Projected(const AttributeMap& item, const std::optional<Projection>& p) {
  return p.has_value() ? Project(item, *p) : item;
}

// PutItem's and DeleteItem's ReturnValues: NONE or ALL_OLD.
absl::StatusOr<bool> ReturnsOld(v1::ReturnValue rv) {
  if (rv == v1::RETURN_VALUE_UNSPECIFIED) return false;
  if (rv == v1::RETURN_ALL_OLD) return true;
  return Invalid("Return values set to invalid value");
}

absl::StatusOr<ReturnValues> ReturnValuesOf(v1::ReturnValue rv) {
  switch (rv) {
    case v1::RETURN_VALUE_UNSPECIFIED:
      return ReturnValues::kNone;
    case v1::RETURN_ALL_OLD:
      return ReturnValues::kAllOld;
    case v1::RETURN_UPDATED_OLD:
      return ReturnValues::kUpdatedOld;
    case v1::RETURN_ALL_NEW:
      return ReturnValues::kAllNew;
    case v1::RETURN_UPDATED_NEW:
      return ReturnValues::kUpdatedNew;
    default:
      return Invalid("Return values set to invalid value");
  }
}

std::optional<SelectMode> SelectOf(v1::Select s) {
  switch (s) {
    case v1::SELECT_ALL_ATTRIBUTES:
      return SelectMode::kAllAttributes;
    case v1::SELECT_ALL_PROJECTED_ATTRIBUTES:
      return SelectMode::kAllProjectedAttributes;
    case v1::SELECT_SPECIFIC_ATTRIBUTES:
      return SelectMode::kSpecificAttributes;
    case v1::SELECT_COUNT:
      return SelectMode::kCount;
    default:
      return std::nullopt;
  }
}

// The same request is the same bytes (maps in key order): a ClientRequestToken's identity.
std::string CanonicalBytes(const google::protobuf::Message& m) {
  std::string out = "grpc:";
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

const char* ReasonCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "None";
    case absl::StatusCode::kFailedPrecondition:
      return "ConditionalCheckFailed";
    case absl::StatusCode::kInvalidArgument:
      return "ValidationError";
    default:
      return "InternalError";
  }
}

// Tables by name in byte order (proto maps have none), as the AWS port reads them in the
// request's order: the store orders streams itself, so only error precedence could differ.
template <typename Value>
std::vector<std::pair<std::string, const Value*>> Sorted(
    const google::protobuf::Map<std::string, Value>& map) {
  std::map<std::string, const Value*> sorted;
  for (const auto& [name, value] : map) sorted[name] = &value;
  return {sorted.begin(), sorted.end()};
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

// ReturnConsumedCapacity: what the AWS port reports (tables/capacity.h), as protos.
absl::Status CheckCapacityMode(v1::ReturnConsumedCapacity mode) {
  if (v1::ReturnConsumedCapacity_IsValid(mode)) return absl::OkStatus();
  return Invalid(absl::StrCat("1 validation error detected: Value '", static_cast<int>(mode),
                              "' at 'returnConsumedCapacity' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"));
}

bool WantsCapacity(v1::ReturnConsumedCapacity mode) {
  return mode == v1::RETURN_CONSUMED_CAPACITY_TOTAL ||
         mode == v1::RETURN_CONSUMED_CAPACITY_INDEXES;
}

// The spec of `table` (its indexes), or an empty one when it is gone.
TableSpec SpecOf(TableStore& store, const std::string& table) {
  absl::StatusOr<TableDescription> d = store.DescribeTable(table);
  return d.ok() ? d->spec : TableSpec();
}

void UnitsToProto(const CapacityUnits& units, v1::Capacity* out) {
  out->set_capacity_units(units.Total());
  out->set_read_capacity_units(units.read);
  out->set_write_capacity_units(units.write);
}

void CapacityToProto(const std::string& table, const TableCapacity& c, const TableSpec& spec,
                     v1::ReturnConsumedCapacity mode, v1::ConsumedCapacity* out) {
  const ConsumedCapacity consumed = Consumed(table, c, spec);
  out->set_table_name(table);
  out->set_capacity_units(consumed.total.Total());
  out->set_read_capacity_units(consumed.total.read);
  out->set_write_capacity_units(consumed.total.write);
  if (mode != v1::RETURN_CONSUMED_CAPACITY_INDEXES) return;
  UnitsToProto(consumed.table, out->mutable_table());
  for (const auto& [name, units] : consumed.local_indexes) {
    UnitsToProto(units, &(*out->mutable_local_secondary_indexes())[name]);
  }
  for (const auto& [name, units] : consumed.global_indexes) {
    UnitsToProto(units, &(*out->mutable_global_secondary_indexes())[name]);
  }
}

// One per table, in table name order (batches and transactions).
void CapacitiesToProto(TableStore& store, const std::map<std::string, TableCapacity>& by_table,
                       v1::ReturnConsumedCapacity mode,
                       google::protobuf::RepeatedPtrField<v1::ConsumedCapacity>* out) {
  if (!WantsCapacity(mode)) return;
  for (const auto& [table, c] : by_table) {
    CapacityToProto(table, c, SpecOf(store, table), mode, out->Add());
  }
}

}  // namespace

std::string DynamoDbErrorCode(const absl::Status& status) {
  if (std::string token = TransactionTokenError(status); !token.empty()) return token;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "ValidationException";
    case absl::StatusCode::kNotFound:
      return "ResourceNotFoundException";
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return "ResourceInUseException";
    case absl::StatusCode::kFailedPrecondition:
      return "ConditionalCheckFailedException";
    case absl::StatusCode::kResourceExhausted:
      return "LimitExceededException";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return "ServiceUnavailable";
    default:
      return "InternalServerError";
  }
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
  absl::StatusOr<bool> returns_old = ReturnsOld(request->return_values());
  if (!returns_old.ok()) return Reply("PutItem", returns_old.status());
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("PutItem", s);
  }
  absl::StatusOr<RequestExpressions> e = WriteExpressions(*request, std::nullopt);
  if (!e.ok()) return Reply("PutItem", e.status());
  const bool capacity = WantsCapacity(request->return_consumed_capacity());
  std::optional<AttributeMap> written;
  if (capacity) written = *item;
  absl::StatusOr<std::optional<AttributeMap>> old =
      store_.PutItem(request->table_name(), *std::move(item), e->condition);
  if (!old.ok()) {
    return Reply("PutItem", old.status(), request->return_item_on_condition_check_failure());
  }
  if (*returns_old && old->has_value()) ToProto(**old, response->mutable_attributes());
  if (capacity) {
    const TableSpec spec = SpecOf(store_, request->table_name());
    CapacityToProto(request->table_name(), WriteCapacity(spec, *old, written, false), spec,
                    request->return_consumed_capacity(), response->mutable_consumed_capacity());
  }
  return grpc::Status::OK;
}

grpc::Status TablesService::GetItem(grpc::ServerContext*, const v1::GetItemRequest* request,
                                    v1::GetItemResponse* response) {
  absl::StatusOr<AttributeMap> key = FromProto(request->key());
  if (!key.ok()) return Reply("GetItem", key.status());
  absl::StatusOr<std::optional<Projection>> projection =
      ProjectionOf(request->projection_expression(), request->expression_attribute_names());
  if (!projection.ok()) return Reply("GetItem", projection.status());
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("GetItem", s);
  }
  absl::StatusOr<std::optional<AttributeMap>> item = store_.GetItem(request->table_name(), *key);
  if (!item.ok()) return Reply("GetItem", item.status());
  if (item->has_value()) ToProto(Projected(**item, *projection), response->mutable_item());
  if (WantsCapacity(request->return_consumed_capacity())) {
    // Every read is consistent; an eventually consistent one is charged as one.
    TableCapacity c;
    c.table_read =
        ReadUnits(item->has_value() ? ItemSize(**item) : 0, request->consistent_read());
    CapacityToProto(request->table_name(), c, SpecOf(store_, request->table_name()),
                    request->return_consumed_capacity(), response->mutable_consumed_capacity());
  }
  return grpc::Status::OK;
}

grpc::Status TablesService::DeleteItem(grpc::ServerContext*,
                                       const v1::DeleteItemRequest* request,
                                       v1::DeleteItemResponse* response) {
  absl::StatusOr<AttributeMap> key = FromProto(request->key());
  if (!key.ok()) return Reply("DeleteItem", key.status());
  absl::StatusOr<bool> returns_old = ReturnsOld(request->return_values());
  if (!returns_old.ok()) return Reply("DeleteItem", returns_old.status());
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("DeleteItem", s);
  }
  absl::StatusOr<RequestExpressions> e = WriteExpressions(*request, std::nullopt);
  if (!e.ok()) return Reply("DeleteItem", e.status());
  absl::StatusOr<std::optional<AttributeMap>> old =
      store_.DeleteItem(request->table_name(), *key, e->condition);
  if (!old.ok()) {
    return Reply("DeleteItem", old.status(), request->return_item_on_condition_check_failure());
  }
  if (*returns_old && old->has_value()) ToProto(**old, response->mutable_attributes());
  if (WantsCapacity(request->return_consumed_capacity())) {
    const TableSpec spec = SpecOf(store_, request->table_name());
    CapacityToProto(request->table_name(), WriteCapacity(spec, *old, std::nullopt, false), spec,
                    request->return_consumed_capacity(), response->mutable_consumed_capacity());
  }
  return grpc::Status::OK;
}

grpc::Status TablesService::UpdateItem(grpc::ServerContext*,
                                       const v1::UpdateItemRequest* request,
                                       v1::UpdateItemResponse* response) {
  absl::StatusOr<AttributeMap> key = FromProto(request->key());
  if (!key.ok()) return Reply("UpdateItem", key.status());
  absl::StatusOr<ReturnValues> rv = ReturnValuesOf(request->return_values());
  if (!rv.ok()) return Reply("UpdateItem", rv.status());
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("UpdateItem", s);
  }
  absl::StatusOr<RequestExpressions> e =
      WriteExpressions(*request, Text(request->update_expression()));
  if (!e.ok()) return Reply("UpdateItem", e.status());
  const UpdateExpression update = e->update.value_or(UpdateExpression());
  absl::StatusOr<WriteOutcome> outcome =
      store_.UpdateItem(request->table_name(), *key, update, e->condition);
  if (!outcome.ok()) {
    return Reply("UpdateItem", outcome.status(),
                 request->return_item_on_condition_check_failure());
  }
  if (std::optional<AttributeMap> attributes = UpdateReturnValues(*rv, *outcome, update);
      attributes.has_value()) {
    ToProto(*attributes, response->mutable_attributes());
  }
  if (WantsCapacity(request->return_consumed_capacity())) {
    const TableSpec spec = SpecOf(store_, request->table_name());
    CapacityToProto(request->table_name(),
                    WriteCapacity(spec, outcome->old_item, outcome->new_item, false), spec,
                    request->return_consumed_capacity(), response->mutable_consumed_capacity());
  }
  return grpc::Status::OK;
}

namespace {

// What Query and Scan requests share, read into a ReadRequest (ReadItems).
struct ReadFields {
  const std::string* table;
  const std::string* index;
  const std::string* key_condition;  // Query only
  const std::string* filter;
  const std::string* projection;
  const google::protobuf::Map<std::string, std::string>* names;
  const ProtoMap* values;
  int32_t limit;
  const ProtoMap* exclusive_start_key;
  v1::Select select;
  bool consistent;
};

// One page of a Query or Scan: the items, the Select in effect, the units it consumed.
struct ReadResult {
  ItemPage page;
  SelectMode how = SelectMode::kAllAttributes;
  TableCapacity capacity;
  TableSpec spec;
};

// One page of a Query (`query`) or Scan.
absl::StatusOr<ReadResult> ReadItems(TableStore& store, const ReadFields& f, bool query,
                                     ReadRequest request) {
  if (f.limit < 0) {
    return Invalid(absl::StrCat("1 validation error detected: Value '", f.limit,
                                "' at 'limit' failed to satisfy constraint: Member must have "
                                "value greater than or equal to 1"));
  }
  absl::StatusOr<TableDescription> table = store.DescribeTable(*f.table);
  if (!table.ok()) return table.status();
  absl::StatusOr<const IndexSpec*> index =
      FindReadIndex(table->spec, Text(*f.index), f.consistent);
  if (!index.ok()) return index.status();
  ExpressionTexts texts;
  if (query) texts.key_condition = Text(*f.key_condition);
  texts.filter = Text(*f.filter);
  texts.projection = Text(*f.projection);
  if (absl::Status s = AddNames(*f.names, &texts); !s.ok()) return s;
  if (absl::Status s = AddValues(*f.values, &texts); !s.ok()) return s;
  absl::StatusOr<RequestExpressions> e = ParseRequestExpressions(
      std::move(texts), *index != nullptr ? &(*index)->key_schema : &table->spec.key_schema);
  if (!e.ok()) return e.status();
  if (query && !e->key_condition.has_value()) {
    return Invalid(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.");
  }
  request.table = *f.table;
  absl::StatusOr<SelectMode> how =
      PlanRead(table->spec, *index, SelectOf(f.select), e->projection, query, &request);
  if (!how.ok()) return how.status();
  request.key_condition = std::move(e->key_condition);
  request.limit = f.limit;
  request.filter = std::move(e->filter);
  request.projection = std::move(e->projection);
  if (!f.exclusive_start_key->empty()) {
    absl::StatusOr<AttributeMap> start = tables::FromProto(*f.exclusive_start_key);
    if (!start.ok()) {
      return Invalid(
          absl::StrCat("The provided starting key is invalid: ", start.status().message()));
    }
    request.exclusive_start_key = *std::move(start);
  }
  absl::StatusOr<ItemPage> page = query ? store.Query(request) : store.Scan(request);
  if (!page.ok()) return page.status();
  ReadResult out;
  out.capacity =
      PageCapacity(*index, page->bytes_read, page->table_bytes_fetched, f.consistent);
  out.page = *std::move(page);
  out.how = *how;
  out.spec = std::move(table->spec);
  return out;
}

template <typename Response>
void PageToProto(const std::string& table, const ReadResult& read,
                 v1::ReturnConsumedCapacity mode, Response* response) {
  const ItemPage& page = read.page;
  const SelectMode how = read.how;
  if (WantsCapacity(mode)) {
    CapacityToProto(table, read.capacity, read.spec, mode, response->mutable_consumed_capacity());
  }
  if (how != SelectMode::kCount) {
    for (const AttributeMap& item : page.items) {
      ToProto(item, response->add_items()->mutable_attributes());
    }
  }
  response->set_count(static_cast<int32_t>(page.items.size()));
  response->set_scanned_count(static_cast<int32_t>(page.scanned_count));
  if (page.last_evaluated_key.has_value()) {
    ToProto(*page.last_evaluated_key, response->mutable_last_evaluated_key());
  }
}

}  // namespace

grpc::Status TablesService::Query(grpc::ServerContext*, const v1::QueryRequest* request,
                                  v1::QueryResponse* response) {
  const ReadFields fields{&request->table_name(),
                          &request->index_name(),
                          &request->key_condition_expression(),
                          &request->filter_expression(),
                          &request->projection_expression(),
                          &request->expression_attribute_names(),
                          &request->expression_attribute_values(),
                          request->limit(),
                          &request->exclusive_start_key(),
                          request->select(),
                          request->consistent_read()};
  ReadRequest read;
  read.forward = !request->has_scan_index_forward() || request->scan_index_forward();
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("Query", s);
  }
  auto page = ReadItems(store_, fields, /*query=*/true, std::move(read));
  if (!page.ok()) return Reply("Query", page.status());
  PageToProto(request->table_name(), *page, request->return_consumed_capacity(), response);
  return grpc::Status::OK;
}

grpc::Status TablesService::Scan(grpc::ServerContext*, const v1::ScanRequest* request,
                                 v1::ScanResponse* response) {
  if (request->has_segment() != request->has_total_segments()) {
    return Reply("Scan", Invalid(request->has_segment()
                                     ? "The TotalSegments parameter is required but was not "
                                       "present in the request when Segment parameter is present"
                                     : "The Segment parameter is required but was not present "
                                       "in the request when parameter TotalSegments is present"));
  }
  static const std::string kNone;
  const ReadFields fields{&request->table_name(),
                          &request->index_name(),
                          &kNone,
                          &request->filter_expression(),
                          &request->projection_expression(),
                          &request->expression_attribute_names(),
                          &request->expression_attribute_values(),
                          request->limit(),
                          &request->exclusive_start_key(),
                          request->select(),
                          request->consistent_read()};
  ReadRequest read;
  if (request->has_total_segments()) {
    read.segment = request->segment();
    read.total_segments = request->total_segments();
  }
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("Scan", s);
  }
  auto page = ReadItems(store_, fields, /*query=*/false, std::move(read));
  if (!page.ok()) return Reply("Scan", page.status());
  PageToProto(request->table_name(), *page, request->return_consumed_capacity(), response);
  return grpc::Status::OK;
}

grpc::Status TablesService::BatchWriteItem(grpc::ServerContext*,
                                           const v1::BatchWriteItemRequest* request,
                                           v1::BatchWriteItemResponse* response) {
  if (request->request_items().empty()) {
    return Reply("BatchWriteItem",
                 Invalid("1 validation error detected: Value at 'requestItems' failed to "
                         "satisfy constraint: Member must have length greater than or equal "
                         "to 1"));
  }
  std::vector<ItemWrite> writes;
  for (const auto& [table, list] : Sorted(request->request_items())) {
    if (list->requests().empty()) {
      return Reply("BatchWriteItem",
                   Invalid(absl::StrCat("The list of write requests of table ", table,
                                        " must hold 1-25 requests")));
    }
    for (const v1::WriteRequest& r : list->requests()) {
      ItemWrite w;
      w.table = table;
      absl::StatusOr<AttributeMap> item;
      if (r.has_put_request()) {
        w.kind = ItemWrite::Kind::kPut;
        item = FromProto(r.put_request().item());
      } else if (r.has_delete_request()) {
        w.kind = ItemWrite::Kind::kDelete;
        item = FromProto(r.delete_request().key());
      } else {
        return Reply("BatchWriteItem",
                     Invalid("A WriteRequest must hold exactly one of PutRequest and "
                             "DeleteRequest"));
      }
      if (!item.ok()) return Reply("BatchWriteItem", item.status());
      w.item = *std::move(item);
      writes.push_back(std::move(w));
    }
  }
  if (writes.size() > static_cast<size_t>(kMaxBatchWriteItems)) {
    return Reply("BatchWriteItem",
                 Invalid("Too many items requested for the BatchWriteItem call"));
  }
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("BatchWriteItem", s);
  }
  std::vector<WriteOutcome> outcomes;
  if (absl::Status s = store_.BatchWriteItem(writes, &outcomes); !s.ok()) {
    return Reply("BatchWriteItem", s);
  }
  CapacitiesToProto(store_,
                    WriteCapacities(writes, outcomes, /*transactional=*/false,
                                    [this](const std::string& t) { return SpecOf(store_, t); }),
                    request->return_consumed_capacity(), response->mutable_consumed_capacity());
  return grpc::Status::OK;
}

grpc::Status TablesService::BatchGetItem(grpc::ServerContext*,
                                         const v1::BatchGetItemRequest* request,
                                         v1::BatchGetItemResponse* response) {
  if (request->request_items().empty()) {
    return Reply("BatchGetItem",
                 Invalid("1 validation error detected: Value at 'requestItems' failed to "
                         "satisfy constraint: Member must have length greater than or equal "
                         "to 1"));
  }
  struct TableRead {
    std::string table;
    const v1::KeysAndAttributes* spec;
    std::optional<Projection> projection;
    size_t first = 0;  // its keys' index in `keys`
  };
  std::vector<TableRead> reads;
  std::vector<ItemKey> keys;
  for (const auto& [table, spec] : Sorted(request->request_items())) {
    if (spec->keys().empty()) {
      return Reply("BatchGetItem",
                   Invalid(absl::StrCat("1 validation error detected: Value at 'requestItems.",
                                        table, ".member.keys' failed to satisfy constraint: "
                                        "Member must have length greater than or equal to 1")));
    }
    absl::StatusOr<std::optional<Projection>> projection =
        ProjectionOf(spec->projection_expression(), spec->expression_attribute_names());
    if (!projection.ok()) return Reply("BatchGetItem", projection.status());
    TableRead read{table, spec, *std::move(projection), keys.size()};
    for (const v1::AttributeMap& raw : spec->keys()) {
      absl::StatusOr<AttributeMap> key = FromProto(raw.attributes());
      if (!key.ok()) return Reply("BatchGetItem", key.status());
      for (size_t k = read.first; k < keys.size(); ++k) {
        if (ItemsEqual(keys[k].key, *key)) {
          return Reply("BatchGetItem", Invalid("Provided list of item keys contains duplicates"));
        }
      }
      keys.push_back(ItemKey{table, *std::move(key)});
    }
    reads.push_back(std::move(read));
  }
  if (keys.size() > static_cast<size_t>(kMaxBatchGetItems)) {
    return Reply("BatchGetItem", Invalid("Too many items requested for the BatchGetItem call"));
  }
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("BatchGetItem", s);
  }
  std::map<std::string, TableCapacity> consumed;
  absl::StatusOr<std::vector<std::optional<AttributeMap>>> items = store_.GetItems(keys);
  if (!items.ok()) return Reply("BatchGetItem", items.status());
  int64_t bytes = 0;
  for (const TableRead& read : reads) {
    v1::ItemList& found = (*response->mutable_responses())[read.table];
    v1::KeysAndAttributes left;
    for (size_t k = read.first; k < read.first + read.spec->keys_size(); ++k) {
      const std::optional<AttributeMap>& item = (*items)[k];
      if (bytes >= kMaxBatchGetBytes) {
        *left.add_keys() = read.spec->keys(static_cast<int>(k - read.first));
        continue;
      }
      // Each item's read is rounded on its own (a missing one costs the minimum).
      consumed[read.table].table_read +=
          ReadUnits(item ? ItemSize(*item) : 0, read.spec->consistent_read());
      if (!item.has_value()) continue;
      bytes += ItemSize(*item);
      ToProto(Projected(*item, read.projection), found.add_items()->mutable_attributes());
    }
    if (!left.keys().empty()) {
      // The request's own settings for this table, with the keys not read.
      v1::KeysAndAttributes& again = (*response->mutable_unprocessed_keys())[read.table];
      again = *read.spec;
      *again.mutable_keys() = left.keys();
    }
  }
  CapacitiesToProto(store_, consumed, request->return_consumed_capacity(),
                    response->mutable_consumed_capacity());
  return grpc::Status::OK;
}

grpc::Status TablesService::TransactWriteItems(grpc::ServerContext*,
                                               const v1::TransactWriteItemsRequest* request,
                                               v1::TransactWriteItemsResponse* response) {
  const char* const kMethod = "TransactWriteItems";
  const int count = request->transact_items_size();
  if (count < 1 || count > kMaxTransactionItems) {
    return Reply(kMethod,
                 Invalid(absl::StrCat("1 validation error detected: Value at 'transactItems' "
                                      "failed to satisfy constraint: Member must have length "
                                      "less than or equal to ",
                                      kMaxTransactionItems, " and greater than or equal to 1")));
  }
  if (request->client_request_token().size() > 36) {
    return Reply(kMethod, Invalid("1 validation error detected: Value at 'clientRequestToken' "
                                  "failed to satisfy constraint: Member must have length less "
                                  "than or equal to 36"));
  }
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply(kMethod, s);
  }
  std::vector<ItemWrite> writes;
  std::vector<bool> return_items;
  for (int i = 0; i < count; ++i) {
    const v1::TransactWriteItem& t = request->transact_items(i);
    ItemWrite w;
    absl::StatusOr<AttributeMap> item;
    absl::StatusOr<RequestExpressions> e;
    bool return_item = false;
    v1::ReturnValue rv = v1::RETURN_VALUE_UNSPECIFIED;
    v1::ReturnConsumedCapacity capacity = v1::RETURN_CONSUMED_CAPACITY_NONE;
    switch (t.write_case()) {
      case v1::TransactWriteItem::kConditionCheck:
        w.kind = ItemWrite::Kind::kConditionCheck;
        w.table = t.condition_check().table_name();
        item = FromProto(t.condition_check().key());
        if (t.condition_check().condition_expression().empty()) {
          return Reply(kMethod, Invalid("1 validation error detected: Value null at "
                                        "'transactItems.member.conditionExpression' failed to "
                                        "satisfy constraint: Member must not be null"));
        }
        e = WriteExpressions(t.condition_check(), std::nullopt);
        return_item = t.condition_check().return_item_on_condition_check_failure();
        break;
      case v1::TransactWriteItem::kPut:
        w.kind = ItemWrite::Kind::kPut;
        w.table = t.put().table_name();
        item = FromProto(t.put().item());
        e = WriteExpressions(t.put(), std::nullopt);
        return_item = t.put().return_item_on_condition_check_failure();
        rv = t.put().return_values();
        capacity = t.put().return_consumed_capacity();
        break;
      case v1::TransactWriteItem::kDelete:
        w.kind = ItemWrite::Kind::kDelete;
        w.table = t.delete_().table_name();
        item = FromProto(t.delete_().key());
        e = WriteExpressions(t.delete_(), std::nullopt);
        return_item = t.delete_().return_item_on_condition_check_failure();
        rv = t.delete_().return_values();
        capacity = t.delete_().return_consumed_capacity();
        break;
      case v1::TransactWriteItem::kUpdate:
        w.kind = ItemWrite::Kind::kUpdate;
        w.table = t.update().table_name();
        item = FromProto(t.update().key());
        if (t.update().update_expression().empty()) {
          return Reply(kMethod, Invalid("1 validation error detected: Value null at "
                                        "'transactItems.member.updateExpression' failed to "
                                        "satisfy constraint: Member must not be null"));
        }
        e = WriteExpressions(t.update(), t.update().update_expression());
        return_item = t.update().return_item_on_condition_check_failure();
        rv = t.update().return_values();
        capacity = t.update().return_consumed_capacity();
        break;
      default:
        return Reply(kMethod,
                     Invalid("TransactItems can only contain one of Check, Put, Update or Delete"));
    }
    if (rv != v1::RETURN_VALUE_UNSPECIFIED) {
      return Reply(kMethod, Invalid(absl::StrCat("transact_items[", i,
                                                 "]: return_values is not taken in a "
                                                 "transaction (the reply has no attributes)")));
    }
    if (capacity != v1::RETURN_CONSUMED_CAPACITY_NONE) {
      return Reply(kMethod, Invalid(absl::StrCat("transact_items[", i,
                                                 "]: return_consumed_capacity is the "
                                                 "transaction's, not a write's")));
    }
    if (!item.ok()) return Reply(kMethod, item.status());
    if (!e.ok()) return Reply(kMethod, e.status());
    w.item = *std::move(item);
    w.condition = std::move(e->condition);
    if (e->update.has_value()) w.update = *std::move(e->update);
    writes.push_back(std::move(w));
    return_items.push_back(return_item);
  }
  std::optional<TransactionToken> token;
  if (!request->client_request_token().empty()) {
    v1::TransactWriteItemsRequest identity = *request;
    identity.clear_client_request_token();
    identity.clear_return_consumed_capacity();  // asking for the units is the same request
    token = TransactionToken{request->client_request_token(), CanonicalBytes(identity)};
  }
  absl::StatusOr<TransactionOutcome> outcome = store_.TransactWriteItems(writes, token);
  if (!outcome.ok()) return Reply(kMethod, outcome.status());
  if (outcome->committed()) {
    // A replayed token's outcome has no writes: no entries, as the AWS port.
    CapacitiesToProto(store_,
                      WriteCapacities(writes, outcome->outcomes, /*transactional=*/true,
                                      [this](const std::string& t) { return SpecOf(store_, t); }),
                      request->return_consumed_capacity(), response->mutable_consumed_capacity());
    return grpc::Status::OK;
  }
  v1::TablesError detail;
  detail.set_code("TransactionCanceledException");
  std::vector<std::string> codes;
  for (size_t i = 0; i < outcome->cancellation_reasons.size(); ++i) {
    const CancellationReason& r = outcome->cancellation_reasons[i];
    v1::CancellationReason* reason = detail.add_cancellation_reasons();
    codes.push_back(ReasonCode(r.status));
    reason->set_code(codes.back());
    if (!r.status.ok()) reason->set_message(std::string(r.status.message()));
    if (return_items[i] && r.item.has_value()) ToProto(*r.item, reason->mutable_item());
  }
  return Reply(kMethod,
               absl::FailedPreconditionError(absl::StrCat(
                   "Transaction cancelled, please refer cancellation reasons for specific "
                   "reasons [",
                   absl::StrJoin(codes, ", "), "]")),
               false, std::move(detail));
}

grpc::Status TablesService::TransactGetItems(grpc::ServerContext*,
                                             const v1::TransactGetItemsRequest* request,
                                             v1::TransactGetItemsResponse* response) {
  const int count = request->transact_items_size();
  if (count < 1 || count > kMaxTransactionItems) {
    return Reply("TransactGetItems",
                 Invalid(absl::StrCat("1 validation error detected: Value at 'transactItems' "
                                      "failed to satisfy constraint: Member must have length "
                                      "less than or equal to ",
                                      kMaxTransactionItems, " and greater than or equal to 1")));
  }
  if (absl::Status s = CheckCapacityMode(request->return_consumed_capacity()); !s.ok()) {
    return Reply("TransactGetItems", s);
  }
  std::vector<ItemKey> keys;
  std::vector<std::optional<Projection>> projections;
  for (const v1::TransactGetItem& t : request->transact_items()) {
    if (!t.has_get()) {
      return Reply("TransactGetItems",
                   Invalid("1 validation error detected: Value null at 'transactItems.member."
                           "get' failed to satisfy constraint: Member must not be null"));
    }
    absl::StatusOr<AttributeMap> key = FromProto(t.get().key());
    if (!key.ok()) return Reply("TransactGetItems", key.status());
    absl::StatusOr<std::optional<Projection>> projection =
        ProjectionOf(t.get().projection_expression(), t.get().expression_attribute_names());
    if (!projection.ok()) return Reply("TransactGetItems", projection.status());
    if (t.get().return_consumed_capacity() != v1::RETURN_CONSUMED_CAPACITY_NONE) {
      return Reply("TransactGetItems",
                   Invalid("transact_items: return_consumed_capacity is the transaction's, "
                           "not a read's"));
    }
    keys.push_back(ItemKey{t.get().table_name(), *std::move(key)});
    projections.push_back(*std::move(projection));
  }
  absl::StatusOr<std::vector<std::optional<AttributeMap>>> items = store_.GetItems(keys);
  if (!items.ok()) return Reply("TransactGetItems", items.status());
  for (size_t i = 0; i < items->size(); ++i) {
    v1::GetItemResponse* r = response->add_responses();
    if ((*items)[i].has_value()) {
      ToProto(Projected(*(*items)[i], projections[i]), r->mutable_item());
    }
  }
  std::map<std::string, TableCapacity> consumed;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::optional<AttributeMap>& item = (*items)[i];
    consumed[keys[i].table].table_read += ReadUnits(item ? ItemSize(*item) : 0,
                                                    /*consistent=*/true, /*transactional=*/true);
  }
  CapacitiesToProto(store_, consumed, request->return_consumed_capacity(),
                    response->mutable_consumed_capacity());
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
