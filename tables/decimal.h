// Arithmetic and order of DynamoDB numbers, kept as canonical decimal strings (ParseNumber in
// attribute_value.h): exact, never through floating point, so the 38 significant digits DynamoDB
// keeps stay exact ("12345678901234567890123456789012345678" + "1" is exact).
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_DECIMAL_H_
#define TRIBUTARY_TABLES_DECIMAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary::tables {

// <0, 0 or >0 as a is less than, equal to or greater than b, by numeric value. Precondition:
// both canonical.
int CompareNumbers(absl::string_view a, absl::string_view b);

// a + b and a − b, exact, in canonical form. Errors: INVALID_ARGUMENT when the exact result
// breaks DynamoDB's number rules (more than 38 significant digits, overflow, underflow), with
// ParseNumber's message. Precondition: both canonical.
absl::StatusOr<std::string> AddNumbers(absl::string_view a, absl::string_view b);
absl::StatusOr<std::string> SubtractNumbers(absl::string_view a, absl::string_view b);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_DECIMAL_H_
