"""Table streams over their whole life, driven by Debian's boto3 (`dynamodb`, `dynamodbstreams`,
`kinesis` clients) and AWS CLI v2 against the real `tributary serve --aws_listen=127.0.0.1:0`:
UpdateTable turning a stream off (its shards end, it stays listed DISABLED and readable) and on
again (a new stream, a new label and ARN, the old one kept), BillingMode and ProvisionedThroughput
echoed back, ListStreams paging (Limit, ExclusiveStartStreamArn / LastEvaluatedStreamArn,
TableName), DeleteTable leaving the stream DISABLED and readable, a table recreated under its
name beside its old stream, and the Kinesis API seeing none of the store streams that hold them.
(The 24 h expiry of a DISABLED stream runs on the server's clock: TableStoreTest covers it with a
fake one.)

Run by //aws/testing:dynamodb_streams_boto3_test from the runfiles root.
"""

import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402

AWS = "/usr/bin/aws"
TRIBCTL = os.path.join(os.getcwd(), "tools/tribctl/tribctl")
COMMAND_GUARD_SECONDS = 120  # a failure guard only
KEY = {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
       "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}


def error_code(error):
    return error.response["Error"]["Code"]


class DynamoDbStreamsBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.env = tributary_aws.client_environment(cls.server.work)
        cls.ddb, cls.streams, cls.kinesis = tributary_aws.clients(
            cls.server.endpoint, "dynamodb", "dynamodbstreams", "kinesis")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def assert_code(self, code, fn, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            fn(**kwargs)
        self.assertEqual(error_code(caught.exception), code, caught.exception.response)
        return caught.exception.response["Error"]["Message"]

    def create(self, name, view="NEW_AND_OLD_IMAGES", **extra):
        kwargs = dict(KEY, TableName=name, **extra)
        if "BillingMode" not in extra and "ProvisionedThroughput" not in extra:
            kwargs["BillingMode"] = "PAY_PER_REQUEST"
        if view:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        return self.ddb.create_table(**kwargs)["TableDescription"]

    def put(self, table, key, value):
        self.ddb.put_item(TableName=table, Item={"id": {"S": key}, "v": {"N": str(value)}})

    def read(self, arn):
        """Every record of the stream, shard by shard, each shard to its end when it is closed;
        returns (records, shards)."""
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        records = []
        for shard in shards:
            it = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for _ in range(10):
                page = self.streams.get_records(ShardIterator=it)
                records += page["Records"]
                it = page.get("NextShardIterator")
                if not it or not page["Records"]:
                    break
            shard["ended"] = it is None
        return records, shards

    def test_turning_the_stream_off_and_on_makes_a_new_stream_and_keeps_the_old_one(self):
        first = self.create("rollover")["LatestStreamArn"]
        self.put("rollover", "a", 1)
        off = self.ddb.update_table(TableName="rollover",
                                    StreamSpecification={"StreamEnabled": False})
        self.assertNotIn("StreamSpecification", off["TableDescription"])
        self.assertEqual(off["TableDescription"]["LatestStreamArn"], first)
        described = self.streams.describe_stream(StreamArn=first)["StreamDescription"]
        self.assertEqual(described["StreamStatus"], "DISABLED")
        self.assertEqual(described["TableName"], "rollover")
        self.put("rollover", "b", 1)  # no stream: recorded nowhere
        records, shards = self.read(first)
        self.assertEqual([(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in records],
                         [("INSERT", "a")])
        for shard in shards:  # closed: an ending sequence number, and the reads end
            self.assertIn("EndingSequenceNumber", shard["SequenceNumberRange"], shard)
            self.assertTrue(shard["ended"], shard)

        on = self.ddb.update_table(
            TableName="rollover",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        table = on["TableDescription"]
        self.assertEqual(table["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        second = table["LatestStreamArn"]
        self.assertNotEqual(second, first)
        self.assertTrue(second.endswith("/stream/" + table["LatestStreamLabel"]))
        self.assertEqual(self.ddb.describe_table(TableName="rollover")["Table"]["LatestStreamArn"],
                         second)
        self.put("rollover", "a", 2)
        records, _ = self.read(second)
        self.assertEqual([(r["eventName"], r["dynamodb"]["StreamViewType"]) for r in records],
                         [("MODIFY", "KEYS_ONLY")])
        listed = self.streams.list_streams(TableName="rollover")["Streams"]
        self.assertEqual([s["StreamArn"] for s in listed], [first, second])
        self.assertEqual(
            self.streams.describe_stream(StreamArn=second)["StreamDescription"]["StreamStatus"],
            "ENABLED")
        # The old stream is unchanged by the new one.
        self.assertEqual(len(self.read(first)[0]), 1)

    def test_update_table_refuses_what_dynamodb_refuses(self):
        self.create("refusals")
        message = self.assert_code(
            "ValidationException", self.ddb.update_table, TableName="refusals",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        self.assertIn("already has an enabled stream", message)
        self.assert_code("ValidationException", self.ddb.update_table, TableName="refusals",
                         StreamSpecification={"StreamEnabled": True})
        self.assert_code("ValidationException", self.ddb.update_table, TableName="refusals")
        self.assert_code("ResourceNotFoundException", self.ddb.update_table, TableName="absent",
                         StreamSpecification={"StreamEnabled": False})
        self.assert_code("ValidationException", self.ddb.update_table, TableName="refusals",
                         TableClass="STANDARD_INFREQUENT_ACCESS")
        self.ddb.update_table(TableName="refusals", StreamSpecification={"StreamEnabled": False})
        self.assert_code("ValidationException", self.ddb.update_table, TableName="refusals",
                         StreamSpecification={"StreamEnabled": False})

    def test_billing_mode_and_provisioned_throughput_are_updated_and_echoed(self):
        self.create("capacity", view=None, BillingMode="PROVISIONED",
                    ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
        updated = self.ddb.update_table(
            TableName="capacity",
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 3})
        throughput = updated["TableDescription"]["ProvisionedThroughput"]
        self.assertEqual((throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]),
                         (10, 3))
        self.assert_code("ValidationException", self.ddb.update_table, TableName="capacity",
                         ProvisionedThroughput={"ReadCapacityUnits": 10,
                                                "WriteCapacityUnits": 3})
        on_demand = self.ddb.update_table(TableName="capacity", BillingMode="PAY_PER_REQUEST")
        self.assertEqual(on_demand["TableDescription"]["BillingModeSummary"]["BillingMode"],
                         "PAY_PER_REQUEST")
        described = self.ddb.describe_table(TableName="capacity")["Table"]
        self.assertEqual(described["ProvisionedThroughput"]["ReadCapacityUnits"], 0)
        self.assert_code("ValidationException", self.ddb.update_table, TableName="capacity",
                         BillingMode="PROVISIONED")

    def test_list_streams_pages_by_arn_and_filters_by_table(self):
        arns = sorted(self.create(name)["LatestStreamArn"]
                      for name in ("page-c", "page-a", "page-b"))
        everything = [s["StreamArn"] for s in self.streams.list_streams()["Streams"]]
        paged, start = [], None
        for _ in range(100):
            kwargs = {"Limit": 1}
            if start:
                kwargs["ExclusiveStartStreamArn"] = start
            page = self.streams.list_streams(**kwargs)
            paged += [s["StreamArn"] for s in page["Streams"]]
            start = page.get("LastEvaluatedStreamArn")
            if not start:
                break
        self.assertEqual(paged, everything)
        self.assertEqual([a for a in everything if ":table/page-" in a], arns)
        only = self.streams.list_streams(TableName="page-b")["Streams"]
        self.assertEqual([(s["TableName"], s["StreamArn"]) for s in only],
                         [("page-b", arns[1])])
        self.assert_code("ResourceNotFoundException", self.streams.list_streams,
                         TableName="no-such-table")
        self.assert_code("ValidationException", self.streams.list_streams,
                         ExclusiveStartStreamArn="arn:aws:dynamodb:us-east-1:000000000000:x/y")

    def test_delete_table_leaves_its_stream_disabled_and_readable(self):
        old = self.create("deleted")["LatestStreamArn"]
        self.put("deleted", "a", 1)
        self.ddb.delete_table(TableName="deleted")
        self.assert_code("ResourceNotFoundException", self.ddb.describe_table,
                         TableName="deleted")
        described = self.streams.describe_stream(StreamArn=old)["StreamDescription"]
        self.assertEqual((described["StreamStatus"], described["TableName"]),
                         ("DISABLED", "deleted"))
        self.assertEqual(described["KeySchema"], KEY["KeySchema"])
        records, shards = self.read(old)
        self.assertEqual([r["eventName"] for r in records], ["INSERT"])
        self.assertTrue(all(shard["ended"] for shard in shards))
        new = self.create("deleted")["LatestStreamArn"]  # the name again: a new table
        self.assertNotEqual(new, old)
        self.assertEqual([s["StreamArn"] for s in
                          self.streams.list_streams(TableName="deleted")["Streams"]], [old, new])
        self.assertEqual(self.read(new)[0], [])

    def test_kinesis_sees_none_of_the_streams_that_hold_table_changes(self):
        self.create("hidden")
        self.kinesis.create_stream(StreamName="visible", ShardCount=1)
        names = self.kinesis.list_streams()["StreamNames"]
        self.assertIn("visible", names)
        self.assertEqual([n for n in names if n.startswith("_tables.")], [])
        self.assert_code("InvalidArgumentException", self.kinesis.create_stream,
                         StreamName="_tables.99.1", ShardCount=1)

    def test_table_stream_shards_flag_sets_a_new_streams_shard_count(self):
        server = tributary_aws.Tributary(extra_flags=["--table_stream_shards=2"])
        try:
            ddb, streams = tributary_aws.clients(server.endpoint, "dynamodb", "dynamodbstreams")
            arn = ddb.create_table(
                TableName="two", BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
                **KEY)["TableDescription"]["LatestStreamArn"]
            self.assertEqual(
                len(streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]), 2)
        finally:
            server.stop_checked()

    def test_shards_roll_over_on_the_servers_clock_and_readers_walk_the_lineage(self):
        # A manual clock (tribctl clock advance) and one shard a table: every hour the open shard
        # closes and one child with its range takes the writes; the reads follow ParentShardId.
        server = tributary_aws.Tributary(extra_flags=[
            "--clock=manual", "--table_stream_shards=1", "--stream_shard_rollover=1h",
            "--retention_trim_period_ms=1000"])
        try:
            ddb, streams = tributary_aws.clients(server.endpoint, "dynamodb", "dynamodbstreams")
            arn = ddb.create_table(
                TableName="rolling", BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                **KEY)["TableDescription"]["LatestStreamArn"]

            def shards():
                return streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]

            def put(value):
                for key in ("a", "b", "c"):
                    ddb.put_item(TableName="rolling",
                                 Item={"id": {"S": key}, "v": {"N": str(value)}})

            put(0)
            generations = 4
            for generation in range(1, generations):
                run = subprocess.run(
                    [TRIBCTL, "--endpoint=" + server.grpc_address(), "clock", "advance",
                     "--by=1h"], capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)
                self.assertEqual(run.returncode, 0, run.stderr)
                # The server's upkeep wakes on the clock it moved (a real-time failure guard).
                deadline = time.monotonic() + COMMAND_GUARD_SECONDS
                while len(shards()) < generation + 1:
                    self.assertLess(time.monotonic(), deadline, server.log())
                    time.sleep(0.05)
                put(generation)
            listed = shards()
            self.assertEqual(len(listed), generations)
            by_parent = {s.get("ParentShardId"): s for s in listed}
            roots = [s for s in listed if "ParentShardId" not in s]
            self.assertEqual(len(roots), 1, listed)
            # Parents first: from the root, each shard's one child, to the open one.
            chain, shard = [], roots[0]
            while shard is not None:
                chain.append(shard)
                shard = by_parent.get(shard["ShardId"])
            self.assertEqual(len(chain), generations)
            values = {}
            for i, shard in enumerate(chain):
                closed = i < generations - 1
                self.assertEqual("EndingSequenceNumber" in shard["SequenceNumberRange"], closed,
                                 shard)
                it = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                page = streams.get_records(ShardIterator=it)
                for record in page["Records"]:
                    image = record["dynamodb"]["NewImage"]
                    values.setdefault(image["id"]["S"], []).append(int(image["v"]["N"]))
                self.assertEqual(len(page["Records"]), 3, shard)
                if closed:  # the parent's end: no NextShardIterator
                    self.assertNotIn("NextShardIterator", page, shard)
                else:
                    self.assertIn("NextShardIterator", page)
            self.assertEqual(values, {k: list(range(generations)) for k in ("a", "b", "c")})
        finally:
            server.stop_checked()

    def run_aws(self, service, *args):
        result = subprocess.run(
            [AWS, service, *args, "--endpoint-url", self.server.endpoint, "--output", "json",
             "--cli-read-timeout", "60", "--cli-connect-timeout", "30"],
            env=self.env, capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def test_the_aws_cli_turns_a_stream_off_and_on_and_lists_both(self):
        self.run_aws("dynamodb", "create-table", "--table-name", "cli-streams",
                     "--attribute-definitions", "AttributeName=id,AttributeType=S",
                     "--key-schema", "AttributeName=id,KeyType=HASH",
                     "--billing-mode", "PAY_PER_REQUEST",
                     "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_IMAGE")
        self.run_aws("dynamodb", "update-table", "--table-name", "cli-streams",
                     "--stream-specification", "StreamEnabled=false")
        updated = self.run_aws("dynamodb", "update-table", "--table-name", "cli-streams",
                               "--stream-specification",
                               "StreamEnabled=true,StreamViewType=OLD_IMAGE")
        latest = updated["TableDescription"]["LatestStreamArn"]
        listed = self.run_aws("dynamodbstreams", "list-streams", "--table-name", "cli-streams")
        arns = [s["StreamArn"] for s in listed["Streams"]]
        self.assertEqual(len(arns), 2)
        self.assertEqual(arns[1], latest)
        statuses = [self.run_aws("dynamodbstreams", "describe-stream", "--stream-arn", arn)
                    ["StreamDescription"]["StreamStatus"] for arn in arns]
        self.assertEqual(statuses, ["DISABLED", "ENABLED"])


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("dynamodb_streams_boto3_test", DynamoDbStreamsBoto3Test))
