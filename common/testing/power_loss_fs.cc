#include "common/testing/power_loss_fs.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tributary::testing {
namespace {

std::string DirOf(const std::string& fname) {
  const size_t slash = fname.rfind('/');
  return slash == std::string::npos ? std::string(".") : fname.substr(0, slash);
}

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

// A file open for writing: counts what reaches the target and what a sync made durable. The
// state is shared with the file system's map (a rename moves it), so it outlives the name.
class PowerLossFileSystem::TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> target, PowerLossFileSystem* fs,
              std::shared_ptr<FileState> state)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), state_(std::move(state)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) state_->size += data.size();
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->Append(data, options, info, dbg);
    if (s.ok()) state_->size += data.size();
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) state_->size = std::max<uint64_t>(state_->size, offset + data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->PositionedAppend(data, offset, options, info, dbg);
    if (s.ok()) state_->size = std::max<uint64_t>(state_->size, offset + data.size());
    return s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      state_->size = size;
      state_->synced = std::min(state_->synced, size);
    }
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    if (s.ok()) state_->synced = state_->size;
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    rocksdb::IOStatus s = target()->Fsync(options, dbg);
    if (s.ok()) state_->synced = state_->size;
    return s;
  }
  // RangeSync (sync_file_range) promises nothing about durability: it stays unsynced.

 private:
  PowerLossFileSystem* const fs_;
  const std::shared_ptr<FileState> state_;
};

// A directory handle whose fsync makes the files created in it durable.
class PowerLossFileSystem::TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<rocksdb::FSDirectory> target, PowerLossFileSystem* fs,
                   std::string name)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FSDirectoryWrapper::Fsync(options, dbg);
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& dir_options) override {
    rocksdb::IOStatus s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }

 private:
  PowerLossFileSystem* const fs_;
  const std::string name_;
};

PowerLossFileSystem::PowerLossFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

void PowerLossFileSystem::Track(const std::string& fname, bool existed, bool truncated) {
  auto it = files_.find(fname);
  if (!existed) {
    files_[fname] = std::make_shared<FileState>();
    new_files_[DirOf(fname)].insert(fname);
  } else if (truncated || it == files_.end()) {
    auto state = std::make_shared<FileState>();
    if (!truncated) {
      std::error_code ec;
      const uint64_t size = std::filesystem::file_size(fname, ec);
      state->size = state->synced = ec ? 0 : size;
    }
    files_[fname] = std::move(state);
  }
}

void PowerLossFileSystem::DirSynced(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  new_files_.erase(StripTrailingSlashes(dir));
}

rocksdb::IOStatus PowerLossFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  const bool existed = target()->FileExists(fname, rocksdb::IOOptions(), dbg).ok();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  Track(fname, existed, /*truncated=*/true);
  *result = std::make_unique<TrackedFile>(std::move(file), this, files_[fname]);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  const bool existed = target()->FileExists(fname, rocksdb::IOOptions(), dbg).ok();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(fname, options, &file, dbg);
  if (!s.ok()) return s;
  Track(fname, existed, /*truncated=*/false);
  *result = std::make_unique<TrackedFile>(std::move(file), this, files_[fname]);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::ReuseWritableFile(const std::string& fname,
                                                         const std::string& old_fname,
                                                         const rocksdb::FileOptions&,
                                                         std::unique_ptr<rocksdb::FSWritableFile>*,
                                                         rocksdb::IODebugContext*) {
  // Only with recycle_log_file_num, which Tributary never sets: refuse loudly rather than
  // track it wrongly.
  return rocksdb::IOStatus::NotSupported("PowerLossFileSystem: ReuseWritableFile",
                                         old_fname + " -> " + fname);
}

rocksdb::IOStatus PowerLossFileSystem::NewRandomRWFile(const std::string& fname,
                                                       const rocksdb::FileOptions&,
                                                       std::unique_ptr<rocksdb::FSRandomRWFile>*,
                                                       rocksdb::IODebugContext*) {
  // Not used by the databases under test (no external file ingestion, no blob files).
  return rocksdb::IOStatus::NotSupported("PowerLossFileSystem: NewRandomRWFile", fname);
}

rocksdb::IOStatus PowerLossFileSystem::NewDirectory(const std::string& name,
                                                    const rocksdb::IOOptions& options,
                                                    std::unique_ptr<rocksdb::FSDirectory>* result,
                                                    rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  rocksdb::IOStatus s = target()->NewDirectory(name, options, &dir, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<TrackedDirectory>(std::move(dir), this, StripTrailingSlashes(name));
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::RenameFile(const std::string& src,
                                                  const std::string& target_name,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  rocksdb::IOStatus s = target()->RenameFile(src, target_name, options, dbg);
  if (!s.ok()) return s;
  auto it = files_.find(src);
  if (it != files_.end()) {
    files_[target_name] = it->second;
    files_.erase(src);
  } else {
    files_.erase(target_name);  // now an untracked (durable) file's content
  }
  // As RocksDB's FaultInjectionTestFS: a file not yet durable in its directory stays so under
  // its new name until that directory is fsynced.
  auto dir = new_files_.find(DirOf(src));
  if (dir != new_files_.end() && dir->second.erase(src) > 0) {
    new_files_[DirOf(target_name)].insert(target_name);
  }
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::LinkFile(const std::string& src,
                                                const std::string& target_name,
                                                const rocksdb::IOOptions&,
                                                rocksdb::IODebugContext*) {
  // Not used by the databases under test (no checkpoints, no ingestion).
  return rocksdb::IOStatus::NotSupported("PowerLossFileSystem: LinkFile",
                                         src + " -> " + target_name);
}

rocksdb::IOStatus PowerLossFileSystem::DeleteFile(const std::string& fname,
                                                  const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  rocksdb::IOStatus s = target()->DeleteFile(fname, options, dbg);
  if (!s.ok()) return s;
  files_.erase(fname);
  auto dir = new_files_.find(DirOf(fname));
  if (dir != new_files_.end()) dir->second.erase(fname);
  return s;
}

rocksdb::IOStatus PowerLossFileSystem::Truncate(const std::string& fname, size_t size,
                                                const rocksdb::IOOptions& options,
                                                rocksdb::IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  rocksdb::IOStatus s = target()->Truncate(fname, size, options, dbg);
  if (!s.ok()) return s;
  auto it = files_.find(fname);
  if (it != files_.end()) {
    it->second->size = size;
    it->second->synced = std::min<uint64_t>(it->second->synced, size);
  }
  return s;
}

uint64_t PowerLossFileSystem::UnsyncedBytes(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second->size - it->second->synced;
}

absl::Status PowerLossFileSystem::CopyDurableState(const std::string& from_in,
                                                   const std::string& to) {
  const std::string from = StripTrailingSlashes(from_in);
  absl::MutexLock lock(&mu_);
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  if (ec) return absl::InternalError(absl::StrCat("creating ", to, ": ", ec.message()));
  const auto new_files = new_files_.find(from);
  int tracked = 0;
  std::error_code list_ec;
  for (const auto& entry : std::filesystem::directory_iterator(from, list_ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = absl::StrCat(from, "/", entry.path().filename().string());
    auto state = files_.find(path);
    if (state != files_.end()) ++tracked;
    if (new_files != new_files_.end() && new_files->second.count(path) > 0) continue;  // lost
    const std::filesystem::path copy = std::filesystem::path(to) / entry.path().filename();
    std::filesystem::copy_file(entry.path(), copy,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat("copying ", path, ": ", ec.message()));
    if (state != files_.end()) {
      std::filesystem::resize_file(copy, state->second->synced, ec);
      if (ec)
        return absl::InternalError(absl::StrCat("truncating ", copy.string(), ": ", ec.message()));
    }
  }
  if (list_ec) return absl::InternalError(absl::StrCat("listing ", from, ": ", list_ec.message()));
  if (tracked == 0) {
    return absl::InternalError(
        absl::StrCat("no file in ", from,
                     " was written through this file system: was the database opened "
                     "with its env (and under exactly this path)?"));
  }
  return absl::OkStatus();
}

PowerLossEnv::PowerLossEnv()
    : fs_(std::make_shared<PowerLossFileSystem>()), env_(rocksdb::NewCompositeEnv(fs_)) {}

}  // namespace tributary::testing
