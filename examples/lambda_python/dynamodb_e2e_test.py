"""A Lambda handler on a DynamoDB table's changes, end to end: the real `tributary serve` with its
AWS front door, items written with Debian's boto3 `dynamodb` client, the mapping made with
boto3's `lambda` client (and with the AWS CLI v2) on the table's LatestStreamArn, and the handler
of testdata/dynamodb_handler.py served by the example runtime (python3 -m lambda_runtime).

Checked: every change reaches the handler as Lambda's DynamoDB Streams event (every field, per
the stream's view type), in write order per item, across the table's shards; a write that
changes nothing is not delivered; a partial batch response naming a record by its DynamoDB
SequenceNumber retries from that record only (the records before it in its batch are not
delivered again); writes after the mapping started are delivered too; TransactWriteItems (across
two tables), UpdateItem and BatchWriteItem deliver their changes as PutItem and DeleteItem do.

Every wait is a failure guard (real time, bounded): nothing is asserted about durations.
Run by //examples/lambda_python:dynamodb_e2e_test from the runfiles root.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the generated proto/ stubs and lambda_runtime sit next to this file

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import grpc  # noqa: E402
from proto import functions_pb2  # noqa: E402
from proto import functions_pb2_grpc  # noqa: E402

from lambda_e2e_test import wait_for_port_file, wait_until  # noqa: E402
from lambda_runtime_test import run, write_junit  # noqa: E402

GUARD_SECONDS = 120  # a failure guard only
REGION = "eu-west-1"
ACCOUNT = "123456789012"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
RECORD_KEYS = ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
               "eventSourceARN"]  # in Lambda's order
AWS = "/usr/bin/aws"


class DynamoDbEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        binary = os.path.join(os.getcwd(), "tools", "tributary", "tributary")
        port_file = os.path.join(cls.work, "port")
        aws_port_file = os.path.join(cls.work, "aws_port")
        cls.server = subprocess.Popen(
            [binary, "serve", "--data_dir=" + os.path.join(cls.work, "data"),
             "--listen=127.0.0.1:0", "--port_file=" + port_file, "--aws_region=" + REGION,
             "--aws_account_id=" + ACCOUNT, "--aws_listen=127.0.0.1:0",
             "--aws_port_file=" + aws_port_file, "--sync_interval_ms=200"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(cls.work, "serve.log"), "w"))
        aws_port = wait_for_port_file(aws_port_file, cls.server)
        port = wait_for_port_file(port_file, cls.server)
        cls.endpoint = "http://127.0.0.1:%d" % aws_port
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        grpc.channel_ready_future(cls.channel).result(timeout=GUARD_SECONDS)
        cls.functions = functions_pb2_grpc.FunctionsStub(cls.channel)
        cls.env = dict(os.environ)
        for key in list(cls.env):
            if key.startswith("AWS_"):
                del cls.env[key]
        cls.env.update({"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                        "AWS_CONFIG_FILE": os.path.join(cls.work, "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(cls.work, "none"),
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
                        "HOME": cls.work})
        for key, value in cls.env.items():
            if key.startswith("AWS_"):
                os.environ[key] = value
        session = boto3.session.Session(aws_access_key_id="AKIDTEST",
                                        aws_secret_access_key="secret", region_name=REGION)
        config = botocore.config.Config(retries={"total_max_attempts": 1},
                                        connect_timeout=30, read_timeout=60)
        cls.ddb = session.client("dynamodb", endpoint_url=cls.endpoint, config=config)
        cls.lambda_ = session.client("lambda", endpoint_url=cls.endpoint, config=config)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.kill()
        cls.server.wait()

    # --- helpers ---------------------------------------------------------------------------

    def start_function(self, name):
        """Serves dynamodb_handler.record_changes with the example runtime and registers it as
        function `name`."""
        self.recording = os.path.join(self.work, "%s.jsonl" % name)
        port_file = self.recording + ".port"
        process = subprocess.Popen(
            [sys.executable, "-m", "lambda_runtime",
             "--handler", "dynamodb_handler.record_changes",
             "--code-dir", os.path.join(HERE, "testdata"), "--listen", "127.0.0.1:0",
             "--port-file", port_file, "--function-name", name, "--region", REGION,
             "--account-id", ACCOUNT],
            cwd=HERE, env=dict(os.environ, RECORDING_FILE=self.recording),
            stdout=subprocess.DEVNULL, stderr=open(self.recording + ".log", "w"))
        self.addCleanup(lambda: (process.kill(), process.wait()))
        port = wait_for_port_file(port_file, process)
        self.functions.CreateFunction(functions_pb2.CreateFunctionRequest(
            function_name=name, endpoint="http://127.0.0.1:%d%s" % (port, INVOKE_PATH),
            timeout_seconds=30), timeout=10)

    def create_table(self, name, view):
        return self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )["TableDescription"]["LatestStreamArn"]

    def put(self, table, key, v):
        self.ddb.put_item(TableName=table, Item={"id": {"S": key}, "v": {"N": str(v)}})

    def delete(self, table, key):
        self.ddb.delete_item(TableName=table, Key={"id": {"S": key}})

    def records(self):
        """Every record the handler got, in arrival order (retries included)."""
        try:
            with open(self.recording, encoding="utf-8") as f:
                return [r for line in f if line.strip() for r in json.loads(line)["Records"]]
        except FileNotFoundError:
            return []

    @staticmethod
    def change(record):
        """(item id, eventName, v of the new image or None)."""
        new = record["dynamodb"].get("NewImage")
        return (record["dynamodb"]["Keys"]["id"]["S"], record["eventName"],
                new["v"]["N"] if new else None)

    def first_deliveries(self):
        """Each record once, at its first arrival, by item: {id: [change, ...]}."""
        seen, by_item = set(), {}
        for r in self.records():
            if r["eventID"] in seen:
                continue
            seen.add(r["eventID"])
            item, name, v = self.change(r)
            by_item.setdefault(item, []).append((name, v))
        return by_item

    def wait_for(self, expected):
        def arrived():
            got = self.first_deliveries()
            return all(len(got.get(k, [])) >= len(v) for k, v in expected.items())
        wait_until(arrived, "every change to reach the handler", guard=GUARD_SECONDS)

    # --- the tests --------------------------------------------------------------------------

    def test_a_handler_gets_every_change_of_a_table_in_order_per_item(self):
        self.start_function("orders-fn")
        arn = self.create_table("orders", "NEW_AND_OLD_IMAGES")
        expected = {}
        for i in range(8):
            key = "item-%d" % i
            self.put("orders", key, 1)
            self.put("orders", key, 2)
            self.put("orders", key, 2)  # the same item again: changes nothing, no record
            self.put("orders", key, 3)
            expected[key] = [("INSERT", "1"), ("MODIFY", "2"), ("MODIFY", "3")]
            if i % 2 == 0:
                self.delete("orders", key)
                expected[key].append(("REMOVE", None))
        self.put("orders", "unlucky", 12)
        self.put("orders", "unlucky", 13)  # reported failed the first time
        self.put("orders", "unlucky", 14)
        expected["unlucky"] = [("INSERT", "12"), ("MODIFY", "13"), ("MODIFY", "14")]

        created = self.lambda_.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="orders-fn", StartingPosition="TRIM_HORIZON",
            BatchSize=100, FunctionResponseTypes=["ReportBatchItemFailures"])
        self.assertEqual(created["EventSourceArn"], arn)
        self.assertEqual(created["FunctionArn"],
                         "arn:aws:lambda:%s:%s:function:orders-fn" % (REGION, ACCOUNT))
        listed = self.lambda_.list_event_source_mappings(EventSourceArn=arn)
        self.assertEqual([m["UUID"] for m in listed["EventSourceMappings"]], [created["UUID"]])
        self.wait_for(expected)
        self.put("orders", "live", 1)  # after the mapping started
        self.put("orders", "live", 2)
        expected["live"] = [("INSERT", "1"), ("MODIFY", "2")]
        self.wait_for(expected)

        # The partial batch response named the MODIFY to 13 by its SequenceNumber: it comes again
        # (after the retry's backoff), and the record before it (its INSERT, same item, same
        # shard, same batch) does not.
        unlucky = lambda: [self.change(r) for r in self.records() if self.change(r)[0] == "unlucky"]
        wait_until(lambda: unlucky().count(("unlucky", "MODIFY", "13")) >= 2,
                   "the reported record to be retried", guard=GUARD_SECONDS)
        self.assertEqual(unlucky().count(("unlucky", "INSERT", "12")), 1, unlucky())

        self.assertEqual(self.first_deliveries(), expected)
        records = self.records()
        for r in records:
            self.assertEqual(list(r), RECORD_KEYS)
            self.assertRegex(r["eventID"], r"^[0-9a-f]{32}$")
            self.assertEqual((r["eventVersion"], r["eventSource"], r["awsRegion"],
                              r["eventSourceARN"]), ("1.1", "aws:dynamodb", REGION, arn))
            db = r["dynamodb"]
            self.assertEqual(db["StreamViewType"], "NEW_AND_OLD_IMAGES")
            self.assertIsInstance(db["ApproximateCreationDateTime"], int)
            self.assertRegex(db["SequenceNumber"], r"^\d{21,40}$")
            self.assertGreater(db["SizeBytes"], 0)
            self.assertEqual("OldImage" in db, r["eventName"] != "INSERT", r)
            self.assertEqual("NewImage" in db, r["eventName"] != "REMOVE", r)
            self.assertEqual(list(db)[:2], ["ApproximateCreationDateTime", "Keys"])

    def test_a_handler_gets_the_changes_of_transactions_updates_and_batches(self):
        """TransactWriteItems (two tables), UpdateItem and BatchWriteItem reach the handler as
        PutItem and DeleteItem do: INSERT / MODIFY / REMOVE with each stream's images; a
        condition check, a cancelled transaction and an update to the same value deliver
        nothing."""
        self.start_function("ledger-fn")
        ledger = self.create_table("ledger", "NEW_AND_OLD_IMAGES")
        stock = self.create_table("ledger-stock", "NEW_IMAGE")
        for arn in (ledger, stock):
            self.lambda_.create_event_source_mapping(
                EventSourceArn=arn, FunctionName="ledger-fn", StartingPosition="TRIM_HORIZON",
                BatchSize=100)
        self.put("ledger", "l1", 1)
        self.put("ledger", "l2", 1)
        self.ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "ledger", "Key": {"id": {"S": "l1"}},
                        "UpdateExpression": "SET v = v + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": "ledger", "Key": {"id": {"S": "l2"}}}},
            {"Put": {"TableName": "ledger-stock", "Item": {"id": {"S": "s1"}, "v": {"N": "5"}}}},
            {"ConditionCheck": {"TableName": "ledger", "Key": {"id": {"S": "l3"}},
                                "ConditionExpression": "attribute_not_exists(id)"}},
        ])
        with self.assertRaises(self.ddb.exceptions.TransactionCanceledException):
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "ledger", "Item": {"id": {"S": "l9"}, "v": {"N": "9"}}}},
                {"ConditionCheck": {"TableName": "ledger", "Key": {"id": {"S": "l1"}},
                                    "ConditionExpression": "attribute_not_exists(id)"}},
            ])
        self.ddb.update_item(TableName="ledger", Key={"id": {"S": "l1"}},
                             UpdateExpression="SET v = :v",
                             ExpressionAttributeValues={":v": {"N": "3"}})
        self.ddb.update_item(TableName="ledger", Key={"id": {"S": "l1"}},
                             UpdateExpression="SET v = :v",  # the same value: no record
                             ExpressionAttributeValues={":v": {"N": "3"}})
        self.ddb.batch_write_item(RequestItems={
            "ledger-stock": [{"PutRequest": {"Item": {"id": {"S": "s2"}, "v": {"N": "1"}}}},
                             {"DeleteRequest": {"Key": {"id": {"S": "s1"}}}}],
        })
        expected = {
            "l1": [("INSERT", "1"), ("MODIFY", "2"), ("MODIFY", "3")],
            "l2": [("INSERT", "1"), ("REMOVE", None)],
            "s1": [("INSERT", "5"), ("REMOVE", None)],
            "s2": [("INSERT", "1")],
        }
        self.wait_for(expected)
        self.assertEqual(self.first_deliveries(), expected)
        by_change = {(self.change(r)[0], r["eventName"], self.change(r)[2]): r
                     for r in self.records()}
        modify = by_change[("l1", "MODIFY", "2")]
        self.assertEqual(modify["eventSourceARN"], ledger)
        self.assertEqual(modify["dynamodb"]["OldImage"], {"id": {"S": "l1"}, "v": {"N": "1"}})
        removed = by_change[("l2", "REMOVE", None)]["dynamodb"]
        self.assertEqual(removed["OldImage"], {"id": {"S": "l2"}, "v": {"N": "1"}})
        for key in ("s1", "s2"):
            for r in (r for r in self.records() if self.change(r)[0] == key):
                self.assertEqual(r["eventSourceARN"], stock)
                self.assertEqual(r["dynamodb"]["StreamViewType"], "NEW_IMAGE")
                self.assertNotIn("OldImage", r["dynamodb"])

    def test_filter_criteria_on_a_table_stream_match_dynamodb_records(self):
        """Lambda's DynamoDB filtering (issue 18): patterns on eventName and dynamodb.NewImage
        are matched against the change record's JSON. Each item's last change is a REMOVE that
        a filter keeps, so once it arrived every earlier change of the item was filtered."""
        self.start_function("filtered-fn")
        arn = self.create_table("filtered", "NEW_AND_OLD_IMAGES")
        self.lambda_.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="filtered-fn", StartingPosition="TRIM_HORIZON",
            BatchSize=100, FilterCriteria={"Filters": [
                {"Pattern": json.dumps({"eventName": ["INSERT"],
                                        "dynamodb": {"NewImage": {"v": {"N": ["2"]}}}})},
                {"Pattern": json.dumps({"eventName": ["REMOVE"]})}]})
        expected = {}
        for i in range(6):
            key = "f-%d" % i
            self.put("filtered", key, 1)  # INSERT with v 1: dropped
            self.put("filtered", key, 2)  # MODIFY: dropped
            self.delete("filtered", key)  # REMOVE: kept
            expected[key] = [("REMOVE", None)]
            self.put("filtered", "g-%d" % i, 2)  # INSERT with v 2: kept
            expected["g-%d" % i] = [("INSERT", "2")]
        self.wait_for(expected)
        self.assertEqual(self.first_deliveries(), expected)

    def test_the_aws_cli_maps_a_function_to_a_tables_stream(self):
        self.start_function("cli-fn")
        arn = self.create_table("cli-orders", "KEYS_ONLY")
        self.put("cli-orders", "a", 1)
        result = subprocess.run(
            [AWS, "lambda", "create-event-source-mapping", "--event-source-arn", arn,
             "--function-name", "cli-fn", "--starting-position", "TRIM_HORIZON",
             "--endpoint-url", self.endpoint, "--output", "json"],
            env=self.env, capture_output=True, text=True, timeout=GUARD_SECONDS)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["EventSourceArn"], arn)
        self.put("cli-orders", "a", 2)
        self.wait_for({"a": [("INSERT", None), ("MODIFY", None)]})
        for r in self.records():
            self.assertEqual(sorted(r["dynamodb"]),
                             ["ApproximateCreationDateTime", "Keys", "SequenceNumber",
                              "SizeBytes", "StreamViewType"])


if __name__ == "__main__":
    result = run(__name__)
    write_junit(result, "dynamodb_e2e_test")
    sys.exit(0 if result.wasSuccessful() else 1)
