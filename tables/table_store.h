// TableStore: DynamoDB tables and their items on RocksDB (the domain library behind the
// DynamoDB JSON API, aws/dynamodb_handler.h, and later tributary.v1.Tables).
//
// Storage (column families, keys, values) and the write protocol: tables/NOTES.md and
// tables/key_schema.h. The store lives in a RocksDb it is given, which holds the column
// families kColumnFamilies (so that the item families can share a database with the shard
// store's log and a change record be written in the same batch as its item).
//
// Writes of one item are serialized: a write claims its item key (waiting, without a lock held,
// while another write of the same key is in flight), reads the current item, checks the
// condition, writes, and releases the key. So a condition is checked against exactly the item
// the write replaces, and the item returned as the old one is that item. A failed condition or
// a failed RocksDB write changes nothing.
//
// Items are maps sorted by name (AttributeMap); numbers canonical (ParseNumber).
//
// Thread-safety: every method is thread-safe. `db` and `clock` must outlive the store.
#ifndef TRIBUTARY_TABLES_TABLE_STORE_H_
#define TRIBUTARY_TABLES_TABLE_STORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "tables/attribute_value.h"
#include "shard_store/shard_store.h"
#include "tables/change_record.h"
#include "tables/condition.h"
#include "tables/expression.h"
#include "tables/key_schema.h"

namespace tributary::tables {

inline constexpr size_t kMinTableNameChars = 3;
inline constexpr size_t kMaxTableNameChars = 255;
inline constexpr int kMaxListTablesLimit = 100;
// DynamoDB's limits on one call.
inline constexpr int kMaxBatchWriteItems = 25;
inline constexpr int kMaxBatchGetItems = 100;
inline constexpr int kMaxTransactionItems = 100;
inline constexpr int kMaxTotalSegments = 1000000;

enum class BillingMode { kProvisioned, kPayPerRequest };
// A table's change stream (DynamoDB's StreamSpecification).
struct StreamSpecification {
  bool enabled = false;
  StreamViewType view_type = StreamViewType::kKeysOnly;  // meaningful when enabled
};
enum class TableStatus { kActive, kDeleting };

// Secondary indexes (DynamoDB's LocalSecondaryIndexes / GlobalSecondaryIndexes, created with the
// table). A local index has the table's partition key and another sort key; a global one any
// key. An item is in an index only when it has every key attribute of the index (a sparse
// index); an index key attribute of another type than the index's is INVALID_ARGUMENT on write.
inline constexpr int kMaxLocalIndexes = 5;
inline constexpr int kMaxGlobalIndexes = 20;
// NonKeyAttributes of all the indexes of a table, together (DynamoDB's limit).
inline constexpr int kMaxProjectedNonKeyAttributes = 100;
enum class IndexKind { kLocal, kGlobal };
enum class ProjectionType { kAll, kKeysOnly, kInclude };
struct IndexSpec {
  std::string name;  // 3–255 of [a-zA-Z0-9_.-], unique among the table's indexes
  IndexKind kind = IndexKind::kGlobal;
  KeySchema key_schema;
  // What an index entry holds besides the table's and the index's keys: every attribute (kAll),
  // nothing (kKeysOnly) or non_key_attributes (kInclude).
  ProjectionType projection = ProjectionType::kAll;
  std::vector<std::string> non_key_attributes;
  // A global index's ProvisionedThroughput: echoed back, nothing is throttled.
  int64_t read_capacity_units = 0;
  int64_t write_capacity_units = 0;
};

struct TableSpec {
  std::string name;  // 3–255 of [a-zA-Z0-9_.-]
  KeySchema key_schema;
  BillingMode billing_mode = BillingMode::kProvisioned;
  // PROVISIONED only (echoed back; nothing is throttled): both ≥ 1.
  int64_t read_capacity_units = 0;
  int64_t write_capacity_units = 0;
  StreamSpecification stream;
  std::vector<IndexSpec> indexes;  // local and global, in the order given
};

struct TableDescription {
  TableSpec spec;
  TableStatus status = TableStatus::kActive;
  absl::Time creation_time;
  uint64_t table_id = 0;
  // The table's latest stream, set when spec.stream.enabled: its label (DynamoDB's
  // LatestStreamLabel, an ISO 8601 timestamp of the stream's creation in UTC with milliseconds,
  // "2024-05-01T12:00:00.000") and the name of the shard_store stream holding its change
  // records (StreamNameFor).
  std::string stream_label;
  std::string stream_name;
  // The id of each of spec.indexes (its entries' key prefix; from the table ids' sequence, never
  // reused).
  std::vector<uint64_t> index_ids;
};

// The ISO 8601 label of a stream created at `t` (UTC, milliseconds): "2024-05-01T12:00:00.000".
std::string StreamLabel(absl::Time t);
// The shard_store stream of a table's stream: "_tables.<table id>.<label digits>" (a name the
// Kinesis API neither shows nor creates: tables/stream_ids.h).
std::string StreamNameFor(uint64_t table_id, absl::string_view label);

// One of a table's change streams, current or past (DynamoDB Streams' stream). A stream is
// ENABLED from its creation (with the table, or UpdateTable turning the stream on) until the
// stream is turned off or the table deleted; it is then DISABLED: its shards are closed
// (ShardStore::SealStream), it stays listed and readable for
// TableStoreOptions::disabled_stream_retention (24 h, as DynamoDB), and ExpireStreams then
// deletes it. The table's name, key schema and view type are kept with it, so it outlives its
// table.
struct TableStreamDescription {
  std::string stream_name;  // the shard_store stream (StreamNameFor)
  std::string table_name;
  uint64_t table_id = 0;
  std::string label;  // unique per table name: two streams of one name never share a label
  StreamViewType view_type = StreamViewType::kKeysOnly;
  KeySchema key_schema;
  absl::Time creation_time;  // the label's time
  bool enabled = true;
  absl::Time disabled_time = absl::InfinitePast();  // set when !enabled
};

struct TableStreamList {
  std::vector<TableStreamDescription> streams;  // by (table name, label)
  bool more = false;  // more follow the last one
};

// UpdateTable's answer to more than one index created or deleted in one call (DynamoDB's
// LimitExceededException).
inline constexpr char kOneIndexChange[] =
    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
    "per table";

// UpdateTable's changes; an unset member is left as it is.
struct TableUpdate {
  // Turns the stream on (a new stream, new label) or off (the current one is DISABLED).
  std::optional<StreamSpecification> stream;
  std::optional<BillingMode> billing_mode;
  // ProvisionedThroughput: both or neither.
  std::optional<int64_t> read_capacity_units;
  std::optional<int64_t> write_capacity_units;
  // GlobalSecondaryIndexUpdates: one index created (global; its entries backfilled from the
  // table's items) or deleted (a global index's name) — at most one, and with no other change.
  std::optional<IndexSpec> create_index;
  std::optional<std::string> delete_index;
};

struct TableList {
  std::vector<std::string> names;     // in byte order
  std::string last_evaluated_name;    // set when more tables follow
};

// An item before and after a write (nullopt: none).
struct WriteOutcome {
  std::optional<AttributeMap> old_item;
  std::optional<AttributeMap> new_item;
};

// One write of BatchWriteItem or TransactWriteItems.
struct ItemWrite {
  enum class Kind { kPut, kUpdate, kDelete, kConditionCheck };
  Kind kind = Kind::kPut;
  std::string table;
  AttributeMap item;                   // kPut: the item; the others: its key
  UpdateExpression update;             // kUpdate
  std::optional<Condition> condition;  // kConditionCheck: required
};

// Why a transaction was cancelled, one per write (DynamoDB's CancellationReason).
struct CancellationReason {
  // OK: not because of this write (DynamoDB's "None"); FAILED_PRECONDITION: its condition failed
  // ("ConditionalCheckFailed"); INVALID_ARGUMENT: it cannot apply to the item ("ValidationError":
  // an update operand of the wrong type, the result over 400 KB, ...).
  absl::Status status;
  // FAILED_PRECONDITION: the item the condition was checked against (nullopt: there was none).
  std::optional<AttributeMap> item;
};

struct TransactionOutcome {
  std::vector<CancellationReason> cancellation_reasons;  // empty when it was written
  std::vector<WriteOutcome> outcomes;  // one per write, in order, when it was written
  // The transaction was written earlier under its ClientRequestToken: nothing was written now
  // (outcomes empty).
  bool replayed = false;
  bool committed() const { return cancellation_reasons.empty(); }
};

// TransactWriteItems' idempotency (DynamoDB's ClientRequestToken): a transaction written under
// `token` is written once; the same token with the same `request` within
// kTransactionTokenWindow after it was written succeeds again without writing.
struct TransactionToken {
  std::string token;
  // What identifies the request (the caller's canonical form of its writes); another request
  // under the token in the window is IdempotentParameterMismatch.
  std::string request;
};
inline constexpr absl::Duration kTransactionTokenWindow = absl::Minutes(10);
// The aggregate size of one transaction's items and keys (DynamoDB's 4 MB).
inline constexpr int64_t kMaxTransactionBytes = 4 << 20;
// DynamoDB's error code for a ClientRequestToken failure of TransactWriteItems
// ("IdempotentParameterMismatchException", "TransactionInProgressException"), or "" for another
// status.
std::string TransactionTokenError(const absl::Status& status);


struct ItemKey {
  std::string table;
  AttributeMap key;
};

// What one page of a Query or Scan reads at most (DynamoDB's 1 MB), counted in ItemSize of the
// items evaluated.
inline constexpr int64_t kMaxPageBytes = 1 << 20;

// A Query (key_condition set) or a Scan (not set).
struct ReadRequest {
  std::string table;
  // A secondary index of the table to read instead of the table (empty: the table). Its key
  // schema is the key condition's; items come in its order and hold what it projects, unless
  // fetch_table_items.
  std::string index;
  // Index reads of a local index: return each entry's item from the table (DynamoDB fetches the
  // attributes a local index does not project). INVALID_ARGUMENT on a global index.
  bool fetch_table_items = false;
  std::optional<KeyCondition> key_condition;
  bool forward = true;  // Query: ScanIndexForward (ascending sort key)
  int64_t limit = 0;    // items evaluated (before the filter) per page; 0: no limit
  std::optional<AttributeMap> exclusive_start_key;
  std::optional<Condition> filter;
  std::optional<Projection> projection;
  int segment = 0;  // Scan: this segment of total_segments (by partition key hash)
  int total_segments = 1;
};

struct ItemPage {
  std::vector<AttributeMap> items;  // evaluated, passing the filter, projected; in key order
  int64_t scanned_count = 0;        // items evaluated (before the filter)
  // The key of the last item evaluated, when the page stopped at the limit or the page size
  // and more items may follow (the next page's exclusive_start_key).
  std::optional<AttributeMap> last_evaluated_key;
  // What the page read (ItemSize of the items evaluated: the table's, or the index's entries),
  // and, with fetch_table_items, of the table's items fetched — for ConsumedCapacity.
  int64_t bytes_read = 0;
  int64_t table_bytes_fetched = 0;
};

// For PutItem, UpdateItem and DeleteItem (ReturnValuesOnConditionCheckFailure): the item a
// failed condition was checked against, carried by their FAILED_PRECONDITION status; nullopt
// when there was no item or `status` is another one.
std::optional<AttributeMap> ItemOfFailedCondition(const absl::Status& status);

struct TableStoreOptions {
  // fsync the WAL before acknowledging a write (create, delete, item writes).
  bool sync_writes = false;
  // Where tables' change streams live; must hold ColumnFamilies() in its database and be the
  // store whose db() is given to Create, so that an item and its change record are one write.
  // nullptr: no streams (CreateTable with a stream is FAILED_PRECONDITION).
  shard_store::ShardStore* streams = nullptr;
  // Shards of a new table stream (by partition-key hash), 1-10000.
  int table_stream_shards = 4;
  // How long a DISABLED stream stays listed and readable before ExpireStreams deletes it.
  absl::Duration disabled_stream_retention = absl::Hours(24);
  // Shard rollover (RollOverStreamShards): how long a shard of an enabled stream takes writes
  // before a child with its range takes over (DynamoDB: about 4 hours). Zero: never.
  absl::Duration stream_shard_rollover = absl::Hours(4);
};

class TableStore {
 public:
  // The column families the store's database must hold.
  static const std::vector<std::string>& ColumnFamilies();

  // Loads the tables from `db`, which must hold ColumnFamilies(). Errors: DATA_LOSS for
  // undecodable metadata; RocksDB errors.
  static absl::StatusOr<std::unique_ptr<TableStore>> Create(RocksDb& db, Clock& clock,
                                                            TableStoreOptions options = {});

  // --- Tables ------------------------------------------------------------
  // Creates a table, ACTIVE when the call returns (DynamoDB says CREATING for a while). With
  // spec.stream.enabled the table gets a stream labelled with its creation time: a shard_store
  // stream of options.table_stream_shards shards (StreamNameFor), created before the table.
  // spec.indexes are created with it (their entries then kept in every item write).
  // Errors: INVALID_ARGUMENT (name, key schema: ValidateKeySchema; the indexes: more than 5
  // local or 20 global, a local one without the table's partition key or a sort key, names
  // repeated, NonKeyAttributes without INCLUDE or INCLUDE without them; PROVISIONED without both
  // capacity units ≥ 1, PAY_PER_REQUEST with capacity units); FAILED_PRECONDITION (a stream
  // asked of a store without options.streams); ALREADY_EXISTS ("Table already
  // exists: NAME"); RocksDB errors (nothing created).
  absl::StatusOr<TableDescription> CreateTable(const TableSpec& spec);
  // Errors: INVALID_ARGUMENT (name); NOT_FOUND ("Requested resource not found: Table: NAME not
  // found", also while it is being deleted).
  absl::StatusOr<TableDescription> DescribeTable(absl::string_view name);
  // Names after `exclusive_start_name` (when non-empty), at most `limit` (1–100).
  // Errors: INVALID_ARGUMENT (limit).
  absl::StatusOr<TableList> ListTables(absl::string_view exclusive_start_name, int limit);
  // Deletes the table and its items (one batch, after the table's writes in flight are done;
  // new calls on it get NOT_FOUND at once). Returns its description with status DELETING.
  // The table's enabled stream becomes DISABLED in the same batch (its shards are then closed)
  // and stays listed and readable (ListStreams, DescribeStream) for the retention.
  // Errors: INVALID_ARGUMENT; NOT_FOUND; ABORTED (an UpdateTable of it is in progress);
  // RocksDB errors (the table stays).
  absl::StatusOr<TableDescription> DeleteTable(absl::string_view name);
  // Applies `update` once the table's writes in flight are done (new writes wait meanwhile) and
  // returns the new description. Turning the stream on creates a new stream labelled with the
  // time now (a millisecond later than any earlier label of the table name, so a re-enabled
  // stream always has a new label and ARN); turning it off makes the current stream DISABLED
  // and closes its shards; writes after the call go to the new stream or to none. Switching to
  // PAY_PER_REQUEST clears the capacity units; to PROVISIONED needs them. The table metadata
  // and the streams' records are one RocksDB write.
  // Example: a table created with a stream labelled L1, turned off, then on: ListStreams shows
  // L1 DISABLED and L2 ENABLED, LatestStreamLabel is L2, and L1 is readable to its end.
  // An index created gets a new id and the entries of every item it holds (an item whose index
  // key attribute has another type, or an empty or oversized value, is left out of it, as
  // DynamoDB's backfill leaves index key violations out), written with the metadata in one
  // batch while the table's writes wait: it is ACTIVE, complete, when the call returns. An index
  // deleted goes with its entries (a range delete) in the metadata's batch.
  // Index errors: RESOURCE_EXHAUSTED (both: kOneIndexChange, DynamoDB's LimitExceeded);
  // INVALID_ARGUMENT (with another change; a local index; what ValidateIndexes refuses:
  // a name taken, over 20 global indexes...; a key attribute named by the table or another
  // index with another type; deleting a local index); NOT_FOUND (deleting a missing index:
  // "Requested resource not found: Index: NAME not found in table TABLE").
  // Errors: INVALID_ARGUMENT (nothing to change; turning on a stream that is on — "Table
  // already has an enabled stream" — or off one that is off; capacity units below 1, given for
  // PAY_PER_REQUEST, missing for a switch to PROVISIONED, or equal to the current ones);
  // NOT_FOUND; ABORTED (another UpdateTable of it is in progress, as DynamoDB's
  // ResourceInUseException while UPDATING); FAILED_PRECONDITION (a stream asked of a store
  // without streams); RocksDB and ShardStore::CreateStream errors (nothing changed).
  absl::StatusOr<TableDescription> UpdateTable(absl::string_view name, const TableUpdate& update);

  // --- Streams of tables ---------------------------------------------------
  // Streams (enabled and disabled) by (table name, label), of `table_name` only when not empty,
  // after (exclusive_start_table, exclusive_start_label) when that table name is not empty, at
  // most `limit` (1-100). Errors: INVALID_ARGUMENT (limit).
  absl::StatusOr<TableStreamList> ListStreams(absl::string_view table_name,
                                              absl::string_view exclusive_start_table,
                                              absl::string_view exclusive_start_label,
                                              int limit);
  // The stream of `table_name` labelled `label` (as a stream ARN names it), or the one whose
  // shard_store stream is `stream_name`. Errors: NOT_FOUND ("Requested resource not found:
  // Stream: ... not found").
  absl::StatusOr<TableStreamDescription> DescribeStream(absl::string_view table_name,
                                                        absl::string_view label);
  absl::StatusOr<TableStreamDescription> DescribeStreamByName(absl::string_view stream_name);
  // One pass of the disabled streams' upkeep (TableStreamJanitor runs it): closes the shards of
  // every DISABLED stream not closed yet (after a restart, or when the close after UpdateTable
  // or DeleteTable failed), and deletes each stream disabled for the retention or longer (its
  // shard_store stream, then its record). Returns how many streams it deleted. Errors: the
  // first failure (the others are still tried; the next pass retries).
  absl::StatusOr<int> ExpireStreams();
  // One pass of shard rollover (TableStreamJanitor runs it): every open shard of an enabled
  // stream that is due closes and one child with the same hash-key range takes its later writes
  // (ShardStore::RollOverShards), so a stream's lineage grows as DynamoDB's: readers reach the
  // parent's end (GetRecords without NextShardIterator) and DescribeStream shows the child
  // with ParentShardId. A write goes wholly to the parent or the child, so an item's records
  // stay in write order read parents first. Due: a shard with a parent
  // options.stream_shard_rollover (P) after it was created; a stream's first shards are
  // staggered by their hash-key range so that they do not all roll over at once — the shard
  // starting at hash key K after P × (1 − K / 2^128) (of 4 shards: P, ¾P, ½P, ¼P), and each of
  // its descendants every P after. Times are the shards' creation times in the store (kept
  // across restarts); a pass rolls a shard over at most once however late it runs.
  // Returns how many shards rolled over. Errors: the first failure (the other streams are still
  // tried; a stream another reshard holds UPDATING is left to the next pass, not an error).
  absl::StatusOr<int> RollOverStreamShards();
  // Deletes the stored TransactWriteItems tokens whose window ended (one range delete). Errors:
  // RocksDB's.
  absl::Status ExpireTransactionTokens();

  // --- Items -------------------------------------------------------------
  // Each returns the item as it was before the call (nullopt: there was none), whatever the
  // caller's ReturnValues (the adapter decides what to return).
  //
  // Change streams: on a table with a stream, a write that changes the item appends its change
  // record (change_record.h) to the stream's shard chosen by the partition key's hash, in the
  // same RocksDB write as the item (ShardStore::PutRecordsStaged): both are written or neither.
  // A write that changes nothing (an equal put, in any attribute or set element order; deleting
  // a missing item) writes nothing at all, on any table. A failed condition writes neither.
  //
  // Replaces the item with `item`'s key by `item` when `condition` (if given) holds for the
  // current item. Errors: INVALID_ARGUMENT (an attribute name empty, a value breaking
  // ValidateAttributeValue, the key: CheckItemKey, "Item size has exceeded the maximum allowed
  // size" over 400 KB); NOT_FOUND (table); FAILED_PRECONDITION ("The conditional request
  // failed": nothing written; ItemOfFailedCondition gives the item it was checked against);
  // RocksDB errors and, on a table with a stream, the errors of ShardStore::PutRecordsStaged
  // (nothing written).
  absl::StatusOr<std::optional<AttributeMap>> PutItem(absl::string_view table, AttributeMap item,
                                                      const std::optional<Condition>& condition);
  // The item with `key` (exactly the key attributes), or nullopt. Errors: INVALID_ARGUMENT
  // (CheckKey); NOT_FOUND (table); RocksDB errors.
  absl::StatusOr<std::optional<AttributeMap>> GetItem(absl::string_view table,
                                                      const AttributeMap& key);
  // Deletes the item with `key` when `condition` holds (deleting a missing item is OK).
  // Errors: as GetItem, and FAILED_PRECONDITION as PutItem.
  absl::StatusOr<std::optional<AttributeMap>> DeleteItem(absl::string_view table,
                                                         const AttributeMap& key,
                                                         const std::optional<Condition>& condition);

  // --- The rest of the item API (table_store_writes.cc, table_store_reads.cc) ----------------
  // Writes go through one path (Execute): the keys are claimed together (a write waits for the
  // writes in flight on any of them), the current items read, conditions checked and the new
  // items computed, then every changed item and its change record (tables with a stream) are
  // one RocksDB write — ShardStore::PutRecordsStaged when records go to streams. A failed
  // condition, or any error, writes nothing.
  //
  // Updates the item with `key` by `update` (update_expression.h; a missing item is created
  // from its key) when `condition` holds. Returns the item before and after. Errors: as
  // DeleteItem's, and INVALID_ARGUMENT for what ApplyUpdate rejects.
  absl::StatusOr<WriteOutcome> UpdateItem(absl::string_view table, const AttributeMap& key,
                                          const UpdateExpression& update,
                                          const std::optional<Condition>& condition);
  // Puts and deletes (kPut / kDelete, no conditions) of one or more tables as one write: all of
  // them or none (DynamoDB writes each on its own; all-or-nothing is a stronger promise).
  // Errors: INVALID_ARGUMENT (an item or key as PutItem / DeleteItem; another kind of write;
  // "Provided list of item keys contains duplicates"); NOT_FOUND (a table); write errors
  // (nothing written).
  // `outcomes` (when not null) gets each write's item before and after, in order.
  absl::Status BatchWriteItem(const std::vector<ItemWrite>& writes,
                              std::vector<WriteOutcome>* outcomes = nullptr);
  // All of `writes` or none: when a condition fails or an update cannot apply, the outcome holds
  // one reason per write and nothing is written. With a `token` (ClientRequestToken): a
  // transaction written under it within kTransactionTokenWindow (by the injected clock, from
  // when it was written) with the same token.request is not written again (replayed); a
  // cancelled or failed one leaves the token free. A token is written (with the SHA-256 of
  // token.request) in the transaction's one RocksDB write, so it is kept across a restart
  // exactly when the transaction is. Errors (nothing written): INVALID_ARGUMENT (an item or key; an update of a key
  // attribute; "Transaction request cannot include multiple operations on one item";
  // "Transaction request cannot be larger than 4 MB": the items and keys over
  // kMaxTransactionBytes); NOT_FOUND (a table); write errors; and, by TransactionTokenError,
  // IdempotentParameterMismatch (the token written with another request in the window) and
  // TransactionInProgress (a transaction under the token is in progress).
  absl::StatusOr<TransactionOutcome> TransactWriteItems(
      const std::vector<ItemWrite>& writes,
      const std::optional<TransactionToken>& token = std::nullopt);
  // The items with `keys`, read from one snapshot (each nullopt when missing). Errors: as
  // GetItem's, for the first bad key.
  absl::StatusOr<std::vector<std::optional<AttributeMap>>> GetItems(
      const std::vector<ItemKey>& keys);
  // A Query: the items of one partition (key_condition's partition value) whose sort key meets
  // its condition, in sort key order (descending unless `forward`), from after
  // exclusive_start_key, a page at a time: a page ends after `limit` items evaluated or once
  // kMaxPageBytes were read. Filter and projection apply to the items evaluated. Errors:
  // INVALID_ARGUMENT (no key condition; its values not of the key's types; a sort key condition
  // on a table without one; a filter naming a key attribute; "The provided starting key is
  // invalid: ..."); NOT_FOUND; RocksDB.
  absl::StatusOr<ItemPage> Query(const ReadRequest& request);
  // A Scan: every item of the table (of one segment: the items whose partition key hashes to
  // it), in the store's key order, paged, filtered and projected as Query. Errors:
  // INVALID_ARGUMENT (segment not in [0, total_segments), total_segments not 1-1000000; the
  // starting key); NOT_FOUND; RocksDB.
  absl::StatusOr<ItemPage> Scan(const ReadRequest& request);

  struct Table;

 private:
  // How Execute reports a write that cannot apply: as the call's status (one item), as
  // cancellation reasons (a transaction), or as an error when a batch has conditions at all.
  enum class ExecuteMode { kSingle, kBatch, kTransaction };
  struct ExecuteResult {
    std::vector<WriteOutcome> outcomes;              // one per write, when written
    std::vector<CancellationReason> cancellations;   // kTransaction, when cancelled
  };
  // `extra` (when set) adds writes of the caller to the one write (also when no item changes).
  absl::StatusOr<ExecuteResult> Execute(const std::vector<ItemWrite>& writes, ExecuteMode mode,
                                        const shard_store::BatchStage& extra = nullptr);
  struct StagedWrite;
  // Writes the changed items of `staged`, their change records and `extra` in one write.
  absl::Status Commit(const std::vector<StagedWrite>& staged,
                      const shard_store::BatchStage& extra);
  // Adds to `batch` the entries in `description`'s index `i` of every item of the table, and
  // the next table id. Requires no write of the table in flight; not mu_.
  absl::Status StageBackfill(const TableDescription& description, size_t i,
                             rocksdb::WriteBatch* batch);
  // Adds the index entry changes of one changed item to `batch`.
  absl::Status StageIndexEntries(const StagedWrite& s, rocksdb::WriteBatch* batch);
  absl::StatusOr<ItemPage> Read(const ReadRequest& request, bool query);

  TableStore(RocksDb& db, Clock& clock, TableStoreOptions options);
  absl::Status Load();
  // Creates the shard_store stream of a table's stream (description.stream_name).
  absl::Status CreateStreamOf(const TableDescription& description);
  // Finds the live tables `names` (the table of each, in order; a name may repeat) and counts a
  // write in flight on each, all at once: while any of them is being updated (UpdateTable) it
  // waits, holding none, so a write never holds one table while it waits for another (no
  // deadlock with UpdateTable, which waits for a table's writes in flight: tables/NOTES.md).
  // Errors: INVALID_ARGUMENT (a name); NOT_FOUND (the first missing or deleted table, at once).
  // The caller decrements each table's `writers` under mu_ when its write is done.
  absl::StatusOr<std::vector<std::shared_ptr<Table>>> BeginWrites(
      const std::vector<absl::string_view>& names);
  absl::StatusOr<std::shared_ptr<Table>> FindTable(absl::string_view name);
  rocksdb::WriteOptions WriteOptions() const;
  // A new stream for `description` (its stream_label and stream_name set) labelled at the time
  // now, a millisecond after any earlier label of its table name. Requires mu_.
  void LabelNewStream(TableDescription* description) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds the record of `stream` to `batch`.
  absl::Status StageStream(const TableStreamDescription& stream, rocksdb::WriteBatch* batch);
  // The record of the stream a description names (enabled, created now).
  static TableStreamDescription StreamOf(const TableDescription& description);
  // Closes the shards of a stream just made DISABLED. A failure is left to ExpireStreams,
  // which closes every DISABLED stream not known closed.
  void CloseStream(const std::string& stream_name);
  // Load's reading of one stream record ("s" + stream name).
  absl::Status LoadStreamRecord(absl::string_view key, absl::string_view value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RocksDb& db_;
  Clock& clock_;
  const TableStoreOptions options_;
  rocksdb::ColumnFamilyHandle* const tables_;
  rocksdb::ColumnFamilyHandle* const items_;

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Table>, std::less<>> by_name_ ABSL_GUARDED_BY(mu_);
  uint64_t next_table_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Item keys (RocksDB keys) with a write in flight.
  std::set<std::string> claimed_ ABSL_GUARDED_BY(mu_);
  // Names being created (their write in flight): a second create of the name is ALREADY_EXISTS.
  std::set<std::string, std::less<>> creating_ ABSL_GUARDED_BY(mu_);
  // Every stream not yet expired, by (table name, label); and (table name, label) by the
  // shard_store stream name.
  std::map<std::pair<std::string, std::string>, TableStreamDescription> streams_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> stream_keys_
      ABSL_GUARDED_BY(mu_);
  // DISABLED streams whose shards are known closed (since this process started).
  std::set<std::string> sealed_ ABSL_GUARDED_BY(mu_);
  // ClientRequestTokens of TransactWriteItems: in progress (written false), or written (until
  // `expires`); `token_expiry_` lists the written ones in expiry order, for pruning. Loaded
  // from the tables family (internal::TokenKey) on open.
  struct TokenState {
    std::string request;  // its SHA-256
    bool written = false;
    MonotonicTime expires;
  };
  std::map<std::string, TokenState> tokens_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<MonotonicTime, std::string>> token_expiry_ ABSL_GUARDED_BY(mu_);
};

// Runs TableStore::RollOverStreamShards, ExpireStreams and ExpireTransactionTokens every `period` (by `clock`) on its own
// thread until destroyed (as shard_store's RetentionTrimmer). Tests call RunOnce(). `store` and
// `clock` must outlive it. Thread-safe.
class TableStreamJanitor {
 public:
  TableStreamJanitor(TableStore& store, Clock& clock, absl::Duration period = absl::Minutes(1));
  ~TableStreamJanitor();
  // The three passes (each also when another fails); the first error.
  absl::Status RunOnce();
  void Start();

 private:
  TableStore& store_;
  Clock& clock_;
  const absl::Duration period_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_TABLE_STORE_H_
