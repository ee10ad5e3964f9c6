// Certificates for TLS tests: runs tools/dev_certs.sh (a target listing
// "//tools:dev_certs.sh" in `data`) into a directory and names the files it made.
#ifndef TRIBUTARY_COMMON_TESTING_DEV_CERTS_H_
#define TRIBUTARY_COMMON_TESTING_DEV_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tributary::testing {

struct DevCerts {
  std::string dir;
  std::string ca;          // ca.pem
  std::string server_cert;  // server.pem: localhost, 127.0.0.1, ::1
  std::string server_key;
  // client-NAME.pem / .key of a principal given to MakeDevCerts; its principal is "CN=NAME".
  std::string ClientCert(const std::string& name) const;
  std::string ClientKey(const std::string& name) const;
};

// Runs tools/dev_certs.sh `dir` `principals`... (real time, bounded). Errors: INTERNAL with the
// script's exit status when it fails or does not finish within a minute.
absl::StatusOr<DevCerts> MakeDevCerts(const std::string& dir,
                                      const std::vector<std::string>& principals);

}  // namespace tributary::testing

#endif  // TRIBUTARY_COMMON_TESTING_DEV_CERTS_H_
