#include "aws/aws_server.h"

#include <utility>

namespace tributary::aws {

absl::StatusOr<std::unique_ptr<AwsServer>> AwsServer::Start(
    const AwsServerOptions& options, shard_store::ShardStore& store,
    shard_store::StreamsService* streams, stream_tracker::StreamTrackerClient* tracker,
    tables::TableStore* tables) {
  std::unique_ptr<AwsServer> server(new AwsServer());
  Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Get();
  server->kinesis_ = std::make_unique<KinesisApi>(store, clock, options.kinesis, streams);
  if (tables != nullptr) {
    server->dynamodb_ = std::make_unique<DynamoDbApi>(
        *tables, DynamoDbApiOptions{options.kinesis.region, options.kinesis.account_id});
    server->dynamodb_streams_ = std::make_unique<DynamoDbStreamsApi>(
        *tables, store, DynamoDbApiOptions{options.kinesis.region, options.kinesis.account_id});
  }
  // Lambda's mappings may name table streams by their DynamoDB stream ARN.
  server->lambda_ = std::make_unique<LambdaApi>(
      tracker, LambdaApiOptions{options.kinesis.region, options.kinesis.account_id,
                                server->dynamodb_streams_.get()});
  if (!options.credentials.empty()) {
    server->verifier_ =
        std::make_unique<SigV4Verifier>(options.credentials, options.kinesis.region, clock);
  }
  if (!options.policy_file.empty() || !options.audit_log.empty()) {
    AwsAuthzOptions authz;
    authz.policy_file = options.policy_file;
    authz.audit_log = options.audit_log;
    authz.account = AwsAccount{options.kinesis.region, options.kinesis.account_id};
    authz.stream_of_iterator = [&store](absl::string_view iterator) {
      return store.StreamOfIterator(iterator);
    };
    if (DynamoDbStreamsApi* streams_api = server->dynamodb_streams_.get()) {
      authz.table_stream_arn = [streams_api](absl::string_view stream_name) {
        return streams_api->ArnOfStream(stream_name);
      };
    }
    absl::StatusOr<std::unique_ptr<AwsAuthz>> created = AwsAuthz::Create(std::move(authz), clock);
    if (!created.ok()) return created.status();
    server->authz_ = *std::move(created);
  }
  server->router_ = std::make_unique<AwsRouter>(server->verifier_.get(), server->authz_.get());
  server->router_->AddApi(server->kinesis_.get());
  server->router_->AddRestApi(server->lambda_.get());
  if (tables != nullptr) {
    server->router_->AddApi(server->dynamodb_.get());
    server->router_->AddApi(server->dynamodb_streams_.get());
  }
  HttpServerOptions http = options.http;
  http.listen_address = options.listen_address;
  absl::StatusOr<std::unique_ptr<HttpServer>> started = HttpServer::Start(http, *server->router_);
  if (!started.ok()) return started.status();
  server->http_ = std::move(*started);
  return server;
}

AwsServer::~AwsServer() { Shutdown(); }

void AwsServer::Shutdown() {
  if (http_ != nullptr) http_->Shutdown();
}

}  // namespace tributary::aws
