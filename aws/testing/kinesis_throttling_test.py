"""Kinesis's per-shard limits (`tributary serve --kinesis_shard_limits`) as a boto3 producer and
consumer meet them: PutRecords past 1 MiB/s of a shard fails the records past the limit with
ProvisionedThroughputExceededException and stores the others (FailedRecordCount), PutRecord and
GetRecords past the limit fail with ProvisionedThroughputExceededException; without the flag
nothing is throttled; without it a PROVISIONED stream is throttled and an ON_DEMAND one is not
(StreamModeDetails, UpdateStreamMode). Also the store's admission flags refuse bad values at
start, and the front door's admission control (--aws_max_pending_requests) refuses a PutRecords
with ProvisionedThroughputExceededException, which boto3 retries on the same client until it is
admitted.

The limits run on the server's real clock; the assertions hold however slowly the machine runs:
one PutRecords call of 5 MiB meets a bucket of one second's worth (1 MiB) at once.

Run by //aws/testing:kinesis_throttling_test from the runfiles root.
"""

import os
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.config  # noqa: E402
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


class FrontDoorAdmissionTest(unittest.TestCase):
    """--aws_max_pending_requests=1, its one slot held by a request whose head was sent and whose
    body never comes (a slot is taken at the head)."""

    def setUp(self):
        self.server = tributary_aws.Tributary(extra_flags=["--aws_max_pending_requests=1"])
        self.kinesis = make_client(self.server)
        self.kinesis.create_stream(StreamName="door", ShardCount=1)
        self.kinesis.get_waiter("stream_exists").wait(
            StreamName="door", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        self.holder = None

    def hold_the_slot(self):
        """Opens a connection that sends a PutRecords head and never its body."""
        if self.holder is not None:
            self.holder.close()
        self.holder = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        self.holder.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                            b"application/x-amz-json-1.1\r\nX-Amz-Target: "
                            b"Kinesis_20131202.PutRecords\r\nContent-Length: 1000\r\n\r\n")

    def holder_was_refused(self):
        """Whether the holder's own head came while the slot was taken (by a call whose answer
        the client read a moment before the server gave its slot back): it was answered."""
        self.holder.setblocking(False)
        try:
            return len(self.holder.recv(1, socket.MSG_PEEK)) > 0
        except BlockingIOError:
            return False
        finally:
            self.holder.setblocking(True)

    def tearDown(self):
        if self.holder is not None:
            self.holder.close()
        self.assertEqual(self.server.stop(), 0, self.server.log())

    def records(self):
        return [{"Data": b"d" * 1024, "PartitionKey": "k%d" % i} for i in range(100)]

    def refused_once(self):
        """One-attempt PutRecords until one is refused (the holder's head may be read after the
        first call's): returns that error."""
        self.hold_the_slot()
        for _ in range(100):
            try:
                self.kinesis.put_records(StreamName="door", Records=self.records())
            except botocore.exceptions.ClientError as e:
                return e
            if self.holder_was_refused():
                self.hold_the_slot()
        self.fail("no PutRecords was refused while the only slot was held")

    def test_a_put_records_past_the_bound_is_refused_with_the_throttling_error(self):
        error = self.refused_once()
        self.assertEqual(error.response["Error"]["Code"], THROTTLED)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn("retry after a backoff", error.response["Error"]["Message"])
        # The refusal kept the connection; once the slot is free the same client is served.
        self.holder.close()
        for _ in range(100):
            try:
                reply = self.kinesis.put_records(StreamName="door", Records=self.records())
                break
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], THROTTLED)
        else:
            self.fail("never admitted once the slot was free")
        self.assertEqual(reply["FailedRecordCount"], 0)

    def test_boto3_retries_the_refusal_and_is_admitted_once_the_slot_is_free(self):
        self.refused_once()
        session = tributary_aws.session()
        retrying = session.client(
            "kinesis", endpoint_url=self.server.endpoint,
            config=botocore.config.Config(retries={"max_attempts": 10, "mode": "standard"},
                                          connect_timeout=30, read_timeout=60))
        refusals = []

        def free_the_slot_after_a_refusal(response, **_):
            # `response` is (http response, parsed) or None; the first refusal frees the slot.
            if response is not None and response[1].get("Error", {}).get("Code") == THROTTLED:
                refusals.append(1)
                self.holder.close()
        retrying.meta.events.register("needs-retry.kinesis.PutRecords",
                                      free_the_slot_after_a_refusal)
        reply = retrying.put_records(StreamName="door", Records=self.records())
        self.assertEqual(reply["FailedRecordCount"], 0)
        self.assertGreaterEqual(len(refusals), 1, "the first attempt was not refused")
        self.assertGreaterEqual(reply["ResponseMetadata"]["RetryAttempts"], 1)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_throttling", KinesisThrottlingTest,
                                      StreamModeTest, WithoutLimitsTest,
                                      FrontDoorAdmissionTest))
