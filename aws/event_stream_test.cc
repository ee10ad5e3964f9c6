#include "aws/event_stream.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

// Accepted by botocore's decoder (botocore.eventstream.EventStreamBuffer checks the prelude and
// message CRCs and parses the headers): {':message-type': 'event', ':event-type':
// 'initial-response'}, payload b'{}'.
constexpr char kInitialResponse[] =
    "0000004700000035d9429f130d3a6d6573736167652d747970650700056576656e740b3a6576656e742d7479"
    "7065070010696e697469616c2d726573706f6e73657b7d8de0c8a3";

TEST(EventStreamTest, EncodesTheBytesBotocoreDecodes) {
  EXPECT_EQ(absl::BytesToHexString(EventStreamEvent("initial-response", "", "{}")),
            kInitialResponse);
}

TEST(EventStreamTest, LengthsAndHeadersAreWhereTheFormatSays) {
  const std::string m = EventStreamException("ResourceNotFoundException",
                                             "application/x-amz-json-1.1", R"({"message":"x"})");
  auto u32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(m[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(m[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(m[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(m[at + 3]));
  };
  EXPECT_EQ(u32(0), m.size());
  const uint32_t headers_length = u32(4);
  EXPECT_EQ(m.substr(12 + headers_length, m.size() - 16 - headers_length), R"({"message":"x"})");
  const std::string headers = m.substr(12, headers_length);
  EXPECT_THAT(headers, ::testing::HasSubstr(":exception-type"));
  EXPECT_THAT(headers, ::testing::HasSubstr("ResourceNotFoundException"));
  // The first header: name length 13, ":message-type", type 7, value length 9, "exception".
  EXPECT_EQ(headers.substr(0, 1 + 13 + 1 + 2 + 9),
            std::string("\x0d:message-type\x07\x00\x09", 17) + "exception");
}

TEST(EventStreamTest, AnEmptyPayloadAndNoHeadersIsSixteenBytes) {
  EXPECT_EQ(EncodeEventStreamMessage({}, "").size(), 16u);
}

}  // namespace
}  // namespace tributary::aws
