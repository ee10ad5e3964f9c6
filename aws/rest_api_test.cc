#include "aws/rest_api.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

TEST(RestTargetTest, APathIsSplitIntoSegmentsAndTheQueryIntoParameters) {
  absl::StatusOr<RestTarget> t =
      ParseRestTarget("/2015-03-31/event-source-mappings/?FunctionName=f&MaxItems=2");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->segments, (std::vector<std::string>{"2015-03-31", "event-source-mappings"}));
  EXPECT_EQ(t->query, (Query{{"FunctionName", "f"}, {"MaxItems", "2"}}));
  ASSERT_NE(t->Query("MaxItems"), nullptr);
  EXPECT_EQ(*t->Query("MaxItems"), "2");
  EXPECT_EQ(t->Query("maxitems"), nullptr) << "names are case-sensitive";
}

TEST(RestTargetTest, EachSegmentIsDecodedOnItsOwnSoAnEncodedSlashStaysInside) {
  absl::StatusOr<RestTarget> t = ParseRestTarget(
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/a%2Fb");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->segments,
            (std::vector<std::string>{"2015-03-31", "functions",
                                      "arn:aws:lambda:us-east-1:000000000000:function:f", "a/b"}));
}

TEST(RestTargetTest, QueryValuesAreDecodedAndPlusIsLiteral) {
  absl::StatusOr<RestTarget> t =
      ParseRestTarget("/x?EventSourceArn=arn%3Aaws%3Akinesis&Marker=a+b%20c&Flag&=v");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(
      t->query,
      (Query{{"EventSourceArn", "arn:aws:kinesis"}, {"Marker", "a+b c"}, {"Flag", ""}, {"", "v"}}));
}

TEST(RestTargetTest, EmptySegmentsAreDropped) {
  absl::StatusOr<RestTarget> t = ParseRestTarget("//2019-09-30//functions/f/concurrency/");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->segments, (std::vector<std::string>{"2019-09-30", "functions", "f", "concurrency"}));
  EXPECT_TRUE(ParseRestTarget("/")->segments.empty());
}

TEST(RestTargetTest, MalformedEscapesAndRelativeTargetsAreInvalidArgument) {
  for (const char* target : {"/a%2", "/a%zz", "/a?b=%", "/a?%g0=1", "a/b", ""}) {
    EXPECT_EQ(ParseRestTarget(target).status().code(), absl::StatusCode::kInvalidArgument)
        << target;
  }
}

TEST(RestTargetTest, TargetPathIsEverythingBeforeTheQuery) {
  EXPECT_EQ(TargetPath("/2015-03-31/functions/?Marker=x?y"), "/2015-03-31/functions/");
  EXPECT_EQ(TargetPath("/a/b"), "/a/b");
}

}  // namespace
}  // namespace tributary::aws
