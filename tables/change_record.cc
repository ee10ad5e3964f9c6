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
