"""The DynamoDB item API a user's code calls, driven by Debian's boto3 (`dynamodb` client and
resource, whose Key/Attr conditions build the expressions) against the real
`tributary serve --aws_listen=127.0.0.1:0`: UpdateItem (SET arithmetic, if_not_exists,
list_append, REMOVE, ADD, DELETE, every ReturnValues), the condition grammar, Query and Scan with
their paginators, BatchWriteItem / BatchGetItem, TransactWriteItems / TransactGetItems, the
errors DynamoDB answers, and the change records these writes leave in the table's stream.

Run by //aws/testing:dynamodb_items_boto3_test from the runfiles root.
"""

import decimal
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.exceptions  # noqa: E402
from boto3.dynamodb.conditions import Attr, Key  # noqa: E402

import tributary_aws  # noqa: E402
from tributary_aws import signed_request  # noqa: E402


def error_of(caught):
    return caught.exception.response["Error"]["Code"], caught.exception.response["Error"]["Message"]


class DynamoDbItemsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.ddb, cls.streams = tributary_aws.clients(cls.server.endpoint, "dynamodb",
                                                     "dynamodbstreams")
        cls.resource = tributary_aws.resource(cls.server.endpoint, "dynamodb")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, name, sort_key=None, stream=None):
        schema = [{"AttributeName": "id", "KeyType": "HASH"}]
        definitions = [{"AttributeName": "id", "AttributeType": "S"}]
        if sort_key:
            schema.append({"AttributeName": sort_key[0], "KeyType": "RANGE"})
            definitions.append({"AttributeName": sort_key[0], "AttributeType": sort_key[1]})
        extra = {}
        if stream:
            extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
        return self.ddb.create_table(TableName=name, KeySchema=schema,
                                     AttributeDefinitions=definitions,
                                     BillingMode="PAY_PER_REQUEST", **extra)["TableDescription"]

    def assert_error(self, code, message_part, fn, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            fn(**kwargs)
        got_code, message = error_of(caught)
        self.assertEqual(got_code, code, caught.exception.response)
        self.assertIn(message_part, message)
        return caught.exception.response

    def stream_records(self, arn):
        records = []
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            it = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records += self.streams.get_records(ShardIterator=it)["Records"]
        return records

    # --- UpdateItem -------------------------------------------------------------------------

    def test_update_item_applies_every_action_and_returns_what_was_asked(self):
        self.create("upd")
        key = {"id": {"S": "a"}}
        first = self.ddb.update_item(
            TableName="upd", Key=key,
            UpdateExpression="SET #n = :n, tags = :tags, hits = if_not_exists(hits, :zero), "
                             "l = list_append(if_not_exists(l, :empty), :l)",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":n": {"S": "first"}, ":tags": {"SS": ["x", "y"]},
                                       ":zero": {"N": "0"}, ":empty": {"L": []},
                                       ":l": {"L": [{"S": "p"}]}},
            ReturnValues="ALL_NEW")["Attributes"]
        self.assertEqual(first["hits"], {"N": "0"})
        self.assertEqual(first["name"], {"S": "first"})
        self.assertEqual(first["l"], {"L": [{"S": "p"}]})
        updated = self.ddb.update_item(
            TableName="upd", Key=key,
            UpdateExpression="SET hits = hits + :one, l[1] = :q REMOVE #n ADD tags :z, "
                             "amount :big",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":q": {"S": "q"},
                                       ":z": {"SS": ["z"]},
                                       ":big": {"N": "12345678901234567890123456789012345678"}},
            ReturnValues="UPDATED_NEW")["Attributes"]
        self.assertEqual(updated["hits"], {"N": "1"})
        self.assertEqual(updated["l"], {"L": [{"S": "q"}]})  # only the element written
        self.assertEqual(sorted(updated["tags"]["SS"]), ["x", "y", "z"])
        self.assertEqual(updated["amount"], {"N": "12345678901234567890123456789012345678"})
        self.assertNotIn("name", updated)
        old = self.ddb.update_item(TableName="upd", Key=key,
                                   UpdateExpression="SET hits = :one DELETE tags :x",
                                   ExpressionAttributeValues={":one": {"N": "7"},
                                                              ":x": {"SS": ["x", "y"]}},
                                   ReturnValues="UPDATED_OLD")["Attributes"]
        self.assertEqual(old["hits"], {"N": "1"})
        self.assertEqual(sorted(old["tags"]["SS"]), ["x", "y", "z"])
        self.assertEqual(self.ddb.get_item(TableName="upd", Key=key)["Item"]["tags"],
                         {"SS": ["z"]})
        everything = self.ddb.update_item(TableName="upd", Key=key, UpdateExpression="REMOVE l",
                                          ReturnValues="ALL_OLD")["Attributes"]
        self.assertEqual(everything["l"], {"L": [{"S": "p"}, {"S": "q"}]})
        self.assertNotIn("Attributes", self.ddb.update_item(
            TableName="upd", Key=key, UpdateExpression="SET hits = :one",
            ExpressionAttributeValues={":one": {"N": "8"}}))
        item = self.ddb.get_item(TableName="upd", Key=key, ProjectionExpression="hits, l")
        self.assertEqual(item["Item"], {"hits": {"N": "8"}})

    def test_update_item_rejects_what_dynamodb_rejects(self):
        self.create("updbad")
        key = {"id": {"S": "a"}}
        self.ddb.put_item(TableName="updbad", Item={"id": {"S": "a"}, "s": {"S": "text"}})
        cases = [
            ({"UpdateExpression": "SET status = :v",
              "ExpressionAttributeValues": {":v": {"S": "x"}}},
             "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: "
             "status"),
            ({"UpdateExpression": "SET a = :nope",
              "ExpressionAttributeValues": {":v": {"S": "x"}}},
             "An expression attribute value used in expression is not defined; attribute "
             "value: :nope"),
            ({"UpdateExpression": "SET a = :v",
              "ExpressionAttributeValues": {":v": {"S": "x"}, ":w": {"S": "y"}}},
             "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
            ({"UpdateExpression": "SET a = s + :v",
              "ExpressionAttributeValues": {":v": {"N": "1"}}},
             "An operand in the update expression has an incorrect data type"),
            ({"UpdateExpression": "SET id = :v",
              "ExpressionAttributeValues": {":v": {"S": "b"}}},
             "Cannot update attribute id. This attribute is part of the key"),
            ({"UpdateExpression": "SET a = :v SET b = :v",
              "ExpressionAttributeValues": {":v": {"S": "b"}}},
             'The "SET" section can only be used once in an update expression;'),
            ({"UpdateExpression": "SET a = :v,",
              "ExpressionAttributeValues": {":v": {"S": "b"}}},
             'Syntax error; token: "<EOF>"'),
            ({"AttributeUpdates": {"a": {"Value": {"S": "b"}}}}, "AttributeUpdates"),
        ]
        for kwargs, message in cases:
            with self.subTest(kwargs=kwargs):
                self.assert_error("ValidationException", message, self.ddb.update_item,
                                  TableName="updbad", Key=key, **kwargs)
        self.assertEqual(self.ddb.get_item(TableName="updbad", Key=key)["Item"],
                         {"id": {"S": "a"}, "s": {"S": "text"}})

    # --- Conditions -------------------------------------------------------------------------

    def test_conditions_use_the_whole_grammar(self):
        self.create("cond2")
        self.ddb.put_item(TableName="cond2", Item={
            "id": {"S": "a"}, "n": {"N": "5"}, "tags": {"SS": ["x"]},
            "doc": {"M": {"list": {"L": [{"S": "p"}, {"N": "7"}]}}}, "s": {"S": "hello"}})
        values = {":four": {"N": "4"}, ":ten": {"N": "10"}, ":x": {"S": "x"},
                  ":seven": {"N": "7"}, ":he": {"S": "he"}, ":SS": {"S": "SS"},
                  ":five": {"N": "5"}}
        holds = [
            "n BETWEEN :four AND :ten",
            "n IN (:four, :five) AND NOT (n > :ten OR n < :four)",
            "contains(tags, :x) AND begins_with(s, :he) AND attribute_type(tags, :SS)",
            "#d.#l[1] = :seven AND size(#d.#l) < :four AND attribute_exists(#d.#l[0])",
        ]
        for expression in holds:
            with self.subTest(expression=expression):
                used = {k: v for k, v in values.items() if k in expression}
                names = {k: v for k, v in {"#d": "doc", "#l": "list"}.items() if k in expression}
                extra = {"ExpressionAttributeNames": names} if names else {}
                self.ddb.update_item(TableName="cond2", Key={"id": {"S": "a"}},
                                     UpdateExpression="SET checked = :x",
                                     ConditionExpression=expression,
                                     ExpressionAttributeValues=dict(used, **{":x": {"S": "x"}}),
                                     **extra)
        self.assert_error("ConditionalCheckFailedException", "The conditional request failed",
                          self.ddb.delete_item, TableName="cond2", Key={"id": {"S": "a"}},
                          ConditionExpression="n > :ten",
                          ExpressionAttributeValues={":ten": {"N": "10"}})
        self.assert_error("ValidationException",
                          "Invalid ConditionExpression: Syntax error; token:",
                          self.ddb.delete_item, TableName="cond2", Key={"id": {"S": "a"}},
                          ConditionExpression="n >> :ten",
                          ExpressionAttributeValues={":ten": {"N": "10"}})
        self.assert_error("ValidationException", "The BETWEEN operator requires upper bound",
                          self.ddb.delete_item, TableName="cond2", Key={"id": {"S": "a"}},
                          ConditionExpression="n BETWEEN :ten AND :four",
                          ExpressionAttributeValues={":ten": {"N": "10"}, ":four": {"N": "4"}})

    def test_a_failed_condition_returns_the_item_when_asked(self):
        # Debian's botocore predates ReturnValuesOnConditionCheckFailure on single-item writes:
        # sent as DynamoDB's JSON by hand.
        self.create("condret")
        self.ddb.put_item(TableName="condret", Item={"id": {"S": "a"}, "v": {"N": "1"}})
        body = json.dumps({"TableName": "condret", "Item": {"id": {"S": "a"}},
                           "ConditionExpression": "attribute_not_exists(id)",
                           "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}).encode()
        status, _, reply = signed_request(self.server.endpoint, "DynamoDB_20120810.PutItem",
                                          body, content_type="application/x-amz-json-1.0")
        self.assertEqual(status, 400)
        reply = json.loads(reply)
        self.assertEqual(reply["__type"],
                         "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException")
        self.assertEqual(reply["Item"], {"id": {"S": "a"}, "v": {"N": "1"}})

    # --- Query and Scan ---------------------------------------------------------------------

    def test_query_reads_a_partition_in_dynamodbs_sort_order_and_pages(self):
        self.create("events", sort_key=("n", "N"))
        numbers = ["10", "-2", "0.5", "2", "-10", "0", "-0.5", "100", "3"]
        for n in numbers:
            self.ddb.put_item(TableName="events", Item={"id": {"S": "p"}, "n": {"N": n},
                                                        "odd": {"BOOL": n in ("3", "-10")}})
        self.ddb.put_item(TableName="events", Item={"id": {"S": "other"}, "n": {"N": "1"}})
        query = dict(TableName="events", KeyConditionExpression="id = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}})
        ascending = [i["n"]["N"] for i in self.ddb.query(**query)["Items"]]
        self.assertEqual(ascending, ["-10", "-2", "-0.5", "0", "0.5", "2", "3", "10", "100"])
        descending = [i["n"]["N"] for i in
                      self.ddb.query(ScanIndexForward=False, **query)["Items"]]
        self.assertEqual(descending, list(reversed(ascending)))
        pages = list(self.ddb.get_paginator("query").paginate(
            PaginationConfig={"PageSize": 2}, **query))
        self.assertEqual([len(p["Items"]) for p in pages], [2, 2, 2, 2, 1])
        self.assertEqual([i["n"]["N"] for p in pages for i in p["Items"]], ascending)
        between = self.ddb.query(
            TableName="events", KeyConditionExpression="id = :p AND n BETWEEN :lo AND :hi",
            ExpressionAttributeValues={":p": {"S": "p"}, ":lo": {"N": "-1"}, ":hi": {"N": "2"}})
        self.assertEqual([i["n"]["N"] for i in between["Items"]], ["-0.5", "0", "0.5", "2"])
        filtered = self.ddb.query(FilterExpression="odd = :t", Limit=5,
                                  ProjectionExpression="n", TableName="events",
                                  KeyConditionExpression="id = :p",
                                  ExpressionAttributeValues={":p": {"S": "p"},
                                                             ":t": {"BOOL": True}})
        self.assertEqual(filtered["Items"], [{"n": {"N": "-10"}}])
        self.assertEqual((filtered["Count"], filtered["ScannedCount"]), (1, 5))
        self.assertEqual(filtered["LastEvaluatedKey"], {"id": {"S": "p"}, "n": {"N": "0.5"}})
        counted = self.ddb.query(Select="COUNT", **query)
        self.assertEqual(counted["Count"], 9)
        self.assertNotIn("Items", counted)

    def test_query_rejects_what_dynamodb_rejects(self):
        self.create("qbad", sort_key=("n", "N"))
        cases = [
            ("n = :n", {":n": {"N": "1"}}, "Query condition missed key schema element: id"),
            ("id > :p", {":p": {"S": "p"}}, "Query key condition not supported"),
            ("id = :p OR n = :n", {":p": {"S": "p"}, ":n": {"N": "1"}},
             "Invalid operator used in KeyConditionExpression: OR"),
            ("id = :n", {":n": {"N": "1"}},
             "One or more parameter values were invalid: Condition parameter type does not "
             "match schema type"),
            ("id = :p AND begins_with(n, :s)", {":p": {"S": "p"}, ":s": {"S": "1"}},
             "begins_with"),
        ]
        self.assert_error("ValidationException",
                          "Filter Expression can only contain non-primary key attributes",
                          self.ddb.query, TableName="qbad", KeyConditionExpression="id = :p",
                          FilterExpression="n > :n",
                          ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"N": "1"}})
        for expression, values, message in cases:
            with self.subTest(expression=expression):
                self.assert_error("ValidationException", message, self.ddb.query,
                                  TableName="qbad", KeyConditionExpression=expression,
                                  ExpressionAttributeValues=values)
        self.assert_error("ValidationException", "The table does not have the specified index",
                          self.ddb.query, TableName="qbad", IndexName="byOther",
                          KeyConditionExpression="id = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}})
        self.assert_error("ResourceNotFoundException", "not found", self.ddb.query,
                          TableName="absent", KeyConditionExpression="id = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}})

    def test_scan_pages_filters_and_splits_into_segments(self):
        self.create("scanned")
        with self.resource.Table("scanned").batch_writer() as batch:
            for i in range(60):
                batch.put_item(Item={"id": "k%02d" % i, "i": i, "even": i % 2 == 0})
        pages = list(self.ddb.get_paginator("scan").paginate(
            TableName="scanned", FilterExpression="even = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
            PaginationConfig={"PageSize": 7}))
        self.assertEqual(sum(p["ScannedCount"] for p in pages), 60)
        self.assertEqual(sorted(int(i["i"]["N"]) for p in pages for i in p["Items"]),
                         list(range(0, 60, 2)))
        seen = []
        for segment in range(4):
            seen += [i["id"]["S"] for i in self.ddb.scan(TableName="scanned", Segment=segment,
                                                         TotalSegments=4)["Items"]]
        self.assertEqual(sorted(seen), ["k%02d" % i for i in range(60)])

    def test_a_page_stops_at_one_megabyte(self):
        self.create("bigpage")
        blob = "x" * (200 * 1024)
        for i in range(8):
            self.ddb.put_item(TableName="bigpage", Item={"id": {"S": "k%d" % i},
                                                         "payload": {"S": blob}})
        first = self.ddb.scan(TableName="bigpage")
        self.assertEqual(first["Count"], 6)  # the item that reaches 1 MB ends the page
        self.assertIn("LastEvaluatedKey", first)
        rest = self.ddb.scan(TableName="bigpage", ExclusiveStartKey=first["LastEvaluatedKey"])
        self.assertEqual(rest["Count"], 2)
        self.assertNotIn("LastEvaluatedKey", rest)

    def test_the_resource_api_with_key_and_attr_conditions(self):
        self.create("orders", sort_key=("at", "N"))
        table = self.resource.Table("orders")
        decimal.getcontext().prec = 38  # DynamoDB's precision, for the sums below
        big = decimal.Decimal("1234567890123456789012345678901234567.8")
        for at in range(1, 6):
            table.put_item(Item={"id": "cust", "at": at, "amount": big + at,
                                 "status": "open" if at % 2 else "shipped"})
        got = table.query(KeyConditionExpression=Key("id").eq("cust") & Key("at").between(2, 4),
                          FilterExpression=Attr("status").eq("shipped"))
        self.assertEqual([int(i["at"]) for i in got["Items"]], [2, 4])
        self.assertEqual(got["Items"][0]["amount"], big + 2)  # 38 digits, exact
        table.update_item(Key={"id": "cust", "at": 1}, UpdateExpression="ADD amount :d",
                          ExpressionAttributeValues={":d": decimal.Decimal("0.1")},
                          ConditionExpression=Attr("status").eq("open"))
        self.assertEqual(table.get_item(Key={"id": "cust", "at": 1})["Item"]["amount"],
                         big + decimal.Decimal("1.1"))
        latest = table.query(KeyConditionExpression=Key("id").eq("cust"),
                             ScanIndexForward=False, Limit=1)
        self.assertEqual(int(latest["Items"][0]["at"]), 5)

    # --- Batches and transactions -----------------------------------------------------------

    def test_batch_write_and_batch_get(self):
        self.create("batch")
        puts = [{"PutRequest": {"Item": {"id": {"S": "k%d" % i}, "v": {"N": str(i)}}}}
                for i in range(25)]
        self.assertEqual(self.ddb.batch_write_item(RequestItems={"batch": puts})
                         ["UnprocessedItems"], {})
        self.ddb.batch_write_item(RequestItems={"batch": [
            {"DeleteRequest": {"Key": {"id": {"S": "k0"}}}}]})
        got = self.ddb.batch_get_item(RequestItems={"batch": {
            "Keys": [{"id": {"S": "k%d" % i}} for i in range(3)],
            "ProjectionExpression": "v"}})
        self.assertEqual(got["UnprocessedKeys"], {})
        self.assertEqual(sorted(i["v"]["N"] for i in got["Responses"]["batch"]), ["1", "2"])
        self.assert_error("ValidationException", "Too many items requested for the BatchWriteItem",
                          self.ddb.batch_write_item,
                          RequestItems={"batch": puts + [{"DeleteRequest": {
                              "Key": {"id": {"S": "k99"}}}}]})
        self.assert_error("ValidationException", "Provided list of item keys contains duplicates",
                          self.ddb.batch_write_item, RequestItems={"batch": puts[:2] + puts[:1]})
        self.assert_error("ValidationException", "Too many items requested for the BatchGetItem",
                          self.ddb.batch_get_item, RequestItems={"batch": {
                              "Keys": [{"id": {"S": "k%d" % i}} for i in range(101)]}})

    def test_a_transaction_writes_all_or_nothing_with_its_change_records(self):
        arn = self.create("accounts", stream="NEW_AND_OLD_IMAGES")["LatestStreamArn"]
        self.create("ledger")
        self.ddb.put_item(TableName="accounts", Item={"id": {"S": "alice"}, "bal": {"N": "10"}})
        self.ddb.put_item(TableName="accounts", Item={"id": {"S": "bob"}, "bal": {"N": "0"}})

        def transfer(amount, entry):
            return [
                {"Update": {"TableName": "accounts", "Key": {"id": {"S": "alice"}},
                            "UpdateExpression": "SET bal = bal - :a",
                            "ConditionExpression": "bal >= :a",
                            "ExpressionAttributeValues": {":a": {"N": amount}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
                {"Update": {"TableName": "accounts", "Key": {"id": {"S": "bob"}},
                            "UpdateExpression": "SET bal = bal + :a",
                            "ExpressionAttributeValues": {":a": {"N": amount}}}},
                {"Put": {"TableName": "ledger", "Item": {"id": {"S": entry}},
                         "ConditionExpression": "attribute_not_exists(id)"}},
            ]
        self.ddb.transact_write_items(TransactItems=transfer("7", "t1"))
        response = self.assert_error("TransactionCanceledException", "[ConditionalCheckFailed, "
                                     "None, None]", self.ddb.transact_write_items,
                                     TransactItems=transfer("7", "t2"))
        reasons = response["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons], ["ConditionalCheckFailed", "None", "None"])
        self.assertEqual(reasons[0]["Item"]["bal"], {"N": "3"})
        got = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": "accounts", "Key": {"id": {"S": "alice"}}}},
            {"Get": {"TableName": "accounts", "Key": {"id": {"S": "bob"}},
                     "ProjectionExpression": "bal"}},
            {"Get": {"TableName": "ledger", "Key": {"id": {"S": "t2"}}}}])["Responses"]
        self.assertEqual(got[0]["Item"]["bal"], {"N": "3"})
        self.assertEqual(got[1]["Item"], {"bal": {"N": "7"}})
        self.assertEqual(got[2], {})  # the cancelled transaction wrote nothing
        events = [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"])
                  for r in self.stream_records(arn)]
        self.assertEqual(sorted(events), [("INSERT", "alice"), ("INSERT", "bob"),
                                          ("MODIFY", "alice"), ("MODIFY", "bob")])
        self.assert_error("ValidationException",
                          "Transaction request cannot include multiple operations on one item",
                          self.ddb.transact_write_items, TransactItems=[
                              {"ConditionCheck": {"TableName": "ledger", "Key": {"id": {"S": "t1"}},
                                                  "ConditionExpression": "attribute_exists(id)"}},
                              {"Delete": {"TableName": "ledger", "Key": {"id": {"S": "t1"}}}}])

    def test_an_update_writes_modify_records_and_an_update_that_changes_nothing_none(self):
        arn = self.create("streamed_updates", stream="NEW_AND_OLD_IMAGES")["LatestStreamArn"]
        key = {"id": {"S": "a"}}
        set_v = dict(TableName="streamed_updates", Key=key, UpdateExpression="SET v = :v",
                     ExpressionAttributeValues={":v": {"N": "1"}})
        self.ddb.update_item(**set_v)
        self.ddb.update_item(**set_v)  # the same value again: no change, no record
        self.ddb.update_item(TableName="streamed_updates", Key=key, UpdateExpression="REMOVE gone")
        self.ddb.update_item(TableName="streamed_updates", Key=key, UpdateExpression="ADD v :v",
                             ExpressionAttributeValues={":v": {"N": "1"}})
        records = self.stream_records(arn)
        self.assertEqual([r["eventName"] for r in records], ["INSERT", "MODIFY"])
        self.assertEqual(records[1]["dynamodb"]["OldImage"]["v"], {"N": "1"})
        self.assertEqual(records[1]["dynamodb"]["NewImage"]["v"], {"N": "2"})


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("dynamodb_items_boto3_test", DynamoDbItemsTest))
