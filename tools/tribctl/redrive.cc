#include "tools/tribctl/redrive.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

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

}  // namespace

absl::Status Redrive(Context& c) {
  const std::string source = c.flags.StringOr("source-stream", "");
  const std::string target = c.flags.StringOr("to-stream", "");
  if (source.empty()) return UsageError("--source-stream is required (the failure stream)");
  if (target.empty()) return UsageError("--to-stream is required (where the records go)");
  const bool dry_run = c.flags.Bool("dry-run").value_or(false);
  const std::string state_path = c.flags.StringOr(
      "state-file", absl::StrCat("tribctl-redrive.", source, ".", target, ".state"));
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
