#include "common/testing/power_loss_fs.h"

#include <filesystem>
#include <memory>
#include <string>

#include "common/rocksdb_util.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"

namespace tributary::testing {
namespace {

class PowerLossFileSystemTest : public ::testing::Test {
 protected:
  std::unique_ptr<RocksDb> OpenDb(const std::string& dir) {
    RocksDbOptions options;
    options.env = power_.env();
    absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(dir, {"meta"}, options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }
  static void Put(RocksDb& db, const std::string& key, bool sync) {
    rocksdb::WriteOptions options;
    options.sync = sync;
    ASSERT_TRUE(db.db()->Put(options, db.Handle("meta"), key, "v").ok());
  }
  static bool Has(RocksDb& db, const std::string& key) {
    std::string value;
    return db.db()->Get(rocksdb::ReadOptions(), db.Handle("meta"), key, &value).ok();
  }
  // Writes `data` to a new file `path` and syncs the file (not its directory).
  void WriteSyncedFile(const std::string& path, const std::string& data,
                       const std::string& unsynced_tail = "") {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    ASSERT_TRUE(power_.fs().NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
    ASSERT_TRUE(file->Append(data, rocksdb::IOOptions(), nullptr).ok());
    ASSERT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
    ASSERT_TRUE(file->Append(unsynced_tail, rocksdb::IOOptions(), nullptr).ok());
    ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  }
  void FsyncDir(const std::string& dir) {
    std::unique_ptr<rocksdb::FSDirectory> handle;
    ASSERT_TRUE(power_.fs().NewDirectory(dir, rocksdb::IOOptions(), &handle, nullptr).ok());
    ASSERT_TRUE(handle->Fsync(rocksdb::IOOptions(), nullptr).ok());
  }

  PowerLossEnv power_;
};

TEST_F(PowerLossFileSystemTest, SyncedWritesSurviveAndLaterUnsyncedOnesAreLost) {
  const std::string dir = NewTempDir("power_loss") + "/db";
  const std::string after = NewTempDir("power_loss_after");
  std::unique_ptr<RocksDb> db = OpenDb(dir);
  ASSERT_NE(db, nullptr);
  Put(*db, "synced", true);
  Put(*db, "unsynced", false);
  ASSERT_TRUE(Has(*db, "unsynced"));
  ASSERT_TRUE(power_.CopyDurableState(dir, after).ok());
  db.reset();
  db = OpenDb(after);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(Has(*db, "synced"));
  EXPECT_FALSE(Has(*db, "unsynced"));
}

TEST_F(PowerLossFileSystemTest, AnUnsyncedWriteBecomesDurableWithTheNextSyncedOne) {
  const std::string dir = NewTempDir("power_loss") + "/db";
  const std::string after = NewTempDir("power_loss_after");
  std::unique_ptr<RocksDb> db = OpenDb(dir);
  ASSERT_NE(db, nullptr);
  Put(*db, "first", false);
  Put(*db, "second", true);  // one WAL: the fsync covers every earlier write
  ASSERT_TRUE(power_.CopyDurableState(dir, after).ok());
  db.reset();
  db = OpenDb(after);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(Has(*db, "first"));
  EXPECT_TRUE(Has(*db, "second"));
}

TEST_F(PowerLossFileSystemTest, AFileIsCutToItsLastSyncAndLostUntilItsDirectoryIsSynced) {
  const std::string dir = NewTempDir("power_loss");
  WriteSyncedFile(dir + "/f", "durable", "-lost");
  EXPECT_EQ(power_.fs().UnsyncedBytes(dir + "/f"), 5u);
  const std::string before_dir_sync = NewTempDir("power_loss_after");
  ASSERT_TRUE(power_.CopyDurableState(dir, before_dir_sync).ok());
  EXPECT_FALSE(std::filesystem::exists(before_dir_sync + "/f"));

  FsyncDir(dir);
  const std::string after_dir_sync = NewTempDir("power_loss_after");
  ASSERT_TRUE(power_.CopyDurableState(dir, after_dir_sync).ok());
  ASSERT_TRUE(std::filesystem::exists(after_dir_sync + "/f"));
  EXPECT_EQ(std::filesystem::file_size(after_dir_sync + "/f"), 7u);  // "durable"
}

TEST_F(PowerLossFileSystemTest, ARenamedNewFileStaysLostUntilItsDirectoryIsSynced) {
  const std::string dir = NewTempDir("power_loss");
  WriteSyncedFile(dir + "/tmp", "current");
  ASSERT_TRUE(
      power_.fs().RenameFile(dir + "/tmp", dir + "/CURRENT", rocksdb::IOOptions(), nullptr).ok());
  const std::string before = NewTempDir("power_loss_after");
  ASSERT_TRUE(power_.CopyDurableState(dir, before).ok());
  EXPECT_FALSE(std::filesystem::exists(before + "/CURRENT"));
  FsyncDir(dir);
  const std::string after = NewTempDir("power_loss_after");
  ASSERT_TRUE(power_.CopyDurableState(dir, after).ok());
  EXPECT_TRUE(std::filesystem::exists(after + "/CURRENT"));
}

TEST_F(PowerLossFileSystemTest, CopyingADirectoryNeverWrittenThroughItIsAnError) {
  absl::Status s = power_.CopyDurableState(NewTempDir("power_loss"), NewTempDir("after"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("env"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace tributary::testing
