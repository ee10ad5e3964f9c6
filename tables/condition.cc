#include "tables/condition.h"

#include <algorithm>
#include <utility>

#include "tables/decimal.h"

namespace tributary::tables {
namespace {

using T = AttributeValue::Type;

int64_t Utf8Chars(const std::string& s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::optional<int64_t> SizeOf(const AttributeValue& v) {
  switch (v.type()) {
    case T::kS:
      return Utf8Chars(v.scalar());
    case T::kB:
      return static_cast<int64_t>(v.scalar().size());
    case T::kSS:
    case T::kNS:
    case T::kBS:
      return static_cast<int64_t>(v.set().size());
    case T::kL:
      return static_cast<int64_t>(v.list().size());
    case T::kM:
      return static_cast<int64_t>(v.map().size());
    default:
      return std::nullopt;
  }
}

bool Compare(Comparator c, const std::optional<AttributeValue>& a,
             const std::optional<AttributeValue>& b) {
  if (c == Comparator::kEq) return a && b && *a == *b;
  if (c == Comparator::kNe) return !(a && b && *a == *b);
  if (!a || !b) return false;
  std::optional<int> order = CompareScalars(*a, *b);
  if (!order) return false;
  switch (c) {
    case Comparator::kLt:
      return *order < 0;
    case Comparator::kLe:
      return *order <= 0;
    case Comparator::kGt:
      return *order > 0;
    case Comparator::kGe:
      return *order >= 0;
    default:
      return false;
  }
}

bool Contains(const AttributeValue& haystack, const AttributeValue& needle) {
  switch (haystack.type()) {
    case T::kS:
      return needle.type() == T::kS &&
             haystack.scalar().find(needle.scalar()) != std::string::npos;
    case T::kSS:
    case T::kNS:
    case T::kBS: {
      const T element = haystack.type() == T::kSS ? T::kS : haystack.type() == T::kNS ? T::kN
                                                                                      : T::kB;
      return needle.type() == element &&
             std::find(haystack.set().begin(), haystack.set().end(), needle.scalar()) !=
                 haystack.set().end();
    }
    case T::kL:
      return std::find(haystack.list().begin(), haystack.list().end(), needle) !=
             haystack.list().end();
    default:
      return false;
  }
}

bool Holds(const ConditionNode& node, const AttributeMap* item) {
  using K = ConditionNode::Kind;
  auto operand = [&](size_t i) { return EvaluateOperand(node.operands[i], item); };
  switch (node.kind) {
    case K::kAnd:
      return Holds(node.children[0], item) && Holds(node.children[1], item);
    case K::kOr:
      return Holds(node.children[0], item) || Holds(node.children[1], item);
    case K::kNot:
      return !Holds(node.children[0], item);
    case K::kCompare:
      return Compare(node.comparator, operand(0), operand(1));
    case K::kBetween: {
      std::optional<AttributeValue> a = operand(0);
      return Compare(Comparator::kGe, a, operand(1)) && Compare(Comparator::kLe, a, operand(2));
    }
    case K::kIn: {
      std::optional<AttributeValue> a = operand(0);
      for (size_t i = 1; i < node.operands.size(); ++i) {
        if (Compare(Comparator::kEq, a, operand(i))) return true;
      }
      return false;
    }
    case K::kAttributeExists:
      return operand(0).has_value();
    case K::kAttributeNotExists:
      return !operand(0).has_value();
    case K::kAttributeType: {
      std::optional<AttributeValue> a = operand(0), t = operand(1);
      return a && t && t->type() == T::kS && t->scalar() == TypeName(a->type());
    }
    case K::kBeginsWith: {
      std::optional<AttributeValue> a = operand(0), p = operand(1);
      return a && p && a->type() == p->type() && (a->type() == T::kS || a->type() == T::kB) &&
             a->scalar().compare(0, p->scalar().size(), p->scalar()) == 0;
    }
    case K::kContains: {
      std::optional<AttributeValue> a = operand(0), v = operand(1);
      return a && v && Contains(*a, *v);
    }
  }
  return false;
}

}  // namespace

std::optional<int> CompareScalars(const AttributeValue& a, const AttributeValue& b) {
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case T::kN:
      return CompareNumbers(a.scalar(), b.scalar());
    case T::kS:
    case T::kB: {
      const int c = a.scalar().compare(b.scalar());  // char_traits<char>: unsigned bytes
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    default:
      return std::nullopt;
  }
}

std::optional<AttributeValue> EvaluateOperand(const Operand& operand, const AttributeMap* item) {
  switch (operand.kind) {
    case Operand::Kind::kValue:
      return operand.value;
    case Operand::Kind::kPath: {
      const AttributeValue* v = item == nullptr ? nullptr : FindPath(*item, operand.path);
      if (v == nullptr) return std::nullopt;
      return *v;
    }
    case Operand::Kind::kSize: {
      const AttributeValue* v = item == nullptr ? nullptr : FindPath(*item, operand.path);
      if (v == nullptr) return std::nullopt;
      std::optional<int64_t> size = SizeOf(*v);
      if (!size) return std::nullopt;
      return AttributeValue::N(std::to_string(*size));
    }
    default:
      return std::nullopt;
  }
}

absl::StatusOr<Condition> ParseCondition(absl::string_view expression,
                                         ExpressionAttributes& attributes,
                                         absl::string_view parameter) {
  absl::StatusOr<ConditionNode> root = ParseConditionExpression(expression, parameter, attributes);
  if (!root.ok()) return root.status();
  return Condition{*std::move(root)};
}

absl::StatusOr<Condition> ParseCondition(absl::string_view expression,
                                         const std::map<std::string, std::string>& names) {
  ExpressionAttributes attributes(names, {});
  if (absl::Status s = attributes.Validate(); !s.ok()) return s;
  absl::StatusOr<Condition> condition = ParseCondition(expression, attributes);
  if (!condition.ok()) return condition.status();
  if (absl::Status s = attributes.CheckAllUsed(); !s.ok()) return s;
  return condition;
}

bool ConditionHolds(const Condition& condition, const AttributeMap* item) {
  return Holds(condition.root, item);
}

}  // namespace tributary::tables
