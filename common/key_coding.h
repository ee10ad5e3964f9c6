// Fixed-width big-endian integer coding for RocksDB keys: byte order equals
// numeric order, so a prefix of fixed-width fields is one ordered key range.
#ifndef TRIBUTARY_COMMON_KEY_CODING_H_
#define TRIBUTARY_COMMON_KEY_CODING_H_

#include <cstdint>
#include <string>

#include "absl/numeric/int128.h"
#include "absl/strings/string_view.h"

namespace tributary {

void AppendBigEndian32(std::string* out, uint32_t v);
void AppendBigEndian64(std::string* out, uint64_t v);
void AppendBigEndian128(std::string* out, absl::uint128 v);

// Decode from the first 4 / 8 / 16 bytes of `in`. Precondition: `in` is long
// enough.
uint32_t ReadBigEndian32(absl::string_view in);
uint64_t ReadBigEndian64(absl::string_view in);
absl::uint128 ReadBigEndian128(absl::string_view in);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_KEY_CODING_H_
