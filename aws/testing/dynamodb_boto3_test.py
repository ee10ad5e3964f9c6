"""The DynamoDB API driven by Debian's boto3 `dynamodb` client against the real
`tributary serve --aws_listen=127.0.0.1:0`: every implemented operation (CreateTable,
DescribeTable, ListTables, DeleteTable, PutItem, GetItem, DeleteItem), the errors a boto3 user
branches on (ResourceNotFoundException, ResourceInUseException, ValidationException,
ConditionalCheckFailedException), binary and number round trips, and the x-amz-crc32 header
botocore checks.

Run by //aws/testing:dynamodb_boto3_test from the runfiles root.
"""

import binascii
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402
from tributary_aws import signed_request  # noqa: E402


def error_code(error):
    return error.response["Error"]["Code"]


class DynamoDbBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.ddb, cls.streams = tributary_aws.clients(cls.server.endpoint, "dynamodb",
                                                     "dynamodbstreams")
        cls.unchecked = tributary_aws.session().client(
            "dynamodb", endpoint_url=cls.server.endpoint,
            config=tributary_aws.client_config().merge(
                botocore.config.Config(parameter_validation=False)))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, name, sort_key=None):
        schema = [{"AttributeName": "id", "KeyType": "HASH"}]
        definitions = [{"AttributeName": "id", "AttributeType": "S"}]
        if sort_key:
            schema.append({"AttributeName": sort_key[0], "KeyType": "RANGE"})
            definitions.append({"AttributeName": sort_key[0], "AttributeType": sort_key[1]})
        return self.ddb.create_table(TableName=name, KeySchema=schema,
                                     AttributeDefinitions=definitions,
                                     BillingMode="PAY_PER_REQUEST")

    def assert_code(self, code, fn, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            fn(**kwargs)
        self.assertEqual(error_code(caught.exception), code, caught.exception.response)

    def test_stream_specification_is_described_with_arn_and_label(self):
        created = self.ddb.create_table(
            TableName="streamed", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        self.assertEqual(created["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        label = created["LatestStreamLabel"]
        self.assertRegex(label, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")
        self.assertEqual(created["LatestStreamArn"],
                         "arn:aws:dynamodb:us-east-1:000000000000:table/streamed/stream/" + label)
        described = self.ddb.describe_table(TableName="streamed")["Table"]
        self.assertEqual(described["LatestStreamArn"], created["LatestStreamArn"])
        self.assertNotIn("LatestStreamArn",
                         self.create("unstreamed")["TableDescription"])
        self.assert_code("ValidationException", self.ddb.create_table,
                         TableName="badstream",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True})

    def read_stream(self, table, view):
        arn = self.ddb.create_table(
            TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )["TableDescription"]["LatestStreamArn"]
        self.ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"N": "1"}})
        self.ddb.put_item(TableName=table, Item={"v": {"N": "1"}, "id": {"S": "a"}})  # no change
        self.ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"N": "2"}})
        self.ddb.delete_item(TableName=table, Key={"id": {"S": "a"}})
        self.ddb.delete_item(TableName=table, Key={"id": {"S": "missing"}})  # no change
        listed = self.streams.list_streams(TableName=table)["Streams"]
        self.assertEqual([s["StreamArn"] for s in listed], [arn])
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.assertEqual(len(shards), 4)
        records = []
        for shard in shards:
            self.assertTrue(28 <= len(shard["ShardId"]) <= 65, shard["ShardId"])
            it = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            records += self.streams.get_records(ShardIterator=it)["Records"]
        return arn, shards, records

    def test_stream_records_carry_the_images_of_their_view_type(self):
        _, _, records = self.read_stream("streamboth", "NEW_AND_OLD_IMAGES")
        self.assertEqual([r["eventName"] for r in records], ["INSERT", "MODIFY", "REMOVE"])
        for r in records:
            self.assertEqual((r["eventVersion"], r["eventSource"], r["awsRegion"]),
                             ("1.1", "aws:dynamodb", "us-east-1"))
            self.assertEqual(r["dynamodb"]["Keys"], {"id": {"S": "a"}})
            self.assertTrue(21 <= len(r["dynamodb"]["SequenceNumber"]) <= 40)
        self.assertNotIn("OldImage", records[0]["dynamodb"])
        self.assertEqual(records[1]["dynamodb"]["OldImage"]["v"], {"N": "1"})
        self.assertEqual(records[1]["dynamodb"]["NewImage"]["v"], {"N": "2"})
        self.assertNotIn("NewImage", records[2]["dynamodb"])
        _, _, keys_only = self.read_stream("streamkeys", "KEYS_ONLY")
        self.assertEqual([sorted(r["dynamodb"]) for r in keys_only][0],
                         ["ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes",
                          "StreamViewType"])
        _, _, new_only = self.read_stream("streamnew", "NEW_IMAGE")
        self.assertEqual(["OldImage" in r["dynamodb"] for r in new_only], [False] * 3)

    def test_stream_iterators_at_and_after_a_sequence_number_and_latest(self):
        arn, shards, records = self.read_stream("streamiter", "KEYS_ONLY")
        first = records[0]["dynamodb"]["SequenceNumber"]
        shard = next(s["ShardId"] for s in shards
                     if s["SequenceNumberRange"]["StartingSequenceNumber"] <= first and
                     self.streams.get_records(ShardIterator=self.streams.get_shard_iterator(
                         StreamArn=arn, ShardId=s["ShardId"],
                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"])

        def read(kind, **kw):
            it = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                 ShardIteratorType=kind, **kw)["ShardIterator"]
            return [r["eventName"] for r in self.streams.get_records(ShardIterator=it)["Records"]]
        self.assertEqual(read("AT_SEQUENCE_NUMBER", SequenceNumber=first),
                         ["INSERT", "MODIFY", "REMOVE"])
        self.assertEqual(read("AFTER_SEQUENCE_NUMBER", SequenceNumber=first),
                         ["MODIFY", "REMOVE"])
        self.assertEqual(read("LATEST"), [])

    def test_table_lifecycle(self):
        created = self.create("lifecycle", sort_key=("n", "N"))["TableDescription"]
        self.assertEqual(created["TableStatus"], "ACTIVE")
        self.assertEqual(created["TableArn"],
                         "arn:aws:dynamodb:us-east-1:000000000000:table/lifecycle")
        self.assertEqual([k["KeyType"] for k in created["KeySchema"]], ["HASH", "RANGE"])
        described = self.ddb.describe_table(TableName="lifecycle")["Table"]
        self.assertEqual(described["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.ddb.get_waiter("table_exists").wait(TableName="lifecycle")
        self.assertIn("lifecycle", self.ddb.list_tables()["TableNames"])
        self.assertEqual(self.ddb.delete_table(TableName="lifecycle")["TableDescription"]
                         ["TableStatus"], "DELETING")
        self.assert_code("ResourceNotFoundException", self.ddb.describe_table,
                         TableName="lifecycle")
        self.assertNotIn("lifecycle", self.ddb.list_tables()["TableNames"])

    def test_list_tables_pages(self):
        for name in ("page-a", "page-b", "page-c"):
            self.create(name)
        names = []
        for page in self.ddb.get_paginator("list_tables").paginate(
                PaginationConfig={"PageSize": 1}):
            names += page["TableNames"]
        self.assertEqual([n for n in names if n.startswith("page-")],
                         ["page-a", "page-b", "page-c"])

    def test_table_errors(self):
        self.create("twice")
        self.assert_code("ResourceInUseException", self.create, name="twice")
        self.assert_code("ResourceNotFoundException", self.ddb.delete_table, TableName="absent")
        self.assert_code("ValidationException", self.ddb.create_table, TableName="no-throughput",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        self.assert_code("ValidationException", self.ddb.create_table, TableName="undefined",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")

    def test_items_round_trip_every_type(self):
        self.create("items")
        item = {
            "id": {"S": "héllo"},
            "bin": {"B": bytes(range(256))},
            "num": {"N": "12345678901234567890123456789012345678"},
            "small": {"N": "-1.2E-3"},
            "flag": {"BOOL": True},
            "nothing": {"NULL": True},
            "map": {"M": {"inner": {"L": [{"S": "x"}, {"N": "1"}]}}},
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2.5"]},
            "bs": {"BS": [b"\x00", b"\xff"]},
        }
        self.ddb.put_item(TableName="items", Item=item)
        got = self.ddb.get_item(TableName="items", Key={"id": {"S": "héllo"}})["Item"]
        self.assertEqual(got["bin"]["B"], bytes(range(256)))
        self.assertEqual(got["num"]["N"], "12345678901234567890123456789012345678")
        self.assertEqual(got["small"]["N"], "-0.0012")  # canonical form
        self.assertEqual(sorted(got["bs"]["BS"]), [b"\x00", b"\xff"])
        self.assertEqual(sorted(got["ns"]["NS"]), ["1", "2.5"])
        self.assertEqual(got["map"], item["map"])
        self.assertEqual(got["nothing"], {"NULL": True})
        self.assertNotIn("Item", self.ddb.get_item(TableName="items", Key={"id": {"S": "x"}}))

    def test_numeric_sort_keys_equal_in_value_are_one_item(self):
        self.create("numbers", sort_key=("n", "N"))
        self.ddb.put_item(TableName="numbers", Item={"id": {"S": "a"}, "n": {"N": "1.50"}})
        got = self.ddb.get_item(TableName="numbers", Key={"id": {"S": "a"}, "n": {"N": "15E-1"}})
        self.assertEqual(got["Item"]["n"], {"N": "1.5"})

    def test_conditions_and_return_values(self):
        self.create("cond")
        put = dict(TableName="cond", ConditionExpression="attribute_not_exists(#k)",
                   ExpressionAttributeNames={"#k": "id"})
        self.ddb.put_item(Item={"id": {"S": "a"}, "v": {"N": "1"}}, **put)
        self.assert_code("ConditionalCheckFailedException", self.ddb.put_item,
                         Item={"id": {"S": "a"}, "v": {"N": "2"}}, **put)
        old = self.ddb.put_item(TableName="cond", Item={"id": {"S": "a"}, "v": {"N": "3"}},
                                ReturnValues="ALL_OLD")
        self.assertEqual(old["Attributes"]["v"], {"N": "1"})
        self.assert_code("ConditionalCheckFailedException", self.ddb.delete_item,
                         TableName="cond", Key={"id": {"S": "b"}},
                         ConditionExpression="attribute_exists(id)")
        deleted = self.ddb.delete_item(TableName="cond", Key={"id": {"S": "a"}},
                                       ReturnValues="ALL_OLD")
        self.assertEqual(deleted["Attributes"]["v"], {"N": "3"})
        self.assertNotIn("Attributes", self.ddb.delete_item(TableName="cond",
                                                            Key={"id": {"S": "a"}}))

    def test_item_errors(self):
        self.create("bad")
        self.assert_code("ResourceNotFoundException", self.ddb.put_item, TableName="absent",
                         Item={"id": {"S": "a"}})
        self.assert_code("ValidationException", self.ddb.put_item, TableName="bad",
                         Item={"other": {"S": "a"}})
        self.assert_code("ValidationException", self.ddb.put_item, TableName="bad",
                         Item={"id": {"S": "a"}, "n": {"N": "1" * 39}})
        self.assert_code("ValidationException", self.ddb.put_item, TableName="bad",
                         Item={"id": {"S": "a"}, "big": {"S": "x" * (400 * 1024)}})
        self.assert_code("ValidationException", self.ddb.get_item, TableName="bad",
                         Key={"id": {"N": "1"}})
        self.assert_code("ValidationException", self.unchecked.put_item, TableName="bad",
                         Item={"id": {"S": "a"}, "s": {"SS": []}})

    def test_replies_carry_dynamodbs_error_type_and_a_right_crc32(self):
        status, headers, body = signed_request(
            self.server.endpoint, "DynamoDB_20120810.DescribeTable",
            json.dumps({"TableName": "absent"}).encode(),
            content_type="application/x-amz-json-1.0")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"],
                         "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
        headers = {k.lower(): v for k, v in headers.items()}
        self.assertEqual(int(headers["x-amz-crc32"]), binascii.crc32(body) & 0xFFFFFFFF)
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("dynamodb_boto3_test", DynamoDbBoto3Test))
