// AWS Signature Version 4: parsing the Authorization header every AWS SDK sends.
//
//   Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/kinesis/aws4_request,
//                  SignedHeaders=content-type;host;x-amz-date;x-amz-target,
//                  Signature=<64 lowercase hex digits>
//
// This file parses that header and computes signatures (the canonical request, the string to
// sign, the derived key), as AWS's "Create a signed AWS API request" documents them for every
// service but S3. Deciding whether a request is allowed (credentials, clock skew, scope) is
// sigv4_verifier.h's job; without --aws_credentials_file the front door only checks the form.
#ifndef TRIBUTARY_AWS_SIGV4_H_
#define TRIBUTARY_AWS_SIGV4_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/http_message.h"

namespace tributary::aws {

struct SigV4Authorization {
  std::string access_key_id;
  std::string date;                         // the credential scope's date, YYYYMMDD
  std::string region;                       // e.g. "us-east-1"
  std::string service;                      // e.g. "kinesis"
  std::vector<std::string> signed_headers;  // lower-case names, in the header's order
  std::string signature;                    // 64 lower-case hex digits
};

// Parses an Authorization header value. The parameters (Credential, SignedHeaders, Signature)
// may come in any order, separated by commas and optional spaces. Errors: INVALID_ARGUMENT
// saying what is missing or malformed — another algorithm than AWS4-HMAC-SHA256, a missing
// parameter, a credential that is not AKID/YYYYMMDD/region/service/aws4_request, an empty
// SignedHeaders, a signature that is not 64 hex digits. Pure; thread-safe.
absl::StatusOr<SigV4Authorization> ParseSigV4Authorization(absl::string_view header);

// The canonical request of `request` over `signed_headers` (lower-case names, in the order the
// Authorization header lists them; canonicalization sorts them):
//   METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n
//   hex(SHA-256(body))
// The URI is the target's path with dot segments removed and every byte but unreserved ones and
// '/' percent-encoded (so a path as sent is encoded a second time, as non-S3 services sign it);
// the query's parameters are decoded, re-encoded and sorted; each header's values are joined with
// ',', trimmed and have runs of spaces collapsed. A signed header the request lacks contributes an
// empty value (the signature then does not match). Pure.
std::string SigV4CanonicalRequest(const HttpRequest& request,
                                  const std::vector<std::string>& signed_headers);

// "YYYYMMDDTHHMMSSZ", the form X-Amz-Date carries and the string to sign uses.
std::string SigV4Timestamp(absl::Time time);

// The signature (64 lower-case hex digits) of `canonical_request` made at `timestamp` (as
// SigV4Timestamp writes it) with `secret_access_key`, scoped to the authorization's date,
// region and service. Pure.
std::string SigV4Signature(absl::string_view secret_access_key, absl::string_view timestamp,
                           const SigV4Authorization& authorization,
                           absl::string_view canonical_request);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_SIGV4_H_
