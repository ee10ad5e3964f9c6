#include "tables/condition.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tributary::tables {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("Invalid ConditionExpression: ", why));
}

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

}  // namespace

absl::StatusOr<Condition> ParseCondition(absl::string_view expression,
                                         const std::map<std::string, std::string>& names) {
  absl::string_view rest = absl::StripAsciiWhitespace(expression);
  if (rest.empty()) return Invalid("The expression can not be empty;");
  size_t i = 0;
  while (i < rest.size() && IsNameChar(rest[i])) ++i;
  const absl::string_view function = rest.substr(0, i);
  Condition condition;
  if (function == "attribute_exists") {
    condition.kind = Condition::Kind::kAttributeExists;
  } else if (function == "attribute_not_exists") {
    condition.kind = Condition::Kind::kAttributeNotExists;
  } else {
    return Invalid(absl::StrCat(
        "not supported yet: '", expression,
        "' (supported: attribute_exists(path) or attribute_not_exists(path))"));
  }
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(i));
  if (rest.empty() || rest.front() != '(') return Invalid("expected '(' after the function name");
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(1));
  i = !rest.empty() && rest.front() == '#' ? 1 : 0;
  const size_t start = i;
  while (i < rest.size() && IsNameChar(rest[i])) ++i;
  if (i == start) return Invalid("expected an attribute name or #placeholder");
  const std::string token(rest.substr(0, i));
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(i));
  if (rest != ")") {
    return Invalid(absl::StrCat(
        "expected ')' after the attribute and nothing else (only top-level attributes are "
        "supported yet): '", expression, "'"));
  }
  bool used_placeholder = false;
  if (token[0] == '#') {
    auto it = names.find(token);
    if (it == names.end()) {
      return Invalid(absl::StrCat(
          "An expression attribute name used in the document path is not defined; attribute "
          "name: ", token));
    }
    condition.attribute = it->second;
    used_placeholder = true;
  } else {
    condition.attribute = token;
  }
  if (names.size() > (used_placeholder ? 1u : 0u)) {
    for (const auto& [placeholder, name] : names) {
      if (placeholder != token) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {",
            placeholder, "}"));
      }
    }
  }
  return condition;
}

bool ConditionHolds(const Condition& condition, const AttributeMap* item) {
  const bool exists = item != nullptr && FindAttribute(*item, condition.attribute) != nullptr;
  return condition.kind == Condition::Kind::kAttributeExists ? exists : !exists;
}

}  // namespace tributary::tables
