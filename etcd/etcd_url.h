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

// Whether a server still needs its --data_dir when its state is in etcd.
enum class DataDirWithEtcd {
  kExcluded,  // everything lives in etcd: --data_dir and --coordination exclude each other
  kRequired,  // something stays local (e.g. the store's records without --log=nats://)
};

// A server main's --coordination and --data_dir flags, checked together (the one place their
// rules and messages live). Returns the etcd members of `coordination`, or an empty list when
// `coordination` is empty (the state lives in RocksDB under `data_dir`). `state` names what
// lives there, with its verb, for messages: "the lease table lives". Pure; thread-safe.
// Errors: INVALID_ARGUMENT with a message for the operator that names the flags:
//   - `coordination` is not a valid etcd URL ("--coordination=" + ParseEtcdUrl's reason);
//   - `data_dir` given with `coordination` and kExcluded ("... exclude each other ...");
//   - `data_dir` empty, without `coordination` or with kRequired ("--data_dir is required",
//     with kExcluded "... (or --coordination=etcd://...)").
absl::StatusOr<std::vector<std::string>> ParseCoordinationFlags(absl::string_view coordination,
                                                                absl::string_view data_dir,
                                                                absl::string_view state,
                                                                DataDirWithEtcd data_dir_with_etcd);

}  // namespace tributary::etcd

#endif  // TRIBUTARY_ETCD_ETCD_URL_H_
