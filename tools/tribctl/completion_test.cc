// The completion scripts load in a real bash (/bin/bash) and complete what the command table
// holds: groups, verbs, a command's flags, an enum flag's choices.
#include "tools/tribctl/completion.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/tribctl/command_line.h"

namespace tributary::tribctl {
namespace {

class CompletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    script_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/tribctl_completion.bash");
    std::ofstream(script_) << BashCompletionScript();
  }

  // What bash completes for the command line `line` (the cursor at its end), one candidate per
  // line, sorted; `wordbreaks` is COMP_WORDBREAKS (bash's default has '=').
  std::string Complete(const std::string& line,
                       const std::string& wordbreaks = "\"'><=;|&(:") {
    // The line and the word breaks reach bash through the environment: no shell quoting.
    setenv("TRIBCTL_TEST_LINE", line.c_str(), 1);
    setenv("TRIBCTL_TEST_WORDBREAKS", wordbreaks.c_str(), 1);
    const std::string command = absl::StrCat(
        "/bin/bash --norc --noprofile -c 'source ", script_,
        " && COMP_WORDBREAKS=\"$TRIBCTL_TEST_WORDBREAKS\" && COMP_LINE=\"$TRIBCTL_TEST_LINE\" && "
        "COMP_POINT=${#COMP_LINE}; _tribctl; printf \"%s\\n\" \"${COMPREPLY[@]}\" | sort' "
        "2>&1");
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return "popen failed";
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    pclose(pipe);
    return out;
  }

  std::string script_;
};

TEST_F(CompletionTest, ScriptLoadsAndRegistersTheFunction) {
  const std::string command = absl::StrCat("/bin/bash --norc --noprofile -c 'source ", script_,
                                           " && complete -p tribctl' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[256] = {0};
  const size_t n = fread(buf, 1, sizeof(buf) - 1, pipe);
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_EQ(std::string(buf, n), "complete -F _tribctl tribctl\n");
}

TEST_F(CompletionTest, CompletesGroupsThenVerbs) {
  EXPECT_EQ(Complete("tribctl st"), "streams\n");
  EXPECT_EQ(Complete("tribctl m"), "mappings\nmetrics\n");
  EXPECT_EQ(Complete("tribctl streams li"), "list\nlist-shards\nlist-tags\n");
  EXPECT_EQ(Complete("tribctl completion "), "bash\nzsh\n");
  // After the verb, no more words: values go in flags.
  EXPECT_EQ(Complete("tribctl streams create "), "\n");
}

TEST_F(CompletionTest, CompletesTheCommandsFlagsAndTheGlobalOnes) {
  const std::string flags = Complete("tribctl streams create --");
  EXPECT_TRUE(absl::StrContains(flags, "--shard-count\n")) << flags;
  EXPECT_TRUE(absl::StrContains(flags, "--endpoint\n")) << flags;
  EXPECT_FALSE(absl::StrContains(flags, "--starting-position")) << flags;  // mappings create's
  // A value given as a separate word is skipped: "orders" is not taken for the verb.
  EXPECT_EQ(Complete("tribctl --endpoint h:1 streams cr"), "create\n");
}

TEST_F(CompletionTest, CompletesAnEnumFlagsChoices) {
  EXPECT_EQ(Complete("tribctl mappings create --starting-position=T"), "TRIM_HORIZON\n");
  EXPECT_EQ(Complete("tribctl streams list --output="), "json\ntable\n");
  // Without '=' in COMP_WORDBREAKS bash replaces the whole word: the flag is repeated.
  EXPECT_EQ(Complete("tribctl streams list --output=j", "\"' "), "--output=json\n");
}

TEST(ZshCompletionTest, LoadsBashcompinitThenTheBashScript) {
  const std::string zsh = ZshCompletionScript();
  EXPECT_TRUE(absl::StrContains(zsh, "bashcompinit")) << zsh;
  EXPECT_TRUE(absl::StrContains(zsh, BashCompletionScript()));
}

}  // namespace
}  // namespace tributary::tribctl
