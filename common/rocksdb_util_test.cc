#include "common/rocksdb_util.h"

#include <memory>
#include <string>
#include <vector>

#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "rocksdb/slice_transform.h"
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

TEST(RocksDbTest, MemtableInsertHintsApplyToTheirFamilyAndKeepKeyOrder) {
  RocksDbOptions options;
  options.memtable_insert_hints["records"].reset(rocksdb::NewFixedPrefixTransform(2));
  auto db = RocksDb::Open(testing::NewTempDir("rocksdb") + "/db", {"meta", "records"}, options);
  ASSERT_TRUE(db.ok()) << db.status();
  rocksdb::DB* raw = (*db)->db();
  EXPECT_FALSE(raw->GetDBOptions().allow_concurrent_memtable_write);
  EXPECT_NE(raw->GetOptions((*db)->Handle("records")).memtable_insert_with_hint_prefix_extractor,
            nullptr);
  EXPECT_EQ(raw->GetOptions((*db)->Handle("meta")).memtable_insert_with_hint_prefix_extractor,
            nullptr);
  // Appends interleaved across prefixes, then a key before a prefix's last one.
  for (const char* key : {"a1", "b1", "a2", "c1", "b2", "a3", "b0"}) {
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), (*db)->Handle("records"), key, "v").ok());
  }
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(
      raw->NewIterator(rocksdb::ReadOptions(), (*db)->Handle("records")));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  EXPECT_EQ(keys, (std::vector<std::string>{"a1", "a2", "a3", "b0", "b1", "b2", "c1"}));
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
