#include "poller/invoke/http_invoker.h"

#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "mapping/function_endpoint.h"
#include "tables/stream_ids.h"
#include "rapidjson/document.h"

namespace tributary::poller {
namespace {

using mapping::FunctionEndpoint;

constexpr size_t kMaxQuotedBody = 256;

std::string Excerpt(absl::string_view body) {
  if (body.size() <= kMaxQuotedBody) return std::string(body);
  return absl::StrCat(body.substr(0, kMaxQuotedBody), "...");
}

// "T" or "T: errorType: errorMessage" from Lambda's error shape
// {"errorMessage": "...", "errorType": "...", "stackTrace": [...]}.
std::string FunctionError(const std::string& header, absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return header;
  std::string out = header;
  auto type = doc.FindMember("errorType");
  if (type != doc.MemberEnd() && type->value.IsString()) {
    absl::StrAppend(&out, ": ", type->value.GetString());
  }
  auto message = doc.FindMember("errorMessage");
  if (message != doc.MemberEnd() && message->value.IsString()) {
    absl::StrAppend(&out, ": ", Excerpt(message->value.GetString()));
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::InvokeResponse> HttpFunctionInvoker::Invoke(const std::string& endpoint,
                                                                const v1::InvokeRequest& request,
                                                                absl::Duration timeout) {
  absl::StatusOr<FunctionEndpoint> parsed = mapping::ParseFunctionEndpoint(endpoint);
  if (!parsed.ok()) return parsed.status();
  if (parsed->protocol == FunctionEndpoint::Protocol::kGrpc ||
      parsed->protocol == FunctionEndpoint::Protocol::kGrpcs) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", endpoint, "\" is a gRPC endpoint, not an HTTP one"));
  }
  const HttpPeer peer{parsed->protocol == FunctionEndpoint::Protocol::kHttps, parsed->host,
                      parsed->port};
  const bool table_stream = tables::IsTableStreamName(request.stream_name());
  std::string body;
  if (table_stream) {
    absl::StatusOr<TableStreamSource> source = FindTableStreamSource(tables_, request.stream_name());
    if (!source.ok()) return source.status();
    absl::StatusOr<std::string> event = EncodeLambdaDynamoDbEvent(account_, *source, request);
    if (!event.ok()) return event.status();
    body = *std::move(event);
  } else {
    body = EncodeLambdaKinesisEvent(account_, request);
  }
  const int64_t deadline_ms = absl::ToUnixMillis(clock_.Now() + timeout);
  absl::StatusOr<HttpReply> reply =
      client_.Post(peer, parsed->path, body,
                   {{"Content-Type", "application/json"},
                    {"Lambda-Runtime-Deadline-Ms", absl::StrCat(deadline_ms)}},
                   timeout);
  if (!reply.ok()) return reply.status();
  if (reply->status < 200 || reply->status > 299) {
    const std::string message =
        absl::StrCat("HTTP ", reply->status, " from ", endpoint, ": ", Excerpt(reply->body));
    absl::Status status;
    switch (reply->status) {
      case 429:
        status = absl::ResourceExhaustedError(message);
        break;
      case 502:
      case 503:
      case 504:
        status = absl::UnavailableError(message);
        break;
      default:
        status = absl::UnknownError(message);
    }
    status.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(reply->status)));
    return status;
  }
  if (const std::string* error = reply->Header("X-Amz-Function-Error"); error != nullptr) {
    v1::InvokeResponse response;
    response.set_function_error(FunctionError(error->empty() ? "Unhandled" : *error, reply->body));
    return response;
  }
  return table_stream ? DecodeLambdaDynamoDbResponse(reply->body)
                      : DecodeLambdaResponse(reply->body);
}

absl::StatusOr<v1::InvokeResponse> EndpointFunctionInvoker::Invoke(
    const std::string& endpoint, const v1::InvokeRequest& request, absl::Duration timeout) {
  absl::StatusOr<FunctionEndpoint> parsed = mapping::ParseFunctionEndpoint(endpoint);
  if (!parsed.ok()) return parsed.status();
  if (!allow_.Allows(parsed->host)) {
    return absl::PermissionDeniedError(
        absl::StrCat("function endpoint \"", endpoint, "\": host ", parsed->host,
                     " is not allowed by this poller's --function_endpoint_allow"));
  }
  if (parsed->protocol == FunctionEndpoint::Protocol::kGrpc) {
    return grpc_.Invoke(parsed->HostPort(), request, timeout);
  }
  if (parsed->protocol == FunctionEndpoint::Protocol::kGrpcs) {
    return grpc_.Invoke(absl::StrCat("grpcs://", parsed->HostPort()), request, timeout);
  }
  return http_.Invoke(endpoint, request, timeout);
}

}  // namespace tributary::poller
