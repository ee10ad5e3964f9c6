// AwsServer: the AWS front door of one process — the HTTP server, the router and the API
// adapters over this process's libraries (the Kinesis API over its ShardStore; Lambda's REST
// API over a stream tracker's services), built in one call so that `tributary serve` and
// shard_store_server wire it alike:
//
//   ASSIGN_OR_RETURN(auto aws, AwsServer::Start(options, node->store()));
//   LOG(INFO) << "AWS front door on port " << aws->port();
//
// Thread-safe. `store` (and `tracker`, `streams` when given) must outlive the server; destroy
// (or Shutdown) the server first.
#ifndef TRIBUTARY_AWS_AWS_SERVER_H_
#define TRIBUTARY_AWS_AWS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aws/aws_authz.h"
#include "aws/dynamodb_handler.h"
#include "aws/dynamodb_streams_handler.h"
#include "aws/http_server.h"
#include "aws/kinesis_handler.h"
#include "aws/lambda_handler.h"
#include "aws/router.h"
#include "aws/sigv4_verifier.h"
#include "common/clock.h"
#include "shard_store/shard_store.h"
#include "shard_store/streams_service.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/table_store.h"

namespace tributary::aws {

struct AwsServerOptions {
  // host:port (common/host_port.h); port 0 picks a free one.
  std::string listen_address;
  // The ARNs' region and account.
  KinesisApiOptions kinesis;
  // Threads and limits; its listen_address is ignored (listen_address above is used).
  HttpServerOptions http;
  // Who may call (--aws_credentials_file). Empty: any well-formed signature is accepted.
  std::vector<AwsCredential> credentials;
  // Authorization of the verified principals' calls (aws_authz.h; empty: every call allowed)
  // and the audit log (empty: none; "-": standard output): --policy_file, --audit_log.
  std::string policy_file;
  std::string audit_log;
  // The clock signatures' dates are checked against and subscriptions' lifetimes are timed by;
  // nullptr: RealClock::Get().
  Clock* clock = nullptr;
};

class AwsServer {
 public:
  // Starts serving. Errors: as HttpServer::Start (INVALID_ARGUMENT for a bad address,
  // UNAVAILABLE when it cannot be bound); AwsAuthz::Create's (a policy file that cannot be read
  // or parsed, an audit log that cannot be opened).
  // `streams` (the process's gRPC Streams service), when given, serves SubscribeToShard.
  // `tracker` (a client of the stream tracker's services), when given, serves Lambda's REST API
  // (lambda_handler.h) with options.kinesis's region and account; without it Lambda's routes
  // answer 501 saying there is no stream tracker to reach.
  // `tables`, when given, serves the DynamoDB API (dynamodb_handler.h) with options.kinesis's
  // region and account, and the DynamoDB Streams API (dynamodb_streams_handler.h) over its
  // change streams in `store`; without it both target prefixes are unknown services.
  static absl::StatusOr<std::unique_ptr<AwsServer>> Start(
      const AwsServerOptions& options, shard_store::ShardStore& store,
      shard_store::StreamsService* streams = nullptr,
      stream_tracker::StreamTrackerClient* tracker = nullptr,
      tables::TableStore* tables = nullptr);
  ~AwsServer();

  int port() const { return http_->port(); }
  // Stops serving (HttpServer::Shutdown). Idempotent.
  void Shutdown();

 private:
  AwsServer() = default;
  std::unique_ptr<KinesisApi> kinesis_;
  std::unique_ptr<DynamoDbApi> dynamodb_;  // null: no table store
  std::unique_ptr<DynamoDbStreamsApi> dynamodb_streams_;  // null: no table store
  std::unique_ptr<LambdaApi> lambda_;  // after dynamodb_streams_, which it may use
  std::unique_ptr<SigV4Verifier> verifier_;  // null: signatures are not verified
  std::unique_ptr<AwsAuthz> authz_;  // null: no policy and no audit log
  std::unique_ptr<AwsRouter> router_;
  std::unique_ptr<HttpServer> http_;  // last: destroyed first, while the router still exists
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_AWS_SERVER_H_
