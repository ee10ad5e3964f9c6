#include "common/stream_name.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tributary {
namespace {

bool IsStreamNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

bool IsValidStreamName(absl::string_view name) {
  return !name.empty() && name.size() <= kMaxStreamNameLength &&
         std::all_of(name.begin(), name.end(), IsStreamNameChar);
}

absl::Status ValidateStreamName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (name.size() > kMaxStreamNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be 1 to ", kMaxStreamNameLength,
                                                   " characters, got ", name.size()));
  }
  if (!std::all_of(name.begin(), name.end(), IsStreamNameChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " may only hold [a-zA-Z0-9_.-], got \"", name, "\""));
  }
  return absl::OkStatus();
}

}  // namespace tributary
