#include "etcd/marked_session.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace tributary::etcd {

MarkedSession::~MarkedSession() {
  if (session_ != nullptr) session_->Revoke().IgnoreError();  // its marker goes with it
}

absl::Status MarkedSession::Start() {
  if (session_ != nullptr) session_->Revoke().IgnoreError();
  session_.reset();
  ASSIGN_OR_RETURN(std::unique_ptr<LeaseKeeper> session, LeaseKeeper::Create(client_, ttl_));
  const std::string marker =
      absl::StrCat(prefix_, "writers/", absl::StrFormat("%016x", session->id()));
  // The marker exists from the start of the session, so that its absence means the session ended.
  RETURN_IF_ERROR(WithContext(client_.Put(marker, "", session->id()).status(), "starting ", what_,
                              " at ", marker));
  session->StartRenewing();
  session_ = std::move(session);
  marker_key_ = marker;
  return absl::OkStatus();
}

absl::StatusOr<TxnResult> MarkedSession::Commit(const Txn& txn) {
  if (session_ == nullptr || session_->lost()) RETURN_IF_ERROR(Start());
  absl::StatusOr<TxnResult> result =
      client_.Commit(txn, marker_key_, /*write_id=*/nullptr, session_->id());
  if (absl::IsNotFound(result.status())) {
    // The session lease is gone (etcd refuses a put on it): nothing was applied. Once more.
    RETURN_IF_ERROR(Start());
    result = client_.Commit(txn, marker_key_, /*write_id=*/nullptr, session_->id());
  }
  return result;
}

absl::Status MarkedSession::CheckCompareFailure(absl::string_view operation,
                                                absl::string_view advice) {
  ASSIGN_OR_RETURN(std::optional<KeyValue> marker, client_.Get(marker_key_));
  if (marker.has_value()) return absl::OkStatus();
  absl::Status lost = absl::UnavailableError(
      absl::StrCat(operation, ": outcome unknown (the session lease of marker ", marker_key_,
                   " expired); ", advice));
  Start().IgnoreError();  // the next write tries again if this failed
  return lost;
}

}  // namespace tributary::etcd
