#include "tools/tribctl/redrive.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/proto_util.h"
#include "mapping/function_endpoint.h"
#include "poller/grpc_adapters.h"
#include "poller/invoke/http_invoker.h"
#include "poller/invoke/table_stream_grpc_invoker.h"
#include "poller/invoke/table_stream_sources.h"
#include "tables/stream_ids.h"

namespace tributary::tribctl {
namespace {

// Store sequence numbers are decimal without leading zeros: shorter is smaller.
bool SequenceLess(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

struct Position {
  std::string sequence_number;  // of the failure record last worked on
  int64_t done = 0;             // its entries done
};

using State = std::map<std::string, Position>;  // by shard of the failure stream

absl::StatusOr<State> ReadState(const std::string& path) {
  State state;
  std::ifstream in(path);
  if (!in) return state;  // none yet: from the start
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    int64_t done = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &done)) {
      return absl::FailedPreconditionError(
          absl::StrCat("state file ", path, ": not a redrive state line: \"", line, "\""));
    }
    state[parts[0]] = Position{parts[1], done};
  }
  return state;
}

absl::Status WriteState(const std::string& path, const State& state) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    for (const auto& [shard, p] : state) out << shard << " " << p.sequence_number << " " << p.done << "\n";
    out.flush();
    if (!out) return absl::FailedPreconditionError(absl::StrCat("cannot write ", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

struct Summary {
  int64_t failure_records = 0;
  int64_t without_records = 0;  // include_records was off
  int64_t unreadable = 0;
  int64_t redriven = 0;
  int64_t out_of_range = 0;
  int64_t already_redriven = 0;
  int64_t data_omitted = 0;
};

struct Ranges {
  std::optional<std::string> from_sequence, to_sequence;
  std::optional<absl::Time> from_time, to_time;

  bool Contains(const std::string& sequence_number, absl::Time arrival) const {
    if (from_sequence && SequenceLess(sequence_number, *from_sequence)) return false;
    if (to_sequence && SequenceLess(*to_sequence, sequence_number)) return false;
    if (from_time && arrival < *from_time) return false;
    if (to_time && arrival > *to_time) return false;
    return true;
  }
};

const google::protobuf::Value* Field(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string StringField(const google::protobuf::Struct& s, const std::string& name) {
  const google::protobuf::Value* v = Field(s, name);
  return v != nullptr && v->kind_case() == google::protobuf::Value::kStringValue ? v->string_value()
                                                                                 : "";
}

bool IsEndpoint(const std::string& target) {
  return absl::StrContains(target, ":") && !absl::StartsWith(target, "arn:");
}

// Where --to-function sends the records: the endpoint (given, or the registered function's) and
// the invokers a mapping's poller would use for it (gRPC, or Lambda's event over HTTP).
struct FunctionTarget {
  std::string endpoint;
  absl::Duration timeout;
  std::unique_ptr<HttpClient> http_client;
  poller::GrpcFunctionInvoker grpc;
  std::unique_ptr<poller::RemoteTableStreamSources> tables;
  std::unique_ptr<poller::TableStreamGrpcInvoker> grpc_tables;  // in front of `grpc`
  std::unique_ptr<poller::HttpFunctionInvoker> http;
  std::unique_ptr<poller::EndpointFunctionInvoker> invoker;
};

absl::StatusOr<std::unique_ptr<FunctionTarget>> NewFunctionTarget(Context& c,
                                                                  const std::string& target,
                                                                  Clock& clock) {
  auto t = std::make_unique<FunctionTarget>();
  t->timeout = absl::Seconds(30);  // a mapping's default
  if (IsEndpoint(target)) {
    t->endpoint = target;
  } else {
    v1::GetFunctionRequest get;
    get.set_function_name(target);
    ASSIGN_OR_RETURN(v1::FunctionConfiguration function, c.mappings().GetFunction(get));
    t->endpoint = function.endpoint();
    if (function.timeout_seconds() > 0) t->timeout = absl::Seconds(function.timeout_seconds());
  }
  if (c.flags.Has("function-timeout-seconds")) {
    const int64_t seconds = c.flags.Int("function-timeout-seconds").value_or(0);
    if (seconds < 1 || seconds > 900) {
      return UsageError("--function-timeout-seconds must be between 1 and 900");
    }
    t->timeout = absl::Seconds(seconds);
  }
  absl::Status valid = mapping::ValidateFunctionEndpoint("--to-function", t->endpoint);
  if (!valid.ok()) return UsageError(std::string(valid.message()));
  ASSIGN_OR_RETURN(t->http_client, HttpClient::Create(HttpClientOptions()));
  t->tables = std::make_unique<poller::RemoteTableStreamSources>(c.tables());
  AwsAccount account;
  account.region = c.flags.StringOr("aws-region", account.region);
  account.account_id = c.flags.StringOr("aws-account-id", account.account_id);
  t->http = std::make_unique<poller::HttpFunctionInvoker>(*t->http_client, clock, account,
                                                          t->tables.get());
  t->grpc_tables =
      std::make_unique<poller::TableStreamGrpcInvoker>(t->grpc, account, t->tables.get());
  t->invoker = std::make_unique<poller::EndpointFunctionInvoker>(*t->grpc_tables, *t->http);
  return t;
}

// The records of `shard` of `stream` from `from` to `to` (store sequence numbers, inclusive),
// read from the source stream while it retains them.
absl::StatusOr<std::vector<v1::Record>> ReadRange(Context& c, const std::string& stream,
                                                  const std::string& shard,
                                                  const std::string& from, const std::string& to) {
  v1::GetShardIteratorRequest at;
  at.set_stream_name(stream);
  at.set_shard_id(shard);
  at.set_shard_iterator_type(v1::AT_SEQUENCE_NUMBER);
  at.set_starting_sequence_number(from);
  ASSIGN_OR_RETURN(v1::GetShardIteratorResponse iterator, c.streams().GetShardIterator(at));
  std::vector<v1::Record> out;
  std::string next = iterator.shard_iterator();
  while (!next.empty()) {
    v1::GetRecordsRequest get;
    get.set_shard_iterator(next);
    ASSIGN_OR_RETURN(v1::GetRecordsResponse page, c.streams().GetRecords(get));
    for (const v1::Record& r : page.records()) {
      if (SequenceLess(to, r.sequence_number())) return out;
      if (!SequenceLess(r.sequence_number(), from)) out.push_back(r);
    }
    if (page.records().empty()) break;
    next = page.next_shard_iterator();
  }
  return out;
}

struct FunctionSummary {
  int64_t invocations = 0;
  int64_t records = 0;       // invoked (or, dry, would be)
  int64_t fetched = 0;       // of them read from the source stream
  int64_t not_found = 0;     // named by a failure record but no longer in the source stream
};

// The batch a failure record names, as the mapping's poller invoked it: the source stream and
// shard, and its sequence range (the store's forms).
struct BatchOrigin {
  std::string stream, shard, first, last;
};

absl::StatusOr<BatchOrigin> OriginOf(Context& c, const google::protobuf::Struct& record) {
  BatchOrigin o;
  const std::string override_stream = c.flags.StringOr("records-stream", "");
  if (const google::protobuf::Value* kinesis = Field(record, "KinesisBatchInfo")) {
    const google::protobuf::Struct& info = kinesis->struct_value();
    o.stream = StringField(info, "streamName");
    o.shard = StringField(info, "shardId");
    o.first = StringField(info, "startSequenceNumber");
    o.last = StringField(info, "endSequenceNumber");
  } else if (const google::protobuf::Value* ddb = Field(record, "DDBStreamBatchInfo")) {
    // DynamoDB's ids (tables/stream_ids.h) back to the store's; the record names no stream.
    const google::protobuf::Struct& info = ddb->struct_value();
    const std::optional<uint32_t> index = tables::StoreShardIndex(StringField(info, "shardId"));
    if (index.has_value()) o.shard = absl::StrFormat("shardId-%012d", *index);
    o.first = tables::StoreSequenceNumber(StringField(info, "startSequenceNumber")).value_or("");
    o.last = tables::StoreSequenceNumber(StringField(info, "endSequenceNumber")).value_or("");
  }
  if (!override_stream.empty()) o.stream = override_stream;
  if (o.stream.empty() || o.shard.empty() || o.first.empty() || o.last.empty()) {
    return absl::InvalidArgumentError(
        "the failure record names no source stream, shard or range (a DynamoDB record needs "
        "--records-stream: the mapping's stream)");
  }
  return o;
}

// One failure record redriven to the function (see redrive.h). Returns OK when the function took
// its records (or there were none in range); ABORTED when the function failed.
absl::Status InvokeFailureRecord(Context& c, FunctionTarget& target, const Ranges& ranges,
                                 bool dry_run, const google::protobuf::Struct& record,
                                 FunctionSummary& summary, int64_t& out_of_range) {
  ASSIGN_OR_RETURN(const BatchOrigin origin, OriginOf(c, record));
  v1::InvokeRequest request;
  request.set_event_source_mapping_uuid(c.flags.StringOr("mapping-uuid", ""));
  request.set_stream_name(origin.stream);
  request.set_shard_id(origin.shard);
  std::vector<v1::Record> candidates;
  const google::protobuf::Value* entries = Field(record, "records");
  if (entries != nullptr && entries->kind_case() == google::protobuf::Value::kListValue) {
    for (const google::protobuf::Value& value : entries->list_value().values()) {
      const google::protobuf::Struct& entry = value.struct_value();
      v1::Record r;
      r.set_sequence_number(StringField(entry, "sequenceNumber"));
      r.set_partition_key(StringField(entry, "partitionKey"));
      const google::protobuf::Value* arrival = Field(entry, "approximateArrivalTimestamp");
      *r.mutable_approximate_arrival_timestamp() = ToProtoTimestamp(absl::FromUnixMillis(
          static_cast<int64_t>((arrival != nullptr ? arrival->number_value() : 0) * 1000 + 0.5)));
      const google::protobuf::Value* data = Field(entry, "data");
      std::string bytes;
      if (data != nullptr && absl::Base64Unescape(data->string_value(), &bytes)) {
        r.set_data(bytes);
      } else {
        // Written without its data (too large for a failure record): read it from the source.
        ASSIGN_OR_RETURN(std::vector<v1::Record> read,
                         ReadRange(c, origin.stream, origin.shard, r.sequence_number(),
                                   r.sequence_number()));
        if (read.empty()) {
          ++summary.not_found;
          continue;
        }
        r = read.front();
        ++summary.fetched;
      }
      candidates.push_back(std::move(r));
    }
  } else {
    // include_records was off: the batch from the source stream, by the recorded range.
    ASSIGN_OR_RETURN(candidates, ReadRange(c, origin.stream, origin.shard, origin.first,
                                           origin.last));
    summary.fetched += static_cast<int64_t>(candidates.size());
    const google::protobuf::Value* size = nullptr;
    for (const char* info : {"KinesisBatchInfo", "DDBStreamBatchInfo"}) {
      if (const google::protobuf::Value* v = Field(record, info)) {
        size = Field(v->struct_value(), "batchSize");
      }
    }
    if (size != nullptr && size->number_value() > static_cast<double>(candidates.size())) {
      summary.not_found += static_cast<int64_t>(size->number_value()) -
                           static_cast<int64_t>(candidates.size());
    }
  }
  for (v1::Record& r : candidates) {
    if (!ranges.Contains(r.sequence_number(), FromProtoTimestamp(r.approximate_arrival_timestamp()))) {
      ++out_of_range;
      continue;
    }
    *request.add_records() = std::move(r);
  }
  if (request.records().empty()) return absl::OkStatus();
  ++summary.invocations;
  summary.records += request.records_size();
  if (dry_run) return absl::OkStatus();
  absl::StatusOr<v1::InvokeResponse> reply =
      target.invoker->Invoke(target.endpoint, request, target.timeout);
  std::string failure;
  if (!reply.ok()) {
    failure = reply.status().ToString();
  } else if (!reply->function_error().empty()) {
    failure = absl::StrCat("function error: ", reply->function_error());
  } else if (!reply->batch_item_failures().empty()) {
    failure = absl::StrCat(reply->batch_item_failures_size(),
                           " batch item failure(s), the first at sequence number ",
                           reply->batch_item_failures(0).item_identifier());
  }
  if (!failure.empty()) {
    return absl::AbortedError(absl::StrCat(
        "the function at ", target.endpoint, " failed on the records of ", origin.stream, "/",
        origin.shard, " ", request.records(0).sequence_number(), "..",
        request.records(request.records_size() - 1).sequence_number(), ": ", failure,
        "; a re-run starts again from this failure record"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Redrive(Context& c) {
  const std::string source = c.flags.StringOr("source-stream", "");
  const std::string to_stream = c.flags.StringOr("to-stream", "");
  const std::string to_function = c.flags.StringOr("to-function", "");
  if (source.empty()) return UsageError("--source-stream is required (the failure stream)");
  if (to_stream.empty() == to_function.empty()) {
    return UsageError(
        "give one of --to-stream (where the records go) and --to-function (what to invoke)");
  }
  const std::string target = to_stream.empty() ? to_function : to_stream;
  const bool dry_run = c.flags.Bool("dry-run").value_or(false);
  // An endpoint's ':' and '/' are not wanted in a file name.
  std::string target_label = target;
  for (char& ch : target_label) {
    if (ch == '/' || ch == ':') ch = '_';
  }
  const std::string state_path = c.flags.StringOr(
      "state-file", absl::StrCat("tribctl-redrive.", source, ".", target_label, ".state"));
  Ranges ranges;
  if (c.flags.Has("from-sequence-number")) {
    ranges.from_sequence = c.flags.StringOr("from-sequence-number", "");
  }
  if (c.flags.Has("to-sequence-number")) {
    ranges.to_sequence = c.flags.StringOr("to-sequence-number", "");
  }
  for (const std::optional<std::string>* s : {&ranges.from_sequence, &ranges.to_sequence}) {
    uint64_t n = 0;
    if (s->has_value() && (!absl::SimpleAtoi(**s, &n) || absl::StrCat(n) != **s)) {
      return UsageError(absl::StrCat("--from/--to-sequence-number: not a sequence number: \"",
                                     **s, "\""));
    }
  }
  ranges.from_time = c.flags.Time("from-timestamp");
  ranges.to_time = c.flags.Time("to-timestamp");

  std::unique_ptr<FunctionTarget> function;
  if (!to_function.empty()) {
    Clock& clock = c.io.clock != nullptr ? *c.io.clock : RealClock::Get();
    ASSIGN_OR_RETURN(function, NewFunctionTarget(c, to_function, clock));
  }
  FunctionSummary invoked;

  ASSIGN_OR_RETURN(State state, ReadState(state_path));

  std::vector<std::string> shards;
  v1::ListShardsRequest list;
  list.set_stream_name(source);
  for (int page = 0; page < 100000; ++page) {
    ASSIGN_OR_RETURN(v1::ListShardsResponse listed, c.streams().ListShards(list));
    for (const v1::Shard& shard : listed.shards()) shards.push_back(shard.shard_id());
    if (listed.next_token().empty()) break;
    list.Clear();
    list.set_next_token(listed.next_token());
  }

  Summary summary;
  for (const std::string& shard : shards) {
    *c.io.err << "redrive: " << source << "/" << shard << (dry_run ? " (dry run)" : "") << "\n";
    v1::GetShardIteratorRequest at;
    at.set_stream_name(source);
    at.set_shard_id(shard);
    std::optional<Position> known;  // where a run before stopped
    if (auto it = state.find(shard); it != state.end()) known = it->second;
    if (known.has_value()) {
      // From the failure record last worked on: its entries done are skipped below.
      at.set_shard_iterator_type(v1::AT_SEQUENCE_NUMBER);
      at.set_starting_sequence_number(known->sequence_number);
    } else {
      at.set_shard_iterator_type(v1::TRIM_HORIZON);
    }
    ASSIGN_OR_RETURN(v1::GetShardIteratorResponse iterator, c.streams().GetShardIterator(at));
    std::string next = iterator.shard_iterator();
    while (!next.empty()) {
      if (c.io.interrupt != nullptr && c.io.interrupt->triggered()) {
        return absl::CancelledError("interrupted; a re-run goes on from the state file");
      }
      v1::GetRecordsRequest get;
      get.set_shard_iterator(next);
      ASSIGN_OR_RETURN(v1::GetRecordsResponse page, c.streams().GetRecords(get));
      for (const v1::Record& failure : page.records()) {
        ++summary.failure_records;
        google::protobuf::Struct record;
        if (!google::protobuf::util::JsonStringToMessage(failure.data(), &record).ok()) {
          ++summary.unreadable;
          continue;
        }
        if (function != nullptr) {
          // A failure record is one invocation: done whole or not at all.
          if (known.has_value() && failure.sequence_number() == known->sequence_number &&
              known->done > 0) {
            ++summary.already_redriven;
            continue;
          }
          const int64_t before = invoked.invocations;
          RETURN_IF_ERROR(InvokeFailureRecord(c, *function, ranges, dry_run, record, invoked,
                                              summary.out_of_range));
          if (invoked.invocations > before && (invoked.invocations == 1 ||
                                               invoked.invocations % 10 == 0)) {
            *c.io.err << "redrive: " << (dry_run ? "would invoke " : "invoked ")
                      << function->endpoint << " " << invoked.invocations << " time(s), "
                      << invoked.records << " record(s)\n";
          }
          if (!dry_run) {
            state[shard] = Position{failure.sequence_number(), 1};
            RETURN_IF_ERROR(WriteState(state_path, state));
          }
          continue;
        }
        const google::protobuf::Value* entries = Field(record, "records");
        if (entries == nullptr || entries->kind_case() != google::protobuf::Value::kListValue) {
          ++summary.without_records;
          continue;
        }
        int64_t skip = 0;
        if (known.has_value() && failure.sequence_number() == known->sequence_number) {
          skip = known->done;
        }
        const auto& values = entries->list_value().values();
        for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i) {
          const google::protobuf::Struct& entry = values[i].struct_value();
          if (i < skip) {
            ++summary.already_redriven;
            continue;
          }
          const std::string sequence_number = StringField(entry, "sequenceNumber");
          const google::protobuf::Value* arrival = Field(entry, "approximateArrivalTimestamp");
          const absl::Time arrival_time =
              absl::FromUnixMillis(static_cast<int64_t>(
                  (arrival != nullptr ? arrival->number_value() : 0) * 1000 + 0.5));
          const google::protobuf::Value* data = Field(entry, "data");
          std::string bytes;
          if (!ranges.Contains(sequence_number, arrival_time)) {
            ++summary.out_of_range;
          } else if (data == nullptr || !absl::Base64Unescape(data->string_value(), &bytes)) {
            ++summary.data_omitted;
          } else if (!dry_run) {
            v1::PutRecordRequest put;
            put.set_stream_name(target);
            put.set_partition_key(StringField(entry, "partitionKey"));
            put.set_data(bytes);
            ASSIGN_OR_RETURN(v1::PutRecordResponse unused, c.streams().PutRecord(put));
            (void)unused;
            ++summary.redriven;
            if (summary.redriven % 100 == 0) {
              *c.io.err << "redrive: " << summary.redriven << " record(s) put\n";
            }
          } else {
            ++summary.redriven;  // would be
          }
          if (!dry_run) {
            state[shard] = Position{failure.sequence_number(), i + 1};
            RETURN_IF_ERROR(WriteState(state_path, state));
          }
        }
        if (!dry_run) {
          state[shard] = Position{failure.sequence_number(), static_cast<int64_t>(values.size())};
          RETURN_IF_ERROR(WriteState(state_path, state));
        }
      }
      next = page.next_shard_iterator();
      if (page.records().empty()) break;  // caught up (an open shard never ends)
    }
  }

  google::protobuf::Struct json;
  auto& f = *json.mutable_fields();
  f["failureRecords"].set_number_value(summary.failure_records);
  f["redriven"].set_number_value(summary.redriven);
  f["alreadyRedriven"].set_number_value(summary.already_redriven);
  f["outOfRange"].set_number_value(summary.out_of_range);
  f["dataOmitted"].set_number_value(summary.data_omitted);
  f["failureRecordsWithoutRecords"].set_number_value(summary.without_records);
  f["unreadable"].set_number_value(summary.unreadable);
  f["dryRun"].set_bool_value(dry_run);
  f["stateFile"].set_string_value(state_path);
  if (function != nullptr) {
    f["invocations"].set_number_value(invoked.invocations);
    f["redriven"].set_number_value(invoked.records);
    f["fetchedFromSource"].set_number_value(invoked.fetched);
    f["notFoundInSource"].set_number_value(invoked.not_found);
    f["function"].set_string_value(function->endpoint);
    return c.Print(
        json,
        absl::StrCat(dry_run ? "dry run: would invoke " : "invoked ", function->endpoint, " ",
                     invoked.invocations, " time(s) with ", invoked.records,
                     " record(s) from ", source, " (", summary.failure_records,
                     " failure record(s) read; ", summary.already_redriven,
                     " already redriven, ", summary.out_of_range, " record(s) out of range, ",
                     invoked.fetched, " read from the source stream, ", invoked.not_found,
                     " no longer there, ", summary.unreadable, " unreadable)\n"));
  }
  return c.Print(
      json,
      absl::StrCat(dry_run ? "dry run: would redrive " : "redrove ", summary.redriven,
                   " record(s) from ", source, " to ", target, " (", summary.failure_records,
                   " failure record(s) read; ", summary.already_redriven, " already redriven, ",
                   summary.out_of_range, " out of range, ", summary.data_omitted,
                   " without data, ", summary.without_records,
                   " failure record(s) without records, ", summary.unreadable,
                   " unreadable)\n"));
}

}  // namespace tributary::tribctl
