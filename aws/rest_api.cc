#include "aws/rest_api.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tributary::aws {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed percent-encoding in the request target at '", s.substr(i, 3), "'"));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

const std::string* RestTarget::Query(absl::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

absl::string_view TargetPath(absl::string_view target) {
  return target.substr(0, target.find('?'));
}

absl::StatusOr<RestTarget> ParseRestTarget(absl::string_view target) {
  if (target.empty() || target[0] != '/') {
    return absl::InvalidArgumentError("the request target must start with '/'");
  }
  RestTarget parsed;
  const size_t question = target.find('?');
  const absl::string_view path = target.substr(0, question);
  for (absl::string_view segment : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StatusOr<std::string> decoded = PercentDecode(segment);
    if (!decoded.ok()) return decoded.status();
    parsed.segments.push_back(*std::move(decoded));
  }
  if (question == absl::string_view::npos) return parsed;
  for (absl::string_view pair :
       absl::StrSplit(target.substr(question + 1), '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    absl::StatusOr<std::string> key = PercentDecode(pair.substr(0, equals));
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value =
        equals == absl::string_view::npos ? std::string() : PercentDecode(pair.substr(equals + 1));
    if (!value.ok()) return value.status();
    parsed.query.emplace_back(*std::move(key), *std::move(value));
  }
  return parsed;
}

}  // namespace tributary::aws
