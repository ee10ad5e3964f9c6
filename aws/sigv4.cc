#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// Percent-encodes every byte but unreserved ones (and '/' when `keep_slash`), upper-case hex.
std::string UriEncode(absl::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

int HexValue(char c) {
  if (absl::ascii_isdigit(c)) return c - '0';
  return absl::ascii_tolower(c) - 'a' + 10;
}

// Decodes %XX escapes (a '%' not followed by two hex digits stays as it is).
std::string UriDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && absl::ascii_isxdigit(s[i + 1]) &&
        absl::ascii_isxdigit(s[i + 2])) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The path with "." and ".." segments resolved and empty segments dropped; a trailing '/' is
// kept; "" becomes "/".
std::string NormalizePath(absl::string_view path) {
  std::vector<absl::string_view> segments;
  for (absl::string_view segment : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string out = absl::StrCat("/", absl::StrJoin(segments, "/"));
  if (out.size() > 1 && absl::EndsWith(path, "/")) out.push_back('/');
  return out;
}

std::string CanonicalQuery(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    params.emplace_back(UriEncode(UriDecode(kv.first), /*keep_slash=*/false),
                        UriEncode(UriDecode(kv.second), /*keep_slash=*/false));
  }
  std::sort(params.begin(), params.end());
  return absl::StrJoin(params, "&", absl::PairFormatter("="));
}

// A header value as SigV4 signs it: trimmed, runs of spaces collapsed to one.
std::string CanonicalHeaderValue(absl::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : absl::StripAsciiWhitespace(value)) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
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

std::string SigV4CanonicalRequest(const HttpRequest& request,
                                  const std::vector<std::string>& signed_headers) {
  absl::string_view target = request.target;
  absl::string_view query;
  if (size_t q = target.find('?'); q != absl::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  std::vector<std::string> names = signed_headers;
  std::sort(names.begin(), names.end());
  std::string headers;
  for (const std::string& name : names) {
    std::vector<std::string> values;
    for (const auto& [key, value] : request.headers) {
      if (absl::EqualsIgnoreCase(key, name)) values.push_back(CanonicalHeaderValue(value));
    }
    absl::StrAppend(&headers, name, ":", absl::StrJoin(values, ","), "\n");
  }
  return absl::StrCat(request.method, "\n", UriEncode(NormalizePath(target), /*keep_slash=*/true),
                      "\n", CanonicalQuery(query), "\n", headers, "\n", absl::StrJoin(names, ";"),
                      "\n", Sha256Hex(request.body));
}

std::string SigV4Timestamp(absl::Time time) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", time, absl::UTCTimeZone());
}

std::string SigV4Signature(absl::string_view secret_access_key, absl::string_view timestamp,
                           const SigV4Authorization& authorization,
                           absl::string_view canonical_request) {
  const std::string scope = absl::StrCat(authorization.date, "/", authorization.region, "/",
                                         authorization.service, "/aws4_request");
  const std::string string_to_sign =
      absl::StrCat(kAlgorithm, "\n", timestamp, "\n", scope, "\n", Sha256Hex(canonical_request));
  std::string key = HmacSha256(absl::StrCat("AWS4", secret_access_key), authorization.date);
  key = HmacSha256(key, authorization.region);
  key = HmacSha256(key, authorization.service);
  key = HmacSha256(key, "aws4_request");
  const std::string signature = HmacSha256(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

}  // namespace tributary::aws
