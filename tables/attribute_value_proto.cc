// Moved out of tables_service.cc so that the poller can render change records for gRPC
// functions without the service (and its gRPC) as a dependency.
#include "tables/attribute_value_proto.h"

#include <utility>
#include <vector>

namespace tributary::tables {
namespace {

using Type = AttributeValue::Type;

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

}  // namespace tributary::tables
