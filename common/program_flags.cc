#include "common/program_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "gflags/gflags.h"

namespace tributary {
namespace {

// Bazel compiles our sources by their workspace-relative path ("common/server_main.cc"); Debian's
// libraries record build-tree paths ("./src/logging.cc", "/build/gflags-.../src/gflags.cc").
bool DefinedInTributary(const std::string& filename) {
  return !filename.empty() && filename[0] != '/' && filename[0] != '.';
}

bool IsOneOf(const char* arg, std::initializer_list<const char*> spellings) {
  for (const char* s : spellings) {
    if (std::strcmp(arg, s) == 0) return true;
  }
  return false;
}

}  // namespace

std::string VersionLine(absl::string_view program) {
  return absl::StrCat(program, " ", kVersion);
}

std::string ShortHelp(absl::string_view usage) {
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  std::sort(flags.begin(), flags.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string out = absl::StrCat("usage: ", usage, "\n\nflags:\n");
  for (const gflags::CommandLineFlagInfo& f : flags) {
    if (!DefinedInTributary(f.filename)) continue;
    const std::string value = f.type == "string" ? absl::StrCat("\"", f.default_value, "\"")
                                                 : f.default_value;
    absl::StrAppend(&out, "  --", f.name, "=", value, " (", f.type, "): ", f.description, "\n");
  }
  absl::StrAppend(&out,
                  "\nlogging (glog): to stderr, or to files with --log_dir=DIR (or "
                  "--logtostderr=false); --v=N for verbose logs.\n"
                  "--version prints the version; --helpfull lists the flags of every linked "
                  "library too.\n");
  return out;
}

void HandleHelpAndVersion(int argc, char** argv, absl::string_view usage) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) return;  // gflags stops there too
    if (IsOneOf(argv[i], {"--version", "-version"})) {
      const char* slash = std::strrchr(argv[0], '/');
      std::printf("%s\n", VersionLine(slash == nullptr ? argv[0] : slash + 1).c_str());
      std::fflush(stdout);
      std::exit(0);
    }
    if (IsOneOf(argv[i], {"--help", "-help", "-h", "--helpshort", "-helpshort"})) {
      std::fputs(ShortHelp(usage).c_str(), stdout);
      std::fflush(stdout);
      std::exit(0);
    }
  }
}

}  // namespace tributary
