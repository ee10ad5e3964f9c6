// The one version constant: what `--version` prints and what tributary_build_info{version=...}
// exports. Bumped by hand on a release.
#ifndef TRIBUTARY_COMMON_VERSION_H_
#define TRIBUTARY_COMMON_VERSION_H_

namespace tributary {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_VERSION_H_
