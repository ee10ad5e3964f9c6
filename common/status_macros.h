// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr
// (Debian's Abseil has none of its own).
//
//   RETURN_IF_ERROR(db.Write(batch));
//   ASSIGN_OR_RETURN(Shard shard, FindShard(stream, shard_id));
//
// Use WithContext to add context while keeping the code:
//   RETURN_IF_ERROR(WithContext(Decode(v), "decoding lease ", key));
#ifndef TRIBUTARY_COMMON_STATUS_MACROS_H_
#define TRIBUTARY_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace tributary {

// Returns `status` with `context...` prepended to its message; the code is
// kept. OK stays OK.
template <typename... Args>
absl::Status WithContext(absl::Status status, const Args&... context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context..., ": ", status.message()));
}

}  // namespace tributary

#define TRIBUTARY_STATUS_CONCAT_INNER_(a, b) a##b
#define TRIBUTARY_STATUS_CONCAT_(a, b) TRIBUTARY_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::absl::Status tributary_status_ = (expr);             \
    if (!tributary_status_.ok()) return tributary_status_; \
  } while (false)

#define TRIBUTARY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                     \
  if (!statusor.ok()) return std::move(statusor).status();     \
  lhs = std::move(statusor).value()

#define ASSIGN_OR_RETURN(lhs, rexpr)                                                             \
  TRIBUTARY_ASSIGN_OR_RETURN_IMPL_(TRIBUTARY_STATUS_CONCAT_(tributary_statusor_, __LINE__), lhs, \
                                   rexpr)

#endif  // TRIBUTARY_COMMON_STATUS_MACROS_H_
