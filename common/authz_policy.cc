#include "common/authz_policy.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace tributary {
namespace {

// Reads "Principal"/"Action"/"Resource": a string or a non-empty list of strings.
absl::Status ReadPatterns(const rapidjson::Value& statement, const char* field, size_t index,
                          std::vector<std::string>* out) {
  auto where = [&] { return absl::StrCat("Statement[", index, "].", field); };
  auto it = statement.FindMember(field);
  if (it == statement.MemberEnd()) {
    return absl::InvalidArgumentError(absl::StrCat(where(), " is missing"));
  }
  const rapidjson::Value& value = it->value;
  if (value.IsString()) {
    out->emplace_back(value.GetString(), value.GetStringLength());
  } else if (value.IsArray()) {
    for (const auto& element : value.GetArray()) {
      if (!element.IsString()) {
        return absl::InvalidArgumentError(absl::StrCat(where(), " must hold strings only"));
      }
      out->emplace_back(element.GetString(), element.GetStringLength());
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(where(), " must be a string or a list of strings"));
  }
  if (out->empty()) return absl::InvalidArgumentError(absl::StrCat(where(), " is empty"));
  for (const std::string& pattern : *out) {
    if (pattern.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), " holds an empty string"));
    }
  }
  return absl::OkStatus();
}

bool AnyMatches(const std::vector<std::string>& patterns, absl::string_view text) {
  for (const std::string& pattern : patterns) {
    if (WildcardMatch(pattern, text)) return true;
  }
  return false;
}

}  // namespace

bool WildcardMatch(absl::string_view pattern, absl::string_view text) {
  // Iterative glob matching with one backtrack point: O(|pattern| * |text|) at worst.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

absl::StatusOr<AuthzPolicy> AuthzPolicy::Parse(absl::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy is not valid JSON at offset ", document.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(document.GetParseError())));
  }
  if (!document.IsObject()) {
    return absl::InvalidArgumentError("policy must be a JSON object with a \"Statement\" list");
  }
  auto statements = document.FindMember("Statement");
  if (statements == document.MemberEnd() || !statements->value.IsArray()) {
    return absl::InvalidArgumentError("policy must have a \"Statement\" list");
  }
  AuthzPolicy policy;
  size_t index = 0;
  for (const auto& value : statements->value.GetArray()) {
    auto where = [&] { return absl::StrCat("Statement[", index, "]"); };
    if (!value.IsObject()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), " must be an object"));
    }
    for (auto member = value.MemberBegin(); member != value.MemberEnd(); ++member) {
      absl::string_view name(member->name.GetString(), member->name.GetStringLength());
      if (name != "Effect" && name != "Principal" && name != "Action" && name != "Resource" &&
          name != "Sid") {
        // Not quoted back: an unknown field is most often a typo of a known one.
        return absl::InvalidArgumentError(absl::StrCat(
            where(), " has a field other than Sid, Effect, Principal, Action and Resource"));
      }
    }
    Statement statement;
    auto effect = value.FindMember("Effect");
    if (effect == value.MemberEnd() || !effect->value.IsString()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), ".Effect is missing"));
    }
    absl::string_view effect_name(effect->value.GetString(), effect->value.GetStringLength());
    if (effect_name == "Allow") {
      statement.allow = true;
    } else if (effect_name != "Deny") {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ".Effect must be \"Allow\" or \"Deny\""));
    }
    for (auto status : {ReadPatterns(value, "Principal", index, &statement.principals),
                        ReadPatterns(value, "Action", index, &statement.actions),
                        ReadPatterns(value, "Resource", index, &statement.resources)}) {
      if (!status.ok()) return status;
    }
    for (std::string& action : statement.actions) {
      if (action != "*" && !absl::StrContains(action, ':')) {
        return absl::InvalidArgumentError(absl::StrCat(
            where(), ".Action: an action is \"service:Name\" (kinesis:PutRecords) or \"*\""));
      }
      absl::AsciiStrToLower(&action);
    }
    policy.statements_.push_back(std::move(statement));
    ++index;
  }
  return policy;
}

absl::StatusOr<AuthzPolicy> AuthzPolicy::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read policy file ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto policy = Parse(text.str());
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

bool AuthzPolicy::IsAllowed(absl::string_view principal, absl::string_view action,
                            absl::string_view resource) const {
  const std::string lower_action = absl::AsciiStrToLower(action);
  bool allowed = false;
  for (const Statement& statement : statements_) {
    // An unauthenticated call has no name a pattern other than "*" should match.
    bool principal_matches = false;
    for (const std::string& pattern : statement.principals) {
      if (principal.empty() ? pattern == "*" : WildcardMatch(pattern, principal)) {
        principal_matches = true;
        break;
      }
    }
    if (!principal_matches || !AnyMatches(statement.actions, lower_action) ||
        !AnyMatches(statement.resources, resource)) {
      continue;
    }
    if (!statement.allow) return false;  // an explicit Deny wins
    allowed = true;
  }
  return allowed;
}

}  // namespace tributary
