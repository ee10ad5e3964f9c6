"""Secondary indexes (also created and deleted by UpdateTable), ConsumedCapacity and TransactWriteItems' idempotency and limits, driven by
Debian's boto3 (`dynamodb` client and resource) against the real
`tributary serve --aws_listen=127.0.0.1:0`.

Run by //aws/testing:dynamodb_indexes_boto3_test from the runfiles root.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.exceptions  # noqa: E402
from boto3.dynamodb.conditions import Key  # noqa: E402

import tributary_aws  # noqa: E402


def error_of(caught):
    return caught.exception.response["Error"]["Code"], caught.exception.response["Error"]["Message"]


def index(name, hash_key, range_key=None, projection="ALL", non_key=None, throughput=False):
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    out = {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": projection}}
    if non_key:
        out["Projection"]["NonKeyAttributes"] = non_key
    if throughput:
        out["ProvisionedThroughput"] = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}
    return out


class DynamoDbIndexesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.ddb, = tributary_aws.clients(cls.server.endpoint, "dynamodb")
        cls.resource = tributary_aws.resource(cls.server.endpoint, "dynamodb")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def assert_error(self, code, message_part, fn, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            fn(**kwargs)
        got_code, message = error_of(caught)
        self.assertEqual(got_code, code, caught.exception.response)
        self.assertIn(message_part, message)
        return caught.exception.response

    def create_orders(self, name, **extra):
        """customer (S) + id (S); LSI byTotal (total N, KEYS_ONLY); GSI byStatus (status,
        placed; INCLUDE total); GSI byTag (tag, hash only, ALL)."""
        return self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                       {"AttributeName": "id", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in [
                ("customer", "S"), ("id", "S"), ("total", "N"), ("status", "S"),
                ("placed", "S"), ("tag", "S")]],
            LocalSecondaryIndexes=[index("byTotal", "customer", "total", "KEYS_ONLY")],
            GlobalSecondaryIndexes=[
                index("byStatus", "status", "placed", "INCLUDE", ["total"], throughput=True),
                index("byTag", "tag", throughput=True)],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            **extra)["TableDescription"]

    def put_orders(self, table):
        items = [
            {"customer": "ann", "id": "o1", "status": "OPEN", "placed": "2024-03", "total": 10,
             "note": "x"},
            {"customer": "bob", "id": "o2", "status": "OPEN", "placed": "2024-01", "total": 20},
            {"customer": "ann", "id": "o3", "placed": "2024-02", "total": 5},  # no status
            {"customer": "ann", "id": "o4", "status": "SHIPPED", "placed": "2024-02",
             "total": 30, "tag": "gift"},
        ]
        t = self.resource.Table(table)
        for item in items:
            t.put_item(Item=item)
        return t

    def test_create_and_describe_tables_with_indexes(self):
        d = self.create_orders("idx_describe")
        for desc in (d, self.ddb.describe_table(TableName="idx_describe")["Table"]):
            local = {i["IndexName"]: i for i in desc["LocalSecondaryIndexes"]}
            glob = {i["IndexName"]: i for i in desc["GlobalSecondaryIndexes"]}
            self.assertEqual(set(local), {"byTotal"})
            self.assertEqual(set(glob), {"byStatus", "byTag"})
            self.assertEqual(local["byTotal"]["Projection"], {"ProjectionType": "KEYS_ONLY"})
            self.assertEqual(local["byTotal"]["KeySchema"][1],
                             {"AttributeName": "total", "KeyType": "RANGE"})
            self.assertEqual(glob["byStatus"]["Projection"],
                             {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]})
            self.assertEqual(glob["byStatus"]["IndexStatus"], "ACTIVE")
            self.assertEqual(glob["byStatus"]["ProvisionedThroughput"]["ReadCapacityUnits"], 3)
            self.assertEqual(glob["byTag"]["IndexArn"], desc["TableArn"] + "/index/byTag")
            self.assertEqual(local["byTotal"]["IndexArn"], desc["TableArn"] + "/index/byTotal")
            self.assertEqual(glob["byTag"]["ItemCount"], 0)
            self.assertEqual(glob["byTag"]["IndexSizeBytes"], 0)

    def test_create_table_refuses_what_dynamodb_refuses(self):
        base = dict(KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                               {"AttributeName": "id", "KeyType": "RANGE"}],
                    BillingMode="PAY_PER_REQUEST")
        defs = [{"AttributeName": "customer", "AttributeType": "S"},
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "x", "AttributeType": "S"}]
        self.assert_error(
            "ValidationException", "Some index key attributes are not defined in "
            "AttributeDefinitions", self.ddb.create_table, TableName="idx_bad1",
            AttributeDefinitions=defs,
            GlobalSecondaryIndexes=[index("gsi", "undefined")], **base)
        self.assert_error(
            "ValidationException", "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
            self.ddb.create_table, TableName="idx_bad2", AttributeDefinitions=defs,
            LocalSecondaryIndexes=[index("lsi%d" % i, "customer", "x") for i in range(6)], **base)
        self.assert_error(
            "ValidationException", "Number of GlobalSecondaryIndexes exceeds per-table limit of 20",
            self.ddb.create_table, TableName="idx_bad3", AttributeDefinitions=defs,
            GlobalSecondaryIndexes=[index("gsi%d" % i, "x") for i in range(21)], **base)
        self.assert_error(
            "ValidationException", "NonKeyAttributes is not specified", self.ddb.create_table,
            TableName="idx_bad4", AttributeDefinitions=defs,
            GlobalSecondaryIndexes=[index("gsi", "x", projection="INCLUDE")], **base)
        self.assert_error(
            "ValidationException", "does not exactly match number of attributes defined",
            self.ddb.create_table, TableName="idx_bad5", AttributeDefinitions=defs, **base)
        # 5 local and 20 global indexes are allowed.
        self.ddb.create_table(
            TableName="idx_full", AttributeDefinitions=defs,
            LocalSecondaryIndexes=[index("lsi%d" % i, "customer", "x") for i in range(5)],
            GlobalSecondaryIndexes=[index("gsi%d" % i, "x") for i in range(20)], **base)

    def test_query_a_global_index_sparse_and_projected(self):
        self.create_orders("idx_gsi")
        t = self.put_orders("idx_gsi")
        got = t.query(IndexName="byStatus", KeyConditionExpression=Key("status").eq("OPEN"))
        self.assertEqual([i["id"] for i in got["Items"]], ["o2", "o1"])  # by placed
        # INCLUDE total: no note.
        self.assertEqual(got["Items"][1], {"customer": "ann", "id": "o1", "status": "OPEN",
                                           "placed": "2024-03", "total": 10})
        got = t.query(IndexName="byStatus",
                      KeyConditionExpression=Key("status").eq("SHIPPED") &
                      Key("placed").begins_with("2024"))
        self.assertEqual([i["id"] for i in got["Items"]], ["o4"])
        # Sparse: only o4 has a tag; Scan of an index sees only its items.
        scanned = t.scan(IndexName="byTag")["Items"]
        self.assertEqual([i["id"] for i in scanned], ["o4"])
        self.assertEqual(len(t.scan(IndexName="byStatus")["Items"]), 3)
        # An update of the index key moves the item; a delete removes it.
        t.update_item(Key={"customer": "bob", "id": "o2"},
                      UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": "SHIPPED"})
        got = t.query(IndexName="byStatus", KeyConditionExpression=Key("status").eq("OPEN"))
        self.assertEqual([i["id"] for i in got["Items"]], ["o1"])
        t.delete_item(Key={"customer": "ann", "id": "o1"})
        got = t.query(IndexName="byStatus", KeyConditionExpression=Key("status").eq("OPEN"))
        self.assertEqual(got["Items"], [])
        # Paging by the paginator: LastEvaluatedKey carries the table's and the index's keys.
        for n in range(5):
            t.put_item(Item={"customer": "c%d" % n, "id": "p", "status": "NEW", "placed": "x"})
        pages = list(self.ddb.get_paginator("query").paginate(
            TableName="idx_gsi", IndexName="byStatus",
            KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "NEW"}}, Limit=2))
        self.assertEqual([i["customer"]["S"] for p in pages for i in p["Items"]],
                         ["c0", "c1", "c2", "c3", "c4"])
        self.assertEqual(set(pages[0]["LastEvaluatedKey"]), {"customer", "id", "status", "placed"})

    def test_query_a_local_index_by_its_sort_key(self):
        self.create_orders("idx_lsi")
        t = self.put_orders("idx_lsi")
        got = t.query(IndexName="byTotal", KeyConditionExpression=Key("customer").eq("ann"))
        self.assertEqual([i["id"] for i in got["Items"]], ["o3", "o1", "o4"])  # 5, 10, 30
        self.assertEqual(got["Items"][0], {"customer": "ann", "id": "o3", "total": 5})  # KEYS_ONLY
        got = t.query(IndexName="byTotal", ScanIndexForward=False,
                      KeyConditionExpression=Key("customer").eq("ann") & Key("total").gte(10))
        self.assertEqual([i["id"] for i in got["Items"]], ["o4", "o1"])
        # ALL_ATTRIBUTES of a local index fetches the table's item; consistent reads are fine.
        got = t.query(IndexName="byTotal", Select="ALL_ATTRIBUTES", ConsistentRead=True,
                      KeyConditionExpression=Key("customer").eq("ann") & Key("total").eq(10))
        self.assertEqual(got["Items"][0]["note"], "x")

    def test_index_errors_as_dynamodb(self):
        self.create_orders("idx_errors")
        t = self.put_orders("idx_errors")
        self.assert_error("ValidationException",
                          "Consistent reads are not supported on global secondary indexes",
                          t.query, IndexName="byStatus", ConsistentRead=True,
                          KeyConditionExpression=Key("status").eq("OPEN"))
        self.assert_error("ValidationException", "The table does not have the specified index",
                          t.query, IndexName="nope",
                          KeyConditionExpression=Key("status").eq("OPEN"))
        self.assert_error("ValidationException", "Select type ALL_ATTRIBUTES is not supported",
                          t.query, IndexName="byStatus", Select="ALL_ATTRIBUTES",
                          KeyConditionExpression=Key("status").eq("OPEN"))
        # A wrong type of index key on write; nothing is written.
        self.assert_error("ValidationException",
                          "Type mismatch for Index Key status Expected: S Actual: N",
                          t.put_item, Item={"customer": "z", "id": "1", "status": 5})
        self.assertNotIn("Item", t.get_item(Key={"customer": "z", "id": "1"}))
        self.assert_error("ValidationException", "Type mismatch for Index Key total",
                          t.update_item, Key={"customer": "ann", "id": "o1"},
                          UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "total"},
                          ExpressionAttributeValues={":t": "ten"})

    def test_update_table_creates_a_backfilled_global_index_and_deletes_it(self):
        self.create_orders("idx_update")
        t = self.put_orders("idx_update")
        created = self.ddb.update_table(
            TableName="idx_update",
            AttributeDefinitions=[{"AttributeName": "placed", "AttributeType": "S"},
                                  {"AttributeName": "note", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": index("byNote", "note", "placed",
                                                          "KEYS_ONLY", throughput=True)}])
        glob = {i["IndexName"]: i for i in created["TableDescription"]["GlobalSecondaryIndexes"]}
        self.assertEqual(set(glob), {"byStatus", "byTag", "byNote"})
        self.assertEqual(glob["byNote"]["IndexStatus"], "ACTIVE")  # backfilled in the call
        described = self.ddb.describe_table(TableName="idx_update")["Table"]
        self.assertIn({"AttributeName": "note", "AttributeType": "S"},
                      described["AttributeDefinitions"])
        # The items written before the index are in it (only o1 has a note), projected.
        self.assertEqual(t.query(IndexName="byNote",
                                 KeyConditionExpression=Key("note").eq("x"))["Items"],
                         [{"customer": "ann", "id": "o1", "note": "x", "placed": "2024-03"}])
        t.put_item(Item={"customer": "cid", "id": "o5", "note": "x", "placed": "2024-01"})
        self.assertEqual([i["id"] for i in t.query(
            IndexName="byNote", KeyConditionExpression=Key("note").eq("x"))["Items"]],
            ["o5", "o1"])

        self.assert_error("LimitExceededException",
                          "Only 1 online index can be created or deleted simultaneously",
                          self.ddb.update_table, TableName="idx_update",
                          GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byTag"}},
                                                       {"Delete": {"IndexName": "byNote"}}])
        self.assert_error("ValidationException",
                          "Some index key attributes are not defined in AttributeDefinitions",
                          self.ddb.update_table, TableName="idx_update",
                          GlobalSecondaryIndexUpdates=[{"Create": index("byOther", "other",
                                                                        throughput=True)}])
        self.assert_error("ResourceNotFoundException", "Index: nope",
                          self.ddb.update_table, TableName="idx_update",
                          GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}])

        deleted = self.ddb.update_table(
            TableName="idx_update", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byNote"}}])
        self.assertEqual({i["IndexName"] for i in
                          deleted["TableDescription"]["GlobalSecondaryIndexes"]},
                         {"byStatus", "byTag"})
        self.assert_error("ValidationException", "The table does not have the specified index",
                          t.query, IndexName="byNote",
                          KeyConditionExpression=Key("note").eq("x"))

    def create_plain(self, name):
        self.ddb.create_table(TableName=name,
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")

    def test_consumed_capacity_of_every_item_operation(self):
        self.create_orders("cap_orders")
        self.create_plain("cap_plain")
        body = "x" * 1500
        item = {"customer": {"S": "cap"}, "id": {"S": "1"}, "status": {"S": "OPEN"},
                "placed": {"S": "p"}, "body": {"S": body}}
        # A 1.5 KB item: 2 write units on the table, 1 for its (small) byStatus entry; no total,
        # no tag: not in byTotal or byTag.
        got = self.ddb.put_item(TableName="cap_orders", Item=item, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(got["ConsumedCapacity"]["TableName"], "cap_orders")
        self.assertEqual(got["ConsumedCapacity"]["CapacityUnits"], 3.0)
        got = self.ddb.put_item(TableName="cap_orders", Item=dict(item, status={"S": "DONE"}),
                                ReturnConsumedCapacity="INDEXES")
        cc = got["ConsumedCapacity"]
        self.assertEqual(cc["Table"]["CapacityUnits"], 2.0)
        # The index key changed: the old entry deleted and the new one put.
        self.assertEqual(cc["GlobalSecondaryIndexes"], {"byStatus": {
            "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}})
        self.assertEqual(cc["CapacityUnits"], 4.0)
        self.assertNotIn("LocalSecondaryIndexes", cc)
        got = self.ddb.update_item(TableName="cap_orders",
                                   Key={"customer": {"S": "cap"}, "id": {"S": "1"}},
                                   UpdateExpression="SET #t = :t",
                                   ExpressionAttributeNames={"#t": "total"},
                                   ExpressionAttributeValues={":t": {"N": "5"}},
                                   ReturnConsumedCapacity="INDEXES")
        cc = got["ConsumedCapacity"]
        self.assertEqual(cc["LocalSecondaryIndexes"]["byTotal"]["CapacityUnits"], 1.0)
        self.assertEqual(cc["GlobalSecondaryIndexes"]["byStatus"]["CapacityUnits"], 1.0)
        self.assertNotIn("ConsumedCapacity", self.ddb.put_item(
            TableName="cap_orders", Item=item, ReturnConsumedCapacity="NONE"))
        self.assertNotIn("ConsumedCapacity", self.ddb.put_item(TableName="cap_orders", Item=item))
        key = {"customer": {"S": "cap"}, "id": {"S": "1"}}
        # Reads: 4 KB a unit, eventually consistent half.
        for consistent, units in ((False, 0.5), (True, 1.0)):
            got = self.ddb.get_item(TableName="cap_orders", Key=key, ConsistentRead=consistent,
                                    ReturnConsumedCapacity="TOTAL")
            self.assertEqual(got["ConsumedCapacity"]["CapacityUnits"], units)
            got = self.ddb.query(TableName="cap_orders", ConsistentRead=consistent,
                                 KeyConditionExpression="customer = :c",
                                 ExpressionAttributeValues={":c": {"S": "cap"}},
                                 ReturnConsumedCapacity="TOTAL")
            self.assertEqual(got["ConsumedCapacity"]["CapacityUnits"], units)
        got = self.ddb.query(TableName="cap_orders", IndexName="byStatus",
                             KeyConditionExpression="#s = :s",
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":s": {"S": "OPEN"}},
                             ReturnConsumedCapacity="INDEXES")
        self.assertEqual(got["ConsumedCapacity"]["GlobalSecondaryIndexes"]["byStatus"]
                         ["CapacityUnits"], 0.5)
        got = self.ddb.scan(TableName="cap_orders", ReturnConsumedCapacity="TOTAL")
        self.assertEqual(got["ConsumedCapacity"]["CapacityUnits"], 0.5)
        # Batches and transactions: one entry per table; transactions cost twice.
        got = self.ddb.batch_write_item(RequestItems={"cap_plain": [
            {"PutRequest": {"Item": {"id": {"S": "a"}}}},
            {"PutRequest": {"Item": {"id": {"S": "b"}, "body": {"S": body}}}}]},
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(got["ConsumedCapacity"],
                         [{"TableName": "cap_plain", "CapacityUnits": 3.0,
                           "WriteCapacityUnits": 3.0}])
        got = self.ddb.batch_get_item(RequestItems={"cap_plain": {
            "Keys": [{"id": {"S": "a"}}, {"id": {"S": "b"}}]}}, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(got["ConsumedCapacity"][0]["CapacityUnits"], 1.0)
        got = self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "cap_plain", "Item": {"id": {"S": "c"}}}},
            {"Put": {"TableName": "cap_orders",
                     "Item": {"customer": {"S": "t"}, "id": {"S": "1"}}}}],
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(sorted((c["TableName"], c["CapacityUnits"])
                                for c in got["ConsumedCapacity"]),
                         [("cap_orders", 2.0), ("cap_plain", 2.0)])
        got = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": "cap_plain", "Key": {"id": {"S": "b"}}}}],
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(got["ConsumedCapacity"][0]["CapacityUnits"], 2.0)

    def test_transact_write_items_client_request_token_and_limits(self):
        self.create_plain("tok_plain")
        put_a = [{"Put": {"TableName": "tok_plain", "Item": {"id": {"S": "a"}, "v": {"N": "1"}}}}]
        self.ddb.transact_write_items(TransactItems=put_a, ClientRequestToken="token-1")
        self.ddb.put_item(TableName="tok_plain", Item={"id": {"S": "a"}, "v": {"N": "2"}})
        # The same token and request again: success, and the item is not written again.
        self.ddb.transact_write_items(TransactItems=put_a, ClientRequestToken="token-1")
        got = self.ddb.get_item(TableName="tok_plain", Key={"id": {"S": "a"}})["Item"]
        self.assertEqual(got["v"], {"N": "2"})
        put_b = [{"Put": {"TableName": "tok_plain", "Item": {"id": {"S": "b"}}}}]
        self.assert_error("IdempotentParameterMismatchException", "same client token",
                          self.ddb.transact_write_items, TransactItems=put_b,
                          ClientRequestToken="token-1")
        self.assertNotIn("Item", self.ddb.get_item(TableName="tok_plain",
                                                   Key={"id": {"S": "b"}}))
        # boto3 gives every call a token of its own: two calls write twice.
        self.ddb.transact_write_items(TransactItems=put_a)
        got = self.ddb.get_item(TableName="tok_plain", Key={"id": {"S": "a"}})["Item"]
        self.assertEqual(got["v"], {"N": "1"})
        # 4 MB in all, 100 actions at most.
        big = "x" * (390 * 1024)
        self.assert_error("ValidationException", "Transaction request cannot be larger than 4 MB",
                          self.ddb.transact_write_items, TransactItems=[
                              {"Put": {"TableName": "tok_plain",
                                       "Item": {"id": {"S": "big%d" % i}, "v": {"S": big}}}}
                              for i in range(11)])
        self.assertNotIn("Item", self.ddb.get_item(TableName="tok_plain",
                                                   Key={"id": {"S": "big0"}}))
        self.assert_error("ValidationException", "length less than or equal to 100",
                          self.ddb.transact_write_items, TransactItems=[
                              {"Put": {"TableName": "tok_plain", "Item": {"id": {"S": "n%d" % i}}}}
                              for i in range(101)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
