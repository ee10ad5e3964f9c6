// Builds the console's document. One round of RPCs (Fetch, no lock held) then, under the lock,
// the counters and ages are appended to their series and the JSON is written (Render). Series
// not seen in a round are dropped (a deleted stream or mapping, a trimmed shard), so the map
// stays the size of what exists.
#include "tools/console/overview.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/grpc_client.h"
#include "common/proto_util.h"
#include "common/version.h"
#include "leasing/leasing_client.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/leasing.pb.h"
#include "proto/poller.grpc.pb.h"
#include "proto/shard_checkpoints.grpc.pb.h"
#include "proto/streams.pb.h"
#include "proto/tables.pb.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/tables_client.h"

namespace tributary::console {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

struct StreamRow {
  std::string name;
  std::string status;
  int open_shards = 0;
  int closed_shards = 0;
};

// The shards of a table's store stream.
struct ShardCounts {
  int open = 0;
  int closed = 0;
};

struct MappingCounters {
  int64_t delivered = 0;
  int64_t errors = 0;
};

// Lambda's words for a mapping's state.
const char* StateName(v1::EventSourceMappingState state) {
  switch (state) {
    case v1::CREATING_MAPPING:
      return "Creating";
    case v1::ENABLED:
      return "Enabled";
    case v1::UPDATING_MAPPING:
      return "Updating";
    case v1::DISABLING:
      return "Disabling";
    case v1::DISABLED:
      return "Disabled";
    case v1::DELETING_MAPPING:
      return "Deleting";
    case v1::ENABLING:
      return "Enabling";
    default:
      return "Unknown";
  }
}

// RFC 3339 in UTC with a "Z", as the AWS CLI prints times.
std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string CheckpointText(const v1::Checkpoint& c) {
  switch (c.type()) {
    case v1::SEQUENCE_NUMBER:
      return c.sequence_number();
    case v1::TRIM_HORIZON_CHECKPOINT:
      return "TRIM_HORIZON";
    case v1::LATEST_CHECKPOINT:
      return "LATEST";
    case v1::AT_TIMESTAMP_CHECKPOINT:
      return absl::StrCat("AT_TIMESTAMP ", TimeText(FromProtoTimestamp(c.timestamp())));
    case v1::SHARD_END:
      return "SHARD_END";
    default:
      return "";
  }
}

void String(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// An enum value's name without the prefix proto3 made it carry ("TABLE_ACTIVE" -> "ACTIVE");
// null for the unspecified value.
void EnumName(Writer& w, const char* key, const std::string& name, absl::string_view prefix,
              bool unspecified) {
  if (unspecified) {
    w.Key(key);
    w.Null();
    return;
  }
  String(w, key, std::string(absl::StripPrefix(name, prefix)));
}

// {"name", "type"} of a key attribute, or null when it is not set (no sort key).
void KeyAttribute(Writer& w, const char* key, bool present, const v1::KeyAttribute& attribute) {
  w.Key(key);
  if (!present) {
    w.Null();
    return;
  }
  w.StartObject();
  String(w, "name", attribute.attribute_name());
  String(w, "type", attribute.attribute_type());
  w.EndObject();
}

void OptionalDouble(Writer& w, const char* key, std::optional<double> value) {
  w.Key(key);
  if (value.has_value()) {
    w.Double(*value);
  } else {
    w.Null();
  }
}

}  // namespace

struct Overview::Fetched {
  MonotonicTime at;
  absl::Time now;
  std::map<std::string, absl::Status> errors;  // section -> what failed

  std::vector<StreamRow> streams;
  std::map<std::string, size_t> stream_rows;  // name -> index in `streams`
  bool streams_truncated = false;
  std::vector<v1::EventSourceMappingConfiguration> mappings;
  std::vector<v1::Lease> leases;
  bool leases_truncated = false;
  std::vector<v1::Poller> pollers;
  // By mapping uuid, summed over every poller's shards; absent without pollers.
  std::optional<std::map<std::string, MappingCounters>> counters;
  // Per-key isolation (issue 23): each shard's parked keys as its poller reports them, by
  // (mapping uuid, shard id); a shard no poller reported is absent (null in the document).
  std::map<std::pair<std::string, std::string>, v1::ShardMetrics> parked;
  std::optional<std::string> metrics_text;
  // Described tables in ListTables' order; absent without a Tables service (tables_note says
  // why).
  std::optional<std::vector<v1::TableDescription>> tables;
  std::string tables_note;
  bool tables_truncated = false;
  // The shards of the tables' store streams, by store stream name; absent: it is gone.
  std::map<std::string, ShardCounts> table_stream_shards;
  // Earlier streams of the described tables, by table name, oldest first (ListTableStreams).
  std::map<std::string, std::vector<v1::TableStream>> older_streams;
  // The streams of tables not described (deleted), by table name, oldest first.
  std::map<std::string, std::vector<v1::TableStream>> deleted_table_streams;
};

Overview::Overview(OverviewSources sources, OverviewOptions options, Clock& clock)
    : sources_(std::move(sources)), options_(options), clock_(clock) {}

std::string Overview::Json() {
  {
    absl::MutexLock lock(&mu_);
    if (cached_at_.has_value() && clock_.MonotonicNow() - *cached_at_ < options_.min_refresh) {
      return cached_;
    }
  }
  const Fetched fetched = Fetch();
  absl::MutexLock lock(&mu_);
  cached_ = Render(fetched);
  cached_at_ = fetched.at;
  return cached_;
}

absl::Status Overview::UpdateMapping(const v1::UpdateEventSourceMappingRequest& request) {
  stream_tracker::StreamTrackerClient tracker(sources_.mappings, options_.rpc_timeout);
  absl::StatusOr<v1::EventSourceMappingConfiguration> updated =
      tracker.UpdateEventSourceMapping(request);
  absl::MutexLock lock(&mu_);
  cached_at_.reset();  // the next page refresh shows the new state
  return updated.status();
}

absl::StatusOr<v1::UpdateShardCheckpointResponse> Overview::MoveCheckpoint(
    const v1::UpdateShardCheckpointRequest& request) {
  if (sources_.checkpoints == nullptr) {
    return absl::UnimplementedError("this console was given no tributary.v1.ShardCheckpoints");
  }
  std::unique_ptr<v1::ShardCheckpoints::Stub> stub =
      v1::ShardCheckpoints::NewStub(sources_.checkpoints);
  absl::StatusOr<v1::UpdateShardCheckpointResponse> moved =
      CallUnary(stub.get(), &v1::ShardCheckpoints::Stub::UpdateShardCheckpoint, request,
                options_.rpc_timeout);
  absl::MutexLock lock(&mu_);
  cached_at_.reset();
  return moved;
}

Overview::Fetched Overview::Fetch() {
  Fetched f;
  f.at = clock_.MonotonicNow();
  f.now = clock_.Now();

  shard_store::ShardStoreClient store(sources_.streams, options_.rpc_timeout);
  v1::ListStreamsRequest list_streams;
  list_streams.set_limit(100);
  std::vector<v1::StreamSummary> summaries;
  while (true) {
    absl::StatusOr<v1::ListStreamsResponse> page = store.ListStreams(list_streams);
    if (!page.ok()) {
      f.errors["streams"] = page.status();
      break;
    }
    for (const v1::StreamSummary& s : page->stream_summaries()) summaries.push_back(s);
    if (static_cast<int>(summaries.size()) >= options_.max_streams) {
      f.streams_truncated =
          page->has_more_streams() || static_cast<int>(summaries.size()) > options_.max_streams;
      summaries.resize(std::min<size_t>(summaries.size(), options_.max_streams));
      break;
    }
    if (!page->has_more_streams() || page->next_token().empty()) break;
    list_streams = v1::ListStreamsRequest();
    list_streams.set_next_token(page->next_token());
  }
  for (const v1::StreamSummary& s : summaries) {
    StreamRow row;
    row.name = s.stream_name();
    row.status = v1::StreamStatus_Name(s.stream_status());
    absl::StatusOr<std::vector<v1::Shard>> shards = store.ListAllShards(s.stream_name());
    if (shards.ok()) {
      for (const v1::Shard& shard : *shards) {
        if (shard.sequence_number_range().ending_sequence_number().empty()) {
          ++row.open_shards;
        } else {
          ++row.closed_shards;
        }
      }
    } else if (!absl::IsNotFound(shards.status())) {  // deleted since it was listed
      f.errors["streams"] = shards.status();
    }
    f.stream_rows[row.name] = f.streams.size();
    f.streams.push_back(std::move(row));
  }

  stream_tracker::StreamTrackerClient tracker(sources_.mappings, options_.rpc_timeout);
  v1::ListEventSourceMappingsRequest list_mappings;
  list_mappings.set_max_items(10000);
  while (true) {
    absl::StatusOr<v1::ListEventSourceMappingsResponse> page =
        tracker.ListEventSourceMappings(list_mappings);
    if (!page.ok()) {
      f.errors["mappings"] = page.status();
      break;
    }
    for (const auto& m : page->event_source_mappings()) f.mappings.push_back(m);
    if (page->next_marker().empty()) break;
    list_mappings.set_marker(page->next_marker());
  }

  leasing::LeasingClient leasing(sources_.leasing, options_.rpc_timeout);
  v1::ListLeasesRequest list_leases;
  list_leases.set_max_results(std::min(options_.max_leases, 10000));
  while (true) {
    absl::StatusOr<v1::ListLeasesResponse> page = leasing.ListLeases(list_leases);
    if (!page.ok()) {
      f.errors["leases"] = page.status();
      break;
    }
    for (const v1::Lease& l : page->leases()) f.leases.push_back(l);
    if (page->next_token().empty()) break;
    if (static_cast<int>(f.leases.size()) >= options_.max_leases) {
      f.leases_truncated = true;
      break;
    }
    list_leases.set_next_token(page->next_token());
  }
  absl::StatusOr<v1::ListPollersResponse> pollers = leasing.ListPollers(v1::ListPollersRequest());
  if (pollers.ok()) {
    f.pollers.assign(pollers->pollers().begin(), pollers->pollers().end());
  } else {
    f.errors["pollers"] = pollers.status();
  }

  if (!sources_.pollers.empty()) {
    f.counters.emplace();
    for (const auto& channel : sources_.pollers) {
      auto stub = v1::Pollers::NewStub(channel);
      absl::StatusOr<v1::GetMetricsResponse> metrics =
          CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, v1::GetMetricsRequest(),
                    options_.rpc_timeout);
      if (!metrics.ok()) {
        f.errors["poller_metrics"] = metrics.status();
        continue;
      }
      for (const v1::ShardMetrics& m : metrics->shards()) {
        MappingCounters& c = (*f.counters)[m.event_source_mapping_uuid()];
        c.delivered += m.records_delivered();
        c.errors += m.function_errors();
        v1::ShardMetrics& parked = f.parked[{m.event_source_mapping_uuid(), m.shard_id()}];
        parked.set_parked_keys(m.parked_keys());
        parked.set_parked_records(m.parked_records());
        parked.set_oldest_parked_age_ms(m.oldest_parked_age_ms());
        parked.set_parked_keys_limit_reached(m.parked_keys_limit_reached());
      }
    }
  }
  if (sources_.metrics_text) f.metrics_text = sources_.metrics_text();
  FetchTables(f);
  return f;
}

void Overview::FetchTables(Fetched& f) {
  if (sources_.tables == nullptr) {
    f.tables_note = "This console was given no tributary.v1.Tables service.";
    return;
  }
  tables::TablesClient client(sources_.tables, options_.rpc_timeout);
  std::vector<std::string> names;
  v1::ListTablesRequest list;
  list.set_limit(100);
  while (true) {
    absl::StatusOr<v1::ListTablesResponse> page = client.ListTables(list);
    if (absl::IsUnimplemented(page.status())) {
      f.tables_note = "This server does not serve tributary.v1.Tables (DynamoDB-style tables).";
      return;
    }
    if (!page.ok()) {
      f.errors["tables"] = page.status();
      break;
    }
    for (const std::string& name : page->table_names()) names.push_back(name);
    if (static_cast<int>(names.size()) >= options_.max_tables) {
      f.tables_truncated = !page->last_evaluated_table_name().empty() ||
                           static_cast<int>(names.size()) > options_.max_tables;
      names.resize(std::min<size_t>(names.size(), options_.max_tables));
      break;
    }
    if (page->last_evaluated_table_name().empty()) break;
    list.set_exclusive_start_table_name(page->last_evaluated_table_name());
  }
  f.tables.emplace();
  for (const std::string& name : names) {
    v1::DescribeTableRequest describe;
    describe.set_table_name(name);
    absl::StatusOr<v1::TableDescription> table = client.DescribeTable(describe);
    if (absl::IsNotFound(table.status())) continue;  // deleted since it was listed
    if (!table.ok()) {
      f.errors["tables"] = table.status();
      continue;
    }
    if (!table->latest_stream_name().empty()) CountShards(f, table->latest_stream_name());
    f.tables->push_back(*std::move(table));
  }
  FetchTableStreams(f);
}

void Overview::FetchTableStreams(Fetched& f) {
  tables::TablesClient client(sources_.tables, options_.rpc_timeout);
  std::map<std::string, const v1::TableDescription*> described;
  for (const v1::TableDescription& t : *f.tables) described[t.table_name()] = &t;
  std::vector<v1::TableStream> streams;
  v1::ListTableStreamsRequest list;
  list.set_limit(100);
  while (true) {
    absl::StatusOr<v1::ListTableStreamsResponse> page = client.ListTableStreams(list);
    if (absl::IsUnimplemented(page.status())) return;  // a server without the call: no history
    if (!page.ok()) {
      f.errors["tables"] = page.status();
      return;
    }
    for (v1::TableStream& s : *page->mutable_streams()) streams.push_back(std::move(s));
    if (page->last_evaluated_stream_arn().empty()) break;
    if (static_cast<int>(streams.size()) >= options_.max_table_streams) {
      f.tables_truncated = true;
      break;
    }
    list.set_exclusive_start_stream_arn(page->last_evaluated_stream_arn());
  }
  // ListTableStreams orders by table name, then label (an ISO 8601 time): oldest first.
  for (v1::TableStream& s : streams) {
    auto table = described.find(s.table_name());
    if (table != described.end()) {
      if (s.stream_name() == table->second->latest_stream_name()) continue;
      CountShards(f, s.stream_name());
      f.older_streams[s.table_name()].push_back(std::move(s));
    } else if (!f.tables_truncated) {  // past max_tables it may be a table not described
      CountShards(f, s.stream_name());
      f.deleted_table_streams[s.table_name()].push_back(std::move(s));
    }
  }
}

void Overview::CountShards(Fetched& f, const std::string& stream) {
  if (f.table_stream_shards.count(stream) != 0) return;
  auto listed = f.stream_rows.find(stream);
  if (listed != f.stream_rows.end()) {
    const StreamRow& row = f.streams[listed->second];
    f.table_stream_shards[stream] = ShardCounts{row.open_shards, row.closed_shards};
    return;
  }
  // Not in the streams section (created since, or past max_streams).
  shard_store::ShardStoreClient store(sources_.streams, options_.rpc_timeout);
  absl::StatusOr<std::vector<v1::Shard>> shards = store.ListAllShards(stream);
  if (shards.ok()) {
    ShardCounts& counts = f.table_stream_shards[stream];
    for (const v1::Shard& shard : *shards) {
      if (shard.sequence_number_range().ending_sequence_number().empty()) {
        ++counts.open;
      } else {
        ++counts.closed;
      }
    }
  } else if (!absl::IsNotFound(shards.status())) {  // NOT_FOUND: expired and deleted
    f.errors["tables"] = shards.status();
  }
}

void Overview::Record(const std::string& key, MonotonicTime at, double value) {
  Series& series = series_[key];
  series.push_back(Sample{at, value});
  while (static_cast<int>(series.size()) > std::max(2, options_.history_samples)) {
    series.pop_front();
  }
}

std::optional<double> Overview::Rate(const std::string& key) const {
  auto it = series_.find(key);
  if (it == series_.end() || it->second.size() < 2) return std::nullopt;
  const Series& s = it->second;
  const Sample& newest = s.back();
  size_t from = 0;
  for (size_t i = s.size() - 1; i-- > 0;) {
    if (newest.at - s[i].at >= options_.rate_window) {
      from = i;
      break;
    }
  }
  const double seconds = absl::ToDoubleSeconds(newest.at - s[from].at);
  const double delta = newest.value - s[from].value;
  if (seconds <= 0 || delta < 0) return std::nullopt;  // a restart reset the counter
  return delta / seconds;
}

std::vector<double> Overview::History(const std::string& key) const {
  std::vector<double> out;
  auto it = series_.find(key);
  if (it == series_.end()) return out;
  for (const Sample& s : it->second) out.push_back(s.value);
  return out;
}

std::string Overview::Render(const Fetched& f) {
  std::set<std::string> seen;
  auto record = [&](const std::string& key, double value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Record(key, f.at, value);
    seen.insert(key);
  };

  // Streams and their counters.
  for (const StreamRow& s : f.streams) {
    if (!f.metrics_text.has_value()) break;
    if (auto in = PrometheusSample(*f.metrics_text, "tributary_store_records_in_total", "stream",
                                   s.name)) {
      record("in/" + s.name, *in);
    }
    if (auto out = PrometheusSample(*f.metrics_text, "tributary_store_records_out_total", "stream",
                                    s.name)) {
      record("out/" + s.name, *out);
    }
  }
  if (f.counters.has_value()) {
    for (const auto& m : f.mappings) {
      auto it = f.counters->find(m.uuid());
      const MappingCounters c = it == f.counters->end() ? MappingCounters() : it->second;
      record("delivered/" + m.uuid(), static_cast<double>(c.delivered));
      record("errors/" + m.uuid(), static_cast<double>(c.errors));
    }
  }
  for (const v1::Lease& l : f.leases) {
    const std::string key = absl::StrCat("age/", l.event_source_mapping_uuid(), "/", l.shard_id());
    if (l.has_iterator_age_ms()) {
      record(key, static_cast<double>(l.iterator_age_ms()));
    } else {
      seen.insert(key);  // unknown now (no live owner): keep what was seen, add nothing
    }
  }
  // A section that failed this round keeps its series (they come back with the service).
  for (auto it = series_.begin(); it != series_.end();) {
    const std::string& key = it->first;
    const bool failed =
        (f.errors.count("leases") > 0 && key.rfind("age/", 0) == 0) ||
        ((f.errors.count("mappings") > 0 || f.errors.count("poller_metrics") > 0) &&
         (key.rfind("delivered/", 0) == 0 || key.rfind("errors/", 0) == 0)) ||
        (f.errors.count("streams") > 0 && (key.rfind("in/", 0) == 0 || key.rfind("out/", 0) == 0));
    it = seen.count(key) > 0 || failed ? std::next(it) : series_.erase(it);
  }

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  String(w, "version", kVersion);
  String(w, "generated_at", TimeText(f.now));
  w.Key("actions_enabled");
  w.Bool(options_.actions_enabled);

  w.Key("streams");
  w.StartArray();
  for (const StreamRow& s : f.streams) {
    w.StartObject();
    String(w, "name", s.name);
    String(w, "status", s.status);
    w.Key("open_shards");
    w.Int(s.open_shards);
    w.Key("closed_shards");
    w.Int(s.closed_shards);
    OptionalDouble(w, "records_in_per_second", Rate("in/" + s.name));
    OptionalDouble(w, "records_out_per_second", Rate("out/" + s.name));
    w.EndObject();
  }
  w.EndArray();
  w.Key("streams_truncated");
  w.Bool(f.streams_truncated);

  std::map<std::string, std::vector<const v1::Lease*>> leases_by_mapping;
  std::map<std::string, std::vector<const v1::Lease*>> leases_by_owner;
  for (const v1::Lease& l : f.leases) {
    leases_by_mapping[l.event_source_mapping_uuid()].push_back(&l);
    if (!l.lease_owner().empty()) leases_by_owner[l.lease_owner()].push_back(&l);
  }

  w.Key("mappings");
  w.StartArray();
  for (const auto& m : f.mappings) {
    w.StartObject();
    String(w, "uuid", m.uuid());
    String(w, "stream", m.stream_name());
    String(w, "function", m.function_name().empty() ? m.function_endpoint() : m.function_name());
    String(w, "state", StateName(m.state()));
    w.Key("enabled");
    w.Bool(m.enabled());
    String(w, "state_transition_reason", m.state_transition_reason());
    String(w, "last_processing_result", m.last_processing_result());
    w.Key("last_error");
    if (m.last_error_kind().empty()) {
      w.Null();
    } else {
      w.StartObject();
      String(w, "kind", m.last_error_kind());
      String(w, "message", m.last_error_message());
      String(w, "time", TimeText(FromProtoTimestamp(m.last_error_time())));
      String(w, "shard", m.last_error_shard_id());
      w.EndObject();
    }
    OptionalDouble(w, "records_per_second", Rate("delivered/" + m.uuid()));
    OptionalDouble(w, "errors_per_second", Rate("errors/" + m.uuid()));
    w.Key("shards");
    w.StartArray();
    for (const v1::Lease* l : leases_by_mapping[m.uuid()]) {
      w.StartObject();
      String(w, "shard_id", l->shard_id());
      String(w, "owner", l->lease_owner());
      w.Key("lease_counter");
      w.Int64(l->lease_counter());
      String(w, "checkpoint", CheckpointText(l->checkpoint()));
      w.Key("iterator_age_ms");
      if (l->has_iterator_age_ms()) {
        w.Int64(l->iterator_age_ms());
      } else {
        w.Null();
      }
      w.Key("iterator_age_history");
      w.StartArray();
      for (double v : History(absl::StrCat("age/", m.uuid(), "/", l->shard_id()))) w.Double(v);
      w.EndArray();
      auto parked = f.parked.find({m.uuid(), l->shard_id()});
      w.Key("parked_keys");
      if (parked == f.parked.end()) {
        w.Null();
      } else {
        w.Int64(parked->second.parked_keys());
      }
      w.Key("oldest_parked_age_ms");
      if (parked == f.parked.end() || parked->second.parked_keys() == 0) {
        w.Null();
      } else {
        w.Int64(parked->second.oldest_parked_age_ms());
      }
      w.Key("parked_keys_limit_reached");
      w.Bool(parked != f.parked.end() && parked->second.parked_keys_limit_reached());
      w.Key("expired");
      w.Bool(l->expired());
      w.Key("assignable");
      w.Bool(l->assignable());
      w.Key("enabled");
      w.Bool(l->enabled());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("leases_truncated");
  w.Bool(f.leases_truncated);

  w.Key("pollers");
  w.StartArray();
  for (const v1::Poller& p : f.pollers) {
    w.StartObject();
    String(w, "id", p.poller_id());
    w.Key("live");
    w.Bool(p.live());
    w.Key("capacity");
    w.Int(p.capacity());
    w.Key("lease_count");
    w.Int(p.lease_count());
    String(w, "last_heartbeat", TimeText(FromProtoTimestamp(p.last_heartbeat())));
    w.Key("leases");
    w.StartArray();
    for (const v1::Lease* l : leases_by_owner[p.poller_id()]) {
      w.StartObject();
      String(w, "mapping", l->event_source_mapping_uuid());
      String(w, "shard", l->shard_id());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();

  std::map<std::string, std::vector<const v1::EventSourceMappingConfiguration*>> mappings_by_stream;
  for (const auto& m : f.mappings) mappings_by_stream[m.stream_name()].push_back(&m);
  // The records-in rate of every table stream's store stream (computed here, under the lock,
  // for the lambdas below).
  std::map<std::string, std::optional<double>> changes_rate;
  if (f.tables.has_value()) {
    for (const v1::TableDescription& t : *f.tables) {
      changes_rate[t.latest_stream_name()] = Rate("in/" + t.latest_stream_name());
    }
  }
  for (const auto* by_table : {&f.older_streams, &f.deleted_table_streams}) {
    for (const auto& [table, streams] : *by_table) {
      for (const v1::TableStream& s : streams) {
        changes_rate[s.stream_name()] = Rate("in/" + s.stream_name());
      }
    }
  }
  // A table stream's store stream, shards, changes/s and the mappings on it.
  auto table_stream_fields = [&](const std::string& stream) {
    String(w, "store_stream", stream);
    auto shards = f.table_stream_shards.find(stream);
    w.Key("open_shards");
    if (shards == f.table_stream_shards.end()) {  // the store stream is gone
      w.Null();
      w.Key("closed_shards");
      w.Null();
    } else {
      w.Int(shards->second.open);
      w.Key("closed_shards");
      w.Int(shards->second.closed);
    }
    OptionalDouble(w, "changes_per_second", changes_rate[stream]);
    w.Key("mappings");
    w.StartArray();
    for (const auto* m : mappings_by_stream[stream]) {
      w.StartObject();
      String(w, "uuid", m->uuid());
      String(w, "function",
             m->function_name().empty() ? m->function_endpoint() : m->function_name());
      String(w, "state", StateName(m->state()));
      w.EndObject();
    }
    w.EndArray();
  };
  // An earlier stream of a table (or a deleted table's): as latest_stream, with its state.
  auto older_stream = [&](const v1::TableStream& s) {
    w.StartObject();
    String(w, "arn", s.stream_arn());
    String(w, "label", s.stream_label());
    w.Key("enabled");
    w.Bool(s.enabled());
    w.Key("disabled_at");
    if (s.has_disabled_date_time()) {
      const std::string at = TimeText(FromProtoTimestamp(s.disabled_date_time()));
      w.String(at.data(), static_cast<rapidjson::SizeType>(at.size()));
    } else {
      w.Null();
    }
    table_stream_fields(s.stream_name());
    w.EndObject();
  };
  w.Key("tables");
  if (f.tables.has_value()) {
    w.StartArray();
    for (const v1::TableDescription& t : *f.tables) {
      w.StartObject();
      String(w, "name", t.table_name());
      EnumName(w, "status", v1::TableStatus_Name(t.table_status()), "TABLE_",
               t.table_status() == v1::TABLE_STATUS_UNSPECIFIED);
      EnumName(w, "billing_mode", v1::TableBillingMode_Name(t.billing_mode()), "BILLING_",
               t.billing_mode() == v1::TABLE_BILLING_MODE_UNSPECIFIED);
      String(w, "created", TimeText(FromProtoTimestamp(t.creation_date_time())));
      KeyAttribute(w, "partition_key", true, t.partition_key());
      KeyAttribute(w, "sort_key", t.has_sort_key() && !t.sort_key().attribute_name().empty(),
                   t.sort_key());
      const v1::StreamSpecification& spec = t.stream_specification();
      w.Key("stream_enabled");
      w.Bool(spec.stream_enabled());
      EnumName(
          w, "stream_view_type", v1::StreamViewType_Name(spec.stream_view_type()), "VIEW_",
          !spec.stream_enabled() || spec.stream_view_type() == v1::STREAM_VIEW_TYPE_UNSPECIFIED);
      w.Key("latest_stream");
      if (t.latest_stream_name().empty()) {
        w.Null();
      } else {
        w.StartObject();
        String(w, "arn", t.latest_stream_arn());
        String(w, "label", t.latest_stream_label());
        table_stream_fields(t.latest_stream_name());
        w.EndObject();
      }
      w.Key("older_streams");
      w.StartArray();
      if (auto older = f.older_streams.find(t.table_name()); older != f.older_streams.end()) {
        for (const v1::TableStream& s : older->second) {
          older_stream(s);
        }
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  } else {
    w.Null();
    String(w, "tables_note", f.tables_note);
  }
  w.Key("deleted_tables");
  if (!f.tables.has_value()) w.Null();
  if (f.tables.has_value()) w.StartArray();
  for (const auto& [name, streams] : f.deleted_table_streams) {
    w.StartObject();
    String(w, "name", name);
    const v1::TableStream& newest = streams.back();
    KeyAttribute(w, "partition_key", true, newest.partition_key());
    KeyAttribute(w, "sort_key",
                 newest.has_sort_key() && !newest.sort_key().attribute_name().empty(),
                 newest.sort_key());
    w.Key("streams");
    w.StartArray();
    for (const v1::TableStream& s : streams) older_stream(s);
    w.EndArray();
    w.EndObject();
  }
  if (f.tables.has_value()) w.EndArray();
  w.Key("tables_truncated");
  w.Bool(f.tables_truncated);

  w.Key("errors");
  w.StartObject();
  for (const auto& [section, status] : f.errors) String(w, section.c_str(), status.ToString());
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<double> PrometheusSample(const std::string& text, const std::string& name,
                                       const std::string& label, const std::string& value) {
  const std::string series = absl::StrCat(name, "{", label, "=\"", value, "\"} ");
  size_t at = 0;
  while ((at = text.find(series, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      const size_t begin = at + series.size();
      const size_t end = text.find_first_of(" \n", begin);
      double v;
      if (absl::SimpleAtod(text.substr(begin, end == std::string::npos ? end : end - begin), &v)) {
        return v;
      }
      return std::nullopt;
    }
    at += series.size();
  }
  return std::nullopt;
}

}  // namespace tributary::console
