#include "tools/console/console_handler.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
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
    default:
      return 500;
  }
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

aws::HttpResponse ConsoleHandler::Action(const aws::HttpRequest& request, absl::string_view path) {
  absl::string_view rest = absl::StripPrefix(path, "/api/mappings/");
  bool enable;
  if (absl::ConsumeSuffix(&rest, "/enable")) {
    enable = true;
  } else if (absl::ConsumeSuffix(&rest, "/disable")) {
    enable = false;
  } else {
    return Json(404, R"({"error":"NOT_FOUND: try /api/mappings/<uuid>/enable or /disable"})");
  }
  if (request.method != "POST") {
    aws::HttpResponse response = Json(405, R"({"error":"only POST"})");
    response.headers.emplace_back("Allow", "POST");
    return response;
  }
  if (!actions_enabled_) {
    return Json(403,
                R"json({"error":"PERMISSION_DENIED: the console is read-only (start the server with --console_actions)"})json");
  }
  if (request.Header("X-Tributary-Console") != "1") {
    return Json(403, R"({"error":"PERMISSION_DENIED: actions need the header X-Tributary-Console: 1"})");
  }
  if (rest.empty() || absl::StrContains(rest, '/')) {
    return Json(400, R"({"error":"INVALID_ARGUMENT: a mapping uuid is required"})");
  }
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(std::string(rest));
  update.set_enabled(enable);
  constexpr char kMethod[] = "/tributary.v1.EventSourceMappings/UpdateEventSourceMapping";
  if (gate_ != nullptr) {
    absl::Status allowed = gate_->AuthorizeOnBehalf(request.peer_subject, kMethod, update);
    if (!allowed.ok()) {
      return Json(403, absl::StrCat("{\"error\":", Quoted(allowed.ToString()), "}"));
    }
  }
  const absl::Status status = overview_.UpdateMapping(update);
  if (gate_ != nullptr) gate_->AuditOnBehalf(request.peer_subject, kMethod, update, status.code());
  if (!status.ok()) {
    return Json(HttpStatusOf(status), absl::StrCat("{\"error\":", Quoted(status.ToString()), "}"));
  }
  return Json(200, R"({"ok":true})");
}

}  // namespace tributary::console
