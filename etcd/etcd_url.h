// The --coordination flag's value: where a service finds the etcd cluster that holds its state in
// cluster mode (issue 19).
//
//   etcd://HOST:PORT[,HOST:PORT...]    e.g. etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379
//
// Each address follows common/host_port.h (a client address: port 1-65535).
#ifndef TRIBUTARY_ETCD_ETCD_URL_H_
#define TRIBUTARY_ETCD_ETCD_URL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary::etcd {

inline constexpr char kEtcdScheme[] = "etcd://";

// Parses `url` as above. Returns the members' addresses in the order given (calls start at the
// first). Pure; thread-safe. Errors: INVALID_ARGUMENT quoting the URL and saying what is wrong:
// another scheme, no address, an empty, bad or repeated address.
absl::StatusOr<std::vector<std::string>> ParseEtcdUrl(absl::string_view url);

}  // namespace tributary::etcd

#endif  // TRIBUTARY_ETCD_ETCD_URL_H_
