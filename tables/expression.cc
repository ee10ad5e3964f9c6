// The expression parsers: a lexer, then one recursive-descent parser per grammar over its tokens.
//
// Error order, as DynamoDB reports them: a syntax error stops the parse at once; every other
// error (reserved word, undefined placeholder, unknown or misused function, operand type, path
// overlap, redundant parentheses) is noted — the first one wins — and reported once the whole
// expression parsed, so a syntax error later in the text takes precedence over them.
#include "tables/expression.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "tables/decimal.h"
#include "tables/reserved_words.h"

namespace tributary::tables {
namespace {

enum class Tok { kName, kNamePlaceholder, kValuePlaceholder, kNumber, kPunct, kInvalid, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  size_t begin = 0;  // byte offsets in the expression
  size_t end = 0;
};

bool IsWordChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

std::vector<Token> Lex(absl::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    Token t;
    t.begin = i;
    if (absl::ascii_isalpha(c) || c == '_') {
      t.kind = Tok::kName;
      while (i < text.size() && IsWordChar(text[i])) ++i;
    } else if (absl::ascii_isdigit(c)) {
      t.kind = Tok::kNumber;
      while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
    } else if (c == '#' || c == ':') {
      ++i;
      while (i < text.size() && IsWordChar(text[i])) ++i;
      t.kind = i - t.begin == 1 ? Tok::kInvalid
               : c == '#'       ? Tok::kNamePlaceholder
                                : Tok::kValuePlaceholder;
    } else if ((c == '<' || c == '>') && i + 1 < text.size() &&
               (text[i + 1] == '=' || (c == '<' && text[i + 1] == '>'))) {
      t.kind = Tok::kPunct;
      i += 2;
    } else if (absl::string_view("()[],.=<>+-").find(c) != absl::string_view::npos) {
      t.kind = Tok::kPunct;
      ++i;
    } else {
      t.kind = Tok::kInvalid;
      ++i;  // a whole UTF-8 sequence, so the message shows the character
      while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    }
    t.end = i;
    t.text = std::string(text.substr(t.begin, t.end - t.begin));
    tokens.push_back(std::move(t));
  }
  Token end;
  end.begin = end.end = text.size();
  tokens.push_back(end);
  return tokens;
}

const char* TypeWord(AttributeValue::Type t) {
  switch (t) {
    case AttributeValue::Type::kS:
      return "STRING";
    case AttributeValue::Type::kN:
      return "NUMBER";
    case AttributeValue::Type::kB:
      return "BINARY";
    case AttributeValue::Type::kNull:
      return "NULL";
    case AttributeValue::Type::kBool:
      return "BOOLEAN";
    case AttributeValue::Type::kL:
      return "LIST";
    case AttributeValue::Type::kM:
      return "MAP";
    default:
      return TypeName(t);
  }
}

bool IsSet(AttributeValue::Type t) {
  return t == AttributeValue::Type::kSS || t == AttributeValue::Type::kNS ||
         t == AttributeValue::Type::kBS;
}

// Two paths overlap when one is a prefix of the other, and conflict when they part at a step
// that is a map member in one and a list element in the other. Returns the error, or OK.
absl::Status CheckPathsApart(const DocumentPath& a, const DocumentPath& b) {
  const size_t n = std::min(a.elements.size(), b.elements.size());
  for (size_t i = 0; i < n; ++i) {
    const PathElement& x = a.elements[i];
    const PathElement& y = b.elements[i];
    if (x.is_index() != y.is_index()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Two document paths conflict with each other; must remove or rewrite one of these "
          "paths; path one: ",
          a.ToString(), ", path two: ", b.ToString()));
    }
    if (!(x == y)) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "Two document paths overlap with each other; must remove or rewrite one of these paths; "
      "path one: ",
      a.ToString(), ", path two: ", b.ToString()));
}

// The type an operand is known to have before any item is seen, if any.
std::optional<AttributeValue::Type> KnownType(const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      return o.value.type();
    case Operand::Kind::kSize:
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus:
      return AttributeValue::Type::kN;
    case Operand::Kind::kListAppend:
      return AttributeValue::Type::kL;
    default:
      return std::nullopt;
  }
}

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view parameter, ExpressionAttributes& attributes)
      : text_(text), parameter_(parameter), attributes_(attributes), tokens_(Lex(text)) {}

  // Checks length and emptiness before any parse.
  absl::Status Precheck() const {
    if (text_.size() > kMaxExpressionBytes) {
      return Error(absl::StrCat("Expression size has exceeded the maximum allowed size; "
                                "expression size: ",
                                text_.size()));
    }
    if (tokens_.size() == 1) return Error("The expression can not be empty;");
    return absl::OkStatus();
  }

  absl::StatusOr<ConditionNode> Condition() {
    ASSIGN_OR_RETURN(ConditionNode node, Or());
    if (!AtEnd()) return Syntax();
    RETURN_IF_ERROR(Noted());
    return node;
  }

  absl::StatusOr<UpdateExpression> Update() {
    UpdateExpression update;
    std::set<std::string> sections;
    do {
      const Token& t = Peek();
      const std::string keyword = absl::AsciiStrToUpper(t.text);
      if (t.kind != Tok::kName ||
          (keyword != "SET" && keyword != "REMOVE" && keyword != "ADD" && keyword != "DELETE")) {
        return Syntax();
      }
      ++pos_;
      if (!sections.insert(keyword).second) {
        Note(absl::StrCat("The \"", keyword,
                          "\" section can only be used once in an update expression;"));
      }
      do {
        ASSIGN_OR_RETURN(UpdateAction action, Action(keyword));
        for (const UpdateAction& earlier : update.actions) {
          NoteStatus(CheckPathsApart(earlier.path, action.path));
        }
        update.actions.push_back(std::move(action));
      } while (Accept(","));
    } while (!AtEnd());
    RETURN_IF_ERROR(Noted());
    return update;
  }

  absl::StatusOr<Projection> ProjectionList() {
    Projection projection;
    do {
      ASSIGN_OR_RETURN(DocumentPath path, Path());
      for (const DocumentPath& earlier : projection.paths) {
        NoteStatus(CheckPathsApart(earlier, path));
      }
      projection.paths.push_back(std::move(path));
    } while (Accept(","));
    if (!AtEnd()) return Syntax();
    RETURN_IF_ERROR(Noted());
    return projection;
  }

  absl::Status Error(absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat("Invalid ", parameter_, ": ", why));
  }

 private:
  const Token& Peek(size_t k = 0) const {
    return tokens_[std::min(pos_ + k, tokens_.size() - 1)];
  }
  bool AtEnd() const { return Peek().kind == Tok::kEnd; }
  bool IsPunct(absl::string_view p, size_t k = 0) const {
    return Peek(k).kind == Tok::kPunct && Peek(k).text == p;
  }
  bool IsKeyword(absl::string_view keyword, size_t k = 0) const {
    return Peek(k).kind == Tok::kName && absl::EqualsIgnoreCase(Peek(k).text, keyword);
  }
  bool IsConditionKeyword(size_t k = 0) const {
    return IsKeyword("AND", k) || IsKeyword("OR", k) || IsKeyword("NOT", k) ||
           IsKeyword("BETWEEN", k) || IsKeyword("IN", k);
  }
  bool Accept(absl::string_view p) {
    if (!IsPunct(p)) return false;
    ++pos_;
    return true;
  }
  absl::Status Expect(absl::string_view p) { return Accept(p) ? absl::OkStatus() : Syntax(); }

  // "Syntax error; token: \"x\", near: \"a x b\"": the token with its neighbours.
  absl::Status Syntax() const {
    const Token& t = Peek();
    const size_t from = pos_ > 0 ? tokens_[pos_ - 1].begin : t.begin;
    const size_t to = t.kind == Tok::kEnd ? text_.size() : Peek(1).kind == Tok::kEnd ? t.end
                                                                                      : Peek(1).end;
    return Error(absl::StrCat("Syntax error; token: \"",
                              t.kind == Tok::kEnd ? "<EOF>" : t.text, "\", near: \"",
                              text_.substr(from, to - from), "\""));
  }

  void Note(absl::string_view why) {
    if (noted_.ok()) noted_ = Error(why);
  }
  void NoteStatus(const absl::Status& s) {
    if (!s.ok()) Note(s.message());
  }
  absl::Status Noted() const { return noted_; }

  // path ::= name {. name | [digits]}
  absl::StatusOr<DocumentPath> Path() {
    DocumentPath path;
    ASSIGN_OR_RETURN(PathElement first, PathName());
    path.elements.push_back(std::move(first));
    while (true) {
      if (Accept(".")) {
        ASSIGN_OR_RETURN(PathElement member, PathName());
        path.elements.push_back(std::move(member));
      } else if (Accept("[")) {
        if (Peek().kind != Tok::kNumber) return Syntax();
        int64_t index = 0;
        if (!absl::SimpleAtoi(Peek().text, &index) || index > (int64_t{1} << 31)) {
          return Syntax();
        }
        ++pos_;
        RETURN_IF_ERROR(Expect("]"));
        PathElement element;
        element.index = index;
        path.elements.push_back(std::move(element));
      } else {
        break;
      }
    }
    if (path.elements.size() > static_cast<size_t>(kMaxAttributeDepth)) {
      Note("The document path has too many nesting levels; nesting levels: " +
           std::to_string(path.elements.size()));
    }
    return path;
  }

  absl::StatusOr<PathElement> PathName() {
    const Token& t = Peek();
    PathElement element;
    if (t.kind == Tok::kName && !IsConditionKeyword()) {
      if (IsReservedWord(t.text)) {
        Note(absl::StrCat("Attribute name is a reserved keyword; reserved keyword: ", t.text));
      }
      element.name = t.text;
    } else if (t.kind == Tok::kNamePlaceholder) {
      const std::string* name = attributes_.Name(t.text);
      if (name == nullptr) {
        Note(absl::StrCat("An expression attribute name used in the document path is not "
                          "defined; attribute name: ",
                          t.text));
      } else {
        element.name = *name;
      }
    } else {
      return Syntax();
    }
    ++pos_;
    return element;
  }

  absl::StatusOr<Operand> ValueOperand() {
    const Token& t = Peek();
    if (t.kind != Tok::kValuePlaceholder) return Syntax();
    Operand o;
    o.kind = Operand::Kind::kValue;
    const AttributeValue* value = attributes_.Value(t.text);
    if (value == nullptr) {
      Note(absl::StrCat(
          "An expression attribute value used in expression is not defined; attribute value: ",
          t.text));
    } else {
      o.value = *value;
    }
    ++pos_;
    return o;
  }

  // name '(' operand {, operand} ')', the arguments parsed by `argument`.
  template <typename ArgumentParser>
  absl::StatusOr<std::vector<Operand>> Arguments(ArgumentParser argument) {
    std::vector<Operand> args;
    RETURN_IF_ERROR(Expect("("));
    do {
      ASSIGN_OR_RETURN(Operand o, argument());
      args.push_back(std::move(o));
    } while (Accept(","));
    RETURN_IF_ERROR(Expect(")"));
    return args;
  }

  void CheckOperandCount(absl::string_view function, const std::vector<Operand>& args,
                         size_t expected) {
    if (args.size() != expected) {
      Note(absl::StrCat("Incorrect number of operands for operator or function; operator or "
                        "function: ",
                        function, ", number of operands: ", args.size()));
    }
  }
  void RequirePath(absl::string_view function, const Operand& o) {
    if (o.kind != Operand::Kind::kPath) {
      Note(absl::StrCat("Operator or function requires a document path; operator or function: ",
                        function));
    }
  }
  void RequireType(absl::string_view function, const Operand& o,
                   std::initializer_list<AttributeValue::Type> allowed) {
    std::optional<AttributeValue::Type> type = KnownType(o);
    if (type && std::find(allowed.begin(), allowed.end(), *type) == allowed.end()) {
      Note(absl::StrCat("Incorrect operand type for operator or function; operator or function: ",
                        function, ", operand type: ", TypeName(*type)));
    }
  }
  void RequireDistinct(absl::string_view op, const Operand& a, const Operand& b) {
    if (a.kind == Operand::Kind::kPath && b.kind == Operand::Kind::kPath && a.path == b.path) {
      Note(absl::StrCat("The first operand must be distinct from the remaining operands for this "
                        "operator or function; operator: ",
                        op, ", first operand: ", a.path.ToString()));
    }
  }

  static bool IsBooleanFunction(absl::string_view name) {
    return name == "attribute_exists" || name == "attribute_not_exists" ||
           name == "attribute_type" || name == "begins_with" || name == "contains";
  }

  // --- Conditions ---------------------------------------------------------------------------
  absl::StatusOr<ConditionNode> Or() {
    ASSIGN_OR_RETURN(ConditionNode node, And());
    while (IsKeyword("OR")) {
      ++pos_;
      ASSIGN_OR_RETURN(ConditionNode right, And());
      ConditionNode both;
      both.kind = ConditionNode::Kind::kOr;
      both.children = {std::move(node), std::move(right)};
      node = std::move(both);
    }
    return node;
  }

  absl::StatusOr<ConditionNode> And() {
    ASSIGN_OR_RETURN(ConditionNode node, Not());
    while (IsKeyword("AND")) {
      ++pos_;
      ASSIGN_OR_RETURN(ConditionNode right, Not());
      ConditionNode both;
      both.kind = ConditionNode::Kind::kAnd;
      both.children = {std::move(node), std::move(right)};
      node = std::move(both);
    }
    return node;
  }

  absl::StatusOr<ConditionNode> Not() {
    if (!IsKeyword("NOT")) return Primary();
    ++pos_;
    ASSIGN_OR_RETURN(ConditionNode child, Not());
    ConditionNode node;
    node.kind = ConditionNode::Kind::kNot;
    node.children.push_back(std::move(child));
    return node;
  }

  absl::StatusOr<ConditionNode> Primary() {
    if (!IsPunct("(")) return Predicate();
    const size_t open = pos_++;
    ASSIGN_OR_RETURN(ConditionNode inner, Or());
    if (!IsPunct(")")) return Syntax();
    const size_t close = pos_++;
    closing_[open] = close;
    // "((a = :v))": the inner group spans everything between our parentheses.
    auto inner_group = closing_.find(open + 1);
    if (inner_group != closing_.end() && inner_group->second == close - 1) {
      Note("The expression has redundant parentheses;");
    }
    return inner;
  }

  // A function call in a condition: a boolean function (a condition) or size (an operand).
  struct Call {
    std::string name;
    std::vector<Operand> args;
  };
  absl::StatusOr<Call> FunctionCall() {
    Call call;
    call.name = Peek().text;
    ++pos_;
    ASSIGN_OR_RETURN(call.args, Arguments([this] { return ConditionOperand(); }));
    return call;
  }

  bool AtFunctionCall() const { return Peek().kind == Tok::kName && IsPunct("(", 1); }

  // operand ::= path | :value | size(path)
  absl::StatusOr<Operand> ConditionOperand() {
    if (Peek().kind == Tok::kValuePlaceholder) return ValueOperand();
    if (AtFunctionCall()) {
      ASSIGN_OR_RETURN(Call call, FunctionCall());
      return SizeOperand(call);
    }
    Operand o;
    o.kind = Operand::Kind::kPath;
    ASSIGN_OR_RETURN(o.path, Path());
    return o;
  }

  Operand SizeOperand(const Call& call) {
    if (call.name != "size") {
      Note(IsBooleanFunction(call.name)
               ? absl::StrCat("The function is not allowed to be used this way in an "
                              "expression; function: ",
                              call.name)
               : absl::StrCat("Invalid function name; function: ", call.name));
    }
    Operand o;
    o.kind = Operand::Kind::kSize;
    CheckOperandCount(call.name, call.args, 1);
    if (!call.args.empty()) {
      RequirePath(call.name, call.args[0]);
      o.path = call.args[0].path;
    }
    return o;
  }

  std::optional<Comparator> PeekComparator() const {
    if (Peek().kind != Tok::kPunct) return std::nullopt;
    const std::string& p = Peek().text;
    if (p == "=") return Comparator::kEq;
    if (p == "<>") return Comparator::kNe;
    if (p == "<") return Comparator::kLt;
    if (p == "<=") return Comparator::kLe;
    if (p == ">") return Comparator::kGt;
    if (p == ">=") return Comparator::kGe;
    return std::nullopt;
  }

  absl::StatusOr<ConditionNode> Predicate() {
    Operand left;
    if (AtFunctionCall()) {
      ASSIGN_OR_RETURN(Call call, FunctionCall());
      const bool compared = PeekComparator() || IsKeyword("BETWEEN") || IsKeyword("IN");
      if (IsBooleanFunction(call.name) && !compared) return BooleanFunction(call);
      if (!IsBooleanFunction(call.name) && call.name != "size") {
        Note(absl::StrCat("Invalid function name; function: ", call.name));
        if (!compared) return ConditionNode();  // the noted error is what the caller gets
      }
      if (call.name == "size" && !compared) {
        Note("The function is not allowed to be used this way in an expression; function: size");
        return Syntax();  // "size(a)" alone is no condition
      }
      left = SizeOperand(call);
    } else {
      ASSIGN_OR_RETURN(left, ConditionOperand());
    }
    ConditionNode node;
    if (std::optional<Comparator> c = PeekComparator()) {
      ++pos_;
      ASSIGN_OR_RETURN(Operand right, ConditionOperand());
      RequireDistinct(ComparatorText(*c), left, right);
      node.kind = ConditionNode::Kind::kCompare;
      node.comparator = *c;
      node.operands = {std::move(left), std::move(right)};
      return node;
    }
    if (IsKeyword("BETWEEN")) {
      ++pos_;
      ASSIGN_OR_RETURN(Operand low, ConditionOperand());
      if (!IsKeyword("AND")) return Syntax();
      ++pos_;
      ASSIGN_OR_RETURN(Operand high, ConditionOperand());
      CheckBetweenBounds(low, high);
      node.kind = ConditionNode::Kind::kBetween;
      node.operands = {std::move(left), std::move(low), std::move(high)};
      return node;
    }
    if (IsKeyword("IN")) {
      ++pos_;
      ASSIGN_OR_RETURN(std::vector<Operand> list,
                             Arguments([this] { return ConditionOperand(); }));
      if (list.size() > static_cast<size_t>(kMaxInOperands)) {
        Note(absl::StrCat("The IN operator is provided with too many operands; number of "
                          "operands: ",
                          list.size()));
      }
      node.kind = ConditionNode::Kind::kIn;
      node.operands.push_back(std::move(left));
      for (Operand& o : list) node.operands.push_back(std::move(o));
      return node;
    }
    return Syntax();
  }

  void CheckBetweenBounds(const Operand& low, const Operand& high) {
    if (low.kind != Operand::Kind::kValue || high.kind != Operand::Kind::kValue) return;
    const AttributeValue& a = low.value;
    const AttributeValue& b = high.value;
    const std::string bounds = absl::StrCat("lower bound operand: AttributeValue: ", ValueText(a),
                                            ", upper bound operand: AttributeValue: ",
                                            ValueText(b));
    if (a.type() != b.type()) {
      Note(absl::StrCat(
          "The BETWEEN operator requires same data type for lower and upper bounds; ", bounds));
      return;
    }
    const bool greater =
        (a.type() == AttributeValue::Type::kN && CompareNumbers(a.scalar(), b.scalar()) > 0) ||
        ((a.type() == AttributeValue::Type::kS || a.type() == AttributeValue::Type::kB) &&
         a.scalar() > b.scalar());
    if (greater) {
      Note(absl::StrCat("The BETWEEN operator requires upper bound to be greater than or equal "
                        "to lower bound; ",
                        bounds));
    }
  }

  ConditionNode BooleanFunction(Call& call) {
    using K = ConditionNode::Kind;
    using T = AttributeValue::Type;
    ConditionNode node;
    const std::string& f = call.name;
    const size_t count = f == "attribute_exists" || f == "attribute_not_exists" ? 1 : 2;
    CheckOperandCount(f, call.args, count);
    if (call.args.size() == count) {
      RequirePath(f, call.args[0]);
      if (count == 2) RequireDistinct(f, call.args[0], call.args[1]);
    }
    if (f == "attribute_exists") {
      node.kind = K::kAttributeExists;
    } else if (f == "attribute_not_exists") {
      node.kind = K::kAttributeNotExists;
    } else if (f == "attribute_type") {
      node.kind = K::kAttributeType;
      if (call.args.size() == 2) {
        RequireType(f, call.args[1], {T::kS});
        const Operand& t = call.args[1];
        static const char* const kTypes[] = {"S", "N", "B", "BOOL", "NULL",
                                             "M", "L", "SS", "NS", "BS"};
        if (t.kind == Operand::Kind::kValue && t.value.type() == T::kS &&
            std::find_if(std::begin(kTypes), std::end(kTypes), [&](const char* n) {
              return t.value.scalar() == n;
            }) == std::end(kTypes)) {
          Note(absl::StrCat("Invalid attribute type name found; type: ", t.value.scalar(),
                            ", valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"));
        }
      }
    } else if (f == "begins_with") {
      node.kind = K::kBeginsWith;
      for (const Operand& o : call.args) RequireType(f, o, {T::kS, T::kB});
    } else {
      node.kind = K::kContains;
    }
    node.operands = std::move(call.args);
    return node;
  }

  // --- Updates ------------------------------------------------------------------------------
  absl::StatusOr<UpdateAction> Action(const std::string& section) {
    UpdateAction action;
    ASSIGN_OR_RETURN(action.path, Path());
    if (section == "REMOVE") {
      action.kind = UpdateAction::Kind::kRemove;
      return action;
    }
    if (section == "SET") {
      action.kind = UpdateAction::Kind::kSet;
      RETURN_IF_ERROR(Expect("="));
      ASSIGN_OR_RETURN(action.value, SetValue());
      return action;
    }
    action.kind = section == "ADD" ? UpdateAction::Kind::kAdd : UpdateAction::Kind::kDelete;
    ASSIGN_OR_RETURN(action.value, ValueOperand());
    const AttributeValue::Type type = action.value.value.type();
    const bool ok = section == "ADD" ? type == AttributeValue::Type::kN || IsSet(type)
                                     : IsSet(type);
    if (!ok) {
      Note(absl::StrCat("Incorrect operand type for operator or function; operator: ", section,
                        ", operand type: ", TypeWord(type)));
    }
    return action;
  }

  // value ::= term | term + term | term - term
  absl::StatusOr<Operand> SetValue() {
    ASSIGN_OR_RETURN(Operand left, Term());
    if (!IsPunct("+") && !IsPunct("-")) return left;
    const bool plus = IsPunct("+");
    ++pos_;
    ASSIGN_OR_RETURN(Operand right, Term());
    Operand o;
    o.kind = plus ? Operand::Kind::kPlus : Operand::Kind::kMinus;
    RequireType(plus ? "+" : "-", left, {AttributeValue::Type::kN});
    RequireType(plus ? "+" : "-", right, {AttributeValue::Type::kN});
    o.args = {std::move(left), std::move(right)};
    return o;
  }

  // term ::= path | :value | if_not_exists(path, term) | list_append(term, term)
  absl::StatusOr<Operand> Term() {
    if (Peek().kind == Tok::kValuePlaceholder) return ValueOperand();
    if (!AtFunctionCall()) {
      Operand o;
      o.kind = Operand::Kind::kPath;
      ASSIGN_OR_RETURN(o.path, Path());
      return o;
    }
    const std::string name = Peek().text;
    ++pos_;
    ASSIGN_OR_RETURN(std::vector<Operand> args, Arguments([this] { return Term(); }));
    Operand o;
    if (name == "if_not_exists") {
      o.kind = Operand::Kind::kIfNotExists;
      CheckOperandCount(name, args, 2);
      if (args.size() == 2) RequirePath(name, args[0]);
    } else if (name == "list_append") {
      o.kind = Operand::Kind::kListAppend;
      CheckOperandCount(name, args, 2);
      for (const Operand& a : args) RequireType(name, a, {AttributeValue::Type::kL});
    } else {
      Note(absl::StrCat("Invalid function name; function: ", name));
    }
    if (o.kind == Operand::Kind::kIfNotExists && !args.empty()) {
      o.path = args[0].path;
      args.erase(args.begin());
    }
    o.args = std::move(args);
    return o;
  }

  const absl::string_view text_;
  const std::string parameter_;
  ExpressionAttributes& attributes_;
  const std::vector<Token> tokens_;
  size_t pos_ = 0;
  absl::Status noted_;
  std::map<size_t, size_t> closing_;  // '(' token index → its ')' index
};

absl::Status Plain(absl::string_view message) { return absl::InvalidArgumentError(message); }

}  // namespace

std::string DocumentPath::ToString() const {
  return absl::StrCat("[",
                      absl::StrJoin(elements, ", ",
                                    [](std::string* out, const PathElement& e) {
                                      if (e.is_index()) {
                                        absl::StrAppend(out, "[", e.index, "]");
                                      } else {
                                        out->append(e.name);
                                      }
                                    }),
                      "]");
}

const AttributeValue* FindPath(const AttributeMap& item, const DocumentPath& path) {
  if (path.elements.empty() || path.elements[0].is_index()) return nullptr;
  const AttributeValue* v = FindAttribute(item, path.elements[0].name);
  for (size_t i = 1; v != nullptr && i < path.elements.size(); ++i) {
    const PathElement& e = path.elements[i];
    if (e.is_index()) {
      if (v->type() != AttributeValue::Type::kL ||
          e.index >= static_cast<int64_t>(v->list().size())) {
        return nullptr;
      }
      v = &v->list()[static_cast<size_t>(e.index)];
    } else {
      if (v->type() != AttributeValue::Type::kM) return nullptr;
      v = FindAttribute(v->map(), e.name);
    }
  }
  return v;
}

const char* ComparatorText(Comparator c) {
  switch (c) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "<>";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
  }
  return "?";
}

std::string ValueText(const AttributeValue& value) {
  switch (value.type()) {
    case AttributeValue::Type::kS:
    case AttributeValue::Type::kN:
      return absl::StrCat("{", TypeName(value.type()), ":", value.scalar(), "}");
    case AttributeValue::Type::kB:
      return absl::StrCat("{B:", absl::Base64Escape(value.scalar()), "}");
    default:
      return value.DebugString();
  }
}

ExpressionAttributes::ExpressionAttributes(std::map<std::string, std::string> names,
                                           std::map<std::string, AttributeValue> values)
    : names_(std::move(names)), values_(std::move(values)) {}

absl::Status ExpressionAttributes::Validate() const {
  auto valid_key = [](const std::string& key, char sigil) {
    return key.size() > 1 && key[0] == sigil &&
           std::all_of(key.begin() + 1, key.end(), IsWordChar);
  };
  for (const auto& [key, name] : names_) {
    if (!valid_key(key, '#')) {
      return Plain(absl::StrCat(
          "ExpressionAttributeNames contains invalid key: Syntax error; key: \"", key, "\""));
    }
    if (name.empty()) {
      return Plain(absl::StrCat(
          "ExpressionAttributeNames contains invalid value: Empty attribute name for key ",
          key));
    }
  }
  for (const auto& [key, value] : values_) {
    if (!valid_key(key, ':')) {
      return Plain(absl::StrCat(
          "ExpressionAttributeValues contains invalid key: Syntax error; key: \"", key, "\""));
    }
  }
  return absl::OkStatus();
}

const std::string* ExpressionAttributes::Name(absl::string_view placeholder) {
  auto it = names_.find(std::string(placeholder));
  if (it == names_.end()) return nullptr;
  used_names_.insert(it->first);
  return &it->second;
}

const AttributeValue* ExpressionAttributes::Value(absl::string_view placeholder) {
  auto it = values_.find(std::string(placeholder));
  if (it == values_.end()) return nullptr;
  used_values_.insert(it->first);
  return &it->second;
}

absl::Status ExpressionAttributes::CheckAllUsed() const {
  std::vector<std::string> unused;
  for (const auto& [key, name] : names_) {
    if (used_names_.count(key) == 0) unused.push_back(key);
  }
  if (!unused.empty()) {
    return Plain(absl::StrCat("Value provided in ExpressionAttributeNames unused in expressions: "
                              "keys: {",
                              absl::StrJoin(unused, ", "), "}"));
  }
  for (const auto& [key, value] : values_) {
    if (used_values_.count(key) == 0) unused.push_back(key);
  }
  if (!unused.empty()) {
    return Plain(absl::StrCat("Value provided in ExpressionAttributeValues unused in "
                              "expressions: keys: {",
                              absl::StrJoin(unused, ", "), "}"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConditionNode> ParseConditionExpression(absl::string_view text,
                                                       absl::string_view parameter,
                                                       ExpressionAttributes& attributes) {
  Parser parser(text, parameter, attributes);
  if (absl::Status s = parser.Precheck(); !s.ok()) return s;
  return parser.Condition();
}

absl::StatusOr<UpdateExpression> ParseUpdateExpression(absl::string_view text,
                                                       ExpressionAttributes& attributes) {
  Parser parser(text, "UpdateExpression", attributes);
  if (absl::Status s = parser.Precheck(); !s.ok()) return s;
  return parser.Update();
}

absl::StatusOr<Projection> ParseProjectionExpression(absl::string_view text,
                                                     ExpressionAttributes& attributes) {
  Parser parser(text, "ProjectionExpression", attributes);
  if (absl::Status s = parser.Precheck(); !s.ok()) return s;
  return parser.ProjectionList();
}

absl::StatusOr<KeyCondition> ParseKeyConditionExpression(absl::string_view text,
                                                         ExpressionAttributes& attributes,
                                                         const KeySchema& schema) {
  absl::StatusOr<ConditionNode> parsed =
      ParseConditionExpression(text, "KeyConditionExpression", attributes);
  if (!parsed.ok()) return parsed.status();
  // The conditions joined by AND, in order.
  std::vector<ConditionNode> leaves;
  std::vector<ConditionNode> pending = {*std::move(parsed)};
  while (!pending.empty()) {
    ConditionNode node = std::move(pending.back());
    pending.pop_back();
    if (node.kind == ConditionNode::Kind::kAnd) {
      pending.push_back(std::move(node.children[1]));
      pending.push_back(std::move(node.children[0]));
    } else {
      leaves.push_back(std::move(node));
    }
  }
  using K = ConditionNode::Kind;
  const bool have_partition = std::any_of(leaves.begin(), leaves.end(), [&](const auto& l) {
    for (const Operand& o : l.operands) {
      if (o.kind == Operand::Kind::kPath && o.path.elements.size() == 1 &&
          o.path.elements[0].name == schema.partition_key.name) {
        return true;
      }
    }
    return false;
  });
  std::map<std::string, ConditionNode> by_key;
  for (ConditionNode& leaf : leaves) {
    const char* op = leaf.kind == K::kOr                   ? "OR"
                     : leaf.kind == K::kNot                ? "NOT"
                     : leaf.kind == K::kIn                 ? "IN"
                     : leaf.kind == K::kAttributeExists    ? "attribute_exists"
                     : leaf.kind == K::kAttributeNotExists ? "attribute_not_exists"
                     : leaf.kind == K::kAttributeType      ? "attribute_type"
                     : leaf.kind == K::kContains           ? "contains"
                     : leaf.kind == K::kCompare && leaf.comparator == Comparator::kNe ? "<>"
                                                                                       : nullptr;
    if (op != nullptr) {
      return Plain(absl::StrCat("Invalid operator used in KeyConditionExpression: ", op));
    }
    // "a = :v" or ":v = a" (the comparison turned around).
    if (leaf.kind == K::kCompare && leaf.operands[0].kind == Operand::Kind::kValue &&
        leaf.operands[1].kind == Operand::Kind::kPath) {
      std::swap(leaf.operands[0], leaf.operands[1]);
      static const std::map<Comparator, Comparator> kMirror = {
          {Comparator::kEq, Comparator::kEq}, {Comparator::kLt, Comparator::kGt},
          {Comparator::kLe, Comparator::kGe}, {Comparator::kGt, Comparator::kLt},
          {Comparator::kGe, Comparator::kLe}};
      leaf.comparator = kMirror.at(leaf.comparator);
    }
    const Operand& key = leaf.operands[0];
    bool values = true;
    for (size_t i = 1; i < leaf.operands.size(); ++i) {
      values = values && leaf.operands[i].kind == Operand::Kind::kValue;
    }
    if (key.kind != Operand::Kind::kPath || key.path.elements.size() != 1 || !values) {
      return Plain("Invalid KeyConditionExpression: KeyConditionExpressions must compare a key "
                   "attribute with expression attribute values");
    }
    const std::string& name = key.path.elements[0].name;
    const bool is_key = name == schema.partition_key.name ||
                        (schema.sort_key.has_value() && name == schema.sort_key->name);
    if (!is_key) {
      if (have_partition && !schema.sort_key.has_value()) {
        return Plain("Query key condition not supported");
      }
      return Plain(absl::StrCat("Query condition missed key schema element: ",
                                have_partition ? schema.sort_key->name
                                               : schema.partition_key.name));
    }
    if (!by_key.emplace(name, std::move(leaf)).second) {
      return Plain("KeyConditionExpressions must only contain one condition per key");
    }
  }
  auto partition = by_key.find(schema.partition_key.name);
  if (partition == by_key.end()) {
    return Plain(absl::StrCat("Query condition missed key schema element: ",
                              schema.partition_key.name));
  }
  const ConditionNode& p = partition->second;
  if (p.kind != K::kCompare || p.comparator != Comparator::kEq) {
    return Plain("Query key condition not supported");
  }
  auto type_matches = [](const KeyAttribute& key, const AttributeValue& v) {
    return v.type() == key.type;
  };
  const char* kTypeMismatch =
      "One or more parameter values were invalid: Condition parameter type does not match "
      "schema type";
  KeyCondition out;
  out.partition_value = p.operands[1].value;
  if (!type_matches(schema.partition_key, out.partition_value)) return Plain(kTypeMismatch);
  if (by_key.size() == 1) return out;
  const ConditionNode& s = by_key.at(schema.sort_key->name);
  using Op = KeyCondition::SortOp;
  switch (s.kind) {
    case K::kCompare:
      out.sort_op = s.comparator == Comparator::kEq   ? Op::kEq
                    : s.comparator == Comparator::kLt ? Op::kLt
                    : s.comparator == Comparator::kLe ? Op::kLe
                    : s.comparator == Comparator::kGt ? Op::kGt
                                                      : Op::kGe;
      out.sort_value = s.operands[1].value;
      break;
    case K::kBetween:
      out.sort_op = Op::kBetween;
      out.sort_value = s.operands[1].value;
      out.sort_value2 = s.operands[2].value;
      if (!type_matches(*schema.sort_key, out.sort_value2)) return Plain(kTypeMismatch);
      break;
    case K::kBeginsWith:
      out.sort_op = Op::kBeginsWith;
      out.sort_value = s.operands[1].value;
      if (schema.sort_key->type == AttributeValue::Type::kN) {
        return Plain(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N");
      }
      break;
    default:
      return Plain("Query key condition not supported");
  }
  if (!type_matches(*schema.sort_key, out.sort_value)) return Plain(kTypeMismatch);
  return out;
}

}  // namespace tributary::tables
