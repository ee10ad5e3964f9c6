// Bearer tokens and the principals they stand for, as servers read them from --auth_tokens_file.
// Tokens are stored hashed: the file holds the SHA-256 of each token, never the token, so a copy
// of the file (a backup, a config repository) does not let anyone call the servers.
//
// The file: one token a line, "SHA256HEX PRINCIPAL", where SHA256HEX is the 64 hex digits of
// the SHA-256 of the token's bytes (`printf %s "$TOKEN" | sha256sum`) and PRINCIPAL the name the
// call is made as (printable, no spaces; e.g. "tribctl-admin", "poller-1"). Blank lines and
// lines starting with '#' are ignored. Several tokens may name one principal; a hash may appear
// once.
//
//   # operators
//   5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 alice
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 poller-1
#ifndef TRIBUTARY_COMMON_AUTH_TOKENS_H_
#define TRIBUTARY_COMMON_AUTH_TOKENS_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary {

// The lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(absl::string_view data);

// An immutable table of token hashes → principals. Thread-safe (const after construction).
class AuthTokens {
 public:
  // Parses the file's text. Errors: INVALID_ARGUMENT naming the line number and what is wrong
  // (not 64 hex digits, no principal, a hash that appears twice, something after the
  // principal); the message never repeats a line's content.
  static absl::StatusOr<AuthTokens> Parse(absl::string_view text);
  // Reads and parses `path`. Errors: NOT_FOUND / PERMISSION_DENIED when it cannot be read
  // (naming the path); Parse's, prefixed with the path.
  static absl::StatusOr<AuthTokens> ReadFile(const std::string& path);

  // The principal `token` stands for, or nullopt for a token the table does not hold.
  std::optional<std::string> PrincipalOf(absl::string_view token) const;
  size_t size() const { return principal_by_hash_.size(); }

 private:
  absl::flat_hash_map<std::string, std::string> principal_by_hash_;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_AUTH_TOKENS_H_
