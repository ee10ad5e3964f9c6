"""SubscribeToShard (enhanced fan-out) on the AWS front door, driven by boto3's own event-stream
client (botocore reads AWS's event-stream framing from an HTTP/1.1 chunked response, checking
every CRC): records pushed as they are put, continuation sequence numbers, SHARD_END with the
child shards after a split, errors, and a subscriber that leaves.

Run by //aws/testing:kinesis_subscribe_test from the runfiles root.
"""

import os
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402


def error_code(error):
    return error.response["Error"]["Code"]


class KinesisSubscribeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.kinesis, = tributary_aws.clients(cls.server.endpoint, "kinesis")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, name, shards):
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        return self.kinesis.describe_stream_summary(
            StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    def consumer(self, stream_arn, name):
        """Registers a consumer of the stream; returns its ARN."""
        return self.kinesis.register_stream_consumer(
            StreamARN=stream_arn, ConsumerName=name)["Consumer"]["ConsumerARN"]

    def put(self, stream, *datas):
        for data in datas:
            self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=data)

    def test_records_are_pushed_in_order_as_they_are_put(self):
        arn = self.create("pushed", 1)
        self.put("pushed", b"r0", b"r1", b"r2")
        reply = self.kinesis.subscribe_to_shard(
            ConsumerARN=self.consumer(arn, "pushed-reader"), ShardId="shardId-000000000000",
            StartingPosition={"Type": "TRIM_HORIZON"})
        self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
        events = iter(reply["EventStream"])
        seen, last_continuation = [], None
        # Records put while the subscription is open arrive too; keep-alive events may be empty.
        writer = threading.Timer(0.2, self.put, args=("pushed", b"r3", b"\x00\xffbinary"))
        writer.start()
        try:
            for _ in range(100):  # bounded: each event is at most a keep-alive (5 s) away
                event = next(events)["SubscribeToShardEvent"]
                for record in event["Records"]:
                    seen.append(record["Data"])
                    self.assertEqual(record["PartitionKey"], "k")
                    self.assertIn("ApproximateArrivalTimestamp", record)
                if event["Records"]:
                    self.assertEqual(event["ContinuationSequenceNumber"],
                                     event["Records"][-1]["SequenceNumber"])
                last_continuation = event["ContinuationSequenceNumber"]
                self.assertGreaterEqual(event["MillisBehindLatest"], 0)
                if len(seen) >= 5:
                    break
        finally:
            writer.join()
            reply["EventStream"].close()
        self.assertEqual(seen, [b"r0", b"r1", b"r2", b"r3", b"\x00\xffbinary"])
        self.assertIsNotNone(last_continuation)

    def test_a_split_parent_ends_with_its_child_shards(self):
        arn = self.create("ending", 1)
        self.put("ending", b"before-split")
        self.kinesis.split_shard(StreamName="ending", ShardToSplit="shardId-000000000000",
                                 NewStartingHashKey=str(2 ** 127))
        reply = self.kinesis.subscribe_to_shard(
            ConsumerARN=self.consumer(arn, "ending-reader"), ShardId="shardId-000000000000",
            StartingPosition={"Type": "TRIM_HORIZON"})
        records, children = [], []
        for event in reply["EventStream"]:  # ends by itself at SHARD_END
            shard_event = event["SubscribeToShardEvent"]
            records += [r["Data"] for r in shard_event["Records"]]
            children += [c["ShardId"] for c in shard_event.get("ChildShards", [])]
        self.assertEqual(records, [b"before-split"])
        self.assertEqual(children, ["shardId-000000000001", "shardId-000000000002"])

    def test_subscribing_after_a_sequence_number(self):
        arn = self.create("resumed", 1)
        first = self.kinesis.put_record(StreamName="resumed", PartitionKey="k", Data=b"a")
        self.put("resumed", b"b")
        reply = self.kinesis.subscribe_to_shard(
            ConsumerARN=self.consumer(arn, "resumed-reader"), ShardId="shardId-000000000000",
            StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER",
                              "SequenceNumber": first["SequenceNumber"]})
        try:
            event = next(iter(reply["EventStream"]))["SubscribeToShardEvent"]
            self.assertEqual([r["Data"] for r in event["Records"]], [b"b"])
        finally:
            reply["EventStream"].close()

    def test_unknown_shards_streams_and_consumers_are_resource_not_found(self):
        arn = self.create("known", 1)
        consumer = self.consumer(arn, "known-reader")
        for consumer_arn, shard in (
                (consumer, "shardId-000000000042"),
                (consumer.replace("stream/known/", "stream/unknown/"), "shardId-000000000000"),
                (consumer.replace("known-reader", "never-registered"), "shardId-000000000000")):
            with self.assertRaises(botocore.exceptions.ClientError) as caught:
                self.kinesis.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId=shard,
                                                StartingPosition={"Type": "LATEST"})
            self.assertEqual(error_code(caught.exception), "ResourceNotFoundException")

    def test_subscribers_that_leave_leave_the_server_serving(self):
        arn = self.create("left", 1)
        for round_ in range(3):  # each subscription ends when its reader closes it
            reply = self.kinesis.subscribe_to_shard(
                ConsumerARN=self.consumer(arn, "left-reader-%d" % round_),
                ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
            next(iter(reply["EventStream"]))  # the first event comes at once
            reply["EventStream"].close()
        # The server is still healthy and serves a normal call.
        self.assertIn("left", self.kinesis.list_streams()["StreamNames"])


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_subscribe_test", KinesisSubscribeTest))
