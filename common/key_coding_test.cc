#include "common/key_coding.h"

#include <string>

#include "gtest/gtest.h"

namespace tributary {
namespace {

TEST(KeyCodingTest, RoundTripsAtTheEdges) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{0x0123456789abcdef}, ~uint64_t{0}}) {
    std::string s;
    AppendBigEndian64(&s, v);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(ReadBigEndian64(s), v);
  }
  for (uint32_t v : {0u, 1u, 0x89abcdefu, ~0u}) {
    std::string s;
    AppendBigEndian32(&s, v);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(ReadBigEndian32(s), v);
  }
  for (absl::uint128 v : {absl::uint128(0), absl::MakeUint128(1, 0), absl::Uint128Max()}) {
    std::string s;
    AppendBigEndian128(&s, v);
    ASSERT_EQ(s.size(), 16u);
    EXPECT_EQ(ReadBigEndian128(s), v);
  }
}

TEST(KeyCodingTest, ByteOrderIsNumericOrder) {
  const uint64_t values[] = {0, 1, 255, 256, 65535, 1ull << 32, (1ull << 63) + 5, ~0ull};
  for (uint64_t a : values) {
    for (uint64_t b : values) {
      std::string ea, eb;
      AppendBigEndian64(&ea, a);
      AppendBigEndian64(&eb, b);
      EXPECT_EQ(a < b, ea < eb) << a << " vs " << b;
    }
  }
}

TEST(KeyCodingTest, BigEndian64IsMostSignificantByteFirst) {
  std::string s;
  AppendBigEndian64(&s, 0x0102030405060708ull);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

}  // namespace
}  // namespace tributary
