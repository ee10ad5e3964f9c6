// The change record codec: an AttributeMap {"e": N event, "v": N view type, "t": N epoch
// seconds, "k": M keys, "n": M new image, "o": M old image, "z": N size} in the item codec.
#include "tables/change_record.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tributary::tables {

const char* StreamViewTypeName(StreamViewType type) {
  switch (type) {
    case StreamViewType::kKeysOnly:
      return "KEYS_ONLY";
    case StreamViewType::kNewImage:
      return "NEW_IMAGE";
    case StreamViewType::kOldImage:
      return "OLD_IMAGE";
    case StreamViewType::kNewAndOldImages:
      return "NEW_AND_OLD_IMAGES";
  }
  return "KEYS_ONLY";
}

std::optional<StreamViewType> ParseStreamViewType(absl::string_view name) {
  for (StreamViewType t : {StreamViewType::kKeysOnly, StreamViewType::kNewImage,
                           StreamViewType::kOldImage, StreamViewType::kNewAndOldImages}) {
    if (name == StreamViewTypeName(t)) return t;
  }
  return std::nullopt;
}

const char* ChangeEventName(ChangeEvent event) {
  switch (event) {
    case ChangeEvent::kInsert:
      return "INSERT";
    case ChangeEvent::kModify:
      return "MODIFY";
    case ChangeEvent::kRemove:
      return "REMOVE";
  }
  return "INSERT";
}

std::optional<ChangeRecord> MakeChangeRecord(StreamViewType view_type, const AttributeMap& keys,
                                             const std::optional<AttributeMap>& old_item,
                                             const std::optional<AttributeMap>& new_item,
                                             absl::Time now) {
  if (!old_item.has_value() && !new_item.has_value()) return std::nullopt;
  if (old_item.has_value() && new_item.has_value() && ItemsEqual(*old_item, *new_item)) {
    return std::nullopt;
  }
  ChangeRecord r;
  r.event = !old_item ? ChangeEvent::kInsert : !new_item ? ChangeEvent::kRemove : ChangeEvent::kModify;
  r.view_type = view_type;
  r.approximate_creation_time = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  r.keys = keys;
  const bool keep_new =
      view_type == StreamViewType::kNewImage || view_type == StreamViewType::kNewAndOldImages;
  const bool keep_old =
      view_type == StreamViewType::kOldImage || view_type == StreamViewType::kNewAndOldImages;
  if (keep_new) r.new_image = new_item;
  if (keep_old) r.old_image = old_item;
  r.size_bytes = ItemSize(keys) + (r.new_image ? ItemSize(*r.new_image) : 0) +
                 (r.old_image ? ItemSize(*r.old_image) : 0);
  return r;
}

namespace {

// The item codec's pieces (attribute_value.cc): big-endian lengths, a type byte per value.
void PutU32(std::string* out, uint32_t v) {
  for (int b = 3; b >= 0; --b) out->push_back(static_cast<char>(v >> (8 * b)));
}
void PutString(std::string* out, absl::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}
void PutNumber(std::string* out, absl::string_view name, int64_t v) {
  PutString(out, name);
  out->push_back(static_cast<char>(AttributeValue::Type::kN));
  PutString(out, absl::StrCat(v));
}

}  // namespace

std::string EncodeChange(StreamViewType view_type, const AttributeMap& keys,
                         const std::optional<AttributeMap>& old_item, absl::string_view old_encoded,
                         const std::optional<AttributeMap>& new_item, absl::string_view new_encoded,
                         absl::Time now) {
  const ChangeEvent event =
      !old_item ? ChangeEvent::kInsert : !new_item ? ChangeEvent::kRemove : ChangeEvent::kModify;
  const bool keep_new = new_item.has_value() && (view_type == StreamViewType::kNewImage ||
                                                 view_type == StreamViewType::kNewAndOldImages);
  const bool keep_old = old_item.has_value() && (view_type == StreamViewType::kOldImage ||
                                                 view_type == StreamViewType::kNewAndOldImages);
  const int64_t size = ItemSize(keys) + (keep_new ? ItemSize(*new_item) : 0) +
                       (keep_old ? ItemSize(*old_item) : 0);
  // What EncodeChangeRecord writes: the version byte, then the map {e, k, [n], [o], t, v, z}
  // (names sorted), byte for byte.
  const std::string keys_item = EncodeItem(keys);
  std::string out = EncodeItem({});
  out.resize(1);  // the version byte
  out.reserve(64 + keys_item.size() + (keep_new ? new_encoded.size() : 0) +
              (keep_old ? old_encoded.size() : 0));
  PutU32(&out, 5 + keep_new + keep_old);
  PutNumber(&out, "e", static_cast<int>(event));
  PutString(&out, "k");
  AppendMapValueOfEncodedItem(keys_item, &out);
  if (keep_new) {
    PutString(&out, "n");
    AppendMapValueOfEncodedItem(new_encoded, &out);
  }
  if (keep_old) {
    PutString(&out, "o");
    AppendMapValueOfEncodedItem(old_encoded, &out);
  }
  PutNumber(&out, "t", absl::ToUnixSeconds(now));
  PutNumber(&out, "v", static_cast<int>(view_type));
  PutNumber(&out, "z", size);
  return out;
}

std::string EncodeChangeRecord(const ChangeRecord& r) {
  AttributeMap map;  // names in sorted order
  map.emplace_back("e", AttributeValue::N(absl::StrCat(static_cast<int>(r.event))));
  map.emplace_back("k", AttributeValue::M(r.keys));
  if (r.new_image) map.emplace_back("n", AttributeValue::M(*r.new_image));
  if (r.old_image) map.emplace_back("o", AttributeValue::M(*r.old_image));
  map.emplace_back("t", AttributeValue::N(absl::StrCat(absl::ToUnixSeconds(
                            r.approximate_creation_time))));
  map.emplace_back("v", AttributeValue::N(absl::StrCat(static_cast<int>(r.view_type))));
  map.emplace_back("z", AttributeValue::N(absl::StrCat(r.size_bytes)));
  return EncodeItem(map);
}

absl::StatusOr<ChangeRecord> DecodeChangeRecord(absl::string_view bytes) {
  absl::StatusOr<AttributeMap> map = DecodeItem(bytes);
  if (!map.ok()) return map.status();
  auto number = [&](const char* name, int64_t* out) {
    const AttributeValue* v = FindAttribute(*map, name);
    return v != nullptr && v->type() == AttributeValue::Type::kN &&
           absl::SimpleAtoi(v->scalar(), out);
  };
  ChangeRecord r;
  int64_t event = 0, view = 0, seconds = 0;
  const AttributeValue* keys = FindAttribute(*map, "k");
  if (!number("e", &event) || !number("v", &view) || !number("t", &seconds) ||
      !number("z", &r.size_bytes) || event < 0 || event > 2 || view < 0 || view > 3 ||
      keys == nullptr || keys->type() != AttributeValue::Type::kM) {
    return absl::DataLossError("undecodable change record");
  }
  r.event = static_cast<ChangeEvent>(event);
  r.view_type = static_cast<StreamViewType>(view);
  r.approximate_creation_time = absl::FromUnixSeconds(seconds);
  r.keys = keys->map();
  if (const AttributeValue* n = FindAttribute(*map, "n")) r.new_image = n->map();
  if (const AttributeValue* o = FindAttribute(*map, "o")) r.old_image = o->map();
  return r;
}

}  // namespace tributary::tables
