#include "tools/console/console_handler.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "proto/leasing.pb.h"
#include "rapidjson/document.h"
#include "tools/console/console_assets.h"

namespace tributary::console {
namespace {

aws::HttpResponse Response(int status, absl::string_view content_type, std::string body) {
  aws::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::string(content_type));
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Everything the page loads is its own: no inline script, no other origin.
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  response.body = std::move(body);
  return response;
}

aws::HttpResponse Json(int status, std::string body) {
  return Response(status, "application/json", std::move(body));
}

// A JSON string literal of `text` (quotes, backslashes and control characters escaped).
std::string Quoted(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnimplemented:
      return 501;
    default:
      return 500;
  }
}

// The position a checkpoint move asks for, from the request's JSON body:
//   {"position": "TRIM_HORIZON" | "LATEST" | "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" |
//                "AT_TIMESTAMP", "sequence_number": "N", "timestamp": "RFC 3339"}
// as tribctl's `checkpoints set` flags: AT N resumes at N (processed through N - 1; AT 0 is
// TRIM_HORIZON), AFTER N resumes after N. INVALID_ARGUMENT for anything else.
absl::StatusOr<v1::Checkpoint> CheckpointFromJson(absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("the body must be a JSON object with a \"position\"");
  }
  auto text = [&](const char* name) -> std::optional<std::string> {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  const std::optional<std::string> position = text("position");
  if (!position.has_value()) {
    return absl::InvalidArgumentError(
        "\"position\" is required: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, "
        "AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP");
  }
  v1::Checkpoint checkpoint;
  if (*position == "TRIM_HORIZON") {
    checkpoint.set_type(v1::TRIM_HORIZON_CHECKPOINT);
  } else if (*position == "LATEST") {
    checkpoint.set_type(v1::LATEST_CHECKPOINT);
  } else if (*position == "AT_SEQUENCE_NUMBER" || *position == "AFTER_SEQUENCE_NUMBER") {
    const std::string number = text("sequence_number").value_or("");
    uint64_t n;
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos ||
        !absl::SimpleAtoi(number, &n)) {
      return absl::InvalidArgumentError(absl::StrCat(
          *position, " needs \"sequence_number\": a decimal string, not \"", number, "\""));
    }
    if (*position == "AFTER_SEQUENCE_NUMBER") {
      checkpoint.set_type(v1::SEQUENCE_NUMBER);
      checkpoint.set_sequence_number(absl::StrCat(n));
    } else if (n == 0) {
      checkpoint.set_type(v1::TRIM_HORIZON_CHECKPOINT);
    } else {
      checkpoint.set_type(v1::SEQUENCE_NUMBER);
      checkpoint.set_sequence_number(absl::StrCat(n - 1));
    }
  } else if (*position == "AT_TIMESTAMP") {
    const std::string when = text("timestamp").value_or("");
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, when, &t, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "AT_TIMESTAMP needs \"timestamp\" in RFC 3339, not \"", when, "\": ", error));
    }
    checkpoint.set_type(v1::AT_TIMESTAMP_CHECKPOINT);
    *checkpoint.mutable_timestamp() = ToProtoTimestamp(t);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown \"position\" \"", *position,
        "\": TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP"));
  }
  return checkpoint;
}

std::string CheckpointJson(const v1::Checkpoint& c) {
  switch (c.type()) {
    case v1::SEQUENCE_NUMBER:
      return Quoted(c.sequence_number());
    case v1::TRIM_HORIZON_CHECKPOINT:
      return Quoted("TRIM_HORIZON");
    case v1::LATEST_CHECKPOINT:
      return Quoted("LATEST");
    case v1::AT_TIMESTAMP_CHECKPOINT:
      return Quoted(absl::StrCat(
          "AT_TIMESTAMP ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTimestamp(c.timestamp()),
                                            absl::UTCTimeZone())));
    case v1::SHARD_END:
      return Quoted("SHARD_END");
    default:
      return Quoted("");
  }
}

aws::HttpResponse Error(const absl::Status& status) {
  return Json(HttpStatusOf(status), absl::StrCat("{\"error\":", Quoted(status.ToString()), "}"));
}

}  // namespace

ConsoleHandler::ConsoleHandler(Overview& overview, bool actions_enabled, GrpcAuthzGate* gate)
    : overview_(overview), actions_enabled_(actions_enabled), gate_(gate) {}

aws::HttpResponse ConsoleHandler::Handle(const aws::HttpRequest& request) {
  absl::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (absl::StartsWith(path, "/api/mappings/")) return Action(request, path);
  const Asset* asset = FindAsset(path);
  if (asset == nullptr && path != "/api/overview") {
    return Response(404, "text/plain", "not found: the console is at /\n");
  }
  if (request.method != "GET") {
    aws::HttpResponse response = Response(405, "text/plain", "only GET\n");
    response.headers.emplace_back("Allow", "GET");
    return response;
  }
  if (asset == nullptr) return Json(200, overview_.Json());
  return Response(200, asset->content_type, std::string(asset->body));
}

std::optional<aws::HttpResponse> ConsoleHandler::RefuseAction(const aws::HttpRequest& request) {
  if (request.method != "POST") {
    aws::HttpResponse response = Json(405, R"({"error":"only POST"})");
    response.headers.emplace_back("Allow", "POST");
    return response;
  }
  if (!actions_enabled_) {
    return Json(
        403,
        R"json({"error":"PERMISSION_DENIED: the console is read-only (start the server with --console_actions)"})json");
  }
  if (request.Header("X-Tributary-Console") != "1") {
    return Json(403,
                R"({"error":"PERMISSION_DENIED: actions need the header X-Tributary-Console: 1"})");
  }
  return std::nullopt;
}

aws::HttpResponse ConsoleHandler::MoveCheckpoint(const aws::HttpRequest& request,
                                                 absl::string_view rest) {
  if (std::optional<aws::HttpResponse> refused = RefuseAction(request)) return *refused;
  // rest: "<uuid>/shards/<shard id>"
  const size_t slash = rest.find("/shards/");
  const absl::string_view uuid = rest.substr(0, slash);
  const absl::string_view shard =
      slash == absl::string_view::npos ? absl::string_view() : rest.substr(slash + 8);
  if (uuid.empty() || shard.empty() || absl::StrContains(uuid, '/') ||
      absl::StrContains(shard, '/')) {
    return Json(
        400,
        R"({"error":"INVALID_ARGUMENT: POST /api/mappings/<uuid>/shards/<shard id>/checkpoint"})");
  }
  absl::StatusOr<v1::Checkpoint> checkpoint = CheckpointFromJson(request.body);
  if (!checkpoint.ok()) return Error(checkpoint.status());
  v1::UpdateShardCheckpointRequest move;
  move.mutable_lease_key()->set_event_source_mapping_uuid(std::string(uuid));
  move.mutable_lease_key()->set_shard_id(std::string(shard));
  *move.mutable_checkpoint() = *std::move(checkpoint);
  move.set_requested_by(absl::StrCat(
      request.peer_subject.empty() ? "an unauthenticated operator" : request.peer_subject,
      " (console)"));
  constexpr char kMethod[] = "/tributary.v1.ShardCheckpoints/UpdateShardCheckpoint";
  if (gate_ != nullptr) {
    absl::Status allowed = gate_->AuthorizeOnBehalf(request.peer_subject, kMethod, move);
    if (!allowed.ok()) return Error(allowed);
  }
  absl::StatusOr<v1::UpdateShardCheckpointResponse> moved = overview_.MoveCheckpoint(move);
  if (gate_ != nullptr) {
    gate_->AuditOnBehalf(request.peer_subject, kMethod, move, moved.status().code());
  }
  if (!moved.ok()) return Error(moved.status());
  return Json(200, absl::StrCat("{\"ok\":true,\"previous_checkpoint\":",
                                CheckpointJson(moved->previous_checkpoint()),
                                ",\"checkpoint\":", CheckpointJson(moved->lease().checkpoint()),
                                ",\"fenced_owner\":", Quoted(moved->previous_lease_owner()),
                                ",\"lease_counter\":", moved->lease().lease_counter(), "}"));
}

aws::HttpResponse ConsoleHandler::Action(const aws::HttpRequest& request, absl::string_view path) {
  absl::string_view rest = absl::StripPrefix(path, "/api/mappings/");
  bool enable;
  if (absl::ConsumeSuffix(&rest, "/checkpoint")) return MoveCheckpoint(request, rest);
  if (absl::ConsumeSuffix(&rest, "/enable")) {
    enable = true;
  } else if (absl::ConsumeSuffix(&rest, "/disable")) {
    enable = false;
  } else {
    return Json(
        404,
        R"({"error":"NOT_FOUND: try /api/mappings/<uuid>/enable, /disable or /shards/<shard>/checkpoint"})");
  }
  if (std::optional<aws::HttpResponse> refused = RefuseAction(request)) return *refused;
  if (rest.empty() || absl::StrContains(rest, '/')) {
    return Json(400, R"({"error":"INVALID_ARGUMENT: a mapping uuid is required"})");
  }
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(std::string(rest));
  update.set_enabled(enable);
  constexpr char kMethod[] = "/tributary.v1.EventSourceMappings/UpdateEventSourceMapping";
  if (gate_ != nullptr) {
    absl::Status allowed = gate_->AuthorizeOnBehalf(request.peer_subject, kMethod, update);
    if (!allowed.ok()) return Error(allowed);
  }
  const absl::Status status = overview_.UpdateMapping(update);
  if (gate_ != nullptr) gate_->AuditOnBehalf(request.peer_subject, kMethod, update, status.code());
  if (!status.ok()) return Error(status);
  return Json(200, R"({"ok":true})");
}

}  // namespace tributary::console
