#include "tables/change_record.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

const absl::Time kNow = absl::FromUnixMillis(1700000000900);

AttributeMap Keys() { return {{"id", AttributeValue::S("a")}}; }
AttributeMap Item(const std::string& v) {
  return {{"id", AttributeValue::S("a")}, {"v", AttributeValue::S(v)}};
}

TEST(ChangeRecordTest, AFirstPutIsAnInsertWithOnlyTheNewImage) {
  auto r = MakeChangeRecord(StreamViewType::kNewAndOldImages, Keys(), std::nullopt, Item("x"), kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->event, ChangeEvent::kInsert);
  EXPECT_EQ(r->new_image, Item("x"));
  EXPECT_FALSE(r->old_image.has_value());
  EXPECT_EQ(r->approximate_creation_time, absl::FromUnixSeconds(1700000000));
}

TEST(ChangeRecordTest, AChangedPutIsAModifyAndADeleteARemove) {
  auto modify = MakeChangeRecord(StreamViewType::kOldImage, Keys(), Item("x"), Item("y"), kNow);
  ASSERT_TRUE(modify.has_value());
  EXPECT_EQ(modify->event, ChangeEvent::kModify);
  EXPECT_EQ(modify->old_image, Item("x"));
  EXPECT_FALSE(modify->new_image.has_value());
  auto remove = MakeChangeRecord(StreamViewType::kNewImage, Keys(), Item("y"), std::nullopt, kNow);
  ASSERT_TRUE(remove.has_value());
  EXPECT_EQ(remove->event, ChangeEvent::kRemove);
  EXPECT_FALSE(remove->new_image.has_value());
  EXPECT_FALSE(remove->old_image.has_value());
}

TEST(ChangeRecordTest, KeysOnlyKeepsNoImage) {
  auto r = MakeChangeRecord(StreamViewType::kKeysOnly, Keys(), Item("x"), Item("y"), kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->keys, Keys());
  EXPECT_FALSE(r->new_image.has_value());
  EXPECT_FALSE(r->old_image.has_value());
  EXPECT_EQ(r->size_bytes, ItemSize(Keys()));
}

TEST(ChangeRecordTest, AWriteThatChangesNothingHasNoRecord) {
  EXPECT_FALSE(MakeChangeRecord(StreamViewType::kNewAndOldImages, Keys(), Item("x"), Item("x"), kNow)
                   .has_value());
  EXPECT_FALSE(MakeChangeRecord(StreamViewType::kKeysOnly, Keys(), std::nullopt, std::nullopt, kNow)
                   .has_value());
  AttributeMap set_ab = {{"id", AttributeValue::S("a")}, {"s", AttributeValue::SS({"a", "b"})}};
  AttributeMap set_ba = {{"id", AttributeValue::S("a")}, {"s", AttributeValue::SS({"b", "a"})}};
  EXPECT_FALSE(
      MakeChangeRecord(StreamViewType::kNewImage, Keys(), set_ab, set_ba, kNow).has_value());
}

TEST(ChangeRecordTest, TheCodecRoundTrips) {
  auto r = MakeChangeRecord(StreamViewType::kNewAndOldImages, Keys(), Item("x"), Item("y"), kNow);
  ASSERT_TRUE(r.has_value());
  auto decoded = DecodeChangeRecord(EncodeChangeRecord(*r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->event, ChangeEvent::kModify);
  EXPECT_EQ(decoded->view_type, StreamViewType::kNewAndOldImages);
  EXPECT_EQ(decoded->keys, Keys());
  EXPECT_EQ(decoded->new_image, Item("y"));
  EXPECT_EQ(decoded->old_image, Item("x"));
  EXPECT_EQ(decoded->size_bytes, r->size_bytes);
  EXPECT_EQ(decoded->approximate_creation_time, r->approximate_creation_time);
  EXPECT_EQ(DecodeChangeRecord("junk").status().code(), absl::StatusCode::kDataLoss);
}

// The write path's encoder writes exactly EncodeChangeRecord's bytes, for every view type and
// every kind of change (INSERT, MODIFY, REMOVE).
TEST(ChangeRecordTest, EncodeChangeWritesTheRecordsBytes) {
  const std::optional<AttributeMap> none;
  const AttributeMap x = Item("x");
  const AttributeMap y = Item("y");
  const std::vector<std::pair<std::optional<AttributeMap>, std::optional<AttributeMap>>> changes =
      {{none, x}, {x, y}, {y, none}};
  for (StreamViewType view : {StreamViewType::kKeysOnly, StreamViewType::kNewImage,
                              StreamViewType::kOldImage, StreamViewType::kNewAndOldImages}) {
    for (const auto& [old_item, new_item] : changes) {
      auto r = MakeChangeRecord(view, Keys(), old_item, new_item, kNow);
      ASSERT_TRUE(r.has_value());
      const std::string old_encoded = old_item ? EncodeItem(*old_item) : std::string();
      const std::string new_encoded = new_item ? EncodeItem(*new_item) : std::string();
      EXPECT_EQ(EncodeChange(view, Keys(), old_item, old_encoded, new_item, new_encoded, kNow),
                EncodeChangeRecord(*r))
          << StreamViewTypeName(view) << " " << ChangeEventName(r->event);
    }
  }
}

}  // namespace
}  // namespace tributary::tables
