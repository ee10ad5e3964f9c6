#include "common/server_main.h"

#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/program_flags.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(port_file, "",
              "After binding, write the bound port to this file (for --listen=host:0).");

namespace tributary {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void InitServerMain(int* argc, char*** argv, const char* usage) {
  // Our servers move messages of 50 KB to 6 MiB (PutRecords, GetRecords, SubscribeToShard events,
  // Invoke): keep freed memory in the heap rather than mapping and unmapping it per message.
  // glibc's defaults made page faults and sysmalloc top costs in the PutRecords and delivery
  // profiles (delivery at batch size 10000: 181k -> 225k records/s, BENCHMARKS.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  // Every file a server creates is its owner's only (issue 21): its data (the store's iterator
  // HMAC key lives in its RocksDB files), logs, port files.
  umask(077);
  HandleHelpAndVersion(*argc, *argv, usage);  // exits 0 on --help / --version
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(argc, argv, true);
  // Logs go to stderr (a supervisor or a test collects them) unless the operator asked for
  // glog's files: --log_dir=DIR, or --logtostderr=false (glog's default directory). Whether
  // --log_dir was given, not whether it is empty: glog's default is $TEST_TMPDIR when that is
  // set, so a server started by a test would otherwise log into files nobody reads.
  gflags::CommandLineFlagInfo logtostderr;
  const bool logtostderr_given =
      gflags::GetCommandLineFlagInfo("logtostderr", &logtostderr) && !logtostderr.is_default;
  gflags::CommandLineFlagInfo log_dir;
  const bool log_dir_given = gflags::GetCommandLineFlagInfo("log_dir", &log_dir) &&
                             !log_dir.is_default && !FLAGS_log_dir.empty();
  if (!logtostderr_given && !log_dir_given) FLAGS_logtostderr = true;
  google::InitGoogleLogging((*argv)[0]);
  google::InstallFailureSignalHandler();
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::Status WritePortFile(int port) {
  if (FLAGS_port_file.empty()) return absl::OkStatus();
  return WritePortFile(FLAGS_port_file, port);
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("writing port file ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("renaming port file to ", path));
  }
  return absl::OkStatus();
}

int WaitForTerminationSignal(const std::function<void()>& on_hangup) {
  sigset_t set = TerminationSignals();
  while (true) {
    int signal = 0;
    sigwait(&set, &signal);
    if (signal != SIGHUP) return signal;
    LOG(INFO) << "SIGHUP: re-reading what can be reloaded (certificates are re-read when their "
                 "files change)";
    if (on_hangup) on_hangup();
  }
}

}  // namespace tributary
