#include "aws/router.h"

#include <cstdio>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aws/cbor_codec.h"
#include "aws/json_codec.h"
#include "glog/logging.h"

namespace tributary::aws {
namespace {

constexpr char kJson11[] = "application/x-amz-json-1.1";
constexpr char kCbor11[] = "application/x-amz-cbor-1.1";

// The encoding a request asked for, by its Content-Type (parameters ignored); nullopt when it
// is none we speak.
struct Encoding {
  Protocol protocol;
  std::string content_type;  // echoed in the reply
};

std::optional<Encoding> EncodingOf(absl::string_view content_type_header) {
  absl::string_view type = content_type_header;
  if (size_t semicolon = type.find(';'); semicolon != absl::string_view::npos) {
    type = type.substr(0, semicolon);
  }
  type = absl::StripAsciiWhitespace(type);
  const std::string lower = absl::AsciiStrToLower(type);
  if (lower == "application/x-amz-json-1.1" || lower == "application/x-amz-json-1.0") {
    return Encoding{Protocol::kJson, lower};
  }
  if (lower == "application/json") return Encoding{Protocol::kJson, kJson11};
  if (lower == kCbor11) return Encoding{Protocol::kCbor, kCbor11};
  return std::nullopt;
}

// A request id in the shape of AWS's (a random UUID).
std::string RequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buffer;
}

HttpResponse Reply(const Encoding& encoding, int status, const Value& body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", encoding.content_type);
  response.headers.emplace_back("x-amzn-RequestId", RequestId());
  response.body = encoding.protocol == Protocol::kCbor ? WriteCbor(body) : WriteJson(body);
  return response;
}

HttpResponse ErrorReply(const Encoding& encoding, const AwsError& error) {
  HttpResponse response = Reply(encoding, error.http_status, error.Body());
  response.headers.emplace_back("x-amzn-ErrorType", error.type);
  return response;
}

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of `data`.
uint32_t Crc32(absl::string_view data) {
  static const auto* const kTable = [] {
    auto* table = new uint32_t[256];
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    return table;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = kTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// Adds x-amz-crc32 when `api` sends it.
HttpResponse WithCrc32(const AwsApi& api, HttpResponse response) {
  if (api.SendsCrc32()) {
    response.headers.emplace_back("x-amz-crc32", absl::StrCat(Crc32(response.body)));
  }
  return response;
}

// Errors found before we know the body's encoding are answered in JSON 1.1, unless the request
// asked for CBOR.
Encoding ReplyEncoding(const HttpRequest& request) {
  std::optional<Encoding> e = EncodingOf(request.Header("content-type"));
  return e ? *e : Encoding{Protocol::kJson, kJson11};
}

}  // namespace

const char* AwsApi::ThrottlingError(absl::string_view) const { return kLimitExceeded; }

void AwsRouter::AddApi(AwsApi* api) {
  const bool added = apis_.emplace(std::string(api->target_prefix()), api).second;
  CHECK(added) << "two APIs serve the target prefix " << api->target_prefix();
}

void AwsRouter::AddRestApi(RestApi* api) {
  for (const std::string& prefix : api->path_prefixes()) {
    CHECK(prefix.size() >= 2 && prefix.front() == '/' && prefix.back() == '/') << prefix;
    const bool added = rest_apis_.emplace(prefix, api).second;
    CHECK(added) << "two REST APIs serve the path prefix " << prefix;
  }
}

RestApi* AwsRouter::RestApiFor(absl::string_view target) const {
  const absl::string_view path = TargetPath(target);
  for (const auto& [prefix, api] : rest_apis_) {
    if (absl::StartsWith(path, prefix) ||
        path == absl::string_view(prefix).substr(0, prefix.size() - 1)) {
      return api;
    }
  }
  return nullptr;
}

absl::StatusOr<std::string> AwsRouter::Authenticate(const HttpRequest& request,
                                                    absl::string_view signing_name,
                                                    int error_status) const {
  auto fail = [&](const char* type, std::string message) {
    return ToStatus(MakeError(type, std::move(message), error_status));
  };
  if (!request.HasHeader("authorization")) {
    return fail(kMissingAuthenticationToken, "Missing Authentication Token");
  }
  absl::StatusOr<SigV4Authorization> authorization =
      ParseSigV4Authorization(request.Header("authorization"));
  if (!authorization.ok()) {
    return fail(kIncompleteSignature, std::string(authorization.status().message()));
  }
  if (!request.HasHeader("x-amz-date") && !request.HasHeader("date")) {
    return fail(kIncompleteSignature,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header");
  }
  if (verifier_ == nullptr) return std::string();
  absl::StatusOr<std::string> verified = verifier_->Verify(request, *authorization, signing_name);
  if (!verified.ok()) {
    const char* type =
        verified.status().code() == absl::StatusCode::kUnauthenticated   ? kUnrecognizedClient
        : verified.status().code() == absl::StatusCode::kInvalidArgument ? kIncompleteSignature
                                                                         : kInvalidSignature;
    return fail(type, std::string(verified.status().message()));
  }
  return verified;
}

HttpResponse AwsRouter::HandleRest(RestApi& api, const HttpRequest& request) {
  absl::StatusOr<std::string> principal = Authenticate(request, api.signing_name(), 403);
  HttpResponse response;
  if (!principal.ok()) {
    response = api.ErrorResponse(FromStatus(principal.status(), {}));
  } else {
    std::optional<AwsAuthzTarget> authz_target;
    std::optional<AwsError> denied;
    if (authz_ != nullptr) {
      std::optional<RestOperation> operation = api.OperationOf(request);
      if (operation.has_value()) {
        authz_target = authz_->TargetOf(api.signing_name(), "", operation->name, operation->input);
        denied = authz_->Check(*principal, *authz_target, /*http_status=*/403);
      }
    }
    if (denied.has_value()) {
      response = api.ErrorResponse(*denied);
    } else {
      response = api.Handle(request, *principal);
      if (authz_target.has_value()) {
        AwsError error{"", "", response.status};
        for (const auto& [name, value] : response.headers) {
          if (absl::EqualsIgnoreCase(name, "x-amzn-ErrorType")) error.type = value;
        }
        authz_->AuditOutcome(*principal, *authz_target, response.status < 300 ? nullptr : &error);
      }
    }
  }
  response.headers.emplace_back("x-amzn-RequestId", RequestId());
  return response;
}

HttpResponse AwsRouter::Handle(HttpRequest request) {
  if (RestApi* rest = RestApiFor(request.target); rest != nullptr) {
    return HandleRest(*rest, request);
  }
  const Encoding reply_encoding = ReplyEncoding(request);
  auto fail = [&](const char* type, std::string message) {
    return ErrorReply(reply_encoding, MakeError(type, std::move(message)));
  };

  if (request.method != "POST") {
    return fail(kUnknownOperation, absl::StrCat("no operation is served by ", request.method, " ",
                                                request.target, " (AWS RPC calls are POST /)"));
  }
  const absl::string_view target = request.Header("x-amz-target");
  const size_t dot = target.rfind('.');
  if (target.empty() || dot == absl::string_view::npos) {
    return fail(kUnknownOperation, "the X-Amz-Target header must be <service>.<operation>");
  }
  const absl::string_view prefix = target.substr(0, dot);
  const absl::string_view operation = target.substr(dot + 1);
  auto api = apis_.find(prefix);
  if (api == apis_.end()) {
    return fail(kUnknownOperation, absl::StrCat("unknown service ", prefix));
  }

  absl::StatusOr<std::string> principal =
      Authenticate(request, api->second->signing_name(), /*error_status=*/400);
  if (!principal.ok()) {
    return WithCrc32(*api->second, ErrorReply(reply_encoding, FromStatus(principal.status(), {})));
  }
  // Accepted by Authenticate.
  const SigV4Authorization authorization =
      *ParseSigV4Authorization(request.Header("authorization"));

  const std::optional<Encoding> encoding = EncodingOf(request.Header("content-type"));
  if (!encoding) {
    return fail(kSerialization,
                absl::StrCat("unsupported Content-Type '", request.Header("content-type"),
                             "' (expected ", kJson11, " or ", kCbor11, ")"));
  }
  absl::StatusOr<Value> input =
      encoding->protocol == Protocol::kCbor ? ParseCbor(request.body) : ParseJson(request.body);
  if (!input.ok()) return fail(kSerialization, std::string(input.status().message()));
  if (input->type() != Value::Type::kMap) {
    return fail(kSerialization, "the request body must be a structure");
  }

  std::optional<AwsAuthzTarget> authz_target;
  if (authz_ != nullptr) {
    authz_target = authz_->TargetOf(api->second->signing_name(), prefix, operation, *input);
    if (std::optional<AwsError> denied = authz_->Check(*principal, *authz_target, 400)) {
      return WithCrc32(*api->second, ErrorReply(*encoding, *denied));
    }
  }

  const AwsCall call{operation, *input, encoding->protocol, authorization, *principal};
  AwsOutcome outcome = api->second->Call(call);
  if (authz_target.has_value()) {
    authz_->AuditOutcome(*principal, *authz_target, outcome.ok() ? nullptr : &outcome.error());
  }
  if (!outcome.ok()) {
    if (outcome.error().http_status >= 500) {
      LOG(WARNING) << target << ": " << outcome.error().type << ": " << outcome.error().message;
    }
    return WithCrc32(*api->second, ErrorReply(*encoding, outcome.error()));
  }
  if (outcome.stream() != nullptr) {
    HttpResponse response;
    response.headers.emplace_back("Content-Type", "application/vnd.amazon.eventstream");
    response.headers.emplace_back("x-amzn-RequestId", RequestId());
    response.stream = outcome.stream();
    return response;
  }
  return WithCrc32(*api->second, Reply(*encoding, 200, outcome.output()));
}

HttpResponse AwsRouter::BodyTooLarge(const HttpRequest& request, uint64_t limit) {
  if (RestApi* rest = RestApiFor(request.target); rest != nullptr) {
    HttpResponse response = rest->ErrorResponse(
        rest->BodyTooLarge(absl::StrCat("the request body exceeds ", limit, " bytes")));
    response.headers.emplace_back("x-amzn-RequestId", RequestId());
    return response;
  }
  return ErrorReply(
      ReplyEncoding(request),
      MakeError(kInvalidArgument,
                absl::StrCat("the request body exceeds ", limit,
                             " bytes (a PutRecords call carries at most 5 MiB of records)"),
                413));
}

HttpResponse AwsRouter::Overloaded(const HttpRequest& request, int pending_requests,
                                   uint64_t pending_bytes) {
  const std::string message =
      absl::StrCat("Rate exceeded: the server is busy (", pending_requests, " requests with ",
                   pending_bytes, " bytes in progress); retry after a backoff of about 100 ms");
  if (RestApi* rest = RestApiFor(request.target); rest != nullptr) {
    HttpResponse response = rest->ErrorResponse(rest->Throttled(message));
    response.headers.emplace_back("x-amzn-RequestId", RequestId());
    return response;
  }
  const absl::string_view target = request.Header("x-amz-target");
  const size_t dot = target.rfind('.');
  const char* type = kLimitExceeded;
  if (dot != absl::string_view::npos) {
    auto api = apis_.find(target.substr(0, dot));
    if (api != apis_.end()) type = api->second->ThrottlingError(target.substr(dot + 1));
  }
  return ErrorReply(ReplyEncoding(request), MakeError(type, message));
}

}  // namespace tributary::aws
