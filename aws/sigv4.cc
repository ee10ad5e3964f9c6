#include "aws/sigv4.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tributary::aws {
namespace {

constexpr absl::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return !s.empty();
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return !s.empty();
}

}  // namespace

absl::StatusOr<SigV4Authorization> ParseSigV4Authorization(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  if (!absl::ConsumePrefix(&header, kAlgorithm) ||
      (!header.empty() && !absl::ascii_isspace(header[0]))) {
    return absl::InvalidArgumentError(
        absl::StrCat("Authorization header: the algorithm must be ", kAlgorithm));
  }
  std::string credential, signed_headers, signature;
  bool has_credential = false, has_signed_headers = false, has_signature = false;
  for (absl::string_view part : absl::StrSplit(header, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "Credential") {
      credential = std::string(kv.second);
      has_credential = true;
    } else if (kv.first == "SignedHeaders") {
      signed_headers = std::string(kv.second);
      has_signed_headers = true;
    } else if (kv.first == "Signature") {
      signature = std::string(kv.second);
      has_signature = true;
    }
  }
  std::string missing;
  if (!has_credential) absl::StrAppend(&missing, " Credential");
  if (!has_signed_headers) absl::StrAppend(&missing, " SignedHeaders");
  if (!has_signature) absl::StrAppend(&missing, " Signature");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Authorization header requires the parameter(s):", missing));
  }

  SigV4Authorization out;
  std::vector<std::string> scope = absl::StrSplit(credential, '/');
  if (scope.size() != 5 || scope[0].empty() || scope[1].size() != 8 || !IsDigits(scope[1]) ||
      scope[2].empty() || scope[3].empty() || scope[4] != "aws4_request") {
    return absl::InvalidArgumentError(absl::StrCat(
        "Authorization header: Credential must be AKID/YYYYMMDD/region/service/aws4_request, "
        "found '",
        credential, "'"));
  }
  out.access_key_id = scope[0];
  out.date = scope[1];
  out.region = scope[2];
  out.service = scope[3];

  for (absl::string_view h : absl::StrSplit(signed_headers, ';')) {
    if (h.empty()) {
      return absl::InvalidArgumentError(
          "Authorization header: SignedHeaders must be header names separated by ';'");
    }
    out.signed_headers.push_back(absl::AsciiStrToLower(h));
  }
  if (signature.size() != 64 || !IsHex(signature)) {
    return absl::InvalidArgumentError(
        "Authorization header: Signature must be 64 hexadecimal digits");
  }
  out.signature = absl::AsciiStrToLower(signature);
  return out;
}

}  // namespace tributary::aws
