#include "common/rocksdb_util.h"

#include <string>

#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "rocksdb/write_batch.h"

namespace tributary {
namespace {

TEST(RocksDbTest, OpensWithColumnFamiliesAndKeepsWritesAcrossReopen) {
  const std::string dir = testing::NewTempDir("rocksdb");
  {
    auto db = RocksDb::Open(dir + "/db", {"meta", "records"});
    ASSERT_TRUE(db.ok()) << db.status();
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.Put((*db)->Handle("meta"), "k", "meta-value").ok());
    ASSERT_TRUE(batch.Put((*db)->Handle("records"), "k", "record-value").ok());
    ASSERT_TRUE((*db)->db()->Write(rocksdb::WriteOptions(), &batch).ok());
  }
  auto db = RocksDb::Open(dir + "/db", {"meta", "records"});
  ASSERT_TRUE(db.ok()) << db.status();
  std::string value;
  ASSERT_TRUE((*db)->db()->Get(rocksdb::ReadOptions(), (*db)->Handle("meta"), "k", &value).ok());
  EXPECT_EQ(value, "meta-value");
  ASSERT_TRUE((*db)->db()->Get(rocksdb::ReadOptions(), (*db)->Handle("records"), "k", &value).ok());
  EXPECT_EQ(value, "record-value");
}

TEST(RocksDbTest, SecondOpenOfSameDirectoryIsRejected) {
  const std::string dir = testing::NewTempDir("rocksdb");
  auto first = RocksDb::Open(dir, {"meta"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = RocksDb::Open(dir, {"meta"});
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(dir), absl::string_view::npos) << second.status();
}

TEST(RocksDbTest, MissingDirectoryWithoutCreateIsAnError) {
  RocksDbOptions options;
  options.create_if_missing = false;
  auto db = RocksDb::Open(testing::NewTempDir("rocksdb") + "/absent", {}, options);
  EXPECT_FALSE(db.ok());
}

}  // namespace
}  // namespace tributary
