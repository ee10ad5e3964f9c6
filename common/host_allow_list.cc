#include "common/host_allow_list.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/host_port.h"

namespace tributary {
namespace {

bool IsIpv4Literal(absl::string_view host) {
  in_addr v4{};
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1;
}

bool IsIpv4Pattern(absl::string_view pattern) {
  for (char c : pattern) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '*' && c != '?') {
      return false;
    }
  }
  return true;
}

// '*' any run within one label (never a '.'), '?' one character other than '.'.
bool LabelWildcardMatch(absl::string_view pattern, absl::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern[0] == '*') {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (LabelWildcardMatch(pattern.substr(1), text.substr(i))) return true;
      if (i < text.size() && text[i] == '.') break;
    }
    return false;
  }
  if (text.empty()) return false;
  if (pattern[0] == '?' ? text[0] == '.' : pattern[0] != text[0]) return false;
  return LabelWildcardMatch(pattern.substr(1), text.substr(1));
}

}  // namespace

absl::StatusOr<HostAllowList> HostAllowList::Parse(absl::string_view list) {
  std::vector<std::string> patterns;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", list, "\": an empty entry (expected host patterns separated by ','"
                                   ", \"loopback\" or \"*\")"));
    }
    std::string pattern = absl::AsciiStrToLower(entry);
    if (pattern.size() > 2 && pattern.front() == '[' && pattern.back() == ']') {
      pattern = pattern.substr(1, pattern.size() - 2);
    }
    if (pattern.size() > 1 && pattern.back() == '.') pattern.pop_back();
    for (char c : pattern) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' &&
          c != '_' && c != ':' && c != '*' && c != '?') {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", entry, "\": a host pattern holds letters, digits, '.', '-', '_', ':', '*' and '?'"));
      }
    }
    patterns.push_back(std::move(pattern));
  }
  return HostAllowList(std::move(patterns));
}

bool HostAllowList::Allows(absl::string_view host) const {
  std::string h = absl::AsciiStrToLower(host);
  if (h.size() > 1 && h.back() == '.') h.pop_back();
  if (h.empty()) return false;
  for (const std::string& pattern : patterns_) {
    if (pattern == "*") return true;
    if (pattern == "loopback") {
      if (IsLoopbackHost(h)) return true;
      continue;
    }
    if (IsIpv4Pattern(pattern) && !IsIpv4Literal(h)) continue;
    if (LabelWildcardMatch(pattern, h)) return true;
  }
  return false;
}

bool HostAllowList::AllowsAll() const {
  for (const std::string& pattern : patterns_) {
    if (pattern == "*") return true;
  }
  return false;
}

std::string HostAllowList::ToString() const { return absl::StrJoin(patterns_, ","); }

}  // namespace tributary
