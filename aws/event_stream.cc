#include "aws/event_stream.h"

#include <zlib.h>

#include <cstdint>

#include "glog/logging.h"

namespace tributary::aws {
namespace {

void AppendBigEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint32_t Crc32(absl::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

}  // namespace

std::string EncodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& headers, absl::string_view payload) {
  std::string header_bytes;
  for (const auto& [name, value] : headers) {
    CHECK(!name.empty() && name.size() <= 255) << "event-stream header name " << name;
    CHECK_LE(value.size(), 32767u) << "event-stream header " << name;
    AppendBigEndian(&header_bytes, name.size(), 1);
    header_bytes += name;
    header_bytes.push_back(7);  // string
    AppendBigEndian(&header_bytes, value.size(), 2);
    header_bytes += value;
  }
  const size_t total = 12 + header_bytes.size() + payload.size() + 4;
  CHECK_LE(total, kMaxEventStreamMessageBytes) << "event-stream message too large";
  std::string message;
  message.reserve(total);
  AppendBigEndian(&message, total, 4);
  AppendBigEndian(&message, header_bytes.size(), 4);
  AppendBigEndian(&message, Crc32(message), 4);
  message += header_bytes;
  message.append(payload.data(), payload.size());
  AppendBigEndian(&message, Crc32(message), 4);
  return message;
}

std::string EventStreamEvent(absl::string_view event_type, absl::string_view content_type,
                             absl::string_view payload) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {":message-type", "event"}, {":event-type", std::string(event_type)}};
  if (!content_type.empty()) headers.emplace_back(":content-type", std::string(content_type));
  return EncodeEventStreamMessage(headers, payload);
}

std::string EventStreamException(absl::string_view exception_type, absl::string_view content_type,
                                 absl::string_view payload) {
  return EncodeEventStreamMessage({{":message-type", "exception"},
                                   {":exception-type", std::string(exception_type)},
                                   {":content-type", std::string(content_type)}},
                                  payload);
}

}  // namespace tributary::aws
