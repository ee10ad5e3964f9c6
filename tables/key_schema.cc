#include "tables/key_schema.h"

#include "absl/strings/str_cat.h"
#include "common/key_coding.h"

namespace tributary::tables {
namespace {

absl::Status Invalid(std::string rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("One or more parameter values were invalid: ", rule));
}

bool IsKeyType(AttributeValue::Type t) {
  return t == AttributeValue::Type::kS || t == AttributeValue::Type::kN ||
         t == AttributeValue::Type::kB;
}

// Checks one key attribute's value in `item`. `in_item`: messages for an item (PutItem) or a key.
absl::Status CheckKeyValue(const KeyAttribute& attribute, const AttributeMap& item,
                           size_t max_bytes, bool in_item) {
  const AttributeValue* value = FindAttribute(item, attribute.name);
  if (value == nullptr) {
    if (in_item) return Invalid(absl::StrCat("Missing the key ", attribute.name, " in the item"));
    return absl::InvalidArgumentError("The provided key element does not match the schema");
  }
  if (value->type() != attribute.type) {
    if (in_item) {
      return Invalid(absl::StrCat("Type mismatch for key ", attribute.name,
                                  " expected: ", TypeName(attribute.type),
                                  " actual: ", TypeName(value->type())));
    }
    return absl::InvalidArgumentError("The provided key element does not match the schema");
  }
  if (attribute.type != AttributeValue::Type::kN && value->scalar().empty()) {
    return Invalid(absl::StrCat(
        "The AttributeValue for a key attribute cannot contain an empty ",
        attribute.type == AttributeValue::Type::kS ? "string" : "binary", " value. Key: ",
        attribute.name));
  }
  if (value->scalar().size() > max_bytes) {
    return Invalid(absl::StrCat("Size of key ", attribute.name, " exceeds the ", max_bytes,
                                "-byte limit of a ", max_bytes == kMaxPartitionKeyBytes
                                                          ? "partition"
                                                          : "sort",
                                " key"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateKeySchema(const KeySchema& schema) {
  auto check = [](const KeyAttribute& a) -> absl::Status {
    if (a.name.empty() || a.name.size() > kMaxKeyAttributeNameBytes) {
      return Invalid("a key attribute name must be 1-255 bytes");
    }
    if (!IsKeyType(a.type)) {
      return Invalid(absl::StrCat("the key attribute ", a.name, " must be of type S, N or B"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check(schema.partition_key); !s.ok()) return s;
  if (schema.sort_key.has_value()) {
    if (absl::Status s = check(*schema.sort_key); !s.ok()) return s;
    if (schema.sort_key->name == schema.partition_key.name) {
      return Invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckItemKey(const KeySchema& schema, const AttributeMap& item) {
  if (absl::Status s = CheckKeyValue(schema.partition_key, item, kMaxPartitionKeyBytes, true);
      !s.ok()) {
    return s;
  }
  if (schema.sort_key.has_value()) {
    return CheckKeyValue(*schema.sort_key, item, kMaxSortKeyBytes, true);
  }
  return absl::OkStatus();
}

absl::Status CheckKey(const KeySchema& schema, const AttributeMap& key) {
  const size_t expected = schema.sort_key.has_value() ? 2 : 1;
  if (key.size() != expected) {
    return absl::InvalidArgumentError("The provided key element does not match the schema");
  }
  if (absl::Status s = CheckKeyValue(schema.partition_key, key, kMaxPartitionKeyBytes, false);
      !s.ok()) {
    return s;
  }
  if (schema.sort_key.has_value()) {
    return CheckKeyValue(*schema.sort_key, key, kMaxSortKeyBytes, false);
  }
  return absl::OkStatus();
}

AttributeMap KeyOf(const KeySchema& schema, const AttributeMap& item) {
  AttributeMap key;
  key.emplace_back(schema.partition_key.name, *FindAttribute(item, schema.partition_key.name));
  if (schema.sort_key.has_value()) {
    key.emplace_back(schema.sort_key->name, *FindAttribute(item, schema.sort_key->name));
  }
  SortAttributeMap(&key).IgnoreError();  // two different names (ValidateKeySchema)
  return key;
}

std::string OrderedNumberBytes(absl::string_view canonical) {
  if (canonical == "0") return std::string(1, '\x01');
  const bool negative = canonical[0] == '-';
  if (negative) canonical.remove_prefix(1);
  // canonical = I.F (no exponent): E = digits of I, or −(leading zeros of F) when I is "0".
  std::string digits;
  int e = 0;
  const size_t point = canonical.find('.');
  absl::string_view integer = canonical.substr(0, point);
  absl::string_view fraction =
      point == absl::string_view::npos ? absl::string_view() : canonical.substr(point + 1);
  if (integer == "0") {
    size_t zeros = 0;
    while (zeros < fraction.size() && fraction[zeros] == '0') ++zeros;
    e = -static_cast<int>(zeros);
    digits = std::string(fraction.substr(zeros));
  } else {
    e = static_cast<int>(integer.size());
    digits = absl::StrCat(integer, fraction);
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
  }
  std::string out;
  if (!negative) {
    out.push_back('\x02');
    const uint32_t biased = static_cast<uint32_t>(e + 0x8000);
    out.push_back(static_cast<char>(biased >> 8));
    out.push_back(static_cast<char>(biased & 0xff));
    out += digits;
  } else {
    out.push_back('\x00');
    const uint32_t biased = static_cast<uint32_t>(0x7FFF - e);
    out.push_back(static_cast<char>(biased >> 8));
    out.push_back(static_cast<char>(biased & 0xff));
    for (char d : digits) out.push_back(static_cast<char>('9' - d + '0'));
    out.push_back('\xff');
  }
  return out;
}

std::string EncodePartitionKey(const AttributeValue& value) {
  const std::string& pk = value.scalar();
  std::string out;
  out.push_back(static_cast<char>(pk.size() >> 8));
  out.push_back(static_cast<char>(pk.size() & 0xff));
  out += pk;
  return out;
}

std::string EncodeSortKey(const AttributeValue& value) {
  return value.type() == AttributeValue::Type::kN ? OrderedNumberBytes(value.scalar())
                                                  : value.scalar();
}

std::string EncodeItemKey(const KeySchema& schema, const AttributeMap& item) {
  std::string out = EncodePartitionKey(*FindAttribute(item, schema.partition_key.name));
  if (schema.sort_key.has_value()) out += EncodeSortKey(*FindAttribute(item, schema.sort_key->name));
  return out;
}

}  // namespace tributary::tables
