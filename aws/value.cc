#include "aws/value.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace tributary::aws {

Value Value::Bool(bool v) {
  Value out(Type::kBool);
  out.bool_ = v;
  return out;
}

Value Value::Integer(int64_t v) {
  Value out(Type::kInteger);
  out.integer_ = v;
  return out;
}

Value Value::Double(double v) {
  Value out(Type::kDouble);
  out.double_ = v;
  return out;
}

Value Value::String(std::string v) {
  Value out(Type::kString);
  out.string_ = std::move(v);
  return out;
}

Value Value::Bytes(std::string v) {
  Value out(Type::kBytes);
  out.string_ = std::move(v);
  return out;
}

Value Value::Timestamp(absl::Time v) {
  Value out(Type::kTimestamp);
  out.timestamp_ = v;
  return out;
}

Value Value::List() { return Value(Type::kList); }
Value Value::Map() { return Value(Type::kMap); }

bool Value::bool_value() const {
  CHECK(type_ == Type::kBool);
  return bool_;
}

int64_t Value::integer_value() const {
  CHECK(type_ == Type::kInteger);
  return integer_;
}

double Value::double_value() const {
  CHECK(type_ == Type::kDouble);
  return double_;
}

const std::string& Value::string_value() const {
  CHECK(type_ == Type::kString || type_ == Type::kBytes);
  return string_;
}

absl::Time Value::timestamp_value() const {
  CHECK(type_ == Type::kTimestamp);
  return timestamp_;
}

const std::vector<Value>& Value::list() const {
  CHECK(type_ == Type::kList);
  return list_;
}

const std::vector<Value::Member>& Value::members() const {
  CHECK(type_ == Type::kMap);
  return members_;
}

const Value* Value::Find(absl::string_view name) const {
  if (type_ != Type::kMap) return nullptr;
  for (const Member& m : members_) {
    if (m.first == name) return &m.second;
  }
  return nullptr;
}

Value& Value::Add(std::string name, Value value) {
  CHECK(type_ == Type::kMap);
  members_.emplace_back(std::move(name), std::move(value));
  return members_.back().second;
}

Value& Value::Append(Value value) {
  CHECK(type_ == Type::kList);
  list_.push_back(std::move(value));
  return list_.back();
}

void Value::Reserve(size_t n) {
  if (type_ == Type::kList) list_.reserve(n);
  if (type_ == Type::kMap) members_.reserve(n);
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return bool_ == other.bool_;
    case Type::kInteger:
      return integer_ == other.integer_;
    case Type::kDouble:
      return double_ == other.double_;
    case Type::kString:
    case Type::kBytes:
      return string_ == other.string_;
    case Type::kTimestamp:
      return timestamp_ == other.timestamp_;
    case Type::kList:
      return list_ == other.list_;
    case Type::kMap:
      return members_ == other.members_;
  }
  return false;
}

std::string Value::DebugString() const {
  std::string out;
  AppendDebugString(&out);
  return out;
}

void Value::AppendDebugString(std::string* out) const {
  switch (type_) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(bool_ ? "true" : "false");
      break;
    case Type::kInteger:
      absl::StrAppend(out, integer_);
      break;
    case Type::kDouble:
      absl::StrAppend(out, double_);
      break;
    case Type::kString:
      absl::StrAppend(out, "\"", absl::CHexEscape(string_), "\"");
      break;
    case Type::kBytes:
      absl::StrAppend(out, "b\"", absl::BytesToHexString(string_), "\"");
      break;
    case Type::kTimestamp:
      absl::StrAppend(out, "t\"", absl::FormatTime(timestamp_, absl::UTCTimeZone()), "\"");
      break;
    case Type::kList: {
      out->append("[");
      for (size_t i = 0; i < list_.size(); ++i) {
        if (i > 0) out->append(", ");
        list_[i].AppendDebugString(out);
      }
      out->append("]");
      break;
    }
    case Type::kMap: {
      out->append("{");
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out->append(", ");
        absl::StrAppend(out, "\"", absl::CHexEscape(members_[i].first), "\": ");
        members_[i].second.AppendDebugString(out);
      }
      out->append("}");
      break;
    }
  }
}

}  // namespace tributary::aws
