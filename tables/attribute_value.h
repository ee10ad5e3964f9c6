// The DynamoDB item model: AttributeValue (S N B BOOL NULL M L SS NS BS), items, number rules,
// item size, and the binary codec the table store writes.
//
// Numbers (N, NS) are decimal strings. ParseNumber checks DynamoDB's rules and returns the
// canonical form every number is kept and returned in: no exponent, no '+', no leading zeros
// of the integer part, no trailing zeros of the fraction, "0" for zero. Examples:
//   "1.50" → "1.5", "1E2" → "100", "-0.0" → "0", "007" → "7", "1.2e-3" → "0.0012".
// Rules (DynamoDB's): at most 38 significant digits; magnitude 1E-130 to
// 9.9999999999999999999999999999999999999E+125 (positive or negative) or zero.
//
// Item size (ItemSize), as DynamoDB counts it: per attribute, the UTF-8 length of its name plus
// the size of its value: S = UTF-8 bytes; B = bytes; N = (significant digits + 1) / 2 + 1
// (rounded down), at most 21; BOOL, NULL = 1; SS/BS/NS = the sum of their elements'; M and L =
// 3 + per element (1 + its size) where a map element's size includes its name. An item is at
// most kMaxItemBytes (400 KB).
//
// Plain data: copyable; not thread-safe to mutate concurrently.
#ifndef TRIBUTARY_TABLES_ATTRIBUTE_VALUE_H_
#define TRIBUTARY_TABLES_ATTRIBUTE_VALUE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary::tables {

inline constexpr int64_t kMaxItemBytes = 400 * 1024;
inline constexpr int kMaxNumberDigits = 38;
inline constexpr int kMaxAttributeDepth = 32;  // DynamoDB's nesting limit for M and L

class AttributeValue;
// A map of attributes (an item, or the value of an M): sorted by name, names unique.
using AttributeMap = std::vector<std::pair<std::string, AttributeValue>>;

class AttributeValue {
 public:
  enum class Type { kS, kN, kB, kBool, kNull, kM, kL, kSS, kNS, kBS };

  AttributeValue() = default;  // NULL
  static AttributeValue S(std::string v);
  // `v` must already be canonical (ParseNumber); not checked here.
  static AttributeValue N(std::string v);
  static AttributeValue B(std::string v);
  static AttributeValue Bool(bool v);
  static AttributeValue Null();
  static AttributeValue M(AttributeMap v);  // sorted by name first
  static AttributeValue L(std::vector<AttributeValue> v);
  // Sets keep their elements in the order given (DynamoDB returns sets in no defined order).
  static AttributeValue SS(std::vector<std::string> v);
  static AttributeValue NS(std::vector<std::string> v);
  static AttributeValue BS(std::vector<std::string> v);

  Type type() const { return type_; }
  // S, N and B: the string, number or bytes.
  const std::string& scalar() const { return scalar_; }
  bool bool_value() const { return bool_; }
  const AttributeMap& map() const { return map_; }
  const std::vector<AttributeValue>& list() const { return list_; }
  const std::vector<std::string>& set() const { return set_; }  // SS, NS, BS
  // In-place edits (update expressions): the map of an M (keep it sorted: SetAttribute,
  // EraseAttribute), the list of an L, the elements of a set.
  AttributeMap* mutable_map() { return &map_; }
  std::vector<AttributeValue>* mutable_list() { return &list_; }
  std::vector<std::string>* mutable_set() { return &set_; }

  // DynamoDB's equality: sets compare as sets (element order ignored), maps by name.
  bool operator==(const AttributeValue& other) const;
  bool operator!=(const AttributeValue& other) const { return !(*this == other); }

  std::string DebugString() const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string scalar_;
  AttributeMap map_;
  std::vector<AttributeValue> list_;
  std::vector<std::string> set_;
};

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
const char* TypeName(AttributeValue::Type type);

// Sorts a map by name. Errors: INVALID_ARGUMENT when a name repeats.
absl::Status SortAttributeMap(AttributeMap* map);
// The member named `name` of a sorted map, or nullptr.
const AttributeValue* FindAttribute(const AttributeMap& map, absl::string_view name);
AttributeValue* FindAttribute(AttributeMap* map, absl::string_view name);
// Sets the member `name` of a sorted map to `value` (replacing or inserting in order).
void SetAttribute(AttributeMap* map, absl::string_view name, AttributeValue value);
// Removes the member `name` of a sorted map; whether it was there.
bool EraseAttribute(AttributeMap* map, absl::string_view name);

// Checks `text` as a DynamoDB number and returns its canonical form (see the top). Errors:
// INVALID_ARGUMENT: not a number ("... is not a valid number"), more than 38 significant digits,
// magnitude out of range (overflow / underflow).
absl::StatusOr<std::string> ParseNumber(absl::string_view text);

// Checks a value built from a request, as DynamoDB does for an item's attributes (`path` names
// it in messages): numbers canonical (N, NS elements; use ParseNumber first), sets non-empty
// and without duplicates (NS by numeric value, which canonical form makes byte equality), map
// names non-empty, nesting at most kMaxAttributeDepth. Errors: INVALID_ARGUMENT.
absl::Status ValidateAttributeValue(const AttributeValue& value, absl::string_view path);

// The size DynamoDB bills and limits (see the top).
int64_t AttributeSize(const AttributeValue& value);
int64_t ItemSize(const AttributeMap& item);

// Equality of items regardless of attribute order in the request (maps are kept sorted) and
// of set element order.
bool ItemsEqual(const AttributeMap& a, const AttributeMap& b);

// The binary codec (internal to the store, but a pure function, so tested here): a version
// byte then the map. DecodeItem: DATA_LOSS when `bytes` is not an encoded item.
std::string EncodeItem(const AttributeMap& item);
absl::StatusOr<AttributeMap> DecodeItem(absl::string_view bytes);
// The codec of an M value holding `item`, appended to *out, from the item's EncodeItem bytes
// (a stored item, or one just encoded): a change record holds its images as M values and the
// write encodes each image once. `encoded` must be EncodeItem's output (DecodeItem accepts it).
void AppendMapValueOfEncodedItem(absl::string_view encoded, std::string* out);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_ATTRIBUTE_VALUE_H_
