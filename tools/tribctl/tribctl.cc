// Dispatch: each command is a function from the parsed command line and a
// Context (clients built on first use, output format, streams) to a Status.
// Requests come from requests.h, output from format.h; this file only calls
// the services, follows pages and chooses between table and JSON.
#include "tools/tribctl/tribctl.h"

#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/status_macros.h"
#include "leasing/leasing_client.h"
#include "proto/poller.grpc.pb.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tools/tribctl/command_line.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/requests.h"

namespace tributary::tribctl {
namespace {

// A bound on pages followed by the list commands, against a server that keeps
// answering with a next token.
constexpr int kMaxPages = 100000;

class Context {
 public:
  Context(const CommandLine& line, const Io& io)
      : flags(line.flags),
        io(io),
        json(line.flags.StringOr("output", "table") == "json"),
        timeout(line.flags.Duration("timeout").value_or(absl::Seconds(10))) {}

  shard_store::ShardStoreClient& streams() {
    if (!streams_) {
      streams_ = std::make_unique<shard_store::ShardStoreClient>(
          MakeChannel(flags.StringOr("streams-endpoint", "")), timeout);
    }
    return *streams_;
  }
  stream_tracker::StreamTrackerClient& mappings() {
    if (!mappings_) {
      mappings_ = std::make_unique<stream_tracker::StreamTrackerClient>(
          MakeChannel(flags.StringOr("mappings-endpoint", "")), timeout);
    }
    return *mappings_;
  }
  leasing::LeasingClient& leasing() {
    if (!leasing_) {
      leasing_ = std::make_unique<leasing::LeasingClient>(
          MakeChannel(flags.StringOr("leasing-endpoint", "")), timeout);
    }
    return *leasing_;
  }
  v1::Pollers::Stub& pollers() {
    if (!pollers_)
      pollers_ = v1::Pollers::NewStub(MakeChannel(flags.StringOr("poller-endpoint", "")));
    return *pollers_;
  }

  // Prints `message` as JSON, or `table` as it is.
  absl::Status Print(const google::protobuf::Message& message, const std::string& table) {
    if (json) {
      ASSIGN_OR_RETURN(std::string text, ToJson(message));
      *io.out << text;
    } else {
      *io.out << table;
    }
    return absl::OkStatus();
  }

  const FlagValues& flags;
  const Io& io;
  const bool json;
  const absl::Duration timeout;

 private:
  std::unique_ptr<shard_store::ShardStoreClient> streams_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> mappings_;
  std::unique_ptr<leasing::LeasingClient> leasing_;
  std::unique_ptr<v1::Pollers::Stub> pollers_;
};

std::string StreamName(Context& c) { return c.flags.StringOr("stream", ""); }

// --- streams -----------------------------------------------------------------

absl::Status StreamsCreate(Context& c) {
  v1::CreateStreamRequest request = BuildCreateStreamRequest(c.flags);
  ASSIGN_OR_RETURN(v1::CreateStreamResponse response, c.streams().CreateStream(request));
  return c.Print(response, absl::StrCat("created stream ", request.stream_name(), " with ",
                                        request.shard_count(), " shard(s)\n"));
}

absl::Status StreamsDelete(Context& c) {
  ASSIGN_OR_RETURN(v1::DeleteStreamResponse response,
                   c.streams().DeleteStream(BuildDeleteStreamRequest(c.flags)));
  return c.Print(response, absl::StrCat("deleted stream ", StreamName(c), "\n"));
}

absl::Status StreamsDescribe(Context& c) {
  ASSIGN_OR_RETURN(v1::DescribeStreamSummaryResponse response,
                   c.streams().DescribeStreamSummary(BuildDescribeStreamSummaryRequest(c.flags)));
  return c.Print(response, StreamSummaryTable(response.stream_description_summary()));
}

absl::Status StreamsList(Context& c) {
  v1::ListStreamsRequest request = BuildListStreamsRequest(c.flags);
  v1::ListStreamsResponse all;
  for (int page = 0; page < kMaxPages; ++page) {
    ASSIGN_OR_RETURN(v1::ListStreamsResponse response, c.streams().ListStreams(request));
    for (const std::string& name : response.stream_names()) all.add_stream_names(name);
    for (const v1::StreamSummary& s : response.stream_summaries()) {
      *all.add_stream_summaries() = s;
    }
    if (!response.has_more_streams() || response.stream_names().empty()) break;
    const int32_t limit = request.limit();
    request.Clear();
    request.set_limit(limit);
    if (!response.next_token().empty()) {
      request.set_next_token(response.next_token());
    } else {
      request.set_exclusive_start_stream_name(
          response.stream_names(response.stream_names_size() - 1));
    }
  }
  return c.Print(all, StreamsTable(all));
}

absl::StatusOr<std::vector<v1::Shard>> ListShardPages(Context& c, v1::ListShardsRequest request) {
  std::vector<v1::Shard> shards;
  for (int page = 0; page < kMaxPages; ++page) {
    ASSIGN_OR_RETURN(v1::ListShardsResponse response, c.streams().ListShards(request));
    for (const v1::Shard& s : response.shards()) shards.push_back(s);
    if (response.next_token().empty() || response.next_token() == request.next_token()) break;
    // Kinesis: a request with next_token names no stream and no filter.
    const int32_t max_results = request.max_results();
    request.Clear();
    request.set_next_token(response.next_token());
    request.set_max_results(max_results);
  }
  return shards;
}

absl::Status StreamsListShards(Context& c) {
  ASSIGN_OR_RETURN(v1::ListShardsRequest request, BuildListShardsRequest(c.flags));
  ASSIGN_OR_RETURN(std::vector<v1::Shard> shards, ListShardPages(c, request));
  v1::ListShardsResponse all;
  for (const v1::Shard& s : shards) *all.add_shards() = s;
  return c.Print(all, ShardsTable(shards));
}

absl::Status StreamsSplit(Context& c) {
  v1::SplitShardRequest request = BuildSplitShardRequest(c.flags);
  if (request.new_starting_hash_key().empty()) {
    v1::ListShardsRequest list;
    list.set_stream_name(request.stream_name());
    ASSIGN_OR_RETURN(std::vector<v1::Shard> shards, ListShardPages(c, list));
    const v1::Shard* target = nullptr;
    for (const v1::Shard& s : shards) {
      if (s.shard_id() == request.shard_to_split()) target = &s;
    }
    if (target == nullptr) {
      return absl::NotFoundError(absl::StrCat("shard ", request.shard_to_split(),
                                              " not found in stream ", request.stream_name()));
    }
    ASSIGN_OR_RETURN(std::string middle, MiddleHashKey(target->hash_key_range()));
    request.set_new_starting_hash_key(middle);
  }
  ASSIGN_OR_RETURN(v1::SplitShardResponse response, c.streams().SplitShard(request));
  return c.Print(response, absl::StrCat("split ", request.shard_to_split(), " at hash key ",
                                        request.new_starting_hash_key(), "\n"));
}

absl::Status StreamsMerge(Context& c) {
  v1::MergeShardsRequest request = BuildMergeShardsRequest(c.flags);
  ASSIGN_OR_RETURN(v1::MergeShardsResponse response, c.streams().MergeShards(request));
  return c.Print(response, absl::StrCat("merged ", request.shard_to_merge(), " and ",
                                        request.adjacent_shard_to_merge(), "\n"));
}

absl::Status StreamsUpdateShardCount(Context& c) {
  ASSIGN_OR_RETURN(v1::UpdateShardCountResponse response,
                   c.streams().UpdateShardCount(BuildUpdateShardCountRequest(c.flags)));
  return c.Print(
      response, KeyValueTable({{"StreamName", response.stream_name()},
                               {"CurrentShardCount", absl::StrCat(response.current_shard_count())},
                               {"TargetShardCount", absl::StrCat(response.target_shard_count())}}));
}

absl::Status StreamsIncreaseRetention(Context& c) {
  v1::IncreaseStreamRetentionPeriodRequest request = BuildIncreaseRetentionRequest(c.flags);
  ASSIGN_OR_RETURN(auto response, c.streams().IncreaseStreamRetentionPeriod(request));
  return c.Print(response, absl::StrCat("retention period of ", request.stream_name(), " is now ",
                                        request.retention_period_hours(), " hours\n"));
}

absl::Status StreamsDecreaseRetention(Context& c) {
  v1::DecreaseStreamRetentionPeriodRequest request = BuildDecreaseRetentionRequest(c.flags);
  ASSIGN_OR_RETURN(auto response, c.streams().DecreaseStreamRetentionPeriod(request));
  return c.Print(response, absl::StrCat("retention period of ", request.stream_name(), " is now ",
                                        request.retention_period_hours(), " hours\n"));
}

// --- records -----------------------------------------------------------------

absl::Status RecordsPutOne(Context& c) {
  ASSIGN_OR_RETURN(v1::PutRecordRequest request, BuildPutRecordRequest(c.flags));
  ASSIGN_OR_RETURN(v1::PutRecordResponse response, c.streams().PutRecord(request));
  return c.Print(response, KeyValueTable({{"ShardId", response.shard_id()},
                                          {"SequenceNumber", response.sequence_number()}}));
}

absl::Status RecordsPut(Context& c) {
  if (c.flags.Has("data")) return RecordsPutOne(c);
  if (c.flags.Has("sequence-number-for-ordering")) {
    return UsageError("--sequence-number-for-ordering needs --data (PutRecord)");
  }
  StdinRecordReader reader(c.flags, c.io.in);
  v1::PutRecordsResponse all;
  int batches = 0;
  int64_t sent = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<v1::PutRecordsRequest> batch, reader.NextBatch());
    if (!batch) break;
    ++batches;
    absl::StatusOr<v1::PutRecordsResponse> response = c.streams().PutRecords(*batch);
    if (!response.ok()) {
      return WithContext(response.status(), "PutRecords call ", batches, " (after ", sent,
                         " records were answered)");
    }
    sent += batch->records_size();
    all.set_failed_record_count(all.failed_record_count() + response->failed_record_count());
    for (const v1::PutRecordsResultEntry& e : response->records()) *all.add_records() = e;
  }
  if (c.json) {
    ASSIGN_OR_RETURN(std::string text, ToJson(all));
    *c.io.out << text;
  } else {
    *c.io.out << "put " << sent << " record(s) in " << batches << " PutRecords call(s), "
              << all.failed_record_count() << " failed\n";
    Table failed({"INDEX", "ERROR_CODE", "ERROR_MESSAGE"});
    for (int i = 0; i < all.records_size(); ++i) {
      if (!all.records(i).error_code().empty()) {
        failed.AddRow(
            {absl::StrCat(i), all.records(i).error_code(), all.records(i).error_message()});
      }
    }
    if (failed.size() > 0) *c.io.out << failed.Render();
  }
  for (const v1::PutRecordsResultEntry& e : all.records()) {
    if (e.error_code().empty()) continue;
    const std::string message = absl::StrCat(all.failed_record_count(), " of ", sent,
                                             " records were not written (first: ", e.error_code(),
                                             ": ", e.error_message(), ")");
    if (e.error_code() == "ProvisionedThroughputExceededException") {
      return absl::ResourceExhaustedError(message);
    }
    return absl::InternalError(message);
  }
  return absl::OkStatus();
}

absl::Status RecordsGetOnce(Context& c) {
  ASSIGN_OR_RETURN(v1::GetShardIteratorRequest iterator_request,
                   BuildGetShardIteratorRequest(c.flags));
  const std::optional<int64_t> max_records = c.flags.Int("max-records");
  ASSIGN_OR_RETURN(v1::GetShardIteratorResponse iterator,
                   c.streams().GetShardIterator(iterator_request));
  v1::GetRecordsResponse all;
  std::string next = iterator.shard_iterator();
  std::vector<v1::Record> records;
  while (!next.empty() && (!max_records || static_cast<int64_t>(records.size()) < *max_records)) {
    if (c.io.interrupt != nullptr && c.io.interrupt->triggered()) break;
    v1::GetRecordsRequest request;
    request.set_shard_iterator(next);
    int64_t limit = c.flags.Int("limit").value_or(0);
    if (max_records) {
      const int64_t remaining = *max_records - static_cast<int64_t>(records.size());
      if (limit == 0 || limit > remaining) limit = remaining;
    }
    request.set_limit(static_cast<int32_t>(limit));
    ASSIGN_OR_RETURN(v1::GetRecordsResponse page, c.streams().GetRecords(request));
    for (const v1::Record& r : page.records()) records.push_back(r);
    next = page.next_shard_iterator();
    all.set_next_shard_iterator(next);
    all.set_millis_behind_latest(page.millis_behind_latest());
    *all.mutable_child_shards() = page.child_shards();
    if (page.records().empty()) break;  // caught up
  }
  if (max_records && static_cast<int64_t>(records.size()) > *max_records) {
    records.resize(*max_records);
  }
  for (const v1::Record& r : records) *all.add_records() = r;
  std::string table = RecordsTable(records);
  if (all.child_shards_size() > 0) {
    std::vector<std::string> children;
    for (const v1::ChildShard& child : all.child_shards()) children.push_back(child.shard_id());
    absl::StrAppend(
        &table, "(end of the closed shard; child shards: ", absl::StrJoin(children, ", "), ")\n");
  }
  return c.Print(all, table);
}

absl::Status RecordsFollow(Context& c) {
  ASSIGN_OR_RETURN(v1::SubscribeToShardRequest request, BuildSubscribeToShardRequest(c.flags));
  const std::optional<int64_t> max_records = c.flags.Int("max-records");
  const std::string shard_id = request.shard_id();
  if (!c.json)
    *c.io.out << "SHARD_ID  SEQUENCE_NUMBER  PARTITION_KEY  ARRIVAL  DATA\n" << std::flush;
  int64_t printed = 0;
  bool done = false;
  while (!done) {
    std::unique_ptr<shard_store::ShardSubscription> subscription =
        c.streams().SubscribeToShard(request);
    shard_store::ShardSubscription* raw = subscription.get();
    // Clears the hook before `subscription` is destroyed, on every way out.
    struct HookGuard {
      Interrupt* interrupt;
      ~HookGuard() {
        if (interrupt != nullptr) interrupt->SetHook(nullptr);
      }
    } guard{c.io.interrupt};
    if (c.io.interrupt != nullptr) c.io.interrupt->SetHook([raw] { raw->Cancel(); });
    int events = 0;
    std::string continuation;
    absl::Status status;
    while (true) {
      absl::StatusOr<std::optional<v1::SubscribeToShardEvent>> event = raw->Next();
      if (!event.ok()) {
        // CANCELLED after Ctrl-C is the normal way out of --follow.
        if (!(c.io.interrupt != nullptr && c.io.interrupt->triggered())) status = event.status();
        done = true;
        break;
      }
      if (!event->has_value()) {
        // The server ended the stream on its own (a closed shard's end arrives with child
        // shards, handled below): resubscribe after the last record it sent, if any.
        done = events == 0 || continuation.empty();
        break;
      }
      ++events;
      const v1::SubscribeToShardEvent& e = **event;
      if (!e.continuation_sequence_number().empty()) {
        continuation = e.continuation_sequence_number();
      }
      for (const v1::Record& r : e.records()) {
        if (max_records && printed >= *max_records) break;
        if (c.json) {
          ASSIGN_OR_RETURN(std::string line, ToJson(r, /*pretty=*/false));
          *c.io.out << line;
        } else {
          *c.io.out << FollowLine(shard_id, r);
        }
        ++printed;
      }
      *c.io.out << std::flush;
      if (e.child_shards_size() > 0) {
        std::vector<std::string> children;
        for (const v1::ChildShard& child : e.child_shards()) children.push_back(child.shard_id());
        *c.io.err << "end of the closed shard " << shard_id
                  << "; child shards: " << absl::StrJoin(children, ", ") << "\n";
        done = true;
      }
      if (max_records && printed >= *max_records) done = true;
      if (done) break;  // the subscription's destructor cancels the call
    }
    if (!status.ok()) return status;
    if (!done) {
      v1::StartingPosition* position = request.mutable_starting_position();
      position->Clear();
      position->set_type(v1::AFTER_SEQUENCE_NUMBER);
      position->set_sequence_number(continuation);
    }
  }
  return absl::OkStatus();
}

absl::Status RecordsGet(Context& c) {
  if (c.flags.Bool("follow").value_or(false)) return RecordsFollow(c);
  return RecordsGetOnce(c);
}

// --- mappings ----------------------------------------------------------------

absl::Status MappingsCreate(Context& c) {
  ASSIGN_OR_RETURN(v1::CreateEventSourceMappingRequest request, BuildCreateMappingRequest(c.flags));
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration m,
                   c.mappings().CreateEventSourceMapping(request));
  return c.Print(m, MappingTable(m));
}

absl::Status MappingsUpdate(Context& c) {
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration m,
                   c.mappings().UpdateEventSourceMapping(BuildUpdateMappingRequest(c.flags)));
  return c.Print(m, MappingTable(m));
}

absl::Status MappingsDelete(Context& c) {
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration m,
                   c.mappings().DeleteEventSourceMapping(BuildDeleteMappingRequest(c.flags)));
  return c.Print(m, MappingTable(m));
}

absl::Status MappingsGet(Context& c) {
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration m,
                   c.mappings().GetEventSourceMapping(BuildGetMappingRequest(c.flags)));
  return c.Print(m, MappingTable(m));
}

absl::Status MappingsList(Context& c) {
  v1::ListEventSourceMappingsRequest request = BuildListMappingsRequest(c.flags);
  v1::ListEventSourceMappingsResponse all;
  for (int page = 0; page < kMaxPages; ++page) {
    ASSIGN_OR_RETURN(v1::ListEventSourceMappingsResponse response,
                     c.mappings().ListEventSourceMappings(request));
    for (const auto& m : response.event_source_mappings()) *all.add_event_source_mappings() = m;
    if (response.next_marker().empty() || response.next_marker() == request.marker()) break;
    request.set_marker(response.next_marker());
  }
  std::vector<v1::EventSourceMappingConfiguration> list(all.event_source_mappings().begin(),
                                                        all.event_source_mappings().end());
  return c.Print(all, MappingsTable(list));
}

// --- functions (the stream tracker's registry, at --mappings-endpoint) ---------

absl::Status FunctionsCreate(Context& c) {
  ASSIGN_OR_RETURN(v1::FunctionConfiguration f,
                   c.mappings().CreateFunction(BuildCreateFunctionRequest(c.flags)));
  return c.Print(f, FunctionTable(f));
}

absl::Status FunctionsUpdate(Context& c) {
  ASSIGN_OR_RETURN(v1::FunctionConfiguration f,
                   c.mappings().UpdateFunction(BuildUpdateFunctionRequest(c.flags)));
  return c.Print(f, FunctionTable(f));
}

absl::Status FunctionsGet(Context& c) {
  ASSIGN_OR_RETURN(v1::FunctionConfiguration f,
                   c.mappings().GetFunction(BuildGetFunctionRequest(c.flags)));
  return c.Print(f, FunctionTable(f));
}

absl::Status FunctionsList(Context& c) {
  v1::ListFunctionsRequest request = BuildListFunctionsRequest(c.flags);
  v1::ListFunctionsResponse all;
  for (int page = 0; page < kMaxPages; ++page) {
    ASSIGN_OR_RETURN(v1::ListFunctionsResponse response, c.mappings().ListFunctions(request));
    for (const auto& f : response.functions()) *all.add_functions() = f;
    if (response.next_marker().empty() || response.next_marker() == request.marker()) break;
    request.set_marker(response.next_marker());
  }
  std::vector<v1::FunctionConfiguration> list(all.functions().begin(), all.functions().end());
  return c.Print(all, FunctionsTable(list));
}

absl::Status FunctionsDelete(Context& c) {
  v1::DeleteFunctionRequest request = BuildDeleteFunctionRequest(c.flags);
  ASSIGN_OR_RETURN(v1::DeleteFunctionResponse response, c.mappings().DeleteFunction(request));
  return c.Print(response, absl::StrCat("deleted function ", request.function_name(), "\n"));
}

absl::Status FunctionsPutConcurrency(Context& c) {
  v1::PutFunctionConcurrencyRequest request = BuildPutFunctionConcurrencyRequest(c.flags);
  ASSIGN_OR_RETURN(v1::FunctionConcurrency response, c.mappings().PutFunctionConcurrency(request));
  return c.Print(response, ConcurrencyTable(request.function_name(), response));
}

absl::Status FunctionsGetConcurrency(Context& c) {
  v1::GetFunctionConcurrencyRequest request = BuildGetFunctionConcurrencyRequest(c.flags);
  ASSIGN_OR_RETURN(v1::FunctionConcurrency response, c.mappings().GetFunctionConcurrency(request));
  return c.Print(response, ConcurrencyTable(request.function_name(), response));
}

absl::Status FunctionsDeleteConcurrency(Context& c) {
  v1::DeleteFunctionConcurrencyRequest request = BuildDeleteFunctionConcurrencyRequest(c.flags);
  ASSIGN_OR_RETURN(v1::DeleteFunctionConcurrencyResponse response,
                   c.mappings().DeleteFunctionConcurrency(request));
  return c.Print(response, absl::StrCat("removed the reserved concurrency of function ",
                                        request.function_name(), "\n"));
}

// --- leases, pollers, metrics ------------------------------------------------

absl::Status LeasesList(Context& c) {
  v1::ListLeasesRequest request = BuildListLeasesRequest(c.flags);
  v1::ListLeasesResponse all;
  for (int page = 0; page < kMaxPages; ++page) {
    ASSIGN_OR_RETURN(v1::ListLeasesResponse response, c.leasing().ListLeases(request));
    for (const v1::Lease& l : response.leases()) *all.add_leases() = l;
    if (response.next_token().empty() || response.next_token() == request.next_token()) break;
    request.set_next_token(response.next_token());
  }
  std::vector<v1::Lease> list(all.leases().begin(), all.leases().end());
  return c.Print(all, LeasesTable(list));
}

// Leases whose mapping the tracker lost are never collected (the tracker cannot tell a lost
// mapping from one it has not seen yet); this removes them, once the operator has named the
// mapping and the tracker confirms it has no such mapping. Deleting a live mapping's leases
// would restart it from its starting position, so that is refused.
absl::Status LeasesDeleteOrphaned(Context& c) {
  const std::string uuid = c.flags.StringOr("mapping", "");
  v1::GetEventSourceMappingRequest get;
  get.set_uuid(uuid);
  absl::StatusOr<v1::EventSourceMappingConfiguration> mapping =
      c.mappings().GetEventSourceMapping(get);
  if (mapping.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("mapping ", uuid, " exists (", MappingStateName(mapping->state()),
                     "): its leases are not orphaned; `tribctl mappings delete --uuid=", uuid,
                     "` removes them with the mapping"));
  }
  if (mapping.status().code() != absl::StatusCode::kNotFound) return mapping.status();
  v1::DeleteLeasesRequest request;
  request.set_event_source_mapping_uuid(uuid);
  ASSIGN_OR_RETURN(v1::DeleteLeasesResponse response, c.leasing().DeleteLeases(request));
  return c.Print(response, absl::StrCat("deleted ", response.deleted_count(),
                                        " lease(s) of mapping ", uuid, "\n"));
}

absl::Status PollersList(Context& c) {
  ASSIGN_OR_RETURN(v1::ListPollersResponse response,
                   c.leasing().ListPollers(v1::ListPollersRequest()));
  std::vector<v1::Poller> list(response.pollers().begin(), response.pollers().end());
  return c.Print(response, PollersTable(list));
}

absl::Status Metrics(Context& c) {
  ASSIGN_OR_RETURN(v1::GetMetricsResponse response,
                   CallUnary(&c.pollers(), &v1::Pollers::Stub::GetMetrics,
                             BuildGetMetricsRequest(c.flags), c.timeout));
  if (c.flags.Bool("prometheus").value_or(false)) {
    *c.io.out << PrometheusText(response);
    return absl::OkStatus();
  }
  return c.Print(response, MetricsTable(response));
}

using Handler = absl::Status (*)(Context&);

const std::map<std::string, Handler>& Handlers() {
  static const auto* handlers = new std::map<std::string, Handler>{
      {"streams create", &StreamsCreate},
      {"streams delete", &StreamsDelete},
      {"streams describe", &StreamsDescribe},
      {"streams list", &StreamsList},
      {"streams list-shards", &StreamsListShards},
      {"streams split", &StreamsSplit},
      {"streams merge", &StreamsMerge},
      {"streams update-shard-count", &StreamsUpdateShardCount},
      {"streams increase-retention-period", &StreamsIncreaseRetention},
      {"streams decrease-retention-period", &StreamsDecreaseRetention},
      {"records put", &RecordsPut},
      {"records get", &RecordsGet},
      {"mappings create", &MappingsCreate},
      {"mappings update", &MappingsUpdate},
      {"mappings delete", &MappingsDelete},
      {"mappings get", &MappingsGet},
      {"mappings list", &MappingsList},
      {"functions create", &FunctionsCreate},
      {"functions update", &FunctionsUpdate},
      {"functions get", &FunctionsGet},
      {"functions list", &FunctionsList},
      {"functions delete", &FunctionsDelete},
      {"functions put-function-concurrency", &FunctionsPutConcurrency},
      {"functions get-function-concurrency", &FunctionsGetConcurrency},
      {"functions delete-function-concurrency", &FunctionsDeleteConcurrency},
      {"leases list", &LeasesList},
      {"leases delete-orphaned", &LeasesDeleteOrphaned},
      {"pollers list", &PollersList},
      {"metrics", &Metrics},
  };
  return *handlers;
}

void PrintError(const absl::Status& status, std::ostream& err) {
  err << "error: " << absl::StatusCodeToString(status.code());
  if (!status.message().empty()) err << ": " << status.message();
  if (status.code() == absl::StatusCode::kUnimplemented) {
    // gRPC's answer when the endpoint serves other services than the one called.
    err << (status.message().empty() ? ": " : " ")
        << "(the endpoint does not serve this RPC: check --endpoint and --streams-endpoint, "
           "--mappings-endpoint, --leasing-endpoint, --poller-endpoint)";
  }
  err << "\n";
}

}  // namespace

void Interrupt::Trigger() {
  absl::MutexLock lock(&mu_);
  triggered_ = true;
  if (hook_) hook_();
}

bool Interrupt::triggered() {
  absl::MutexLock lock(&mu_);
  return triggered_;
}

void Interrupt::SetHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
  if (triggered_ && hook_) hook_();
}

int RunTribctl(const std::vector<std::string>& args, const Io& io) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(args);
  if (!line.ok()) {
    PrintError(line.status(), *io.err);
    *io.err << "run 'tribctl help' or 'tribctl <command> --help' for usage\n";
    return kExitUsage;
  }
  if (line->help) {
    *io.out << HelpText(line->command, line->help_group);
    return kExitOk;
  }
  auto handler = Handlers().find(line->command->Name());
  if (handler == Handlers().end()) {
    PrintError(absl::InternalError(absl::StrCat("no handler for ", line->command->Name())),
               *io.err);
    return kExitError;
  }
  Context context(*line, io);
  absl::Status status = handler->second(context);
  io.out->flush();
  if (status.ok()) return kExitOk;
  PrintError(status, *io.err);
  if (IsUsageError(status)) {
    *io.err << "run 'tribctl " << line->command->Name() << " --help' for usage\n";
    return kExitUsage;
  }
  return kExitError;
}

}  // namespace tributary::tribctl
