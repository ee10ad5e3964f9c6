#include "aws/sigv4_verifier.h"

#include <openssl/crypto.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"

namespace tributary::aws {
namespace {

// Parses YYYYMMDDTHHMMSSZ (absl::ParseTime's %Y would take every digit as the year).
bool ParseIsoBasic(absl::string_view s, absl::Time* time) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  auto number = [&](size_t pos, size_t len, int* out) {
    *out = 0;
    for (char c : s.substr(pos, len)) {
      if (!absl::ascii_isdigit(c)) return false;
      *out = *out * 10 + (c - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!number(0, 4, &y) || !number(4, 2, &mo) || !number(6, 2, &d) || !number(9, 2, &h) ||
      !number(11, 2, &mi) || !number(13, 2, &se)) {
    return false;
  }
  const absl::CivilSecond civil(y, mo, d, h, mi, se);
  // CivilSecond normalizes (month 13 → next year): a field out of range is malformed.
  if (civil.year() != y || civil.month() != mo || civil.day() != d || civil.hour() != h ||
      civil.minute() != mi || civil.second() != se) {
    return false;
  }
  *time = absl::FromCivil(civil, absl::UTCTimeZone());
  return true;
}

// A profile while it is being read.
struct Profile {
  std::string name;
  int line = 0;
  std::optional<std::string> access_key_id;
  std::optional<std::string> secret_access_key;
};

absl::Status AddProfile(const Profile& profile, std::vector<AwsCredential>& out) {
  if (!profile.access_key_id || !profile.secret_access_key || profile.access_key_id->empty() ||
      profile.secret_access_key->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", profile.line, ": profile [", profile.name,
                     "] needs both aws_access_key_id and aws_secret_access_key"));
  }
  for (const AwsCredential& c : out) {
    if (c.access_key_id == *profile.access_key_id) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", profile.line, ": profile [", profile.name,
                       "] repeats the access key id of [", c.principal, "]"));
    }
  }
  out.push_back({*profile.access_key_id, *profile.secret_access_key, profile.name});
  return absl::OkStatus();
}

// The request's date from X-Amz-Date or, without it, Date.
absl::StatusOr<absl::Time> RequestTime(const HttpRequest& request) {
  absl::Time time;
  std::string error;
  if (request.HasHeader("x-amz-date")) {
    if (!ParseIsoBasic(request.Header("x-amz-date"), &time)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', found '",
          request.Header("x-amz-date"), "'"));
    }
    return time;
  }
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(request.Header("date")),
                       absl::UTCTimeZone(), &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Date must be in the RFC 1123 format, found '", request.Header("date"), "'"));
  }
  return time;
}

}  // namespace

absl::StatusOr<std::vector<AwsCredential>> ParseAwsCredentials(absl::string_view text) {
  std::vector<AwsCredential> out;
  std::optional<Profile> profile;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", number, ": a section is [name], found '", line, "'"));
      }
      if (profile) {
        if (absl::Status s = AddProfile(*profile, out); !s.ok()) return s;
      }
      profile.emplace();
      profile->name = std::string(absl::StripAsciiWhitespace(line.substr(1, line.size() - 2)));
      profile->line = number;
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": expected [profile] or key = value, found '", line, "'"));
    }
    if (!profile) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": key = value before any [profile]"));
    }
    const std::string key =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, equals)));
    std::string value(absl::StripAsciiWhitespace(line.substr(equals + 1)));
    if (key == "aws_access_key_id") profile->access_key_id = std::move(value);
    if (key == "aws_secret_access_key") profile->secret_access_key = std::move(value);
  }
  if (profile) {
    if (absl::Status s = AddProfile(*profile, out); !s.ok()) return s;
  }
  if (out.empty()) return absl::InvalidArgumentError("no credentials (no [profile] sections)");
  return out;
}

absl::StatusOr<std::vector<AwsCredential>> ReadAwsCredentialsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read failed"));
  absl::StatusOr<std::vector<AwsCredential>> credentials = ParseAwsCredentials(text.str());
  if (!credentials.ok()) {
    return absl::Status(credentials.status().code(),
                        absl::StrCat(path, ": ", credentials.status().message()));
  }
  return credentials;
}

SigV4Verifier::SigV4Verifier(const std::vector<AwsCredential>& credentials, std::string region,
                             Clock& clock)
    : region_(std::move(region)), clock_(clock) {
  for (const AwsCredential& c : credentials) {
    secrets_[c.access_key_id] = Secret{c.secret_access_key, c.principal};
  }
}

absl::StatusOr<std::string> SigV4Verifier::Verify(const HttpRequest& request,
                                                  const SigV4Authorization& authorization,
                                                  absl::string_view service) const {
  auto secret = secrets_.find(authorization.access_key_id);
  if (secret == secrets_.end() || request.HasHeader("x-amz-security-token")) {
    return absl::UnauthenticatedError("The security token included in the request is invalid.");
  }
  absl::StatusOr<absl::Time> time = RequestTime(request);
  if (!time.ok()) return time.status();
  const std::string timestamp = SigV4Timestamp(*time);
  const absl::string_view date = absl::string_view(timestamp).substr(0, 8);
  if (authorization.date != date) {
    return absl::PermissionDeniedError(absl::StrCat(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '",
        authorization.date, "' != '", date, "', from '", timestamp, "'."));
  }
  if (authorization.region != region_) {
    return absl::PermissionDeniedError(absl::StrCat(
        "Credential should be scoped to a valid region, not '", authorization.region, "'. "));
  }
  if (authorization.service != service) {
    return absl::PermissionDeniedError(
        absl::StrCat("Credential should be scoped to correct service: '", service, "'. "));
  }
  bool host_signed = false;
  for (const std::string& h : authorization.signed_headers) host_signed |= h == "host";
  if (!host_signed) {
    return absl::PermissionDeniedError(
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const absl::Time now = clock_.Now();
  if (*time < now - kMaxClockSkew) {
    return absl::PermissionDeniedError(absl::StrCat(
        "Signature expired: ", timestamp, " is now earlier than ",
        SigV4Timestamp(now - kMaxClockSkew), " (", SigV4Timestamp(now), " - 15 min.)"));
  }
  if (*time > now + kMaxClockSkew) {
    return absl::PermissionDeniedError(absl::StrCat(
        "Signature not yet current: ", timestamp, " is still later than ",
        SigV4Timestamp(now + kMaxClockSkew), " (", SigV4Timestamp(now), " + 15 min.)"));
  }
  const std::string expected =
      SigV4Signature(secret->second.secret_access_key, timestamp, authorization,
                     SigV4CanonicalRequest(request, authorization.signed_headers));
  if (expected.size() != authorization.signature.size() ||
      CRYPTO_memcmp(expected.data(), authorization.signature.data(), expected.size()) != 0) {
    return absl::PermissionDeniedError(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.");
  }
  return secret->second.principal;
}

}  // namespace tributary::aws
