#include "tables/attribute_value.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/key_coding.h"

namespace tributary::tables {
namespace {

constexpr char kCodecVersion = 1;
// The largest and smallest decimal exponent E of a value 0.d1d2… × 10^E DynamoDB stores
// (9.99…E+125 and 1E-130).
constexpr int kMaxExponent = 126;
constexpr int kMinExponent = -129;

bool SetsEqual(std::vector<std::string> a, std::vector<std::string> b) {
  if (a.size() != b.size()) return false;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

int64_t Utf8Bytes(const std::string& s) { return static_cast<int64_t>(s.size()); }

int64_t NumberSize(const std::string& canonical) {
  int digits = 0;
  bool leading = true;
  for (char c : canonical) {
    if (c < '0' || c > '9') continue;
    if (leading && c == '0') continue;
    leading = false;
    ++digits;
  }
  // Trailing zeros of an integer ("100") are not significant either.
  if (canonical.find('.') == std::string::npos) {
    for (auto it = canonical.rbegin(); it != canonical.rend() && *it == '0' && digits > 0; ++it) {
      --digits;
    }
  }
  return std::min<int64_t>(21, (digits + 1) / 2 + 1);
}

void PutString(std::string* out, absl::string_view s) {
  AppendBigEndian32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}

void EncodeValue(const AttributeValue& v, std::string* out);

void EncodeMap(const AttributeMap& map, std::string* out) {
  AppendBigEndian32(out, static_cast<uint32_t>(map.size()));
  for (const auto& [name, value] : map) {
    PutString(out, name);
    EncodeValue(value, out);
  }
}

void EncodeValue(const AttributeValue& v, std::string* out) {
  out->push_back(static_cast<char>(v.type()));
  switch (v.type()) {
    case AttributeValue::Type::kS:
    case AttributeValue::Type::kN:
    case AttributeValue::Type::kB:
      PutString(out, v.scalar());
      break;
    case AttributeValue::Type::kBool:
      out->push_back(v.bool_value() ? 1 : 0);
      break;
    case AttributeValue::Type::kNull:
      break;
    case AttributeValue::Type::kM:
      EncodeMap(v.map(), out);
      break;
    case AttributeValue::Type::kL:
      AppendBigEndian32(out, static_cast<uint32_t>(v.list().size()));
      for (const AttributeValue& e : v.list()) EncodeValue(e, out);
      break;
    case AttributeValue::Type::kSS:
    case AttributeValue::Type::kNS:
    case AttributeValue::Type::kBS:
      AppendBigEndian32(out, static_cast<uint32_t>(v.set().size()));
      for (const std::string& e : v.set()) PutString(out, e);
      break;
  }
}

class Decoder {
 public:
  explicit Decoder(absl::string_view in) : in_(in) {}
  bool done() const { return in_.empty(); }

  bool U32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = ReadBigEndian32(in_);
    in_.remove_prefix(4);
    return true;
  }
  bool String(std::string* s) {
    uint32_t n;
    if (!U32(&n) || in_.size() < n) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Map(AttributeMap* map, int depth) {
    uint32_t n;
    if (!U32(&n) || n > in_.size()) return false;
    map->reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      std::string name;
      AttributeValue value;
      if (!String(&name) || !Value(&value, depth)) return false;
      map->emplace_back(std::move(name), std::move(value));
    }
    return true;
  }
  bool Value(AttributeValue* v, int depth) {
    if (in_.empty() || depth > kMaxAttributeDepth + 1) return false;
    const int tag = static_cast<unsigned char>(in_[0]);
    in_.remove_prefix(1);
    using T = AttributeValue::Type;
    std::string s;
    switch (static_cast<T>(tag)) {
      case T::kS:
        if (!String(&s)) return false;
        *v = AttributeValue::S(std::move(s));
        return true;
      case T::kN:
        if (!String(&s)) return false;
        *v = AttributeValue::N(std::move(s));
        return true;
      case T::kB:
        if (!String(&s)) return false;
        *v = AttributeValue::B(std::move(s));
        return true;
      case T::kBool:
        if (in_.empty()) return false;
        *v = AttributeValue::Bool(in_[0] != 0);
        in_.remove_prefix(1);
        return true;
      case T::kNull:
        *v = AttributeValue::Null();
        return true;
      case T::kM: {
        AttributeMap map;
        if (!Map(&map, depth + 1)) return false;
        *v = AttributeValue::M(std::move(map));
        return true;
      }
      case T::kL: {
        uint32_t n;
        if (!U32(&n) || n > in_.size()) return false;
        std::vector<AttributeValue> list(n);
        for (AttributeValue& e : list) {
          if (!Value(&e, depth + 1)) return false;
        }
        *v = AttributeValue::L(std::move(list));
        return true;
      }
      case T::kSS:
      case T::kNS:
      case T::kBS: {
        uint32_t n;
        if (!U32(&n) || n > in_.size()) return false;
        std::vector<std::string> set(n);
        for (std::string& e : set) {
          if (!String(&e)) return false;
        }
        *v = static_cast<T>(tag) == T::kSS   ? AttributeValue::SS(std::move(set))
             : static_cast<T>(tag) == T::kNS ? AttributeValue::NS(std::move(set))
                                             : AttributeValue::BS(std::move(set));
        return true;
      }
    }
    return false;
  }

 private:
  absl::string_view in_;
};

absl::Status Invalid(absl::string_view path, absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("One or more parameter values were invalid: ", rule, " (", path, ")"));
}

absl::Status Validate(const AttributeValue& v, absl::string_view path, int depth) {
  using T = AttributeValue::Type;
  if (depth > kMaxAttributeDepth) {
    return Invalid(path, "Nesting Levels have exceeded supported limits");
  }
  switch (v.type()) {
    case T::kN: {
      absl::StatusOr<std::string> n = ParseNumber(v.scalar());
      if (!n.ok()) return n.status();
      if (*n != v.scalar()) return Invalid(path, "a number is not in canonical form");
      return absl::OkStatus();
    }
    case T::kSS:
    case T::kNS:
    case T::kBS: {
      if (v.set().empty()) {
        return Invalid(path, absl::StrCat("An ", TypeName(v.type()), " may not be empty"));
      }
      std::set<std::string> seen;
      for (const std::string& e : v.set()) {
        if (v.type() == T::kNS) {
          absl::StatusOr<std::string> n = ParseNumber(e);
          if (!n.ok()) return n.status();
          if (*n != e) return Invalid(path, "a number is not in canonical form");
        }
        if (!seen.insert(e).second) {
          return absl::InvalidArgumentError(
              absl::StrCat("One or more parameter values were invalid: Input collection ",
                           TypeName(v.type()), " of ", path, " contains duplicates"));
        }
      }
      return absl::OkStatus();
    }
    case T::kM:
      for (size_t i = 0; i < v.map().size(); ++i) {
        const auto& [name, value] = v.map()[i];
        if (name.empty()) return Invalid(path, "a map key may not be empty");
        if (i > 0 && v.map()[i - 1].first >= name) return Invalid(path, "map keys must be unique");
        if (absl::Status s = Validate(value, absl::StrCat(path, ".", name), depth + 1); !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    case T::kL:
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (absl::Status s = Validate(v.list()[i], absl::StrCat(path, "[", i, "]"), depth + 1);
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

bool MapsEqual(const AttributeMap& a, const AttributeMap& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first || a[i].second != b[i].second) return false;
  }
  return true;
}

}  // namespace

AttributeValue AttributeValue::S(std::string v) {
  AttributeValue a;
  a.type_ = Type::kS;
  a.scalar_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::N(std::string v) {
  AttributeValue a;
  a.type_ = Type::kN;
  a.scalar_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::B(std::string v) {
  AttributeValue a;
  a.type_ = Type::kB;
  a.scalar_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::Bool(bool v) {
  AttributeValue a;
  a.type_ = Type::kBool;
  a.bool_ = v;
  return a;
}
AttributeValue AttributeValue::Null() { return AttributeValue(); }
AttributeValue AttributeValue::M(AttributeMap v) {
  AttributeValue a;
  a.type_ = Type::kM;
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  a.map_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::L(std::vector<AttributeValue> v) {
  AttributeValue a;
  a.type_ = Type::kL;
  a.list_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::SS(std::vector<std::string> v) {
  AttributeValue a;
  a.type_ = Type::kSS;
  a.set_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::NS(std::vector<std::string> v) {
  AttributeValue a;
  a.type_ = Type::kNS;
  a.set_ = std::move(v);
  return a;
}
AttributeValue AttributeValue::BS(std::vector<std::string> v) {
  AttributeValue a;
  a.type_ = Type::kBS;
  a.set_ = std::move(v);
  return a;
}

bool AttributeValue::operator==(const AttributeValue& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::kS:
    case Type::kN:
    case Type::kB:
      return scalar_ == o.scalar_;
    case Type::kBool:
      return bool_ == o.bool_;
    case Type::kNull:
      return true;
    case Type::kM:
      return MapsEqual(map_, o.map_);
    case Type::kL:
      return list_ == o.list_;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      return SetsEqual(set_, o.set_);
  }
  return false;
}

std::string AttributeValue::DebugString() const {
  switch (type_) {
    case Type::kS:
    case Type::kN:
      return absl::StrCat("{", TypeName(type_), ":\"", absl::CEscape(scalar_), "\"}");
    case Type::kB:
      return absl::StrCat("{B:", absl::BytesToHexString(scalar_), "}");
    case Type::kBool:
      return bool_ ? "{BOOL:true}" : "{BOOL:false}";
    case Type::kNull:
      return "{NULL:true}";
    case Type::kM:
      return absl::StrCat(
          "{M:{",
          absl::StrJoin(map_, ",",
                        [](std::string* out, const auto& m) {
                          absl::StrAppend(out, m.first, ":", m.second.DebugString());
                        }),
          "}}");
    case Type::kL:
      return absl::StrCat("{L:[",
                          absl::StrJoin(list_, ",",
                                        [](std::string* out, const AttributeValue& e) {
                                          out->append(e.DebugString());
                                        }),
                          "]}");
    default:
      return absl::StrCat("{", TypeName(type_), ":[", absl::StrJoin(set_, ","), "]}");
  }
}

const char* TypeName(AttributeValue::Type type) {
  switch (type) {
    case AttributeValue::Type::kS:
      return "S";
    case AttributeValue::Type::kN:
      return "N";
    case AttributeValue::Type::kB:
      return "B";
    case AttributeValue::Type::kBool:
      return "BOOL";
    case AttributeValue::Type::kNull:
      return "NULL";
    case AttributeValue::Type::kM:
      return "M";
    case AttributeValue::Type::kL:
      return "L";
    case AttributeValue::Type::kSS:
      return "SS";
    case AttributeValue::Type::kNS:
      return "NS";
    case AttributeValue::Type::kBS:
      return "BS";
  }
  return "?";
}

absl::Status SortAttributeMap(AttributeMap* map) {
  std::stable_sort(map->begin(), map->end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (size_t i = 1; i < map->size(); ++i) {
    if ((*map)[i - 1].first == (*map)[i].first) {
      return absl::InvalidArgumentError(
          absl::StrCat("the attribute name '", (*map)[i].first, "' appears twice"));
    }
  }
  return absl::OkStatus();
}

const AttributeValue* FindAttribute(const AttributeMap& map, absl::string_view name) {
  auto it = std::lower_bound(map.begin(), map.end(), name,
                             [](const auto& m, absl::string_view n) { return m.first < n; });
  return it != map.end() && it->first == name ? &it->second : nullptr;
}

AttributeValue* FindAttribute(AttributeMap* map, absl::string_view name) {
  auto it = std::lower_bound(map->begin(), map->end(), name,
                             [](const auto& m, absl::string_view n) { return m.first < n; });
  return it != map->end() && it->first == name ? &it->second : nullptr;
}

void SetAttribute(AttributeMap* map, absl::string_view name, AttributeValue value) {
  auto it = std::lower_bound(map->begin(), map->end(), name,
                             [](const auto& m, absl::string_view n) { return m.first < n; });
  if (it != map->end() && it->first == name) {
    it->second = std::move(value);
  } else {
    map->emplace(it, std::string(name), std::move(value));
  }
}

bool EraseAttribute(AttributeMap* map, absl::string_view name) {
  auto it = std::lower_bound(map->begin(), map->end(), name,
                             [](const auto& m, absl::string_view n) { return m.first < n; });
  if (it == map->end() || it->first != name) return false;
  map->erase(it);
  return true;
}

absl::StatusOr<std::string> ParseNumber(absl::string_view text) {
  const auto invalid = [] {
    return absl::InvalidArgumentError("A value provided cannot be converted into a number");
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string digits;  // every mantissa digit, in order
  int integer_digits = 0;
  bool point = false, any = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
      if (!point) ++integer_digits;
      any = true;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return invalid();
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) exp_negative = text[i++] == '-';
    if (i == text.size()) return invalid();
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return invalid();
      // Past a million the value is out of range whatever the mantissa; stop growing.
      if (exponent < 1000000) exponent = exponent * 10 + (text[i] - '0');
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != text.size()) return invalid();
  // value = 0.digits × 10^(integer_digits + exponent); strip zeros on both ends.
  size_t lead = 0;
  while (lead < digits.size() && digits[lead] == '0') ++lead;
  if (lead == digits.size()) return std::string("0");
  size_t end = digits.size();
  while (digits[end - 1] == '0') --end;
  const std::string significant = digits.substr(lead, end - lead);
  const int64_t e = integer_digits - static_cast<int64_t>(lead) + exponent;
  if (significant.size() > static_cast<size_t>(kMaxNumberDigits)) {
    return absl::InvalidArgumentError(
        "Attempting to store more than 38 significant digits in a Number");
  }
  if (e > kMaxExponent) {
    return absl::InvalidArgumentError(
        "Number overflow. Attempting to store a number with magnitude larger than supported "
        "range");
  }
  if (e < kMinExponent) {
    return absl::InvalidArgumentError(
        "Number underflow. Attempting to store a number with magnitude smaller than supported "
        "range");
  }
  std::string out = negative ? "-" : "";
  const int64_t k = static_cast<int64_t>(significant.size());
  if (e <= 0) {
    absl::StrAppend(&out, "0.", std::string(static_cast<size_t>(-e), '0'), significant);
  } else if (e >= k) {
    absl::StrAppend(&out, significant, std::string(static_cast<size_t>(e - k), '0'));
  } else {
    absl::StrAppend(&out, significant.substr(0, static_cast<size_t>(e)), ".",
                    significant.substr(static_cast<size_t>(e)));
  }
  return out;
}

absl::Status ValidateAttributeValue(const AttributeValue& value, absl::string_view path) {
  return Validate(value, path, 0);
}

int64_t AttributeSize(const AttributeValue& v) {
  using T = AttributeValue::Type;
  switch (v.type()) {
    case T::kS:
      return Utf8Bytes(v.scalar());
    case T::kB:
      return static_cast<int64_t>(v.scalar().size());
    case T::kN:
      return NumberSize(v.scalar());
    case T::kBool:
    case T::kNull:
      return 1;
    case T::kSS:
    case T::kBS: {
      int64_t n = 0;
      for (const std::string& e : v.set()) n += static_cast<int64_t>(e.size());
      return n;
    }
    case T::kNS: {
      int64_t n = 0;
      for (const std::string& e : v.set()) n += NumberSize(e);
      return n;
    }
    case T::kM: {
      int64_t n = 3;
      for (const auto& [name, value] : v.map()) {
        n += 1 + static_cast<int64_t>(name.size()) + AttributeSize(value);
      }
      return n;
    }
    case T::kL: {
      int64_t n = 3;
      for (const AttributeValue& e : v.list()) n += 1 + AttributeSize(e);
      return n;
    }
  }
  return 0;
}

int64_t ItemSize(const AttributeMap& item) {
  int64_t n = 0;
  for (const auto& [name, value] : item) n += static_cast<int64_t>(name.size()) + AttributeSize(value);
  return n;
}

bool ItemsEqual(const AttributeMap& a, const AttributeMap& b) { return MapsEqual(a, b); }

std::string EncodeItem(const AttributeMap& item) {
  std::string out(1, kCodecVersion);
  EncodeMap(item, &out);
  return out;
}

void AppendMapValueOfEncodedItem(absl::string_view encoded, std::string* out) {
  // EncodeItem is the version byte then EncodeMap; an M value is the type byte then EncodeMap.
  out->push_back(static_cast<char>(AttributeValue::Type::kM));
  out->append(encoded.data() + 1, encoded.size() - 1);
}

absl::StatusOr<AttributeMap> DecodeItem(absl::string_view bytes) {
  if (bytes.empty() || bytes[0] != kCodecVersion) {
    return absl::DataLossError("undecodable item (unknown format version)");
  }
  Decoder decoder(bytes.substr(1));
  AttributeMap item;
  if (!decoder.Map(&item, 0) || !decoder.done()) return absl::DataLossError("undecodable item");
  return item;
}

}  // namespace tributary::tables
