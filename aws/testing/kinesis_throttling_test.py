"""Kinesis's per-shard limits (`tributary serve --kinesis_shard_limits`) as a boto3 producer and
consumer meet them: PutRecords past 1 MiB/s of a shard fails the records past the limit with
ProvisionedThroughputExceededException and stores the others (FailedRecordCount), PutRecord and
GetRecords past the limit fail with ProvisionedThroughputExceededException; without the flag
nothing is throttled; without it a PROVISIONED stream is throttled and an ON_DEMAND one is not
(StreamModeDetails, UpdateStreamMode). Also the store's admission flags refuse bad values at
start.

The limits run on the server's real clock; the assertions hold however slowly the machine runs:
one PutRecords call of 5 MiB meets a bucket of one second's worth (1 MiB) at once.

Run by //aws/testing:kinesis_throttling_test from the runfiles root.
"""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402

THROTTLED = "ProvisionedThroughputExceededException"


def make_client(server):
    tributary_aws.isolate_botocore(server.work)
    # One attempt per call: every throttle is seen as the server sent it.
    kinesis, = tributary_aws.clients(server.endpoint, "kinesis")
    return kinesis


def five_mib_call(stream):
    # 500 records of 10 KiB: 5 MiB, the most one call may carry; five times a shard's second.
    return [{"Data": bytes([i % 256]) * (10 << 10), "PartitionKey": "k%d" % i}
            for i in range(500)]


class KinesisThrottlingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary(extra_flags=["--kinesis_shard_limits"])
        cls.kinesis = make_client(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, name):
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        self.kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def test_put_records_past_the_shard_limit_fails_those_records_and_stores_the_others(self):
        self.create("puts")
        records = five_mib_call("puts")
        reply = self.kinesis.put_records(StreamName="puts", Records=records)
        failed = [r for r in reply["Records"] if "ErrorCode" in r]
        stored = [i for i, r in enumerate(reply["Records"]) if "SequenceNumber" in r]
        self.assertEqual(reply["FailedRecordCount"], len(failed))
        self.assertGreater(len(failed), 0, "5 MiB into a 1 MiB/s shard: nothing was throttled")
        self.assertGreater(len(stored), 0, "the records within the limit were not stored")
        for r in failed:
            self.assertEqual(r["ErrorCode"], THROTTLED)
            self.assertIn("rate exceeded", r["ErrorMessage"])
        # What was acknowledged is what the shard holds, in call order; nothing else.
        shard = self.kinesis.list_shards(StreamName="puts")["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(
            StreamName="puts", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        read = []
        for _ in range(50):
            try:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=10000)
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], THROTTLED)
                continue  # 5 calls/s, 2 MiB/s: the consumer backs off and reads again
            read.extend(page["Records"])
            iterator = page["NextShardIterator"]
            if len(read) >= len(stored):
                break
        self.assertEqual([r["PartitionKey"] for r in read],
                         [records[i]["PartitionKey"] for i in stored])

    def test_put_record_past_the_shard_limit_is_throttled(self):
        self.create("put")
        codes = []
        for _ in range(5):  # 1000 KiB each into a 1 MiB/s shard: the second in a second fails
            try:
                self.kinesis.put_record(StreamName="put", Data=b"x" * (1000 << 10),
                                        PartitionKey="k")
                codes.append("ok")
            except botocore.exceptions.ClientError as e:
                codes.append(e.response["Error"]["Code"])
        self.assertIn(THROTTLED, codes)
        self.assertIn("ok", codes)
        self.assertEqual(set(codes), {"ok", THROTTLED})

    def test_get_records_past_five_calls_a_second_is_throttled(self):
        self.create("gets")
        self.kinesis.put_record(StreamName="gets", Data=b"x", PartitionKey="k")
        shard = self.kinesis.list_shards(StreamName="gets")["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(
            StreamName="gets", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        codes = []
        for _ in range(12):
            try:
                self.kinesis.get_records(ShardIterator=iterator)
                codes.append("ok")
            except botocore.exceptions.ClientError as e:
                codes.append(e.response["Error"]["Code"])
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn(THROTTLED, codes)
        self.assertEqual(set(codes), {"ok", THROTTLED})


class StreamModeTest(unittest.TestCase):
    """Kinesis limits per stream (issue 22) on a server without --kinesis_shard_limits: a
    PROVISIONED stream is throttled as Kinesis throttles, an ON_DEMAND stream on the same server
    is not, and UpdateStreamMode switches a stream at once."""

    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        cls.kinesis = make_client(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, name, mode):
        self.kinesis.create_stream(StreamName=name, ShardCount=1,
                                   StreamModeDetails={"StreamMode": mode})
        self.kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def mode(self, name):
        summary = self.kinesis.describe_stream_summary(StreamName=name)
        return summary["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"]

    def get_records_codes(self, name, calls):
        shard = self.kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        codes = []
        for _ in range(calls):
            try:
                self.kinesis.get_records(ShardIterator=iterator, Limit=10000)
                codes.append("ok")
            except botocore.exceptions.ClientError as e:
                codes.append(e.response["Error"]["Code"])
        return codes

    def test_a_provisioned_stream_is_throttled_and_an_on_demand_one_beside_it_is_not(self):
        self.create("prov", "PROVISIONED")
        self.create("od", "ON_DEMAND")
        self.assertEqual(self.mode("prov"), "PROVISIONED")
        self.assertEqual(self.mode("od"), "ON_DEMAND")
        # 5 MiB at once into a 1 MiB/s shard: per-record throttles, the others stored.
        reply = self.kinesis.put_records(StreamName="prov", Records=five_mib_call("prov"))
        failed = [r for r in reply["Records"] if "ErrorCode" in r]
        self.assertGreater(len(failed), 0, "a provisioned stream was not throttled")
        self.assertLess(len(failed), 500, "nothing of the call was stored")
        self.assertEqual({r["ErrorCode"] for r in failed}, {THROTTLED})
        reply = self.kinesis.put_records(StreamName="od", Records=five_mib_call("od"))
        self.assertEqual(reply["FailedRecordCount"], 0, "an on-demand stream was throttled")
        self.assertEqual(set(self.get_records_codes("od", 12)), {"ok"})

    def test_update_stream_mode_switches_the_limits(self):
        self.create("switch", "ON_DEMAND")
        # 8 MiB, stored freely while on demand.
        for call in range(2):
            records = [{"Data": bytes([i % 256]) * (8 << 10), "PartitionKey": "k%d" % i}
                       for i in range(500)]
            reply = self.kinesis.put_records(StreamName="switch", Records=records)
            self.assertEqual(reply["FailedRecordCount"], 0)
        arn = self.kinesis.describe_stream_summary(
            StreamName="switch")["StreamDescriptionSummary"]["StreamARN"]
        self.kinesis.update_stream_mode(StreamARN=arn,
                                        StreamModeDetails={"StreamMode": "PROVISIONED"})
        self.assertEqual(self.mode("switch"), "PROVISIONED")
        # The first read takes 8 MiB of a 2 MiB/s shard: the next calls of the next ~3 s are
        # throttled however slowly this machine runs them.
        codes = self.get_records_codes("switch", 2)
        self.assertEqual(codes, ["ok", THROTTLED])
        self.kinesis.update_stream_mode(StreamARN=arn,
                                        StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.assertEqual(self.mode("switch"), "ON_DEMAND")
        self.assertEqual(self.get_records_codes("switch", 3), ["ok", "ok", "ok"])


class WithoutLimitsTest(unittest.TestCase):
    def test_nothing_is_throttled_without_the_flag(self):
        server = tributary_aws.Tributary()
        try:
            kinesis = make_client(server)
            kinesis.create_stream(StreamName="free", ShardCount=1)
            kinesis.get_waiter("stream_exists").wait(
                StreamName="free", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
            reply = kinesis.put_records(StreamName="free", Records=five_mib_call("free"))
            self.assertEqual(reply["FailedRecordCount"], 0)
        finally:
            self.assertEqual(server.stop(), 0, server.log())

    def test_bad_admission_flags_are_refused_at_start_naming_the_flag(self):
        work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        binary = os.path.join(os.getcwd(), "tools", "tributary", "tributary")
        for flag, says in [("--memory_budget_mb=4", "--memory_budget_mb"),
                           ("--max_pending_puts=0", "--max_pending_puts"),
                           ("--max_pending_put_mb=0", "--max_pending_put_mb")]:
            result = subprocess.run(
                [binary, "serve", "--data_dir=" + os.path.join(work, "data"),
                 "--listen=127.0.0.1:0", flag],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 2, flag + ": " + result.stderr)
            self.assertIn(says, result.stderr, flag)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_throttling", KinesisThrottlingTest,
                                      StreamModeTest, WithoutLimitsTest))
