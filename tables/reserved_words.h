// DynamoDB's reserved words: names an expression may not use as a plain attribute name (a
// #placeholder from ExpressionAttributeNames stands in for them). "status", "name", "data",
// "count", "size" and about 570 more; the list is DynamoDB's, compared case-insensitively.
//
// Pure function; thread-safe.
#ifndef TRIBUTARY_TABLES_RESERVED_WORDS_H_
#define TRIBUTARY_TABLES_RESERVED_WORDS_H_

#include "absl/strings/string_view.h"

namespace tributary::tables {

// Whether `name` is one of DynamoDB's reserved words (in any letter case).
bool IsReservedWord(absl::string_view name);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_RESERVED_WORDS_H_
