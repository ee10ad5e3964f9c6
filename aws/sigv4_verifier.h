// Who may call the AWS front door, when `--aws_credentials_file` names them: SigV4 signatures
// verified as AWS verifies them, with AWS's errors.
//
// The credentials file has the AWS CLI's shared-credentials format, so an operator can hand
// Tributary the same file the clients use (~/.aws/credentials):
//
//   [orders-producer]                 # the principal (the profile's name)
//   aws_access_key_id = AKIAORDERS
//   aws_secret_access_key = s3cr3t
//
// Without the flag every well-formed signature is accepted (router.h), as kinesalite and
// LocalStack do.
#ifndef TRIBUTARY_AWS_SIGV4_VERIFIER_H_
#define TRIBUTARY_AWS_SIGV4_VERIFIER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aws/http_message.h"
#include "aws/sigv4.h"
#include "common/clock.h"

namespace tributary::aws {

struct AwsCredential {
  std::string access_key_id;
  std::string secret_access_key;
  std::string principal;  // the profile's name
};

// Parses the shared-credentials format: `[name]` sections with `key = value` lines; blank lines
// and lines starting with '#' or ';' are ignored, as are keys other than aws_access_key_id and
// aws_secret_access_key (aws_session_token, region, ...). Errors: INVALID_ARGUMENT naming the
// line — a line that is neither; a key before any section; a section without both keys; an
// access key id listed twice; no credentials at all. Pure.
absl::StatusOr<std::vector<AwsCredential>> ParseAwsCredentials(absl::string_view text);

// Reads and parses a file. Errors: NOT_FOUND / PERMISSION_DENIED / INTERNAL when it cannot be
// read; as ParseAwsCredentials, prefixed with the path.
absl::StatusOr<std::vector<AwsCredential>> ReadAwsCredentialsFile(const std::string& path);

// Decides whether a signed request may be served. Thread-safe (immutable).
class SigV4Verifier {
 public:
  // How far a request's date may be from the clock, either way (AWS's limit).
  static constexpr absl::Duration kMaxClockSkew = absl::Minutes(15);

  // `region` is the front door's (--aws_region). `clock` must outlive the verifier.
  SigV4Verifier(const std::vector<AwsCredential>& credentials, std::string region, Clock& clock);

  // Verifies `request`, whose Authorization header parsed as `authorization`, for an API that
  // signs as `service` ("kinesis"). Returns the principal. Errors (message = AWS's message):
  //   UNAUTHENTICATED (UnrecognizedClientException): an unknown access key id, or a session
  //     token (X-Amz-Security-Token; Tributary issues none)
  //   INVALID_ARGUMENT (IncompleteSignatureException): X-Amz-Date not in ISO-8601 basic form
  //     (YYYYMMDDTHHMMSSZ), or, without it, a Date header not in RFC 1123 form
  //   PERMISSION_DENIED (InvalidSignatureException): the credential scope's date is not the
  //     request's, its region not `region`, its service not `service`; Host is not signed; the
  //     request's date is more than kMaxClockSkew from the clock; the signature does not match.
  absl::StatusOr<std::string> Verify(const HttpRequest& request,
                                     const SigV4Authorization& authorization,
                                     absl::string_view service) const;

 private:
  struct Secret {
    std::string secret_access_key;
    std::string principal;
  };
  std::map<std::string, Secret, std::less<>> secrets_;  // by access key id
  const std::string region_;
  Clock& clock_;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_SIGV4_VERIFIER_H_
