#include "aws/input_reader.h"

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tributary::aws {
namespace {

constexpr size_t kMaxReportedViolations = 10;

const char* TypeName(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "a boolean";
    case Value::Type::kInteger:
    case Value::Type::kDouble:
      return "a number";
    case Value::Type::kString:
      return "a string";
    case Value::Type::kBytes:
      return "a byte string";
    case Value::Type::kTimestamp:
      return "a timestamp";
    case Value::Type::kList:
      return "a list";
    case Value::Type::kMap:
      return "a structure";
  }
  return "?";
}

size_t CodePoints(absl::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string LowerFirst(absl::string_view name) {
  std::string out(name);
  if (!out.empty()) out[0] = absl::ascii_tolower(out[0]);
  return out;
}

// A string value as a validation message quotes it: at most 256 characters of it, so that a
// megabyte-long partition key does not become a megabyte-long message.
std::string Quoted(const std::string& value) {
  size_t end = 0;
  for (size_t chars = 0; end < value.size() && chars < 256; ++chars) {
    ++end;
    while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) ++end;
  }
  return absl::StrCat("'", absl::string_view(value).substr(0, end),
                      end < value.size() ? "...'" : "'");
}

// How AWS renders a blob in a validation message.
std::string BlobRendering(size_t n) {
  return absl::StrCat("java.nio.HeapByteBuffer[pos=0 lim=", n, " cap=", n, "]");
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// 0|([1-9]\d{0,max_more})
bool MatchesDecimal(absl::string_view s, size_t max_more) {
  if (s == "0") return true;
  return !s.empty() && s.size() <= max_more + 1 && s[0] >= '1' && s[0] <= '9' && AllDigits(s);
}

}  // namespace

bool MatchesName(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool MatchesHashKey(absl::string_view s) { return MatchesDecimal(s, 38); }
bool MatchesSequenceNumber(absl::string_view s) { return MatchesDecimal(s, 128); }

void InputErrors::Serialization(std::string message) {
  if (!serialization_) serialization_ = std::move(message);
}

void InputErrors::Violation(std::string message) { violations_.push_back(std::move(message)); }

std::optional<AwsError> InputErrors::Error() const {
  if (serialization_) return MakeError(kSerialization, *serialization_);
  if (violations_.empty()) return std::nullopt;
  const size_t n = violations_.size();
  std::vector<std::string> shown(violations_.begin(),
                                 violations_.begin() + std::min(n, kMaxReportedViolations));
  return MakeError(kValidation, absl::StrCat(n, " validation error", n == 1 ? "" : "s",
                                             " detected: ", absl::StrJoin(shown, "; ")));
}

InputReader::InputReader(const Value& map, InputErrors* errors, std::string path)
    : map_(&map), errors_(errors), path_(std::move(path)) {
  if (map.type() != Value::Type::kMap) {
    errors_->Serialization(
        path_.empty() ? absl::StrCat("the request body must be a structure, found ", TypeName(map))
                      : absl::StrCat("'", path_, "' must be a structure, found ", TypeName(map)));
    map_ = nullptr;
  }
}

const Value* InputReader::Member(absl::string_view name) {
  if (map_ == nullptr) return nullptr;
  const Value* v = map_->Find(name);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

std::string InputReader::PathOf(absl::string_view name) const {
  return path_.empty() ? LowerFirst(name) : absl::StrCat(path_, ".", LowerFirst(name));
}

void InputReader::TypeError(absl::string_view name, absl::string_view expected,
                            const Value& found) {
  errors_->Serialization(
      absl::StrCat("'", PathOf(name), "' must be ", expected, ", found ", TypeName(found)));
}

void InputReader::Violation(absl::string_view name, const std::string& rendered_value,
                            absl::string_view rule) {
  errors_->Violation(absl::StrCat("Value ", rendered_value, " at '", PathOf(name),
                                  "' failed to satisfy constraint: ", rule));
}

std::optional<std::string> InputReader::String(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  if (v->type() != Value::Type::kString) {
    TypeError(name, "a string", *v);
    return std::nullopt;
  }
  return v->string_value();
}

std::optional<int64_t> InputReader::Integer(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  if (v->type() == Value::Type::kInteger) return v->integer_value();
  if (v->type() == Value::Type::kDouble && std::isfinite(v->double_value())) {
    const double d = std::trunc(v->double_value());
    if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
    if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(d);
  }
  TypeError(name, "an integer", *v);
  return std::nullopt;
}

std::optional<bool> InputReader::Boolean(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  if (v->type() != Value::Type::kBool) {
    TypeError(name, "a boolean", *v);
    return std::nullopt;
  }
  return v->bool_value();
}

std::optional<std::string> InputReader::Blob(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  if (v->type() == Value::Type::kBytes) return v->string_value();
  if (v->type() == Value::Type::kString && errors_->protocol() == Protocol::kJson) {
    const std::string& text = v->string_value();
    std::string decoded;
    // Base64 as AWS sends it: the standard alphabet, padded to a multiple of 4.
    if (text.size() % 4 != 0 || !absl::Base64Unescape(text, &decoded)) {
      errors_->Serialization(
          absl::StrCat("'", PathOf(name), "' is not valid base64 (a blob in JSON is base64)"));
      return std::nullopt;
    }
    return decoded;
  }
  TypeError(name, errors_->protocol() == Protocol::kJson ? "a base64 string" : "a byte string", *v);
  return std::nullopt;
}

std::optional<absl::Time> InputReader::Timestamp(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  // JSON: epoch seconds; CBOR: epoch milliseconds.
  const bool millis = errors_->protocol() == Protocol::kCbor;
  switch (v->type()) {
    case Value::Type::kTimestamp:
      return v->timestamp_value();
    case Value::Type::kInteger:
      return millis ? absl::FromUnixMillis(v->integer_value())
                    : absl::FromUnixSeconds(v->integer_value());
    case Value::Type::kDouble:
      if (std::isfinite(v->double_value()) && std::fabs(v->double_value()) < 1e15) {
        // Rounded to the microsecond: 1700000000.5 s is not exact in a double's nanoseconds,
        // and a store that keeps milliseconds must not see .499999.
        const double d = v->double_value();
        if (millis) return absl::FromUnixMicros(std::llround(d * 1000.0));
        const double seconds = std::floor(d);
        return absl::FromUnixMicros(static_cast<int64_t>(seconds) * 1000000 +
                                    std::llround((d - seconds) * 1e6));
      }
      break;
    default:
      break;
  }
  TypeError(name, "a timestamp (epoch seconds)", *v);
  return std::nullopt;
}

std::optional<InputReader> InputReader::Structure(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  if (v->type() != Value::Type::kMap) {
    TypeError(name, "a structure", *v);
    return std::nullopt;
  }
  return InputReader(*v, errors_, PathOf(name));
}

const std::vector<Value>* InputReader::List(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return nullptr;
  if (v->type() != Value::Type::kList) {
    TypeError(name, "a list", *v);
    return nullptr;
  }
  return &v->list();
}

InputReader InputReader::Element(absl::string_view list_name, size_t index, const Value& element) {
  return InputReader(element, errors_, absl::StrCat(PathOf(list_name), ".", index + 1, ".member"));
}

std::optional<InputReader::StringPairs> InputReader::StringMap(absl::string_view name) {
  const Value* v = Member(name);
  if (v == nullptr) return std::nullopt;
  if (v->type() != Value::Type::kMap) {
    TypeError(name, "a map", *v);
    return std::nullopt;
  }
  std::map<std::string, std::string> entries;
  for (const Value::Member& m : v->members()) {
    if (m.second.type() != Value::Type::kString) {
      errors_->Serialization(absl::StrCat("'", PathOf(name), "' must map strings to strings, found ",
                                          TypeName(m.second), " at key '", m.first, "'"));
      return std::nullopt;
    }
    entries[m.first] = m.second.string_value();
  }
  return StringPairs(entries.begin(), entries.end());
}

std::optional<std::vector<std::string>> InputReader::StringList(absl::string_view name) {
  const std::vector<Value>* list = List(name);
  if (list == nullptr) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(list->size());
  for (const Value& element : *list) {
    if (element.type() != Value::Type::kString) {
      errors_->Serialization(absl::StrCat("'", PathOf(name), "' must be a list of strings, found ",
                                          TypeName(element)));
      return std::nullopt;
    }
    out.push_back(element.string_value());
  }
  return out;
}

bool InputReader::Required(absl::string_view name, bool present) {
  if (present) return true;
  Violation(name, "null", "Member must not be null");
  return false;
}

bool InputReader::Length(absl::string_view name, const std::optional<std::string>& value,
                         size_t min, size_t max) {
  if (!value) return true;
  const size_t n = CodePoints(*value);
  if (n < min) {
    Violation(name, Quoted(*value),
              absl::StrCat("Member must have length greater than or equal to ", min));
    return false;
  }
  if (n > max) {
    Violation(name, Quoted(*value),
              absl::StrCat("Member must have length less than or equal to ", max));
    return false;
  }
  return true;
}

bool InputReader::BlobLength(absl::string_view name, const std::optional<std::string>& value,
                             size_t min, size_t max) {
  if (!value) return true;
  if (value->size() < min) {
    Violation(name, absl::StrCat("'", BlobRendering(value->size()), "'"),
              absl::StrCat("Member must have length greater than or equal to ", min));
    return false;
  }
  if (value->size() > max) {
    Violation(name, absl::StrCat("'", BlobRendering(value->size()), "'"),
              absl::StrCat("Member must have length less than or equal to ", max));
    return false;
  }
  return true;
}

bool InputReader::ListLength(absl::string_view name, const std::vector<Value>* value, size_t min,
                             size_t max) {
  if (value == nullptr) return true;
  const size_t n = value->size();
  const std::string rendered = absl::StrCat("'[", n, " elements]'");
  if (n < min) {
    Violation(name, rendered,
              absl::StrCat("Member must have length greater than or equal to ", min));
    return false;
  }
  if (n > max) {
    Violation(name, rendered, absl::StrCat("Member must have length less than or equal to ", max));
    return false;
  }
  return true;
}

namespace {

// As Java renders a list and a map in a validation message: [a, b] and {k=v, k2=v2}.
std::string RenderList(const std::vector<std::string>& list) {
  return Quoted(absl::StrCat("[", absl::StrJoin(list, ", "), "]"));
}

std::string RenderMap(const InputReader::StringPairs& map) {
  return Quoted(absl::StrCat(
      "{", absl::StrJoin(map, ", ", absl::PairFormatter("=")), "}"));
}

std::string LengthRule(size_t min, size_t max) {
  return absl::StrCat("[Member must have length less than or equal to ", max,
                      ", Member must have length greater than or equal to ", min, "]");
}

bool OutOfLength(absl::string_view s, size_t min, size_t max) {
  const size_t n = CodePoints(s);
  return n < min || n > max;
}

}  // namespace

bool InputReader::ListLength(absl::string_view name,
                             const std::optional<std::vector<std::string>>& value, size_t min,
                             size_t max) {
  if (!value) return true;
  const size_t n = value->size();
  if (n < min) {
    Violation(name, RenderList(*value),
              absl::StrCat("Member must have length greater than or equal to ", min));
    return false;
  }
  if (n > max) {
    Violation(name, RenderList(*value),
              absl::StrCat("Member must have length less than or equal to ", max));
    return false;
  }
  return true;
}

bool InputReader::MapLength(absl::string_view name, const std::optional<StringPairs>& value,
                            size_t min, size_t max) {
  if (!value) return true;
  const size_t n = value->size();
  if (n < min) {
    Violation(name, RenderMap(*value),
              absl::StrCat("Member must have length greater than or equal to ", min));
    return false;
  }
  if (n > max) {
    Violation(name, RenderMap(*value),
              absl::StrCat("Member must have length less than or equal to ", max));
    return false;
  }
  return true;
}

bool InputReader::MapEntryLengths(absl::string_view name, const std::optional<StringPairs>& value,
                                  size_t key_min, size_t key_max, size_t value_min,
                                  size_t value_max) {
  if (!value) return true;
  bool ok = true;
  for (const auto& [k, v] : *value) {
    if (OutOfLength(k, key_min, key_max)) {
      Violation(name, RenderMap(*value),
                absl::StrCat("Map keys must satisfy constraint: ", LengthRule(key_min, key_max)));
      ok = false;
      break;
    }
  }
  for (const auto& [k, v] : *value) {
    if (OutOfLength(v, value_min, value_max)) {
      Violation(name, RenderMap(*value),
                absl::StrCat("Map value must satisfy constraint: ",
                             LengthRule(value_min, value_max)));
      ok = false;
      break;
    }
  }
  return ok;
}

bool InputReader::ElementLengths(absl::string_view name,
                                 const std::optional<std::vector<std::string>>& value, size_t min,
                                 size_t max) {
  if (!value) return true;
  for (const std::string& element : *value) {
    if (OutOfLength(element, min, max)) {
      Violation(name, RenderList(*value),
                absl::StrCat("Member must satisfy constraint: ", LengthRule(min, max)));
      return false;
    }
  }
  return true;
}

bool InputReader::Range(absl::string_view name, const std::optional<int64_t>& value, int64_t min,
                        int64_t max) {
  if (!value) return true;
  if (*value < min) {
    Violation(name, absl::StrCat("'", *value, "'"),
              absl::StrCat("Member must have value greater than or equal to ", min));
    return false;
  }
  if (*value > max) {
    Violation(name, absl::StrCat("'", *value, "'"),
              absl::StrCat("Member must have value less than or equal to ", max));
    return false;
  }
  return true;
}

bool InputReader::Pattern(absl::string_view name, const std::optional<std::string>& value,
                          absl::string_view pattern,
                          const std::function<bool(absl::string_view)>& matches) {
  if (!value || matches(*value)) return true;
  Violation(name, Quoted(*value),
            absl::StrCat("Member must satisfy regular expression pattern: ", pattern));
  return false;
}

bool InputReader::Enum(absl::string_view name, const std::optional<std::string>& value,
                       std::initializer_list<absl::string_view> allowed) {
  if (!value) return true;
  for (absl::string_view a : allowed) {
    if (*value == a) return true;
  }
  Violation(
      name, Quoted(*value),
      absl::StrCat("Member must satisfy enum value set: [", absl::StrJoin(allowed, ", "), "]"));
  return false;
}

}  // namespace tributary::aws
