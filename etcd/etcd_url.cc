#include "etcd/etcd_url.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"

namespace tributary::etcd {

absl::StatusOr<std::vector<std::string>> ParseEtcdUrl(absl::string_view url) {
  auto bad = [url](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": ", why,
                                                   " (expected etcd://HOST:PORT[,HOST:PORT...])"));
  };
  if (!absl::StartsWith(url, kEtcdScheme)) return bad("not an etcd:// URL");
  const absl::string_view list = url.substr(sizeof(kEtcdScheme) - 1);
  if (list.empty()) return bad("no address");
  std::vector<std::string> endpoints;
  std::set<std::string> seen;
  for (absl::string_view address : absl::StrSplit(list, ',')) {
    if (address.empty()) return bad("an empty address in the list");
    absl::StatusOr<HostPort> parsed = ParseHostPort(address, AddressUse::kDial);
    if (!parsed.ok()) return bad(parsed.status().message());
    std::string normalized = parsed->ToString();
    if (!seen.insert(normalized).second) return bad(absl::StrCat(address, " is given twice"));
    endpoints.push_back(std::move(normalized));
  }
  return endpoints;
}

absl::StatusOr<std::vector<std::string>> ParseCoordinationFlags(
    absl::string_view coordination, absl::string_view data_dir, absl::string_view state,
    DataDirWithEtcd data_dir_with_etcd) {
  if (coordination.empty()) {
    if (data_dir.empty()) {
      return absl::InvalidArgumentError(data_dir_with_etcd == DataDirWithEtcd::kExcluded
                                            ? "--data_dir is required (or --coordination=etcd://...)"
                                            : "--data_dir is required");
    }
    return std::vector<std::string>();
  }
  absl::StatusOr<std::vector<std::string>> endpoints = ParseEtcdUrl(coordination);
  if (!endpoints.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--coordination=", endpoints.status().message()));
  }
  if (data_dir_with_etcd == DataDirWithEtcd::kExcluded && !data_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--data_dir and --coordination exclude each other: ", state, " in RocksDB or in etcd"));
  }
  if (data_dir_with_etcd == DataDirWithEtcd::kRequired && data_dir.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_dir is required, also with --coordination: ", state, " there"));
  }
  return endpoints;
}

}  // namespace tributary::etcd
