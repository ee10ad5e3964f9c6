#include "tables/projection.h"

#include <map>
#include <string>
#include <utility>

namespace tributary::tables {
namespace {

// The projected paths as a tree: a node is either taken whole or narrows to members/elements.
struct Node {
  bool whole = false;
  std::map<std::string, Node> members;
  std::map<int64_t, Node> elements;
};

std::optional<AttributeValue> Take(const AttributeValue& value, const Node& node) {
  if (node.whole) return value;
  if (value.type() == AttributeValue::Type::kM && !node.members.empty()) {
    AttributeMap out;
    for (const auto& [name, child] : node.members) {
      const AttributeValue* member = FindAttribute(value.map(), name);
      if (member == nullptr) continue;
      if (std::optional<AttributeValue> taken = Take(*member, child)) {
        out.emplace_back(name, *std::move(taken));
      }
    }
    if (out.empty()) return std::nullopt;
    return AttributeValue::M(std::move(out));
  }
  if (value.type() == AttributeValue::Type::kL && !node.elements.empty()) {
    std::vector<AttributeValue> out;
    for (const auto& [index, child] : node.elements) {
      if (index >= static_cast<int64_t>(value.list().size())) break;
      if (std::optional<AttributeValue> taken = Take(value.list()[index], child)) {
        out.push_back(*std::move(taken));
      }
    }
    if (out.empty()) return std::nullopt;
    return AttributeValue::L(std::move(out));
  }
  return std::nullopt;
}

}  // namespace

AttributeMap Project(const AttributeMap& item, const Projection& projection) {
  Node root;
  for (const DocumentPath& path : projection.paths) {
    Node* node = &root;
    for (const PathElement& e : path.elements) {
      node = e.is_index() ? &node->elements[e.index] : &node->members[e.name];
    }
    node->whole = true;
  }
  AttributeMap out;
  for (const auto& [name, child] : root.members) {
    const AttributeValue* value = FindAttribute(item, name);
    if (value == nullptr) continue;
    if (std::optional<AttributeValue> taken = Take(*value, child)) {
      out.emplace_back(name, *std::move(taken));
    }
  }
  return out;  // root.members is ordered by name, so `out` is sorted
}

}  // namespace tributary::tables
