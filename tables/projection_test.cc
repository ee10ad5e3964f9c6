#include "tables/projection.h"

#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using V = AttributeValue;

DocumentPath P(std::vector<PathElement> elements) { return DocumentPath{std::move(elements)}; }
PathElement N(const char* name) { return PathElement{name, -1}; }
PathElement I(int64_t index) { return PathElement{"", index}; }

TEST(ProjectionTest, KeepsThePathsWithTheirEnclosingMapsAndLists) {
  const AttributeMap item = {
      {"a", V::M({{"b", V::N("1")}, {"x", V::N("2")}})},
      {"c", V::L({V::S("p"), V::S("q"), V::S("r"), V::S("s")})},
      {"d", V::N("3")},
  };
  const AttributeMap got =
      Project(item, Projection{{P({N("a"), N("b")}), P({N("c"), I(1)}), P({N("c"), I(3)}),
                                P({N("missing")}), P({N("c"), I(9)})}});
  const AttributeMap want = {{"a", V::M({{"b", V::N("1")}})},
                             {"c", V::L({V::S("q"), V::S("s")})}};
  EXPECT_TRUE(ItemsEqual(got, want));
}

TEST(ProjectionTest, APathThroughTheWrongTypeProjectsNothing) {
  const AttributeMap item = {{"a", V::N("1")}};
  EXPECT_TRUE(Project(item, Projection{{P({N("a"), N("b")}), P({N("a"), I(0)})}}).empty());
  EXPECT_EQ(Project(item, Projection{{P({N("a")})}}).size(), 1u);
}

}  // namespace
}  // namespace tributary::tables
