// What a running tribctl command works with: its command line, the clients of the services
// (each built on first use, at its endpoint flag), the output streams and format. Built by
// RunTribctl for one command; not thread-safe.
#ifndef TRIBUTARY_TOOLS_TRIBCTL_CONTEXT_H_
#define TRIBUTARY_TOOLS_TRIBCTL_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/replica_channel.h"
#include "common/status_macros.h"
#include "google/protobuf/message.h"
#include "leasing/leasing_client.h"
#include "proto/clock.grpc.pb.h"
#include "proto/poller.grpc.pb.h"
#include "proto/shard_checkpoints.grpc.pb.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/tables_client.h"
#include "tools/tribctl/command_line.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/requests.h"
#include "tools/tribctl/tribctl.h"

namespace tributary::tribctl {

class Context {
 public:
  // `line` (with a command) and `io` must outlive this object.
  Context(const CommandLine& line, const Io& io)
      : command(*line.command),
        flags(line.flags),
        io(io),
        json(line.flags.StringOr("output", "table") != "table"),
        jsonl(line.flags.StringOr("output", "table") == "jsonl"),
        timeout(line.flags.Duration("timeout").value_or(absl::Seconds(10))),
        security(ClientSecurityOf(line.flags)) {}

  // The clients, at --streams-endpoint, --mappings-endpoint (EventSourceMappings and
  // Functions), --leasing-endpoint and --poller-endpoint, secured as the --tls-* flags and
  // --token say.
  shard_store::ShardStoreClient& streams() {
    if (!streams_) {
      streams_ = std::make_unique<shard_store::ShardStoreClient>(
          MakeReplicaChannel(flags.StringOr("streams-endpoint", ""), security), timeout);
    }
    return *streams_;
  }
  stream_tracker::StreamTrackerClient& mappings() {
    if (!mappings_) {
      mappings_ = std::make_unique<stream_tracker::StreamTrackerClient>(
          MakeReplicaChannel(flags.StringOr("mappings-endpoint", ""), security), timeout);
    }
    return *mappings_;
  }
  leasing::LeasingClient& leasing() {
    if (!leasing_) {
      leasing_ = std::make_unique<leasing::LeasingClient>(
          MakeReplicaChannel(flags.StringOr("leasing-endpoint", ""), security), timeout);
    }
    return *leasing_;
  }
  // Tables live with the shard store: tributary.v1.Tables at --streams-endpoint.
  tables::TablesClient& tables() {
    if (!tables_) {
      tables_ = std::make_unique<tables::TablesClient>(
          MakeReplicaChannel(flags.StringOr("streams-endpoint", ""), security), timeout);
    }
    return *tables_;
  }
  v1::Pollers::Stub& pollers() {
    if (!pollers_)
      pollers_ =
          v1::Pollers::NewStub(MakeReplicaChannel(flags.StringOr("poller-endpoint", ""), security));
    return *pollers_;
  }

  // tributary.v1.ShardCheckpoints, served by the stream tracker: at --mappings-endpoint.
  v1::ShardCheckpoints::Stub& checkpoints() {
    if (!checkpoints_) {
      checkpoints_ = v1::ShardCheckpoints::NewStub(
          MakeReplicaChannel(flags.StringOr("mappings-endpoint", ""), security));
    }
    return *checkpoints_;
  }
  // tributary.v1.Clock, served by `tributary serve --clock=manual`: at --endpoint.
  v1::Clock::Stub& clock() {
    if (!clock_) {
      clock_ = v1::Clock::NewStub(MakeReplicaChannel(flags.StringOr("endpoint", ""), security));
    }
    return *clock_;
  }

  // The command's request, built from its flags (requests.h).
  template <typename Request>
  absl::StatusOr<Request> BuildRequest() const {
    return tribctl::BuildRequest<Request>(command, flags);
  }

  // Prints `message` as JSON (on one line with --output=jsonl), or `table` as it is.
  absl::Status Print(const google::protobuf::Message& message, const std::string& table) {
    if (json) {
      ASSIGN_OR_RETURN(std::string text, ToJson(message, /*pretty=*/!jsonl));
      *io.out << text;
    } else {
      *io.out << table;
    }
    return absl::OkStatus();
  }

  const CommandSpec& command;
  const FlagValues& flags;
  const Io& io;
  const bool json;   // --output=json or jsonl
  const bool jsonl;  // --output=jsonl
  const absl::Duration timeout;
  const GrpcClientSecurity security;

 private:
  std::unique_ptr<shard_store::ShardStoreClient> streams_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> mappings_;
  std::unique_ptr<leasing::LeasingClient> leasing_;
  std::unique_ptr<v1::Pollers::Stub> pollers_;
  std::unique_ptr<tables::TablesClient> tables_;
  std::unique_ptr<v1::ShardCheckpoints::Stub> checkpoints_;
  std::unique_ptr<v1::Clock::Stub> clock_;
};

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_CONTEXT_H_
