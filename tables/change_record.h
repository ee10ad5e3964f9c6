// Change records of a table's stream (DynamoDB Streams' record, minus what the log supplies):
// which write it was (INSERT / MODIFY / REMOVE), the item's keys, the images the stream's view
// type keeps, the time and size. MakeChangeRecord decides whether a write changes anything at
// all (DynamoDB emits no record for one that does not); the codec is what the shard_store
// record's data holds (the item codec of attribute_value.h over a small map, so the edge renders
// it to JSON with the same code as items).
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_CHANGE_RECORD_H_
#define TRIBUTARY_TABLES_CHANGE_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tables/attribute_value.h"

namespace tributary::tables {

enum class StreamViewType { kKeysOnly, kNewImage, kOldImage, kNewAndOldImages };

// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES" (DynamoDB's names).
const char* StreamViewTypeName(StreamViewType type);
// The inverse of StreamViewTypeName; nullopt for any other string.
std::optional<StreamViewType> ParseStreamViewType(absl::string_view name);

enum class ChangeEvent { kInsert, kModify, kRemove };
// "INSERT", "MODIFY", "REMOVE".
const char* ChangeEventName(ChangeEvent event);

struct ChangeRecord {
  ChangeEvent event = ChangeEvent::kInsert;
  StreamViewType view_type = StreamViewType::kKeysOnly;
  absl::Time approximate_creation_time;  // whole seconds, as DynamoDB reports it
  AttributeMap keys;
  std::optional<AttributeMap> new_image;  // NEW_IMAGE / NEW_AND_OLD_IMAGES, not on REMOVE
  std::optional<AttributeMap> old_image;  // OLD_IMAGE / NEW_AND_OLD_IMAGES, not on INSERT
  int64_t size_bytes = 0;                 // ItemSize of keys + images
};

// The record of a write that turns `old_item` into `new_item` (nullopt: no item), or nullopt when
// the write changes nothing: both absent (deleting a missing item), or equal as DynamoDB compares
// items (attribute order and set element order ignored; numbers are canonical already). `keys`:
// the item's key attributes. `now` is truncated to seconds.
std::optional<ChangeRecord> MakeChangeRecord(StreamViewType view_type, const AttributeMap& keys,
                                             const std::optional<AttributeMap>& old_item,
                                             const std::optional<AttributeMap>& new_item,
                                             absl::Time now);

std::string EncodeChangeRecord(const ChangeRecord& record);

// EncodeChangeRecord(*MakeChangeRecord(...)) without building the record: the write path's
// encoder, which copies no image. `old_encoded` / `new_encoded` are the items' EncodeItem bytes
// (ignored when the item is absent): the old item as read from the store, the new as the write
// stores it, so each image is encoded once per write. Precondition: the write changes
// something (MakeChangeRecord would not return nullopt).
std::string EncodeChange(StreamViewType view_type, const AttributeMap& keys,
                         const std::optional<AttributeMap>& old_item, absl::string_view old_encoded,
                         const std::optional<AttributeMap>& new_item, absl::string_view new_encoded,
                         absl::Time now);
// Errors: DATA_LOSS when `bytes` is not an encoded change record.
absl::StatusOr<ChangeRecord> DecodeChangeRecord(absl::string_view bytes);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_CHANGE_RECORD_H_
