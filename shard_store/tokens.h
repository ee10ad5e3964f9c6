// Tokens the store hands to clients and takes back (internal to shard_store/):
// shard iterators and ListShards next_tokens carry a position and their issue
// time, base64url-encoded with an HMAC-SHA256 over them keyed by the store's
// secret ("k" in the meta family), so a client cannot forge or alter one; they
// expire kIteratorLifetime after issue (wall clock: they cross processes).
// ListStreamConsumers next_tokens are made the same way.
// ListStreams next_tokens carry only the last stream name listed (no MAC: a
// request may name any start anyway).
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef TRIBUTARY_SHARD_STORE_TOKENS_H_
#define TRIBUTARY_SHARD_STORE_TOKENS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/streams.pb.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {

// The size of the MAC and of the store's secret that keys it.
inline constexpr size_t kMacSize = 32;

// HMAC-SHA256 of `data` keyed by `secret`.
std::string Mac(absl::string_view secret, absl::string_view data);

// A shard iterator: version, stream id, shard index, next sequence number,
// min arrival ms, issue ms (`now_ms`), MAC.
std::string EncodeIterator(absl::string_view secret, const ShardCursor& cursor, int64_t now_ms);
// Errors: INVALID_ARGUMENT ("shard_iterator: must be set / malformed ... / forged or corrupted
// ..."), FAILED_PRECONDITION ("shard_iterator: expired ...") when older than kIteratorLifetime
// at `now_ms`.
absl::StatusOr<ShardCursor> DecodeIterator(absl::string_view secret, absl::string_view text,
                                           int64_t now_ms);

// Where a ListShards listing continues.
struct ListShardsToken {
  uint64_t stream_id = 0;
  int64_t after_index = -1;  // list shards with index > after_index
  v1::ShardFilterType filter = v1::SHARD_FILTER_TYPE_UNSPECIFIED;
  int64_t filter_ms = 0;
};
std::string EncodeListShardsToken(absl::string_view secret, const ListShardsToken& token,
                                  int64_t now_ms);
// Errors: INVALID_ARGUMENT ("next_token: malformed / forged or corrupted ..."),
// FAILED_PRECONDITION ("next_token: expired ...").
absl::StatusOr<ListShardsToken> DecodeListShardsToken(absl::string_view secret,
                                                      absl::string_view text, int64_t now_ms);

// Where a ListStreamConsumers listing continues: after `after_name` in the
// stream with id `stream_id`. MAC'd and expiring like a ListShards token.
struct ListConsumersToken {
  uint64_t stream_id = 0;
  std::string after_name;
};
std::string EncodeListConsumersToken(absl::string_view secret, const ListConsumersToken& token,
                                     int64_t now_ms);
// Errors: INVALID_ARGUMENT ("next_token: malformed / forged or corrupted ..."),
// FAILED_PRECONDITION ("next_token: expired ...").
absl::StatusOr<ListConsumersToken> DecodeListConsumersToken(absl::string_view secret,
                                                            absl::string_view text, int64_t now_ms);

// ListStreams: base64url of "L" + the last stream name listed. Errors: INVALID_ARGUMENT
// ("next_token: malformed").
std::string EncodeListStreamsToken(absl::string_view last_name);
absl::StatusOr<std::string> DecodeListStreamsToken(absl::string_view text);

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_TOKENS_H_
