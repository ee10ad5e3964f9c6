// Iterator and list tokens: see tokens.h.
#include "shard_store/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/key_coding.h"
#include "common/stream_name.h"

namespace tributary::shard_store {

namespace {

constexpr char kIteratorVersion = 1;
constexpr size_t kIteratorBodySize = 1 + 8 + 4 + 8 + 8 + 8;
constexpr char kTokenVersion = 2;

}  // namespace

std::string Mac(absl::string_view secret, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), kMacSize);
}

std::string EncodeIterator(absl::string_view secret, const ShardCursor& cursor, int64_t now_ms) {
  std::string body(1, kIteratorVersion);
  AppendBigEndian64(&body, cursor.stream_id);
  AppendBigEndian32(&body, cursor.shard_index);
  AppendBigEndian64(&body, cursor.next_sequence_number);
  AppendBigEndian64(&body, static_cast<uint64_t>(cursor.min_arrival_ms));
  AppendBigEndian64(&body, static_cast<uint64_t>(now_ms));
  body += Mac(secret, body);
  std::string out;
  absl::WebSafeBase64Escape(body, &out);
  return out;
}

absl::StatusOr<ShardCursor> DecodeIterator(absl::string_view secret, absl::string_view text,
                                           int64_t now_ms) {
  if (text.empty()) return absl::InvalidArgumentError("shard_iterator: must be set");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(text, &raw)) {
    return absl::InvalidArgumentError("shard_iterator: malformed (not base64url)");
  }
  if (raw.size() != kIteratorBodySize + kMacSize || raw[0] != kIteratorVersion) {
    return absl::InvalidArgumentError(
        "shard_iterator: malformed (wrong length or version; not an iterator of this store)");
  }
  absl::string_view body(raw.data(), kIteratorBodySize);
  const std::string mac = Mac(secret, body);
  if (CRYPTO_memcmp(mac.data(), raw.data() + kIteratorBodySize, kMacSize) != 0) {
    return absl::InvalidArgumentError("shard_iterator: forged or corrupted (MAC check failed)");
  }
  ShardCursor c;
  c.stream_id = ReadBigEndian64(body.substr(1));
  c.shard_index = ReadBigEndian32(body.substr(9));
  c.next_sequence_number = ReadBigEndian64(body.substr(13));
  c.min_arrival_ms = static_cast<int64_t>(ReadBigEndian64(body.substr(21)));
  const int64_t issued = static_cast<int64_t>(ReadBigEndian64(body.substr(29)));
  const int64_t age = now_ms - issued;
  if (age > absl::ToInt64Milliseconds(kIteratorLifetime)) {
    return absl::FailedPreconditionError(
        absl::StrCat("shard_iterator: expired (issued ", age / 1000,
                     " s ago; iterators last 5 minutes): get a new one with GetShardIterator"));
  }
  return c;
}

std::string EncodeListShardsToken(absl::string_view secret, const ListShardsToken& token,
                                  int64_t now_ms) {
  std::string body(1, kTokenVersion);
  AppendBigEndian64(&body, token.stream_id);
  AppendBigEndian64(&body, static_cast<uint64_t>(token.after_index));
  AppendBigEndian32(&body, static_cast<uint32_t>(token.filter));
  AppendBigEndian64(&body, static_cast<uint64_t>(token.filter_ms));
  AppendBigEndian64(&body, static_cast<uint64_t>(now_ms));
  body += Mac(secret, body);
  std::string out;
  absl::WebSafeBase64Escape(body, &out);
  return out;
}

absl::StatusOr<ListShardsToken> DecodeListShardsToken(absl::string_view secret,
                                                      absl::string_view text, int64_t now_ms) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(text, &decoded) ||
      decoded.size() != 1 + 8 + 8 + 4 + 8 + 8 + kMacSize || decoded[0] != kTokenVersion) {
    return absl::InvalidArgumentError("next_token: malformed");
  }
  absl::string_view body(decoded.data(), decoded.size() - kMacSize);
  std::string mac = Mac(secret, body);
  if (CRYPTO_memcmp(mac.data(), decoded.data() + body.size(), kMacSize) != 0) {
    return absl::InvalidArgumentError("next_token: forged or corrupted (MAC check failed)");
  }
  ListShardsToken token;
  token.stream_id = ReadBigEndian64(body.substr(1));
  token.after_index = static_cast<int64_t>(ReadBigEndian64(body.substr(9)));
  token.filter = static_cast<v1::ShardFilterType>(ReadBigEndian32(body.substr(17)));
  token.filter_ms = static_cast<int64_t>(ReadBigEndian64(body.substr(21)));
  int64_t issued = static_cast<int64_t>(ReadBigEndian64(body.substr(29)));
  if (now_ms - issued > absl::ToInt64Milliseconds(kIteratorLifetime)) {
    return absl::FailedPreconditionError("next_token: expired (tokens last 5 minutes)");
  }
  return token;
}

namespace {
constexpr char kConsumersTokenVersion = 3;
constexpr size_t kConsumersTokenHead = 1 + 8 + 8;  // version, stream id, issue ms
}  // namespace

std::string EncodeListConsumersToken(absl::string_view secret, const ListConsumersToken& token,
                                     int64_t now_ms) {
  std::string body(1, kConsumersTokenVersion);
  AppendBigEndian64(&body, token.stream_id);
  AppendBigEndian64(&body, static_cast<uint64_t>(now_ms));
  body += token.after_name;
  body += Mac(secret, body);
  std::string out;
  absl::WebSafeBase64Escape(body, &out);
  return out;
}

absl::StatusOr<ListConsumersToken> DecodeListConsumersToken(absl::string_view secret,
                                                            absl::string_view text,
                                                            int64_t now_ms) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(text, &decoded) ||
      decoded.size() < kConsumersTokenHead + kMacSize || decoded[0] != kConsumersTokenVersion) {
    return absl::InvalidArgumentError("next_token: malformed");
  }
  absl::string_view body(decoded.data(), decoded.size() - kMacSize);
  const std::string mac = Mac(secret, body);
  if (CRYPTO_memcmp(mac.data(), decoded.data() + body.size(), kMacSize) != 0) {
    return absl::InvalidArgumentError("next_token: forged or corrupted (MAC check failed)");
  }
  ListConsumersToken token;
  token.stream_id = ReadBigEndian64(body.substr(1));
  const int64_t issued = static_cast<int64_t>(ReadBigEndian64(body.substr(9)));
  token.after_name = std::string(body.substr(kConsumersTokenHead));
  if (now_ms - issued > absl::ToInt64Milliseconds(kIteratorLifetime)) {
    return absl::FailedPreconditionError("next_token: expired (tokens last 5 minutes)");
  }
  return token;
}

std::string EncodeListStreamsToken(absl::string_view last_name) {
  std::string token;
  absl::WebSafeBase64Escape(absl::StrCat("L", last_name), &token);
  return token;
}

absl::StatusOr<std::string> DecodeListStreamsToken(absl::string_view text) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(text, &decoded) || decoded.empty() || decoded[0] != 'L' ||
      !IsValidStreamName(decoded.substr(1))) {
    return absl::InvalidArgumentError("next_token: malformed");
  }
  return decoded.substr(1);
}

}  // namespace tributary::shard_store
