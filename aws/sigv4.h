// AWS Signature Version 4: parsing the Authorization header every AWS SDK sends.
//
//   Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/kinesis/aws4_request,
//                  SignedHeaders=content-type;host;x-amz-date;x-amz-target,
//                  Signature=<64 lowercase hex digits>
//
// The front door accepts any well-formed signature (as kinesalite and LocalStack do): it checks
// the form, not the HMAC. Verifying signatures against an --aws_credentials_file (access key id
// → secret) with AWS's errors (UnrecognizedClientException for an unknown key,
// InvalidSignatureException for a wrong signature or a stale X-Amz-Date) is a later step; it
// needs the canonical request (method, path, query, the signed headers, the body's SHA-256),
// which the router has, and this parser's output.
#ifndef TRIBUTARY_AWS_SIGV4_H_
#define TRIBUTARY_AWS_SIGV4_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_SIGV4_H_
