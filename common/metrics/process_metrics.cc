#include "common/metrics/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/version.h"

namespace tributary::metrics {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The system boot time (Unix seconds) from /proc/stat's btime line, or -1.
int64_t BootTime() {
  for (absl::string_view line : absl::StrSplit(ReadFile("/proc/stat"), '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      int64_t t;
      if (absl::SimpleAtoi(line, &t)) return t;
    }
  }
  return -1;
}

void Collect(std::string* out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ..." — comm may hold spaces, so split after the last ')'.
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  std::vector<std::string> f;
  if (paren != std::string::npos && paren + 2 <= stat.size()) {
    f = absl::StrSplit(stat.substr(paren + 2), ' ', absl::SkipEmpty());
  }
  // f[0] is field 3 (state): field n is f[n - 3].
  auto field = [&](int n, double* v) {
    return static_cast<int>(f.size()) > n - 3 && absl::SimpleAtod(f[n - 3], v);
  };
  double utime, stime, starttime, vsize, rss;
  if (field(14, &utime) && field(15, &stime)) {
    WriteHeader(out, "process_cpu_seconds_total", "counter",
                "Total user and system CPU time spent in seconds.");
    WriteSample(out, "process_cpu_seconds_total", {}, (utime + stime) / ticks);
  }
  if (field(23, &vsize)) {
    WriteHeader(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    WriteSample(out, "process_virtual_memory_bytes", {}, vsize);
  }
  if (field(24, &rss)) {
    WriteHeader(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    WriteSample(out, "process_resident_memory_bytes", {}, rss * page);
  }
  const int64_t boot = BootTime();
  if (field(22, &starttime) && boot >= 0) {
    WriteHeader(out, "process_start_time_seconds", "gauge",
                "Start time of the process since unix epoch in seconds.");
    WriteSample(out, "process_start_time_seconds", {}, boot + starttime / ticks);
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int64_t fds = 0;
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++fds;
    }
    closedir(dir);
    WriteHeader(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    WriteSample(out, "process_open_fds", {}, static_cast<double>(fds - 1));  // less the DIR's own
  }
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    WriteHeader(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    WriteSample(out, "process_max_fds", {}, static_cast<double>(limit.rlim_cur));
  }
  WriteHeader(out, "tributary_build_info", "gauge",
              "Always 1; the version label is the build's version.");
  WriteSample(out, "tributary_build_info", {{"version", kVersion}}, 1);
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) { registry.AddCollector(Collect); }

}  // namespace tributary::metrics
