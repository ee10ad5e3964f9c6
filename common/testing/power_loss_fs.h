// PowerLossFileSystem: a RocksDB FileSystem for tests that knows what a power loss would keep.
//
// RocksDB 7.8 as Debian ships it has no FaultInjectionTestFS (a test utility left out of
// librocksdb-dev), so this is the equivalent, at least as strict as RocksDB's own:
//   - per file, the bytes written since its last Sync/Fsync are lost (the file is cut back to
//     its size at the last sync; RangeSync does not count);
//   - a file created (or renamed from such a file) since the last Fsync of its directory is
//     lost altogether.
// Files the wrapper never saw being written (present before it was used) count as durable.
//
// Use: build a PowerLossEnv, set RocksDbOptions::env = power.env(), open the store, do
// acknowledged operations, then CopyDurableState(dir, other_dir) takes what a power loss at
// that instant would leave on disk into `other_dir`; close the store and reopen it on
// `other_dir` (through the same env or none) to check what survived. The copy is taken while
// the database is still open, so nothing RocksDB does at close (flushing its buffers, closing
// files) can make the unsynced data durable behind the test's back.
//
//   PowerLossEnv power;
//   options.rocksdb.env = power.env();
//   ... open, write with sync ...
//   ASSERT_TRUE(power.CopyDurableState(dir, after).ok());
//   store.reset();
//   ... open on `after`, assert every acknowledged write is there ...
//
// Thread-safe: every file operation takes one mutex (a test utility: simplicity over speed).
#ifndef TRIBUTARY_COMMON_TESTING_POWER_LOSS_FS_H_
#define TRIBUTARY_COMMON_TESTING_POWER_LOSS_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace tributary::testing {

class PowerLossFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // Wraps rocksdb::FileSystem::Default().
  PowerLossFileSystem();

  static const char* kClassName() { return "TributaryPowerLossFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // Copies every regular file of directory `from` (not recursive) into directory `to` (created
  // if missing) as a power loss now would leave it: files cut to their last synced size, files
  // not yet made durable by a directory fsync left out. `from` is untouched. Errors: INTERNAL
  // for a file system error, naming the file.
  absl::Status CopyDurableState(const std::string& from, const std::string& to);

  // How many bytes of `path` a power loss now would drop (0 for a file not tracked). For tests
  // of this wrapper.
  uint64_t UnsyncedBytes(const std::string& path);

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

 private:
  class TrackedFile;
  class TrackedDirectory;
  struct FileState {
    uint64_t size = 0;    // bytes written so far
    uint64_t synced = 0;  // bytes durable (size at the last Sync/Fsync)
  };

  // A file opened for writing: `existed` says whether it was on disk before (then its content
  // so far counts as durable unless it is already tracked).
  void Track(const std::string& fname, bool existed, bool truncated)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DirSynced(const std::string& dir) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  // Every file written through this file system, by name (a rename moves the entry).
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  // Directory → files created in it since its last fsync.
  std::map<std::string, std::set<std::string>> new_files_ ABSL_GUARDED_BY(mu_);
};

// A PowerLossFileSystem with an Env over it, for RocksDbOptions::env. Must outlive every
// database opened with env().
class PowerLossEnv {
 public:
  PowerLossEnv();

  rocksdb::Env* env() const { return env_.get(); }
  PowerLossFileSystem& fs() const { return *fs_; }
  absl::Status CopyDurableState(const std::string& from, const std::string& to) {
    return fs_->CopyDurableState(from, to);
  }

 private:
  std::shared_ptr<PowerLossFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace tributary::testing

#endif  // TRIBUTARY_COMMON_TESTING_POWER_LOSS_FS_H_
