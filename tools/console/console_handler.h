// The web console's HTTP routes, served on the metrics port next to /metrics (the metrics
// server hands every other path to Handle):
//   GET  /  (/index.html), /console.js, /console.css   the page, compiled in (console_assets.h)
//   GET  /api/overview                                  Overview::Json() (application/json)
//   POST /api/mappings/<uuid>/disable  | .../enable     only when `actions_enabled`
//                                                        (--console_actions), else 403
//   POST /api/mappings/<uuid>/shards/<shard>/checkpoint  likewise: moves the shard's checkpoint
//        (ShardCheckpoints.UpdateShardCheckpoint, fenced), body {"position": "TRIM_HORIZON" |
//        "LATEST" | "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" | "AT_TIMESTAMP",
//        "sequence_number": "N", "timestamp": "RFC 3339"} (AT N resumes at N, AFTER N after N,
//        as tribctl checkpoints set); 200 {"ok": true, "previous_checkpoint", "checkpoint",
//        "fenced_owner", "lease_counter"}; requested_by in leasing's AUDIT line is
//        "<certificate subject> (console)"
// Anything else is 404; another method on a GET route is 405.
//
// Actions change state, so they also require the header `X-Tributary-Console: 1`, which a page
// of another origin cannot send without a CORS preflight that this server never allows (a
// cross-site form post cannot set it): 403 without it. Who may act: with a `gate` that holds a
// policy (--policy_file), the action is authorized as the request's peer_subject (the client
// certificate the metrics port verified; empty — nobody in particular, Principal "*" only —
// without one), under the same action and resource as the gRPC call it makes
// (lambda:UpdateEventSourceMapping on the mapping's ARN; tributary:UpdateShardCheckpoint): 403
// {"error":"PERMISSION_DENIED: ..."} when denied; the denial and the done action are audited in
// that principal's name. An action answers 200 {"ok":true} or the tracker's error as {"error":
// "CODE: message"} with 400 (INVALID_ARGUMENT), 403 (PERMISSION_DENIED), 404 (NOT_FOUND), 409
// (FAILED_PRECONDITION), 501 (UNIMPLEMENTED: no ShardCheckpoints service), 503 (UNAVAILABLE) or 500
// (anything else).
//
// Thread-safe. `overview` and `gate` (may be null: no policy, no audit) must outlive this object.
#ifndef TRIBUTARY_TOOLS_CONSOLE_CONSOLE_HANDLER_H_
#define TRIBUTARY_TOOLS_CONSOLE_CONSOLE_HANDLER_H_

#include <optional>

#include "aws/http_message.h"
#include "common/grpc_authz_gate.h"
#include "tools/console/overview.h"

namespace tributary::console {

class ConsoleHandler {
 public:
  ConsoleHandler(Overview& overview, bool actions_enabled, GrpcAuthzGate* gate = nullptr);

  aws::HttpResponse Handle(const aws::HttpRequest& request);

 private:
  aws::HttpResponse Action(const aws::HttpRequest& request, absl::string_view path);
  aws::HttpResponse MoveCheckpoint(const aws::HttpRequest& request, absl::string_view rest);
  // The answer to an action request that is not allowed to act (not a POST, actions off, no
  // X-Tributary-Console header), or nullopt.
  std::optional<aws::HttpResponse> RefuseAction(const aws::HttpRequest& request);

  Overview& overview_;
  const bool actions_enabled_;
  GrpcAuthzGate* const gate_;
};

}  // namespace tributary::console

#endif  // TRIBUTARY_TOOLS_CONSOLE_CONSOLE_HANDLER_H_
