#include "common/testing/dev_certs.h"

#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "common/testing/test_util.h"

namespace tributary::testing {

std::string DevCerts::ClientCert(const std::string& name) const {
  return absl::StrCat(dir, "/client-", name, ".pem");
}

std::string DevCerts::ClientKey(const std::string& name) const {
  return absl::StrCat(dir, "/client-", name, ".key");
}

absl::StatusOr<DevCerts> MakeDevCerts(const std::string& dir,
                                      const std::vector<std::string>& principals) {
  std::vector<std::string> args = {dir};
  args.insert(args.end(), principals.begin(), principals.end());
  absl::StatusOr<Subprocess> script =
      Subprocess::Start(RunfilePath("tools/dev_certs.sh"), args, dir + ".log");
  if (!script.ok()) return script.status();
  absl::StatusOr<int> status = script->Wait(absl::Minutes(1));
  if (!status.ok()) return absl::InternalError(absl::StrCat("dev_certs.sh: ", status.status().message()));
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(
        absl::StrCat("tools/dev_certs.sh failed (wait status ", *status, "); see ", dir, ".log"));
  }
  DevCerts certs;
  certs.dir = dir;
  certs.ca = dir + "/ca.pem";
  certs.server_cert = dir + "/server.pem";
  certs.server_key = dir + "/server.key";
  return certs;
}

}  // namespace tributary::testing
