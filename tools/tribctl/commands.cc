// The command table: every tribctl command declared once — its words and help, its flags with
// the request field each sets, the rules its request needs beyond them (requests.h), the RPC it
// calls and how it prints the answer. Commands that follow pages, read stdin or stream records
// have a function of their own below the table's helpers.
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_client.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/reflection.h"
#include "tools/tribctl/command_line.h"
#include "tools/tribctl/completion.h"
#include "tools/tribctl/context.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/redrive.h"
#include "tools/tribctl/requests.h"
#include "tools/tribctl/tables.h"

namespace tributary::tribctl {
namespace {

using shard_store::ShardStoreClient;
using stream_tracker::StreamTrackerClient;

// A bound on pages followed by the list commands, against a server that keeps
// answering with a next token.
constexpr int kMaxPages = 100000;

// Appends every repeated field of `page` to the same field of `all` (a list command prints every
// page merged into one response).
void AppendRepeatedFields(const google::protobuf::Message& page, google::protobuf::Message* all) {
  const google::protobuf::Descriptor* type = page.GetDescriptor();
  const google::protobuf::Reflection* reflection = page.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    if (!field->is_repeated()) continue;
    // A one-field message holding only the repeated field: MergeFrom appends it.
    std::unique_ptr<google::protobuf::Message> only(page.New());
    for (int j = 0; j < reflection->FieldSize(page, field); ++j) {
      switch (field->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
          only->GetReflection()
              ->AddMessage(only.get(), field)
              ->CopyFrom(reflection->GetRepeatedMessage(page, field, j));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
          only->GetReflection()->AddString(only.get(), field,
                                           reflection->GetRepeatedString(page, field, j));
          break;
        default:
          break;  // the list responses repeat only messages and strings
      }
    }
    all->MergeFrom(*only);
  }
}

// Calls `rpc` page by page: after each, `next(page, &request)` prepares the request for the next
// page and says whether there is one. Returns the pages merged (AppendRepeatedFields).
template <typename Client, typename Request, typename Response, typename Next>
absl::StatusOr<Response> AllPages(Context& c, Client& (Context::*client)(),
                                  absl::StatusOr<Response> (Client::*rpc)(const Request&),
                                  Request request, const Next& next) {
  Response all;
  for (int page = 0; page < kMaxPages; ++page) {
    ASSIGN_OR_RETURN(Response response, ((c.*client)().*rpc)(request));
    AppendRepeatedFields(response, &all);
    if (!next(response, &request)) break;
  }
  return all;
}

// Declares one command (see CommandSpec): Command(group, verb, help).Flags({...}), then what it
// does: Calls (one RPC), Pages (an RPC page by page) or Runs (a function of its own).
class Command {
 public:
  Command(std::string group, std::string verb, std::string help) {
    spec.group = std::move(group);
    spec.verb = std::move(verb);
    spec.help = std::move(help);
  }

  Command& Flags(std::vector<FlagSpec> flags) {
    spec.flags = std::move(flags);
    return *this;
  }

  // The rules of the request beyond its flags' fields (requests.h).
  template <typename Request>
  Command& Finish(absl::Status (*finish)(const FlagValues&, Request*)) {
    spec.finish = [finish](const FlagValues& flags, google::protobuf::Message* request) {
      if (request->GetDescriptor() != Request::descriptor()) {
        return absl::InternalError(absl::StrCat("a ", Request::descriptor()->full_name(),
                                                " finish given a ",
                                                request->GetDescriptor()->full_name()));
      }
      return finish(flags, static_cast<Request*>(request));
    };
    return *this;
  }

  // One call of `rpc` on the `client` with the request built from the flags; prints the
  // response, as JSON or as `table(request, response)`.
  template <typename Client, typename Request, typename Response, typename Table>
  Command& Calls(Client& (Context::*client)(),
                 absl::StatusOr<Response> (Client::*rpc)(const Request&), Table table) {
    spec.request = Request::descriptor();
    spec.run = [client, rpc, table](Context& c) -> absl::Status {
      ASSIGN_OR_RETURN(Request request, c.BuildRequest<Request>());
      ASSIGN_OR_RETURN(Response response, ((c.*client)().*rpc)(request));
      return c.Print(response, table(request, response));
    };
    return *this;
  }

  // Every page of `rpc` (AllPages with `next`), printed merged: as JSON or `table(all)`.
  template <typename Client, typename Request, typename Response, typename Next, typename Table>
  Command& Pages(Client& (Context::*client)(),
                 absl::StatusOr<Response> (Client::*rpc)(const Request&), Next next, Table table) {
    spec.request = Request::descriptor();
    spec.run = [client, rpc, next, table](Context& c) -> absl::Status {
      ASSIGN_OR_RETURN(Request request, c.BuildRequest<Request>());
      ASSIGN_OR_RETURN(Response all, AllPages(c, client, rpc, std::move(request), next));
      return c.Print(all, table(all));
    };
    return *this;
  }

  // The request the flags fill, for a command that Runs a function of its own.
  template <typename Request>
  Command& Builds() {
    spec.request = Request::descriptor();
    return *this;
  }
  Command& Runs(absl::Status (*run)(Context&)) {
    spec.run = run;
    return *this;
  }

  CommandSpec spec;
};

// --- How a list's next page is asked for -----------------------------------------------------

// ListStreams: more while has_more_streams; by next_token, else after the last name.
bool NextStreamsPage(const v1::ListStreamsResponse& page, v1::ListStreamsRequest* request) {
  if (!page.has_more_streams() || page.stream_names().empty()) return false;
  const int32_t limit = request->limit();
  request->Clear();
  request->set_limit(limit);
  if (!page.next_token().empty()) {
    request->set_next_token(page.next_token());
  } else {
    request->set_exclusive_start_stream_name(page.stream_names(page.stream_names_size() - 1));
  }
  return true;
}

// ListShards: by next_token; Kinesis: a request with next_token names no stream and no filter.
bool NextShardsPage(const v1::ListShardsResponse& page, v1::ListShardsRequest* request) {
  if (page.next_token().empty() || page.next_token() == request->next_token()) return false;
  const int32_t max_results = request->max_results();
  request->Clear();
  request->set_next_token(page.next_token());
  request->set_max_results(max_results);
  return true;
}

// ListTagsForStream: more while has_more_tags, after the last key.
bool NextTagsPage(const v1::ListTagsForStreamResponse& page,
                  v1::ListTagsForStreamRequest* request) {
  if (!page.has_more_tags() || page.tags().empty()) return false;
  request->set_exclusive_start_tag_key(page.tags(page.tags_size() - 1).key());
  return true;
}

// The other lists: by next_token (or next_marker), the rest of the request repeated; a page loop
// ends on an empty or repeated token.
template <typename Response, typename Request>
bool NextByToken(const Response& page, Request* request) {
  if (page.next_token().empty() || page.next_token() == request->next_token()) return false;
  request->set_next_token(page.next_token());
  return true;
}
template <typename Response, typename Request>
bool NextByMarker(const Response& page, Request* request) {
  if (page.next_marker().empty() || page.next_marker() == request->marker()) return false;
  request->set_marker(page.next_marker());
  return true;
}

template <typename T>
std::vector<T> ToVector(const google::protobuf::RepeatedPtrField<T>& items) {
  return std::vector<T>(items.begin(), items.end());
}

// --- Commands with code of their own ----------------------------------------------------------

// Splits in the middle of the shard's hash-key range unless --new-starting-hash-key is given.
absl::Status StreamsSplit(Context& c) {
  ASSIGN_OR_RETURN(v1::SplitShardRequest request, c.BuildRequest<v1::SplitShardRequest>());
  if (request.new_starting_hash_key().empty()) {
    v1::ListShardsRequest list;
    list.set_stream_name(request.stream_name());
    ASSIGN_OR_RETURN(
        v1::ListShardsResponse shards,
        AllPages(c, &Context::streams, &ShardStoreClient::ListShards, list, NextShardsPage));
    const v1::Shard* target = nullptr;
    for (const v1::Shard& s : shards.shards()) {
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

absl::Status RecordsPut(Context& c) {
  if (c.flags.Has("data")) {
    ASSIGN_OR_RETURN(v1::PutRecordRequest request, c.BuildRequest<v1::PutRecordRequest>());
    ASSIGN_OR_RETURN(v1::PutRecordResponse response, c.streams().PutRecord(request));
    return c.Print(response, KeyValueTable({{"ShardId", response.shard_id()},
                                            {"SequenceNumber", response.sequence_number()}}));
  }
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

// With --output=jsonl the records go to stdout alone; the end of a closed shard is a note.
void ReportChildShards(Context& c, const std::string& shard_id,
                       const v1::GetRecordsResponse& page) {
  std::vector<std::string> children;
  for (const v1::ChildShard& child : page.child_shards()) children.push_back(child.shard_id());
  *c.io.err << "end of the closed shard " << shard_id
            << "; child shards: " << absl::StrJoin(children, ", ") << "\n";
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
  int64_t printed = 0;  // with --output=jsonl
  while (!next.empty() && (!max_records || static_cast<int64_t>(records.size()) < *max_records) &&
         (!max_records || printed < *max_records)) {
    if (c.io.interrupt != nullptr && c.io.interrupt->triggered()) break;
    v1::GetRecordsRequest request;
    request.set_shard_iterator(next);
    int64_t limit = c.flags.Int("limit").value_or(0);
    if (max_records) {
      const int64_t remaining = *max_records - static_cast<int64_t>(records.size()) - printed;
      if (limit == 0 || limit > remaining) limit = remaining;
    }
    request.set_limit(static_cast<int32_t>(limit));
    ASSIGN_OR_RETURN(v1::GetRecordsResponse page, c.streams().GetRecords(request));
    if (c.jsonl) {
      // Streamed: a record per line as each page arrives, never the whole shard in memory.
      for (const v1::Record& r : page.records()) {
        if (max_records && printed >= *max_records) break;
        ASSIGN_OR_RETURN(std::string line, ToJson(r, /*pretty=*/false));
        *c.io.out << line;
        ++printed;
      }
      *c.io.out << std::flush;
      next = page.next_shard_iterator();
      if (page.child_shards_size() > 0) ReportChildShards(c, iterator_request.shard_id(), page);
      if (page.records().empty()) break;  // caught up
      continue;
    }
    for (const v1::Record& r : page.records()) records.push_back(r);
    next = page.next_shard_iterator();
    all.set_next_shard_iterator(next);
    all.set_millis_behind_latest(page.millis_behind_latest());
    *all.mutable_child_shards() = page.child_shards();
    if (page.records().empty()) break;  // caught up
  }
  if (c.jsonl) return absl::OkStatus();
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
  // A subscription that fails UNAVAILABLE after the store answered once (its front-end went
  // away) is made again, after the last record printed, on the next front-end of
  // --streams-endpoint's list: at most this many times in a row without an event.
  constexpr int kMaxResubscribes = 10;
  bool answered = false;
  int unavailable_in_a_row = 0;
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
        const bool interrupted = c.io.interrupt != nullptr && c.io.interrupt->triggered();
        if (!interrupted && answered && absl::IsUnavailable(event.status()) &&
            ++unavailable_in_a_row <= kMaxResubscribes) {
          break;  // resubscribe after the last record printed
        }
        if (!interrupted) status = event.status();
        done = true;
        break;
      }
      answered = true;
      unavailable_in_a_row = 0;
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
    if (!done && !continuation.empty()) {
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

absl::Status Metrics(Context& c) {
  ASSIGN_OR_RETURN(v1::GetMetricsRequest request, c.BuildRequest<v1::GetMetricsRequest>());
  ASSIGN_OR_RETURN(v1::GetMetricsResponse response,
                   CallUnary(&c.pollers(), &v1::Pollers::Stub::GetMetrics, request, c.timeout));
  if (c.flags.Bool("prometheus").value_or(false)) {
    *c.io.out << PrometheusText(response);
    return absl::OkStatus();
  }
  return c.Print(response, MetricsTable(response));
}

// mappings create: a DynamoDB table's stream may be named by its stream ARN (what `tables
// describe` shows as LatestStreamArn); the Tables service names the store stream holding it.
absl::Status MappingsCreate(Context& c) {
  ASSIGN_OR_RETURN(v1::CreateEventSourceMappingRequest request,
                   c.BuildRequest<v1::CreateEventSourceMappingRequest>());
  if (absl::StartsWith(request.stream_name(), "arn:aws:dynamodb:")) {
    v1::DescribeTableStreamRequest describe;
    describe.set_stream_arn(request.stream_name());
    ASSIGN_OR_RETURN(v1::TableStream stream, c.tables().DescribeTableStream(describe));
    request.set_stream_name(stream.stream_name());
  }
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration created,
                   c.mappings().CreateEventSourceMapping(request));
  return c.Print(created, MappingTable(created));
}

// items get: the item as DynamoDB JSON (or the response as protobuf JSON with --output=json).
absl::Status ItemsGet(Context& c) {
  ASSIGN_OR_RETURN(v1::GetItemRequest request, c.BuildRequest<v1::GetItemRequest>());
  ASSIGN_OR_RETURN(v1::GetItemResponse response, c.tables().GetItem(request));
  if (response.item().empty() && !c.json) {
    *c.io.out << "no such item\n";
    return absl::OkStatus();
  }
  return c.Print(response, DynamoDbJson(response.item()) + "\n");
}

// items query / items scan: pages until the end or --max-items items (after the filter), each
// page asking for at most what is left (its `limit`, also under --limit; the limit counts items
// before the filter), so a page never holds more than is printed and the last page's last_evaluated_key is where the next command starts
// (--starting-token). Prints the items and counts (and NextToken when more follow), or the
// pages merged as JSON (last_evaluated_key set when more follow; the token goes to stderr).
template <typename Request, typename Response>
absl::Status ItemPages(Context& c,
                       absl::StatusOr<Response> (tables::TablesClient::*rpc)(const Request&)) {
  ASSIGN_OR_RETURN(Request request, c.BuildRequest<Request>());
  const std::optional<int64_t> page_limit = c.flags.Int("limit");
  const std::optional<int64_t> max_items = c.flags.Int("max-items");
  if (page_limit.has_value() && *page_limit < 1) return UsageError("--limit: at least 1");
  if (max_items.has_value() && *max_items < 1) return UsageError("--max-items: at least 1");
  Response all;
  for (int page = 0; page < kMaxPages; ++page) {
    int64_t limit = page_limit.value_or(std::numeric_limits<int32_t>::max());
    if (max_items.has_value()) limit = std::min<int64_t>(limit, *max_items - all.count());
    request.set_limit(static_cast<int32_t>(limit));
    ASSIGN_OR_RETURN(Response response, (c.tables().*rpc)(request));
    for (const v1::AttributeMap& item : response.items()) *all.add_items() = item;
    all.set_count(all.count() + response.count());
    all.set_scanned_count(all.scanned_count() + response.scanned_count());
    all.clear_last_evaluated_key();
    if (response.last_evaluated_key().empty()) break;
    *all.mutable_last_evaluated_key() = response.last_evaluated_key();
    if (max_items.has_value() && all.count() >= *max_items) break;
    *request.mutable_exclusive_start_key() = response.last_evaluated_key();
  }
  const std::string token =
      all.last_evaluated_key().empty() ? "" : ItemsToken(all.last_evaluated_key());
  if (c.json && !token.empty()) *c.io.err << "NextToken " << token << "\n";
  return c.Print(all, ItemsTable(all.items(), all.count(), all.scanned_count(), token));
}

absl::Status ItemsQuery(Context& c) { return ItemPages(c, &tables::TablesClient::Query); }
absl::Status ItemsScan(Context& c) { return ItemPages(c, &tables::TablesClient::Scan); }

FlagSpec Required(FlagSpec flag) {
  flag.required = true;
  return flag;
}

// The position `checkpoints set` moves to: exactly one of --sequence-number N (start at N),
// --after-sequence-number N, --at-timestamp T, --trim-horizon, --latest.
absl::StatusOr<v1::Checkpoint> CheckpointFromFlags(const FlagValues& flags) {
  const char* kChoices =
      "--sequence-number, --after-sequence-number, --at-timestamp, --trim-horizon or --latest";
  int given = 0;
  for (const char* name :
       {"sequence-number", "after-sequence-number", "at-timestamp", "trim-horizon", "latest"}) {
    if (flags.Has(name) && flags.Bool(name).value_or(true)) ++given;
  }
  if (given != 1) return UsageError(absl::StrCat("give exactly one of ", kChoices));
  v1::Checkpoint checkpoint;
  auto parse = [](const std::string& flag, const std::string& text) -> absl::StatusOr<uint64_t> {
    uint64_t n;
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        !absl::SimpleAtoi(text, &n)) {
      return UsageError(
          absl::StrCat("--", flag, ": not a decimal sequence number: \"", text, "\""));
    }
    return n;
  };
  if (std::optional<std::string> at = flags.String("sequence-number")) {
    // The checkpoint says what is processed: starting AT N is "processed through N - 1".
    ASSIGN_OR_RETURN(uint64_t n, parse("sequence-number", *at));
    if (n == 0) {
      checkpoint.set_type(v1::TRIM_HORIZON_CHECKPOINT);
    } else {
      checkpoint.set_type(v1::SEQUENCE_NUMBER);
      checkpoint.set_sequence_number(absl::StrCat(n - 1));
    }
  } else if (std::optional<std::string> after = flags.String("after-sequence-number")) {
    ASSIGN_OR_RETURN(uint64_t n, parse("after-sequence-number", *after));
    checkpoint.set_type(v1::SEQUENCE_NUMBER);
    checkpoint.set_sequence_number(absl::StrCat(n));
  } else if (std::optional<absl::Time> t = flags.Time("at-timestamp")) {
    checkpoint.set_type(v1::AT_TIMESTAMP_CHECKPOINT);
    *checkpoint.mutable_timestamp() = ToProtoTimestamp(*t);
  } else if (flags.Bool("trim-horizon").value_or(false)) {
    checkpoint.set_type(v1::TRIM_HORIZON_CHECKPOINT);
  } else {
    checkpoint.set_type(v1::LATEST_CHECKPOINT);
  }
  return checkpoint;
}

v1::LeaseKey LeaseKeyFromFlags(const FlagValues& flags) {
  v1::LeaseKey key;
  key.set_event_source_mapping_uuid(flags.StringOr("mapping", ""));
  key.set_shard_id(flags.StringOr("shard-id", ""));
  return key;
}

absl::Status CheckpointsGet(Context& c) {
  v1::GetLeaseRequest request;
  *request.mutable_lease_key() = LeaseKeyFromFlags(c.flags);
  ASSIGN_OR_RETURN(v1::Lease lease,
                   CallUnary(&c.checkpoints(), &v1::ShardCheckpoints::Stub::GetShardCheckpoint,
                             request, c.timeout));
  return c.Print(lease, LeasesTable({lease}));
}

absl::Status CheckpointsSet(Context& c) {
  v1::UpdateShardCheckpointRequest request;
  *request.mutable_lease_key() = LeaseKeyFromFlags(c.flags);
  ASSIGN_OR_RETURN(*request.mutable_checkpoint(), CheckpointFromFlags(c.flags));
  std::string who = c.flags.StringOr("requested-by", "");
  if (who.empty()) {
    const char* user = std::getenv("USER");
    who = absl::StrCat(user != nullptr && *user != '\0' ? user : "unknown user", " (tribctl)");
  }
  request.set_requested_by(who);
  ASSIGN_OR_RETURN(v1::UpdateShardCheckpointResponse response,
                   CallUnary(&c.checkpoints(), &v1::ShardCheckpoints::Stub::UpdateShardCheckpoint,
                             request, c.timeout));
  const std::string owner = response.previous_lease_owner();
  return c.Print(
      response,
      absl::StrCat("moved the checkpoint of shard ", response.lease().shard_id(), " of mapping ",
                   response.lease().event_source_mapping_uuid(), ": ",
                   CheckpointText(response.previous_checkpoint()), " -> ",
                   CheckpointText(response.lease().checkpoint()), " (lease counter ",
                   response.previous_lease_counter(), " -> ", response.lease().lease_counter(),
                   owner.empty() ? "" : absl::StrCat("; ", owner, " was fenced out"),
                   "; the next owner starts from the new position)\n"));
}

absl::Status ClockAdvance(Context& c) {
  v1::AdvanceClockRequest request;
  const absl::Duration by = c.flags.Duration("by").value_or(absl::ZeroDuration());
  if (by < absl::ZeroDuration()) return UsageError("--by: time only moves forward");
  request.mutable_by()->set_seconds(absl::ToInt64Seconds(by));
  request.mutable_by()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(by - absl::Seconds(absl::ToInt64Seconds(by)))));
  ASSIGN_OR_RETURN(v1::ClockReading reading,
                   CallUnary(&c.clock(), &v1::Clock::Stub::AdvanceClock, request, c.timeout));
  return c.Print(reading, absl::StrCat("clock: ", FormatTimestamp(reading.now()), "\n"));
}

absl::Status ClockSet(Context& c) {
  v1::SetClockRequest request;
  *request.mutable_to() = ToProtoTimestamp(*c.flags.Time("to"));
  ASSIGN_OR_RETURN(v1::ClockReading reading,
                   CallUnary(&c.clock(), &v1::Clock::Stub::SetClock, request, c.timeout));
  return c.Print(reading, absl::StrCat("clock: ", FormatTimestamp(reading.now()), "\n"));
}

absl::Status ClockGet(Context& c) {
  ASSIGN_OR_RETURN(v1::ClockReading reading, CallUnary(&c.clock(), &v1::Clock::Stub::GetClock,
                                                       v1::GetClockRequest(), c.timeout));
  return c.Print(reading, absl::StrCat("clock: ", FormatTimestamp(reading.now()), "\n"));
}

// --- The table ---------------------------------------------------------------------------------

// The stream's name: --stream, or --stream-name as the AWS CLI spells it; unbound, for a command
// whose code reads it.
FlagSpec StreamNameFlag(bool required = true) {
  return StringFlag("stream", "the stream's name", required).Alias("stream-name");
}
FlagSpec StreamFlag(bool required = true) { return StreamNameFlag(required).Sets("stream_name"); }
FlagSpec FunctionNameFlag() {
  return StringFlag("function-name", "the function's name or ARN", true).Sets("function_name");
}
FlagSpec UuidFlag() { return StringFlag("uuid", "the mapping's UUID", true).Sets("uuid"); }

// The mapping configuration flags that create and update share.
std::vector<FlagSpec> MappingConfigFlags() {
  return {
      BoolFlag("enabled",
               "start (or keep) the mapping enabled; --no-enabled disables (default true)")
          .Sets("enabled"),
      IntFlag("batch-size", "most records per invocation, 1-10000 (default 100)")
          .Sets("batch_size"),
      IntFlag("maximum-batching-window-in-seconds",
              "how long to gather records before invoking, 0-300 (default 0)")
          .Sets("maximum_batching_window_in_seconds"),
      IntFlag("parallelization-factor", "concurrent batches per shard, 1-10 (default 1)")
          .Sets("parallelization_factor"),
      StringFlag("destination", "on-failure destination stream (update: empty clears it)")
          .Sets("destination_config.on_failure.destination"),
      BoolFlag("include-records",
               "on-failure records also carry the failed records' keys and data, for "
               "`tribctl redrive` (with --destination; update: give --destination again)")
          .Sets("destination_config.on_failure.include_records"),
      StringFlag("on-success-destination",
                 "a stream that gets a record per successful batch (mapping, shard, sequence "
                 "range, batch size, invoke duration; not in Lambda; update: empty clears it, "
                 "--destination is kept)")
          .Sets("destination_config.on_success.destination"),
      IntFlag("maximum-record-age-in-seconds",
              "skip records older than this, -1 (infinite) or 60-604800 (default -1)")
          .Sets("maximum_record_age_in_seconds"),
      BoolFlag("bisect-batch-on-function-error", "split a failing batch in two and retry each half")
          .Sets("bisect_batch_on_function_error"),
      IntFlag("maximum-retry-attempts", "-1 (infinite) or 0-10000 (default -1)")
          .Sets("maximum_retry_attempts"),
      ListFlag("function-response-types",
               "ReportBatchItemFailures to let the function report partial failures "
               "(update: --function-response-types= clears)",
               {"ReportBatchItemFailures"}),
      IntFlag("function-timeout-seconds", "deadline of one invocation, 1-900 (default 30)")
          .Sets("function_timeout_seconds"),
      IntFlag("tumbling-window-in-seconds",
              "aggregate each shard's records in windows of this length with state kept between "
              "invocations, 0-900 (default 0: none; update: 0 turns windows off)")
          .Sets("tumbling_window_in_seconds"),
      BoolFlag("isolate-failing-keys",
               "park the records of a partition key bisection found failing and keep the "
               "shard's other keys flowing (not in Lambda; default false)")
          .Sets("isolate_failing_keys"),
      IntFlag("max-parked-keys",
              "with --isolate-failing-keys: keys parked at most per shard before the shard "
              "blocks, 1-10000 (default 100)")
          .Sets("max_parked_keys"),
      RepeatedFlag("filter-pattern",
                   "a filter pattern (JSON; repeat for up to 5): only matching records are "
                   "delivered (update: replaces every filter; --filter-pattern= alone removes "
                   "filtering)"),
  };
}

std::vector<FlagSpec> Concat(std::vector<FlagSpec> flags, std::vector<FlagSpec> more) {
  for (FlagSpec& f : more) flags.push_back(std::move(f));
  return flags;
}

// The consumer of deregister and describe: by ARN, or by stream and name.
std::vector<FlagSpec> ConsumerFlags() {
  return {
      StreamFlag(/*required=*/false),
      StringFlag("consumer-name", "the consumer's name (with --stream-name)").Sets("consumer_name"),
      StringFlag("consumer-arn", "the consumer's ARN (or --stream-name and --consumer-name)")
          .Sets("consumer_arn")};
}

std::vector<CommandSpec> BuildCommands() {
  std::vector<CommandSpec> c;
  auto add = [&c](Command& command) { c.push_back(std::move(command.spec)); };

  // streams
  add(Command("streams", "create", "Creates a stream (CreateStream).")
          .Flags({StreamFlag(),
                  IntFlag("shard-count", "number of shards (default 1)").Sets("shard_count"),
                  IntFlag("retention-period-hours", "retention (default 24)")
                      .Sets("retention_period_hours")})
          .Finish(&FinishCreateStream)
          .Calls(&Context::streams, &ShardStoreClient::CreateStream,
                 [](const v1::CreateStreamRequest& r, const v1::CreateStreamResponse&) {
                   return absl::StrCat("created stream ", r.stream_name(), " with ",
                                       r.shard_count(), " shard(s)\n");
                 }));
  add(Command("streams", "delete", "Deletes a stream and its records (DeleteStream).")
          .Flags({StreamFlag(), BoolFlag("enforce-consumer-deletion", "delete even with consumers")
                                    .Sets("enforce_consumer_deletion")})
          .Calls(&Context::streams, &ShardStoreClient::DeleteStream,
                 [](const v1::DeleteStreamRequest& r, const v1::DeleteStreamResponse&) {
                   return absl::StrCat("deleted stream ", r.stream_name(), "\n");
                 }));
  add(Command("streams", "describe", "Shows a stream's summary (DescribeStreamSummary).")
          .Flags({StreamFlag()})
          .Calls(&Context::streams, &ShardStoreClient::DescribeStreamSummary,
                 [](const v1::DescribeStreamSummaryRequest&,
                    const v1::DescribeStreamSummaryResponse& response) {
                   return StreamSummaryTable(response.stream_description_summary());
                 }));
  add(Command("streams", "list", "Lists streams (ListStreams, every page).")
          .Flags({IntFlag("limit", "streams per page, 1-10000").Sets("limit"),
                  StringFlag("exclusive-start-stream-name", "list names after this one")
                      .Sets("exclusive_start_stream_name")})
          .Pages(&Context::streams, &ShardStoreClient::ListStreams, NextStreamsPage,
                 [](const v1::ListStreamsResponse& all) { return StreamsTable(all); }));
  add(Command("redrive", "",
              "Puts the failed records that on-failure records carry (mappings with "
              "--include-records) back into a stream, keeping their partition keys, or invokes "
              "a function with them (read from the source stream when not carried); "
              "idempotent on a re-run (tools/tribctl/redrive.h).")
          .Flags({StringFlag("source-stream", "the on-failure destination stream", true),
                  StringFlag("to-stream", "the stream to put the records into"),
                  StringFlag("to-function",
                             "instead of --to-stream: invoke this function (a registered name "
                             "or ARN, or an endpoint) with the failed records, in the event "
                             "the mapping sends"),
                  IntFlag("function-timeout-seconds",
                          "with --to-function: the deadline of one invocation (default the "
                          "function's, or 30)"),
                  StringFlag("records-stream",
                             "with --to-function: the stream the failed records came from, when "
                             "the failure record does not name it (DynamoDB table streams)"),
                  StringFlag("mapping-uuid",
                             "with --to-function: the mapping UUID the invocations carry"),
                  StringFlag("aws-region",
                             "with --to-function over HTTP: the region in the event's ARNs "
                             "(default us-east-1, the tracker's)"),
                  StringFlag("aws-account-id",
                             "with --to-function over HTTP: the account in the event's ARNs "
                             "(default 000000000000)"),
                  StringFlag("from-sequence-number",
                             "only failed records at or after this sequence number"),
                  StringFlag("to-sequence-number",
                             "only failed records at or before this sequence number"),
                  TimeFlag("from-timestamp", "only failed records that arrived at or after"),
                  TimeFlag("to-timestamp", "only failed records that arrived at or before"),
                  BoolFlag("dry-run", "count what would be redriven; put nothing"),
                  StringFlag("state-file",
                             "where the redrive position per shard is kept (default "
                             "tribctl-redrive.<source>.<target>.state)")})
          .Runs(&Redrive));
  add(Command("streams", "list-shards", "Lists a stream's shards (ListShards, every page).")
          .Flags({StreamFlag(),
                  EnumFlag("shard-filter-type", "which shards",
                           {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST",
                            "AT_TIMESTAMP", "FROM_TIMESTAMP"}),
                  StringFlag("shard-filter-shard-id", "with --shard-filter-type=AFTER_SHARD_ID"),
                  TimeFlag("shard-filter-timestamp", "with AT_TIMESTAMP / FROM_TIMESTAMP"),
                  StringFlag("exclusive-start-shard-id", "list shards after this one")
                      .Sets("exclusive_start_shard_id"),
                  IntFlag("max-results", "shards per page, 1-10000").Sets("max_results")})
          .Finish(&FinishListShards)
          .Pages(&Context::streams, &ShardStoreClient::ListShards, NextShardsPage,
                 [](const v1::ListShardsResponse& all) {
                   return ShardsTable(ToVector(all.shards()));
                 }));
  add(Command("streams", "split", "Splits an open shard in two (SplitShard).")
          .Flags({StreamFlag(),
                  StringFlag("shard-to-split", "the shard id", true).Sets("shard_to_split"),
                  StringFlag("new-starting-hash-key",
                             "decimal hash key where the second child starts (default: the "
                             "middle of the shard's range)")
                      .Sets("new_starting_hash_key")})
          .Builds<v1::SplitShardRequest>()
          .Runs(&StreamsSplit));
  add(Command("streams", "merge", "Merges two adjacent open shards (MergeShards).")
          .Flags({StreamFlag(),
                  StringFlag("shard-to-merge", "the shard id", true).Sets("shard_to_merge"),
                  StringFlag("adjacent-shard-to-merge", "the adjacent shard id", true)
                      .Sets("adjacent_shard_to_merge")})
          .Calls(&Context::streams, &ShardStoreClient::MergeShards,
                 [](const v1::MergeShardsRequest& r, const v1::MergeShardsResponse&) {
                   return absl::StrCat("merged ", r.shard_to_merge(), " and ",
                                       r.adjacent_shard_to_merge(), "\n");
                 }));
  add(Command("streams", "update-shard-count",
              "Splits or merges shards uniformly to a target count (UpdateShardCount).")
          .Flags({StreamFlag(),
                  IntFlag("target-shard-count", "the new number of open shards", true)
                      .Sets("target_shard_count"),
                  EnumFlag("scaling-type", "UNIFORM_SCALING (the default and only choice)",
                           {"UNIFORM_SCALING"})})
          .Finish(&FinishUpdateShardCount)
          .Calls(
              &Context::streams, &ShardStoreClient::UpdateShardCount,
              [](const v1::UpdateShardCountRequest&, const v1::UpdateShardCountResponse& response) {
                return KeyValueTable(
                    {{"StreamName", response.stream_name()},
                     {"CurrentShardCount", absl::StrCat(response.current_shard_count())},
                     {"TargetShardCount", absl::StrCat(response.target_shard_count())}});
              }));
  add(Command("streams", "increase-retention-period",
              "Increases the retention period (IncreaseStreamRetentionPeriod).")
          .Flags({StreamFlag(), IntFlag("retention-period-hours", "the new retention", true)
                                    .Sets("retention_period_hours")})
          .Calls(&Context::streams, &ShardStoreClient::IncreaseStreamRetentionPeriod,
                 [](const v1::IncreaseStreamRetentionPeriodRequest& r,
                    const v1::IncreaseStreamRetentionPeriodResponse&) {
                   return absl::StrCat("retention period of ", r.stream_name(), " is now ",
                                       r.retention_period_hours(), " hours\n");
                 }));
  add(Command("streams", "decrease-retention-period",
              "Decreases the retention period (DecreaseStreamRetentionPeriod).")
          .Flags({StreamFlag(), IntFlag("retention-period-hours", "the new retention", true)
                                    .Sets("retention_period_hours")})
          .Calls(&Context::streams, &ShardStoreClient::DecreaseStreamRetentionPeriod,
                 [](const v1::DecreaseStreamRetentionPeriodRequest& r,
                    const v1::DecreaseStreamRetentionPeriodResponse&) {
                   return absl::StrCat("retention period of ", r.stream_name(), " is now ",
                                       r.retention_period_hours(), " hours\n");
                 }));
  add(Command("streams", "tag",
              "Adds tags to a stream, or changes the values of its keys (AddTagsToStream).")
          .Flags({StreamFlag(),
                  ListFlag("tags", "key=value pairs, comma-separated or repeated", {}, true)})
          .Finish(&FinishAddTags)
          .Calls(&Context::streams, &ShardStoreClient::AddTagsToStream,
                 [](const v1::AddTagsToStreamRequest& r, const v1::AddTagsToStreamResponse&) {
                   return absl::StrCat("tagged stream ", r.stream_name(), " with ", r.tags_size(),
                                       " tag(s)\n");
                 }));
  add(Command("streams", "untag",
              "Removes tags from a stream by key; keys it does not have are ignored "
              "(RemoveTagsFromStream).")
          .Flags(
              {StreamFlag(), ListFlag("tag-keys", "the keys, comma-separated or repeated", {}, true)
                                 .Sets("tag_keys")})
          .Calls(&Context::streams, &ShardStoreClient::RemoveTagsFromStream,
                 [](const v1::RemoveTagsFromStreamRequest& r,
                    const v1::RemoveTagsFromStreamResponse&) {
                   return absl::StrCat("removed tag key(s) ", absl::StrJoin(r.tag_keys(), ", "),
                                       " from stream ", r.stream_name(), "\n");
                 }));
  add(Command("streams", "list-tags", "Lists a stream's tags (ListTagsForStream, every page).")
          .Flags({StreamFlag(),
                  StringFlag("exclusive-start-tag-key", "list the keys after this one")
                      .Sets("exclusive_start_tag_key"),
                  IntFlag("limit", "tags per page, 1-50").Sets("limit")})
          .Pages(&Context::streams, &ShardStoreClient::ListTagsForStream, NextTagsPage,
                 [](const v1::ListTagsForStreamResponse& all) {
                   return TagsTable(ToVector(all.tags()));
                 }));

  // consumers (registered consumers of a stream)
  add(Command("consumers", "register", "Registers a consumer of a stream (RegisterStreamConsumer).")
          .Flags({StreamFlag(),
                  StringFlag("consumer-name", "the consumer's name", true).Sets("consumer_name")})
          .Calls(&Context::streams, &ShardStoreClient::RegisterStreamConsumer,
                 [](const v1::RegisterStreamConsumerRequest&,
                    const v1::RegisterStreamConsumerResponse& response) {
                   return ConsumerTable(response.consumer());
                 }));
  add(Command("consumers", "deregister",
              "Deregisters a consumer, named by --consumer-arn or by --stream-name and "
              "--consumer-name (DeregisterStreamConsumer).")
          .Flags(ConsumerFlags())
          .Finish(&FinishDeregisterConsumer)
          .Calls(&Context::streams, &ShardStoreClient::DeregisterStreamConsumer,
                 [](const v1::DeregisterStreamConsumerRequest& r,
                    const v1::DeregisterStreamConsumerResponse&) {
                   return absl::StrCat(
                       "deregistered consumer ",
                       r.consumer_arn().empty()
                           ? absl::StrCat(r.consumer_name(), " of stream ", r.stream_name())
                           : r.consumer_arn(),
                       "\n");
                 }));
  add(Command("consumers", "describe",
              "Shows a consumer, named by --consumer-arn or by --stream-name and --consumer-name "
              "(DescribeStreamConsumer).")
          .Flags(ConsumerFlags())
          .Finish(&FinishDescribeConsumer)
          .Calls(&Context::streams, &ShardStoreClient::DescribeStreamConsumer,
                 [](const v1::DescribeStreamConsumerRequest&,
                    const v1::DescribeStreamConsumerResponse& response) {
                   return ConsumerDescriptionTable(response.consumer_description());
                 }));
  add(Command("consumers", "list",
              "Lists a stream's registered consumers (ListStreamConsumers, every page).")
          .Flags({StreamFlag(),
                  IntFlag("max-results", "consumers per page, 1-10000").Sets("max_results")})
          .Pages(&Context::streams, &ShardStoreClient::ListStreamConsumers,
                 NextByToken<v1::ListStreamConsumersResponse, v1::ListStreamConsumersRequest>,
                 [](const v1::ListStreamConsumersResponse& all) {
                   return ConsumersTable(ToVector(all.consumers()));
                 }));

  // records
  add(Command("records", "put",
              "Writes one record (--data, PutRecord), or stdin lines in PutRecords batches of up "
              "to 500: \"key<TAB>data\" lines, or one data per line with --partition-key. Empty "
              "lines are skipped.")
          .Flags({StreamFlag(),
                  StringFlag("partition-key", "the partition key").Sets("partition_key"),
                  StringFlag("data", "the record's data (text); without it, stdin is read")
                      .Sets("data"),
                  StringFlag("explicit-hash-key", "decimal hash key overriding the partition key's")
                      .Sets("explicit_hash_key"),
                  StringFlag("sequence-number-for-ordering",
                             "with --data: order after this sequence number")
                      .Sets("sequence_number_for_ordering")})
          .Builds<v1::PutRecordRequest>()
          .Finish(&FinishPutRecord)
          .Runs(&RecordsPut));
  add(Command("records", "get",
              "Reads a shard: GetRecords pages until caught up, or with --follow a "
              "SubscribeToShard stream until Ctrl-C, --max-records or the shard's end.")
          .Flags({StreamNameFlag(), StringFlag("shard-id", "the shard id", true),
                  EnumFlag("iterator-type", "where to start (default TRIM_HORIZON)",
                           {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER",
                            "AT_TIMESTAMP"}),
                  StringFlag("starting-sequence-number", "with AT_/AFTER_SEQUENCE_NUMBER"),
                  TimeFlag("timestamp", "with AT_TIMESTAMP"),
                  IntFlag("limit", "records per GetRecords call"),
                  IntFlag("max-records", "stop after this many records"),
                  BoolFlag("follow", "keep reading new records (SubscribeToShard)")})
          .Runs(&RecordsGet));

  // mappings
  add(Command("mappings", "create",
              "Creates an event-source mapping from a stream to a function "
              "(CreateEventSourceMapping).")
          .Flags(Concat(
              {StreamFlag(),
               StringFlag("function-endpoint",
                          "the function: host:port (gRPC) or an http(s):// URL (Lambda's event), "
                          "or give --function-name")
                   .Sets("function_endpoint"),
               StringFlag("function-name",
                          "a registered function (name or ARN; see 'tribctl functions') instead "
                          "of --function-endpoint: the mapping follows its endpoint and timeout")
                   .Sets("function_name"),
               EnumFlag("starting-position", "where a new lease starts reading",
                        {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"}, true),
               TimeFlag("starting-position-timestamp", "with --starting-position=AT_TIMESTAMP")
                   .Sets("starting_position_timestamp")},
              MappingConfigFlags()))
          .Finish(&FinishCreateMapping)
          .Builds<v1::CreateEventSourceMappingRequest>()
          .Runs(&MappingsCreate));
  add(Command("mappings", "update",
              "Changes the given fields of a mapping (UpdateEventSourceMapping).")
          .Flags(
              Concat({UuidFlag(),
                      StringFlag("function-endpoint",
                                 "the function: host:port (gRPC) or an http(s):// URL (the mapping "
                                 "stops following a "
                                 "registered function)")
                          .Sets("function_endpoint"),
                      StringFlag("function-name",
                                 "point the mapping at a registered function (name or ARN)")
                          .Sets("function_name")},
                     MappingConfigFlags()))
          .Finish(&FinishUpdateMapping)
          .Calls(&Context::mappings, &StreamTrackerClient::UpdateEventSourceMapping,
                 [](const v1::UpdateEventSourceMappingRequest&,
                    const v1::EventSourceMappingConfiguration& m) { return MappingTable(m); }));
  add(Command("mappings", "delete", "Deletes a mapping (DeleteEventSourceMapping).")
          .Flags({UuidFlag()})
          .Calls(&Context::mappings, &StreamTrackerClient::DeleteEventSourceMapping,
                 [](const v1::DeleteEventSourceMappingRequest&,
                    const v1::EventSourceMappingConfiguration& m) { return MappingTable(m); }));
  add(Command("mappings", "get", "Shows a mapping (GetEventSourceMapping).")
          .Flags({UuidFlag()})
          .Calls(&Context::mappings, &StreamTrackerClient::GetEventSourceMapping,
                 [](const v1::GetEventSourceMappingRequest&,
                    const v1::EventSourceMappingConfiguration& m) { return MappingTable(m); }));
  add(Command("mappings", "list", "Lists mappings (ListEventSourceMappings, every page).")
          .Flags(
              {StringFlag("stream", "only this stream's mappings")
                   .Alias("stream-name")
                   .Sets("stream_name"),
               StringFlag("function-endpoint", "only mappings to this function address")
                   .Sets("function_endpoint"),
               StringFlag("function-name", "only mappings that follow this function (name or ARN)")
                   .Sets("function_name"),
               IntFlag("max-items", "mappings per page, 1-10000").Sets("max_items")})
          .Pages(
              &Context::mappings, &StreamTrackerClient::ListEventSourceMappings,
              NextByMarker<v1::ListEventSourceMappingsResponse, v1::ListEventSourceMappingsRequest>,
              [](const v1::ListEventSourceMappingsResponse& all) {
                return MappingsTable(ToVector(all.event_source_mappings()));
              }));

  // functions (the stream tracker's registry, at --mappings-endpoint)
  add(Command("functions", "create",
              "Registers a function: a name for a function endpoint, with a timeout "
              "(CreateFunction).")
          .Flags(
              {FunctionNameFlag(),
               StringFlag("function-endpoint",
                          "host:port (gRPC) or an http(s):// URL (Lambda's event, e.g. "
                          "http://127.0.0.1:9000/2015-03-31/functions/function/invocations)",
                          true)
                   .Sets("endpoint"),
               IntFlag("function-timeout-seconds", "deadline of one invocation, 1-900 (default 3)")
                   .Sets("timeout_seconds"),
               IntFlag("reserved-concurrent-executions",
                       "reserved concurrency, 0 or more (default: none)")
                   .Sets("reserved_concurrent_executions")})
          .Calls(&Context::mappings, &StreamTrackerClient::CreateFunction,
                 [](const v1::CreateFunctionRequest&, const v1::FunctionConfiguration& f) {
                   return FunctionTable(f);
                 }));
  add(Command("functions", "update",
              "Changes a function's address or timeout; every mapping that follows it applies "
              "the change from its next batch (UpdateFunction).")
          .Flags({FunctionNameFlag(),
                  StringFlag("function-endpoint", "host:port (gRPC) or an http(s):// URL")
                      .Sets("endpoint"),
                  IntFlag("function-timeout-seconds", "deadline of one invocation, 1-900")
                      .Sets("timeout_seconds")})
          .Calls(&Context::mappings, &StreamTrackerClient::UpdateFunction,
                 [](const v1::UpdateFunctionRequest&, const v1::FunctionConfiguration& f) {
                   return FunctionTable(f);
                 }));
  add(Command("functions", "get", "Shows a function (GetFunction).")
          .Flags({FunctionNameFlag()})
          .Calls(&Context::mappings, &StreamTrackerClient::GetFunction,
                 [](const v1::GetFunctionRequest&, const v1::FunctionConfiguration& f) {
                   return FunctionTable(f);
                 }));
  add(Command("functions", "list", "Lists functions (ListFunctions, every page).")
          .Flags({IntFlag("max-items", "functions per page, 1-10000").Sets("max_items")})
          .Pages(&Context::mappings, &StreamTrackerClient::ListFunctions,
                 NextByMarker<v1::ListFunctionsResponse, v1::ListFunctionsRequest>,
                 [](const v1::ListFunctionsResponse& all) {
                   return FunctionsTable(ToVector(all.functions()));
                 }));
  add(Command("functions", "delete",
              "Deletes a function; refused while mappings follow it (DeleteFunction).")
          .Flags({FunctionNameFlag()})
          .Calls(&Context::mappings, &StreamTrackerClient::DeleteFunction,
                 [](const v1::DeleteFunctionRequest& r, const v1::DeleteFunctionResponse&) {
                   return absl::StrCat("deleted function ", r.function_name(), "\n");
                 }));
  add(Command("functions", "put-function-concurrency",
              "Sets a function's reserved concurrency (PutFunctionConcurrency).")
          .Flags({FunctionNameFlag(),
                  IntFlag("reserved-concurrent-executions", "reserved concurrency, 0 or more", true)
                      .Sets("reserved_concurrent_executions")})
          .Calls(&Context::mappings, &StreamTrackerClient::PutFunctionConcurrency,
                 [](const v1::PutFunctionConcurrencyRequest& r,
                    const v1::FunctionConcurrency& response) {
                   return ConcurrencyTable(r.function_name(), response);
                 }));
  add(Command("functions", "get-function-concurrency",
              "Shows a function's reserved concurrency (GetFunctionConcurrency).")
          .Flags({FunctionNameFlag()})
          .Calls(&Context::mappings, &StreamTrackerClient::GetFunctionConcurrency,
                 [](const v1::GetFunctionConcurrencyRequest& r,
                    const v1::FunctionConcurrency& response) {
                   return ConcurrencyTable(r.function_name(), response);
                 }));
  add(Command("functions", "delete-function-concurrency",
              "Removes a function's reserved concurrency (DeleteFunctionConcurrency).")
          .Flags({FunctionNameFlag()})
          .Calls(&Context::mappings, &StreamTrackerClient::DeleteFunctionConcurrency,
                 [](const v1::DeleteFunctionConcurrencyRequest& r,
                    const v1::DeleteFunctionConcurrencyResponse&) {
                   return absl::StrCat("removed the reserved concurrency of function ",
                                       r.function_name(), "\n");
                 }));

  // tables, items (tributary.v1.Tables, at --streams-endpoint: tables live with the store)
  const FlagSpec table_flag = StringFlag("table-name", "the table's name", true).Sets("table_name");
  const std::vector<std::string> view_types = {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
                                               "NEW_AND_OLD_IMAGES"};
  add(Command("tables", "create",
              "Creates a DynamoDB-style table, with a change stream when --stream-view-type is "
              "given (CreateTable).")
          .Flags({table_flag, StringFlag("partition-key", "NAME:TYPE, TYPE S, N or B", true),
                  StringFlag("sort-key", "NAME:TYPE, TYPE S, N or B"),
                  EnumFlag("billing-mode", "default PAY_PER_REQUEST",
                           {"PAY_PER_REQUEST", "PROVISIONED"}),
                  IntFlag("read-capacity-units", "PROVISIONED only").Sets("read_capacity_units"),
                  IntFlag("write-capacity-units", "PROVISIONED only").Sets("write_capacity_units"),
                  EnumFlag("stream-view-type", "turn the change stream on with this view",
                           view_types)})
          .Finish(&FinishCreateTable)
          .Calls(&Context::tables, &tables::TablesClient::CreateTable,
                 [](const v1::CreateTableRequest&, const v1::TableDescription& t) {
                   return TableDescriptionTable(t);
                 }));
  add(Command("tables", "describe", "Shows a table and its latest stream (DescribeTable).")
          .Flags({table_flag})
          .Calls(&Context::tables, &tables::TablesClient::DescribeTable,
                 [](const v1::DescribeTableRequest&, const v1::TableDescription& t) {
                   return TableDescriptionTable(t);
                 }));
  add(Command("tables", "list", "Lists tables (ListTables, every page).")
          .Flags({IntFlag("limit", "tables per page, 1-100").Sets("limit")})
          .Pages(
              &Context::tables, &tables::TablesClient::ListTables,
              [](const v1::ListTablesResponse& page, v1::ListTablesRequest* request) {
                if (page.last_evaluated_table_name().empty()) return false;
                request->set_exclusive_start_table_name(page.last_evaluated_table_name());
                return true;
              },
              [](const v1::ListTablesResponse& all) { return TableNamesTable(all); }));
  add(Command("tables", "update",
              "Turns the change stream on (a new stream each time) or off, or changes the "
              "billing (UpdateTable).")
          .Flags({table_flag,
                  EnumFlag("stream-view-type", "turn the stream on with this view", view_types),
                  BoolFlag("stream", "--no-stream turns the stream off"),
                  EnumFlag("billing-mode", "PAY_PER_REQUEST or PROVISIONED",
                           {"PAY_PER_REQUEST", "PROVISIONED"}),
                  IntFlag("read-capacity-units", "PROVISIONED").Sets("read_capacity_units"),
                  IntFlag("write-capacity-units", "PROVISIONED").Sets("write_capacity_units")})
          .Finish(&FinishUpdateTable)
          .Calls(&Context::tables, &tables::TablesClient::UpdateTable,
                 [](const v1::UpdateTableRequest&, const v1::TableDescription& t) {
                   return TableDescriptionTable(t);
                 }));
  add(Command("tables", "delete",
              "Deletes a table and its items; its stream stays readable for 24 h (DeleteTable).")
          .Flags({table_flag})
          .Calls(&Context::tables, &tables::TablesClient::DeleteTable,
                 [](const v1::DeleteTableRequest& r, const v1::TableDescription&) {
                   return absl::StrCat("deleted table ", r.table_name(), "\n");
                 }));
  add(Command("tables", "streams",
              "Lists the tables' change streams, ENABLED and DISABLED (ListTableStreams, every "
              "page).")
          .Flags({StringFlag("table-name", "only this table's streams").Sets("table_name"),
                  IntFlag("limit", "streams per page, 1-100").Sets("limit")})
          .Pages(
              &Context::tables, &tables::TablesClient::ListTableStreams,
              [](const v1::ListTableStreamsResponse& page, v1::ListTableStreamsRequest* request) {
                if (page.last_evaluated_stream_arn().empty()) return false;
                request->set_exclusive_start_stream_arn(page.last_evaluated_stream_arn());
                return true;
              },
              [](const v1::ListTableStreamsResponse& all) { return TableStreamsTable(all); }));
  const FlagSpec condition_flag =
      StringFlag("condition-expression", "write only when this holds: \"attribute_not_exists(id)\"")
          .Sets("condition_expression");
  const FlagSpec names_flag =
      StringFlag("names", "the expressions' #names: {\"#s\": \"status\"}");
  const FlagSpec values_flag =
      StringFlag("values", "the expressions' :values: {\":s\": {\"S\": \"shipped\"}}");
  add(Command("items", "put", "Writes an item, given as DynamoDB JSON (PutItem).")
          .Flags({table_flag, StringFlag("item", "the item: {\"id\": {\"S\": \"a\"}, ...}", true),
                  BoolFlag("return-old", "print the item it replaced (ReturnValues ALL_OLD)"),
                  condition_flag, names_flag, values_flag})
          .Finish(&FinishPutItem)
          .Calls(&Context::tables, &tables::TablesClient::PutItem,
                 [](const v1::PutItemRequest&, const v1::PutItemResponse& r) {
                   return r.attributes().empty() ? std::string("ok\n")
                                                 : DynamoDbJson(r.attributes()) + "\n";
                 }));
  add(Command("items", "get", "Reads an item by its key, given as DynamoDB JSON (GetItem).")
          .Flags({table_flag, StringFlag("key", "the key: {\"id\": {\"S\": \"a\"}}", true)})
          .Finish(&FinishGetItem)
          .Builds<v1::GetItemRequest>()
          .Runs(&ItemsGet));
  add(Command("items", "delete", "Deletes an item by its key (DeleteItem).")
          .Flags({table_flag, StringFlag("key", "the key: {\"id\": {\"S\": \"a\"}}", true),
                  BoolFlag("return-old", "print the item it deleted (ReturnValues ALL_OLD)"),
                  condition_flag, names_flag, values_flag})
          .Finish(&FinishDeleteItem)
          .Calls(&Context::tables, &tables::TablesClient::DeleteItem,
                 [](const v1::DeleteItemRequest&, const v1::DeleteItemResponse& r) {
                   return r.attributes().empty() ? std::string("ok\n")
                                                 : DynamoDbJson(r.attributes()) + "\n";
                 }));
  add(Command("items", "update",
              "Updates an item by an update expression; a missing item is created from its key "
              "(UpdateItem).")
          .Flags({table_flag, StringFlag("key", "the key: {\"id\": {\"S\": \"a\"}}", true),
                  StringFlag("update-expression", "\"SET #s = :s ADD clicks :one REMOVE tmp\"",
                             true)
                      .Sets("update_expression"),
                  condition_flag, names_flag, values_flag,
                  EnumFlag("return-values", "what to print, default NONE",
                           {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"})})
          .Finish(&FinishUpdateItem)
          .Calls(&Context::tables, &tables::TablesClient::UpdateItem,
                 [](const v1::UpdateItemRequest&, const v1::UpdateItemResponse& r) {
                   return r.attributes().empty() ? std::string("ok\n")
                                                 : DynamoDbJson(r.attributes()) + "\n";
                 }));
  const FlagSpec capacity_flag =
      EnumFlag("return-consumed-capacity", "print the units consumed, default NONE",
               {"NONE", "TOTAL", "INDEXES"});
  add(Command("items", "batch-write",
              "Puts and deletes items of one or more tables, all or none (BatchWriteItem).")
          .Flags({StringFlag("request-items",
                             "{\"orders\": [{\"PutRequest\": {\"Item\": {...}}}, "
                             "{\"DeleteRequest\": {\"Key\": {...}}}]} or file://PATH",
                             true),
                  capacity_flag})
          .Finish(&FinishBatchWriteItem)
          .Calls(&Context::tables, &tables::TablesClient::BatchWriteItem,
                 [](const v1::BatchWriteItemRequest&, const v1::BatchWriteItemResponse& r) {
                   return absl::StrCat("ok\n", ConsumedCapacityLines(r.consumed_capacity()));
                 }));
  add(Command("items", "batch-get",
              "Reads items of one or more tables by their keys, one snapshot (BatchGetItem).")
          .Flags({StringFlag("request-items",
                             "{\"orders\": {\"Keys\": [{...}], \"ProjectionExpression\": "
                             "\"...\"}} or file://PATH",
                             true),
                  capacity_flag})
          .Finish(&FinishBatchGetItem)
          .Calls(&Context::tables, &tables::TablesClient::BatchGetItem,
                 [](const v1::BatchGetItemRequest&, const v1::BatchGetItemResponse& r) {
                   return BatchGetItemTable(r);
                 }));
  add(Command("items", "transact-write",
              "Puts, updates, deletes and checks items all or none (TransactWriteItems).")
          .Flags({StringFlag("transact-items",
                             "[{\"Put\": {\"TableName\": ..., \"Item\": {...}}}, "
                             "{\"Update\"|\"Delete\"|\"ConditionCheck\": ...}] or file://PATH",
                             true),
                  StringFlag("client-request-token",
                             "idempotency: the same request again within 10 minutes writes "
                             "nothing")
                      .Sets("client_request_token"),
                  capacity_flag})
          .Finish(&FinishTransactWriteItems)
          .Calls(&Context::tables, &tables::TablesClient::TransactWriteItems,
                 [](const v1::TransactWriteItemsRequest&,
                    const v1::TransactWriteItemsResponse& r) {
                   return absl::StrCat("ok\n", ConsumedCapacityLines(r.consumed_capacity()));
                 }));
  const std::vector<FlagSpec> read_flags = {
      StringFlag("index-name", "read this secondary index instead of the table")
          .Sets("index_name"),
      StringFlag("filter", "keep the items for which this holds: \"#s = :s\"")
          .Sets("filter_expression"),
      StringFlag("projection", "the attributes to print: \"id, #s\"")
          .Sets("projection_expression"),
      names_flag,
      values_flag,
      IntFlag("limit", "items read per call (before the filter), default: up to 1 MB"),
      IntFlag("max-items", "stop after this many items and print a NextToken"),
      StringFlag("starting-token", "the NextToken an earlier query or scan printed"),
      BoolFlag("count", "print only the counts (Select COUNT)")};
  std::vector<FlagSpec> query_flags = {
      table_flag,
      StringFlag("key-condition", "\"pk = :p AND sk BETWEEN :a AND :b\"", true)
          .Sets("key_condition_expression"),
      BoolFlag("descending", "in descending sort key order (ScanIndexForward false)")};
  query_flags.insert(query_flags.end(), read_flags.begin(), read_flags.end());
  add(Command("items", "query",
              "Reads one partition's items in sort key order, every page or --max-items (Query).")
          .Flags(query_flags)
          .Finish(&FinishQuery)
          .Builds<v1::QueryRequest>()
          .Runs(&ItemsQuery));
  std::vector<FlagSpec> scan_flags = {
      table_flag,
      IntFlag("segment", "with --total-segments: this segment of a parallel scan")
          .Sets("segment"),
      IntFlag("total-segments", "the number of segments, 1-1000000").Sets("total_segments")};
  scan_flags.insert(scan_flags.end(), read_flags.begin(), read_flags.end());
  add(Command("items", "scan",
              "Reads every item of a table or index, every page or --max-items (Scan).")
          .Flags(scan_flags)
          .Finish(&FinishScan)
          .Builds<v1::ScanRequest>()
          .Runs(&ItemsScan));

  // leases, pollers, metrics
  add(Command("leases", "list",
              "Lists leases: owner, lease counter, checkpoint, iterator age (ListLeases).")
          .Flags({StringFlag("mapping", "only this mapping's leases (UUID)")
                      .Sets("event_source_mapping_uuid"),
                  StringFlag("owner", "only leases held by this poller").Sets("lease_owner"),
                  StringFlag("shard-id", "only this shard's leases").Sets("shard_id"),
                  IntFlag("max-results", "leases per page, 1-10000").Sets("max_results")})
          .Pages(&Context::leasing, &leasing::LeasingClient::ListLeases,
                 NextByToken<v1::ListLeasesResponse, v1::ListLeasesRequest>,
                 [](const v1::ListLeasesResponse& all) {
                   return LeasesTable(ToVector(all.leases()));
                 }));
  add(Command("leases", "delete-orphaned",
              "Deletes the leases of a mapping the stream tracker no longer has (its data lost): "
              "refused while the mapping exists (DeleteLeases).")
          .Flags({StringFlag("mapping", "the mapping's UUID", true)})
          .Runs(&LeasesDeleteOrphaned));
  add(Command("checkpoints", "get",
              "Shows a shard's checkpoint with its lease's owner and counter (through the "
              "stream tracker: ShardCheckpoints GetShardCheckpoint).")
          .Flags({StringFlag("mapping", "the mapping's UUID", true),
                  StringFlag("shard-id", "the shard", true)})
          .Runs(&CheckpointsGet));
  add(Command("checkpoints", "set",
              "Moves a shard's checkpoint, forwards or back to replay (ShardCheckpoints "
              "UpdateShardCheckpoint). Fenced: the current owner is cut off (its in-flight "
              "checkpoint is refused) and the next owner starts from the new position within a "
              "heartbeat. Logged by leasing as an AUDIT line.")
          .Flags({StringFlag("mapping", "the mapping's UUID", true),
                  StringFlag("shard-id", "the shard", true),
                  StringFlag("sequence-number", "start at this record (decimal)"),
                  StringFlag("after-sequence-number", "start after this record (decimal)"),
                  TimeFlag("at-timestamp", "start at the first record that arrived at or after"),
                  BoolFlag("trim-horizon", "start at the oldest retained record"),
                  BoolFlag("latest", "skip to the tip (resolved when the next owner starts)"),
                  StringFlag("requested-by", "who asks, for the audit line (default: $USER)")})
          .Runs(&CheckpointsSet));
  add(Command("clock", "advance",
              "Moves the manual clock of `tributary serve --clock=manual` forward (Clock "
              "AdvanceClock): records age, backoffs and windows run out at once.")
          .Flags({Required(DurationFlag("by", "how far: 90s, 5m, 1h30m"))})
          .Runs(&ClockAdvance));
  add(Command("clock", "set",
              "Moves the manual clock forward to a time (Clock SetClock); never backwards.")
          .Flags({Required(TimeFlag("to", "RFC 3339 time, e.g. 2026-12-06T10:00:00Z"))})
          .Runs(&ClockSet));
  add(Command("clock", "get", "Shows the manual clock's time (Clock GetClock).").Runs(&ClockGet));
  add(Command("pollers", "list", "Lists registered pollers (Leasing ListPollers).")
          .Calls(&Context::leasing, &leasing::LeasingClient::ListPollers,
                 [](const v1::ListPollersRequest&, const v1::ListPollersResponse& response) {
                   return PollersTable(ToVector(response.pollers()));
                 }));
  add(Command("metrics", "", "Shows a poller's metrics per mapping and shard (Pollers GetMetrics).")
          .Flags(
              {StringFlag("mapping", "only this mapping (UUID)").Sets("event_source_mapping_uuid"),
               BoolFlag("prometheus", "print Prometheus text exposition instead of a table")})
          .Builds<v1::GetMetricsRequest>()
          .Runs(&Metrics));

  // completion
  add(Command("completion", "bash",
              "Prints tribctl's bash completion: source <(tribctl completion bash), or save it "
              "as /etc/bash_completion.d/tribctl.")
          .Runs([](Context& c) {
            *c.io.out << BashCompletionScript();
            return absl::OkStatus();
          }));
  add(Command("completion", "zsh",
              "Prints tribctl's zsh completion (through bashcompinit): "
              "source <(tribctl completion zsh).")
          .Runs([](Context& c) {
            *c.io.out << ZshCompletionScript();
            return absl::OkStatus();
          }));
  return c;
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const auto* commands = new std::vector<CommandSpec>(BuildCommands());
  return *commands;
}

}  // namespace tributary::tribctl
