#include "tables/stream_ids.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tributary::tables {

bool IsTableStreamName(absl::string_view stream_name) {
  return absl::StartsWith(stream_name, kTableStreamPrefix);
}

std::string TableStreamName(uint64_t table_id, absl::string_view label) {
  std::string digits;
  for (char c : label) {
    if (absl::ascii_isdigit(c)) digits.push_back(c);
  }
  return absl::StrCat(kTableStreamPrefix, table_id, ".", digits);
}

std::optional<uint64_t> TableIdOfStreamName(absl::string_view stream_name) {
  if (!IsTableStreamName(stream_name)) return std::nullopt;
  absl::string_view rest = stream_name.substr(sizeof(kTableStreamPrefix) - 1);
  const size_t dot = rest.find('.');
  uint64_t id = 0;
  if (dot == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, dot), &id)) {
    return std::nullopt;
  }
  return id;
}

std::string EdgeShardId(uint32_t index, uint64_t table_id) {
  return absl::StrFormat("shardId-%020u-%08x", index, static_cast<uint32_t>(table_id));
}

std::optional<uint32_t> StoreShardIndex(absl::string_view id) {
  uint64_t index = 0;
  if (id.size() != 37 || !absl::StartsWith(id, "shardId-") || id[28] != '-') return std::nullopt;
  for (char c : id.substr(8, 20)) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  if (!absl::SimpleAtoi(id.substr(8, 20), &index) || index > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(index);
}

std::optional<uint32_t> IndexOfStoreShardId(absl::string_view id) {
  uint32_t index = 0;
  if (!absl::StartsWith(id, "shardId-") || id.size() <= 8) return std::nullopt;
  for (char c : id.substr(8)) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  if (!absl::SimpleAtoi(id.substr(8), &index)) return std::nullopt;
  return index;
}

std::string EdgeSequenceNumber(absl::string_view store_seq) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(store_seq, &v)) return std::string(store_seq);
  return absl::StrFormat("1%020u", v);
}

std::optional<std::string> StoreSequenceNumber(absl::string_view edge) {
  if (edge.size() != 21 || edge[0] != '1') return std::nullopt;
  for (char c : edge) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  uint64_t v = 0;
  if (!absl::SimpleAtoi(edge.substr(1), &v)) return std::nullopt;  // refuses > 2^64-1
  return absl::StrCat(v);
}

std::string EventId(uint64_t table_id, uint32_t shard_index, absl::string_view store_seq) {
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(store_seq, &seq)) seq = 0;
  return absl::StrFormat("%08x%08x%016x", static_cast<uint32_t>(table_id), shard_index, seq);
}

std::string TableArn(absl::string_view region, absl::string_view account_id,
                     absl::string_view table_name) {
  return absl::StrCat("arn:aws:dynamodb:", region, ":", account_id, ":table/", table_name);
}

std::string TableStreamArn(absl::string_view region, absl::string_view account_id,
                           absl::string_view table_name, absl::string_view label) {
  return absl::StrCat(TableArn(region, account_id, table_name), "/stream/", label);
}

std::optional<std::pair<std::string, std::string>> ParseTableStreamArn(
    absl::string_view region, absl::string_view account_id, absl::string_view arn) {
  const std::string prefix = TableArn(region, account_id, "");
  const size_t at = arn.rfind("/stream/");
  if (!absl::StartsWith(arn, prefix) || at == absl::string_view::npos || at <= prefix.size() ||
      at + 8 >= arn.size()) {
    return std::nullopt;
  }
  return std::make_pair(std::string(arn.substr(prefix.size(), at - prefix.size())),
                        std::string(arn.substr(at + 8)));
}

}  // namespace tributary::tables
