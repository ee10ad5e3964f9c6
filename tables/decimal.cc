// Numbers as (sign, integer digits, scale): value = ±digits × 10^−scale. Canonical strings have no
// exponent, so the scale is the length of the fraction; aligning two numbers pads the one with
// the smaller scale with zeros (at most a few hundred digits within DynamoDB's range).
#include "tables/decimal.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "tables/attribute_value.h"

namespace tributary::tables {
namespace {

struct Decimal {
  bool negative = false;
  std::string digits;  // no leading zeros; "" for zero
  size_t scale = 0;
};

Decimal Parse(absl::string_view canonical) {
  Decimal d;
  if (!canonical.empty() && canonical[0] == '-') {
    d.negative = true;
    canonical.remove_prefix(1);
  }
  const size_t point = canonical.find('.');
  if (point != absl::string_view::npos) {
    d.scale = canonical.size() - point - 1;
    d.digits = absl::StrCat(canonical.substr(0, point), canonical.substr(point + 1));
  } else {
    d.digits = std::string(canonical);
  }
  size_t lead = 0;
  while (lead < d.digits.size() && d.digits[lead] == '0') ++lead;
  d.digits.erase(0, lead);
  if (d.digits.empty()) d.negative = false;
  return d;
}

// The digits of `d` scaled to `scale` (≥ d.scale).
std::string Scaled(const Decimal& d, size_t scale) {
  return d.digits.empty() ? std::string() : d.digits + std::string(scale - d.scale, '0');
}

// Compares two digit strings without leading zeros.
int CompareMagnitudes(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::string AddMagnitudes(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int sum = carry;
    if (i < a.size()) sum += a[a.size() - 1 - i] - '0';
    if (i < b.size()) sum += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + sum % 10));
    carry = sum / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// a − b for a ≥ b.
std::string SubtractMagnitudes(const std::string& a, const std::string& b) {
  std::string out;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int diff = (a[a.size() - 1 - i] - '0') - borrow;
    if (i < b.size()) diff -= b[b.size() - 1 - i] - '0';
    borrow = diff < 0 ? 1 : 0;
    out.push_back(static_cast<char>('0' + (diff + 10) % 10));
  }
  while (out.size() > 1 && out.back() == '0') out.pop_back();
  std::reverse(out.begin(), out.end());
  return out == "0" ? std::string() : out;
}

absl::StatusOr<std::string> Sum(Decimal a, Decimal b) {
  const size_t scale = std::max(a.scale, b.scale);
  const std::string x = Scaled(a, scale), y = Scaled(b, scale);
  Decimal r;
  if (a.negative == b.negative) {
    r.digits = AddMagnitudes(x, y);
    r.negative = a.negative;
  } else if (CompareMagnitudes(x, y) >= 0) {
    r.digits = SubtractMagnitudes(x, y);
    r.negative = a.negative;
  } else {
    r.digits = SubtractMagnitudes(y, x);
    r.negative = b.negative;
  }
  if (r.digits.empty() || r.digits == "0") return std::string("0");
  return ParseNumber(absl::StrCat(r.negative ? "-" : "", r.digits, "E-", scale));
}

}  // namespace

int CompareNumbers(absl::string_view a, absl::string_view b) {
  const Decimal x = Parse(a), y = Parse(b);
  if (x.negative != y.negative) return x.negative ? -1 : 1;
  const size_t scale = std::max(x.scale, y.scale);
  const int magnitude = CompareMagnitudes(Scaled(x, scale), Scaled(y, scale));
  return x.negative ? -magnitude : magnitude;
}

absl::StatusOr<std::string> AddNumbers(absl::string_view a, absl::string_view b) {
  return Sum(Parse(a), Parse(b));
}

absl::StatusOr<std::string> SubtractNumbers(absl::string_view a, absl::string_view b) {
  Decimal y = Parse(b);
  if (!y.digits.empty()) y.negative = !y.negative;
  return Sum(Parse(a), y);
}

}  // namespace tributary::tables
