#include "common/key_coding.h"

namespace tributary {

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void AppendBigEndian128(std::string* out, absl::uint128 v) {
  AppendBigEndian64(out, absl::Uint128High64(v));
  AppendBigEndian64(out, absl::Uint128Low64(v));
}

uint32_t ReadBigEndian32(absl::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint64_t ReadBigEndian64(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

absl::uint128 ReadBigEndian128(absl::string_view in) {
  return absl::MakeUint128(ReadBigEndian64(in), ReadBigEndian64(in.substr(8)));
}

}  // namespace tributary
