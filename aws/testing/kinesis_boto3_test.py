"""The Kinesis front door driven by Debian's boto3 (a client nobody here wrote) against the real
`tributary serve --aws_listen=127.0.0.1:0`: every implemented operation (TagResource,
UntagResource and ListTagsForResource through AWS's model merged in with AWS_DATA_PATH: Debian's
botocore 1.29 predates them), tags and registered consumers, pagination as botocore's paginators
do it, binary data and non-ASCII partition keys, a producer/consumer round trip over several
shards, split/merge with ChildShards, and the error codes a boto3 user branches on.

ExpiredIteratorException needs an iterator older than 5 minutes; it is covered with a fake clock
by //aws:kinesis_handler_test instead of waiting here.

Run by //aws:kinesis_boto3_test from the runfiles root.
"""

import base64
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402
from tributary_aws import signed_request, json_error  # noqa: E402

SEED = int(os.environ.get("TRIBUTARY_TEST_SEED", "16"))


def error_code(error):
    return error.response["Error"]["Code"]


class KinesisBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.session = boto3.session.Session(
            aws_access_key_id=tributary_aws.ACCESS_KEY,
            aws_secret_access_key=tributary_aws.SECRET_KEY,
            region_name=tributary_aws.REGION)
        config = botocore.config.Config(
            retries={"total_max_attempts": 1},  # every error is seen as the server sent it
            connect_timeout=30, read_timeout=60)  # failure guards
        cls.kinesis = cls.session.client("kinesis", endpoint_url=cls.server.endpoint,
                                         config=config)
        # Without botocore's own checks, so that the server's ValidationException is reached.
        cls.unchecked = cls.session.client(
            "kinesis", endpoint_url=cls.server.endpoint,
            config=config.merge(botocore.config.Config(parameter_validation=False)))
        print("seed", SEED)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, name, shards):
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        self.kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def read_shard(self, stream, shard_id, iterator_type="TRIM_HORIZON", **kwargs):
        """Every record of a shard from `iterator_type` to its current end (or its closed end),
        and the last GetRecords reply."""
        iterator = self.kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id, ShardIteratorType=iterator_type,
            **kwargs)["ShardIterator"]
        records = []
        while True:
            reply = self.kinesis.get_records(ShardIterator=iterator, Limit=400)
            records.extend(reply["Records"])
            if "NextShardIterator" not in reply or not reply["Records"]:
                return records, reply
            iterator = reply["NextShardIterator"]

    # --- control plane -----------------------------------------------------------------------

    def test_create_list_describe_and_delete(self):
        self.create("lifecycle", 3)
        names = self.kinesis.list_streams()["StreamNames"]
        self.assertIn("lifecycle", names)
        summary = self.kinesis.describe_stream_summary(
            StreamName="lifecycle")["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamARN"],
                         "arn:aws:kinesis:us-east-1:000000000000:stream/lifecycle")
        self.assertEqual(summary["StreamStatus"], "ACTIVE")
        self.assertEqual(summary["OpenShardCount"], 3)
        self.assertEqual(summary["RetentionPeriodHours"], 24)
        self.assertIsInstance(summary["StreamCreationTimestamp"], datetime.datetime)
        description = self.kinesis.describe_stream(StreamName="lifecycle")["StreamDescription"]
        self.assertEqual(len(description["Shards"]), 3)
        self.assertFalse(description["HasMoreShards"])
        self.kinesis.delete_stream(StreamName="lifecycle")
        self.kinesis.get_waiter("stream_not_exists").wait(
            StreamName="lifecycle", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.describe_stream_summary(StreamName="lifecycle")

    def test_list_streams_pages_with_the_paginator(self):
        names = ["page-%d" % i for i in range(5)]
        for name in names:
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
        paginator = self.kinesis.get_paginator("list_streams")
        pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
        listed = [n for page in pages for n in page["StreamNames"]]
        self.assertEqual([n for n in listed if n.startswith("page-")], names)
        self.assertGreater(len(pages), 2)
        # The NextToken form pages too (Debian's botocore 1.29 model predates it: raw requests).
        status, _, body = signed_request(self.server.endpoint, "Kinesis_20131202.ListStreams",
                                         b'{"Limit": 2}')
        first = json.loads(body)
        self.assertTrue(first["HasMoreStreams"])
        status, _, body = signed_request(
            self.server.endpoint, "Kinesis_20131202.ListStreams",
            json.dumps({"NextToken": first["NextToken"]}).encode())
        self.assertEqual(status, 200, body)
        rest = json.loads(body)
        self.assertEqual(first["StreamNames"] + rest["StreamNames"], sorted(listed))

    def test_list_shards_pages_with_next_token(self):
        self.create("shards5", 5)
        reply = self.kinesis.list_shards(StreamName="shards5", MaxResults=2)
        shards = reply["Shards"]
        while "NextToken" in reply:
            reply = self.kinesis.list_shards(NextToken=reply["NextToken"], MaxResults=2)
            shards.extend(reply["Shards"])
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-%012d" % i for i in range(5)])
        # As in Kinesis, NextToken already names the stream: giving both is refused (botocore's
        # list_shards paginator resends StreamName and fails against Kinesis the same way).
        token = self.kinesis.list_shards(StreamName="shards5", MaxResults=2)["NextToken"]
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.list_shards(StreamName="shards5", NextToken=token)
        filtered = self.kinesis.list_shards(
            StreamName="shards5",
            ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000002"})
        self.assertEqual([s["ShardId"] for s in filtered["Shards"]],
                         ["shardId-000000000003", "shardId-000000000004"])

    def test_describe_stream_pages_with_the_paginator(self):
        self.create("described", 5)
        paginator = self.kinesis.get_paginator("describe_stream")
        pages = list(paginator.paginate(StreamName="described",
                                        PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 3)
        shards = [s["ShardId"] for page in pages for s in page["StreamDescription"]["Shards"]]
        self.assertEqual(shards, ["shardId-%012d" % i for i in range(5)])

    def test_retention_and_limits(self):
        self.create("retained", 2)
        self.kinesis.increase_stream_retention_period(StreamName="retained",
                                                      RetentionPeriodHours=72)
        self.kinesis.decrease_stream_retention_period(StreamName="retained",
                                                      RetentionPeriodHours=48)
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName="retained")
                         ["StreamDescriptionSummary"]["RetentionPeriodHours"], 48)
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.decrease_stream_retention_period(StreamName="retained",
                                                          RetentionPeriodHours=12)
        limits = self.kinesis.describe_limits()
        self.assertGreaterEqual(limits["OpenShardCount"], 2)
        self.assertEqual(limits["ShardLimit"], 10000)

    # --- data plane --------------------------------------------------------------------------

    def test_binary_data_and_non_ascii_keys_round_trip_on_the_md5_shard(self):
        self.create("binary", 4)
        shards = self.kinesis.list_shards(StreamName="binary")["Shards"]
        data = bytes(range(256))
        for key in ["plain", "clé", "ключ", "鍵", "emoji-😀", "x" * 256]:
            put = self.kinesis.put_record(StreamName="binary", Data=data, PartitionKey=key)
            # Kinesis's rule, computed here independently: MD5 of the key's UTF-8 bytes as a
            # 128-bit big-endian integer picks the shard whose hash key range holds it.
            hash_key = int.from_bytes(hashlib.md5(key.encode("utf-8")).digest(), "big")
            expected = [s["ShardId"] for s in shards
                        if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_key
                        <= int(s["HashKeyRange"]["EndingHashKey"])]
            self.assertEqual([put["ShardId"]], expected, key)
            records, _ = self.read_shard("binary", put["ShardId"], "AT_SEQUENCE_NUMBER",
                                         StartingSequenceNumber=put["SequenceNumber"])
            self.assertEqual(records[0]["Data"], data)
            self.assertEqual(records[0]["PartitionKey"], key)
            self.assertEqual(records[0]["SequenceNumber"], put["SequenceNumber"])
            self.assertIsInstance(records[0]["ApproximateArrivalTimestamp"], datetime.datetime)

    def test_producer_consumer_round_trip_over_several_shards(self):
        self.create("roundtrip", 4)
        rng = random.Random(SEED)
        sent = []
        for call in range(3):
            batch = [{"Data": bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))),
                      "PartitionKey": "key-%d" % rng.randint(0, 40)} for _ in range(500)]
            reply = self.kinesis.put_records(StreamName="roundtrip", Records=batch)
            self.assertEqual(reply["FailedRecordCount"], 0)
            self.assertEqual(len(reply["Records"]), 500)
            for record, result in zip(batch, reply["Records"]):
                sent.append((record["PartitionKey"], record["Data"], result["ShardId"],
                             int(result["SequenceNumber"])))
        received = []
        for shard in self.kinesis.list_shards(StreamName="roundtrip")["Shards"]:
            records, last = self.read_shard("roundtrip", shard["ShardId"])
            self.assertEqual(last["MillisBehindLatest"], 0)
            sequence = [int(r["SequenceNumber"]) for r in records]
            self.assertEqual(sequence, sorted(sequence), "records of a shard come in order")
            received.extend((r["PartitionKey"], r["Data"], shard["ShardId"],
                             int(r["SequenceNumber"])) for r in records)
        self.assertEqual(sorted(received), sorted(sent), "each record exactly once")
        # Per partition key, the consumer sees the producer's order.
        in_shard_order = sorted(received, key=lambda r: (r[2], r[3]))
        for key in {k for k, _, _, _ in sent}:
            self.assertEqual([d for k, d, _, _ in sent if k == key],
                             [d for k, d, _, _ in in_shard_order if k == key], key)

    def test_all_five_shard_iterator_types(self):
        self.create("iterators", 1)
        shard = "shardId-000000000000"
        puts = [self.kinesis.put_record(StreamName="iterators", Data=b"r%d" % i,
                                        PartitionKey="k") for i in range(4)]
        records, _ = self.read_shard("iterators", shard)
        self.assertEqual([r["Data"] for r in records], [b"r0", b"r1", b"r2", b"r3"])

        def first(iterator_type, **kwargs):
            it = self.kinesis.get_shard_iterator(StreamName="iterators", ShardId=shard,
                                                 ShardIteratorType=iterator_type,
                                                 **kwargs)["ShardIterator"]
            got = self.kinesis.get_records(ShardIterator=it)["Records"]
            return got[0] if got else None

        self.assertEqual(first("TRIM_HORIZON")["Data"], b"r0")
        self.assertIsNone(first("LATEST"))
        self.assertEqual(first("AT_SEQUENCE_NUMBER",
                               StartingSequenceNumber=puts[2]["SequenceNumber"])["Data"], b"r2")
        self.assertEqual(first("AFTER_SEQUENCE_NUMBER",
                               StartingSequenceNumber=puts[2]["SequenceNumber"])["Data"], b"r3")
        # AT_TIMESTAMP: the first record that arrived at or after the time. (botocore sends
        # whole epoch seconds: it truncates the datetime.)
        at = records[2]["ApproximateArrivalTimestamp"].replace(microsecond=0)
        expected = next(r for r in records if r["ApproximateArrivalTimestamp"] >= at)
        self.assertEqual(first("AT_TIMESTAMP", Timestamp=at)["SequenceNumber"],
                         expected["SequenceNumber"])
        later = first("AT_TIMESTAMP", Timestamp=at + datetime.timedelta(days=1))
        self.assertIsNone(later)
        # A LATEST iterator sees what is written after it.
        it = self.kinesis.get_shard_iterator(StreamName="iterators", ShardId=shard,
                                             ShardIteratorType="LATEST")["ShardIterator"]
        self.kinesis.put_record(StreamName="iterators", Data=b"after", PartitionKey="k")
        self.assertEqual([r["Data"] for r in self.kinesis.get_records(ShardIterator=it)["Records"]],
                         [b"after"])

    def test_split_and_merge_end_the_parents_with_child_shards(self):
        self.create("resharded", 1)
        self.kinesis.put_record(StreamName="resharded", Data=b"before", PartitionKey="k")
        self.kinesis.split_shard(StreamName="resharded", ShardToSplit="shardId-000000000000",
                                 NewStartingHashKey=str(2 ** 127))
        records, end = self.read_shard("resharded", "shardId-000000000000")
        self.assertEqual([r["Data"] for r in records], [b"before"])
        self.assertNotIn("NextShardIterator", end)
        self.assertEqual([c["ShardId"] for c in end["ChildShards"]],
                         ["shardId-000000000001", "shardId-000000000002"])
        self.assertEqual(end["ChildShards"][1]["ParentShards"], ["shardId-000000000000"])
        self.assertEqual(end["ChildShards"][1]["HashKeyRange"]["StartingHashKey"],
                         str(2 ** 127))
        # Writes go to the children now.
        put = self.kinesis.put_record(StreamName="resharded", Data=b"after", PartitionKey="k")
        self.assertIn(put["ShardId"], ["shardId-000000000001", "shardId-000000000002"])

        self.kinesis.merge_shards(StreamName="resharded", ShardToMerge="shardId-000000000001",
                                  AdjacentShardToMerge="shardId-000000000002")
        open_shards = self.kinesis.list_shards(
            StreamName="resharded", ShardFilter={"Type": "AT_LATEST"})["Shards"]
        self.assertEqual(len(open_shards), 1)
        self.assertEqual(open_shards[0]["ParentShardId"], "shardId-000000000001")
        self.assertEqual(open_shards[0]["AdjacentParentShardId"], "shardId-000000000002")
        _, child_end = self.read_shard("resharded", put["ShardId"])
        self.assertEqual([c["ShardId"] for c in child_end["ChildShards"]],
                         [open_shards[0]["ShardId"]])

        scaled = self.kinesis.update_shard_count(StreamName="resharded", TargetShardCount=2,
                                                 ScalingType="UNIFORM_SCALING")
        self.assertEqual((scaled["CurrentShardCount"], scaled["TargetShardCount"]), (1, 2))
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName="resharded")
                         ["StreamDescriptionSummary"]["OpenShardCount"], 2)

    # --- errors ------------------------------------------------------------------------------

    def test_error_codes(self):
        self.create("errors", 1)
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.put_record(StreamName="missing", Data=b"x", PartitionKey="k")
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.get_shard_iterator(StreamName="errors", ShardId="shardId-000000000007",
                                            ShardIteratorType="LATEST")
        with self.assertRaises(self.kinesis.exceptions.ResourceInUseException):
            self.kinesis.create_stream(StreamName="errors", ShardCount=1)
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.get_shard_iterator(StreamName="errors", ShardId="shardId-000000000000",
                                            ShardIteratorType="AT_SEQUENCE_NUMBER")
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.get_records(ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.split_shard(StreamName="errors", ShardToSplit="shardId-000000000000",
                                     NewStartingHashKey="0")
        # botocore's own checks stop these before sending; without them the server says so.
        with self.assertRaises(botocore.exceptions.ParamValidationError):
            self.kinesis.create_stream(StreamName="bad name!", ShardCount=0)
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.unchecked.create_stream(StreamName="bad name!", ShardCount=0)
        self.assertEqual(error_code(caught.exception), "ValidationException")
        self.assertIn("2 validation errors detected", str(caught.exception))
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.unchecked.put_records(StreamName="errors", Records=[])
        self.assertEqual(error_code(caught.exception), "ValidationException")
        # An operation this server does not serve yet.
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.kinesis.enable_enhanced_monitoring(StreamName="errors",
                                                    ShardLevelMetrics=["ALL"])
        self.assertEqual(error_code(caught.exception), "UnknownOperationException")

    # --- tags and registered consumers ---------------------------------------------------------

    def test_tags_on_the_stream_and_as_a_resource(self):
        self.create("tagged", 1)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/tagged"
        self.kinesis.add_tags_to_stream(StreamName="tagged", Tags={"b": "2", "a": "1"})
        # TagResource and friends come from AWS's model merged in by AWS_DATA_PATH.
        self.kinesis.tag_resource(ResourceARN=arn, Tags={"c": "3", "a": "one", "é t": "ü"})
        # ListTagsForStream pages with Limit and ExclusiveStartTagKey, in key order.
        listed, start = [], None
        while True:
            kwargs = {"ExclusiveStartTagKey": start} if start else {}
            page = self.kinesis.list_tags_for_stream(StreamName="tagged", Limit=2, **kwargs)
            self.assertLessEqual(len(page["Tags"]), 2)
            listed.extend((t["Key"], t["Value"]) for t in page["Tags"])
            if not page["HasMoreTags"]:
                break
            start = page["Tags"][-1]["Key"]
        self.assertEqual(listed, [("a", "one"), ("b", "2"), ("c", "3"), ("é t", "ü")])
        self.kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["b", "absent"])
        self.kinesis.untag_resource(ResourceARN=arn, TagKeys=["é t"])
        self.assertEqual(self.kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "a", "Value": "one"}, {"Key": "c", "Value": "3"}])
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName="tagged")["Tags"],
                         [{"Key": "a", "Value": "one"}, {"Key": "c", "Value": "3"}])

    def test_tag_errors(self):
        self.create("tag-errors", 1)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/tag-errors"
        too_many = {"k%d" % i: "v" for i in range(51)}
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.add_tags_to_stream(StreamName="tag-errors", Tags=too_many)
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.add_tags_to_stream(StreamName="tag-errors", Tags={"aws:owner": "me"})
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.add_tags_to_stream(StreamName="no-such-stream", Tags={"a": "b"})
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.list_tags_for_resource(
                ResourceARN=arn.replace("000000000000", "111111111111"))
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.tag_resource(ResourceARN=arn + "/consumer/c:1700000000",
                                      Tags={"a": "b"})
        for call in [lambda: self.unchecked.add_tags_to_stream(StreamName="tag-errors", Tags={}),
                     lambda: self.unchecked.add_tags_to_stream(StreamName="tag-errors",
                                                               Tags={"k" * 129: "v"}),
                     lambda: self.unchecked.list_tags_for_stream(StreamName="tag-errors",
                                                                 Limit=51),
                     lambda: self.unchecked.remove_tags_from_stream(StreamName="tag-errors",
                                                                    TagKeys=[])]:
            with self.assertRaises(botocore.exceptions.ClientError) as caught:
                call()
            self.assertEqual(error_code(caught.exception), "ValidationException")
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName="tag-errors")["Tags"], [])

    def test_registered_consumers(self):
        self.create("fanout", 1)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/fanout"
        names = ["reader-%d" % i for i in (3, 1, 4, 0, 2)]
        registered = {}
        for name in names:
            consumer = self.kinesis.register_stream_consumer(StreamARN=arn,
                                                             ConsumerName=name)["Consumer"]
            self.assertEqual(consumer["ConsumerStatus"], "ACTIVE")
            self.assertIsInstance(consumer["ConsumerCreationTimestamp"], datetime.datetime)
            self.assertEqual(consumer["ConsumerARN"], "%s/consumer/%s:%d" % (
                arn, name, int(consumer["ConsumerCreationTimestamp"].timestamp())))
            registered[name] = consumer["ConsumerARN"]
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName="fanout")
                         ["StreamDescriptionSummary"]["ConsumerCount"], 5)
        # By ConsumerARN, by StreamARN + ConsumerName, or by all three.
        for kwargs in [{"ConsumerARN": registered["reader-1"]},
                       {"StreamARN": arn, "ConsumerName": "reader-1"},
                       {"StreamARN": arn, "ConsumerName": "reader-1",
                        "ConsumerARN": registered["reader-1"]}]:
            description = self.kinesis.describe_stream_consumer(**kwargs)["ConsumerDescription"]
            self.assertEqual(description["ConsumerARN"], registered["reader-1"])
            self.assertEqual(description["StreamARN"], arn)
            self.assertEqual(description["ConsumerStatus"], "ACTIVE")
        # botocore's paginator (MaxResults / NextToken), and NextToken by hand.
        pages = list(self.kinesis.get_paginator("list_stream_consumers").paginate(
            StreamARN=arn, PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 3)
        self.assertEqual([c["ConsumerName"] for p in pages for c in p["Consumers"]],
                         sorted(names))
        first = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=4)
        rest = self.kinesis.list_stream_consumers(StreamARN=arn, NextToken=first["NextToken"])
        self.assertNotIn("NextToken", rest)
        self.assertEqual([c["ConsumerARN"] for c in first["Consumers"] + rest["Consumers"]],
                         [registered[n] for n in sorted(names)])
        self.kinesis.deregister_stream_consumer(ConsumerARN=registered["reader-1"])
        self.kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="reader-2")
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.describe_stream_consumer(ConsumerARN=registered["reader-1"])
        self.assertEqual([c["ConsumerName"] for c in
                          self.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]],
                         ["reader-0", "reader-3", "reader-4"])

    def test_consumer_errors(self):
        self.create("consumer-errors", 1)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/consumer-errors"
        for i in range(20):
            self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c%02d" % i)
        with self.assertRaises(self.kinesis.exceptions.ResourceInUseException):
            self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c00")
        with self.assertRaises(self.kinesis.exceptions.LimitExceededException):
            self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c20")
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.register_stream_consumer(
                StreamARN=arn.replace("consumer-errors", "missing"), ConsumerName="c")
        with self.assertRaises(self.kinesis.exceptions.ResourceNotFoundException):
            self.kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="nobody")
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.describe_stream_consumer(ConsumerName="c00")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.unchecked.register_stream_consumer(StreamARN=arn, ConsumerName="bad name")
        self.assertEqual(error_code(caught.exception), "ValidationException")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.unchecked.list_stream_consumers(StreamARN=arn, MaxResults=0)
        self.assertEqual(error_code(caught.exception), "ValidationException")
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException):
            self.kinesis.list_stream_consumers(StreamARN=arn, NextToken="not-a-token")

    def test_delete_stream_with_consumers_needs_enforce_consumer_deletion(self):
        self.create("doomed", 1)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/doomed"
        self.kinesis.add_tags_to_stream(StreamName="doomed", Tags={"a": "b"})
        self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="reader")
        with self.assertRaises(self.kinesis.exceptions.ResourceInUseException):
            self.kinesis.delete_stream(StreamName="doomed")
        with self.assertRaises(self.kinesis.exceptions.ResourceInUseException):
            self.kinesis.delete_stream(StreamName="doomed", EnforceConsumerDeletion=False)
        self.kinesis.delete_stream(StreamName="doomed", EnforceConsumerDeletion=True)
        self.kinesis.get_waiter("stream_not_exists").wait(
            StreamName="doomed", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        # A new stream of the name starts with neither tags nor consumers.
        self.create("doomed", 1)
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName="doomed")["Tags"], [])
        self.assertEqual(self.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"], [])
        self.kinesis.delete_stream(StreamName="doomed")

    def test_records_over_the_documented_limits(self):
        self.create("limits", 1)
        # A record over 1 MiB of data breaks the model's constraint.
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.unchecked.put_record(StreamName="limits", Data=b"x" * (1024 * 1024 + 1),
                                      PartitionKey="k")
        self.assertEqual(error_code(caught.exception), "ValidationException")
        # Six records of 1 MiB: over PutRecords' 5 MiB.
        big = [{"Data": b"y" * (1024 * 1024 - 16), "PartitionKey": "k"} for _ in range(6)]
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException) as caught:
            self.kinesis.put_records(StreamName="limits", Records=big)
        # Ten: the body (base64) is over the HTTP limit; the reply still arrives (413), the
        # connection is not dropped under the client.
        bigger = [{"Data": b"z" * (1024 * 1024 - 16), "PartitionKey": "k"} for _ in range(10)]
        with self.assertRaises(self.kinesis.exceptions.InvalidArgumentException) as caught:
            self.kinesis.put_records(StreamName="limits", Records=bigger)
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)
        # The server goes on serving.
        self.kinesis.put_record(StreamName="limits", Data=b"fine", PartitionKey="k")

    def test_raw_requests_unknown_operation_malformed_body_and_signature(self):
        endpoint = self.server.endpoint
        status, headers, body = signed_request(endpoint, "Kinesis_20131202.MakeCoffee", b"{}")
        self.assertEqual((status, json_error(body)[0]), (400, "UnknownOperationException"))
        status, _, body = signed_request(endpoint, "Kinesis_20131202.ListStreams", b"{not json")
        self.assertEqual((status, json_error(body)[0]), (400, "SerializationException"))
        status, _, body = signed_request(endpoint, "Kinesis_20131202.CreateStream",
                                         b'{"StreamName": "s", "ShardCount": "two"}')
        self.assertEqual((status, json_error(body)[0]), (400, "SerializationException"))
        status, _, body = signed_request(endpoint, "Kinesis_20131202.ListStreams", b"{}",
                                         sign=False)
        self.assertEqual((status, json_error(body)[0]),
                         (400, "MissingAuthenticationTokenException"))
        # The front door accepts any well-formed signature (as emulators do): a wrong secret too.
        status, _, body = signed_request(endpoint, "Kinesis_20131202.ListStreams", b"{}",
                                         secret="some-other-secret")
        self.assertEqual(status, 200, body)
        self.assertIn("StreamNames", json.loads(body))

    def test_stream_arn_in_a_raw_request(self):
        # Debian's boto3 1.26 predates StreamARN parameters; the AWS CLI test uses them too.
        self.create("by-arn", 1)
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/by-arn"
        status, _, body = signed_request(
            self.server.endpoint, "Kinesis_20131202.PutRecord",
            json.dumps({"StreamARN": arn, "PartitionKey": "k",
                        "Data": base64.b64encode(b"via arn").decode()}).encode())
        self.assertEqual(status, 200, body)
        status, _, body = signed_request(
            self.server.endpoint, "Kinesis_20131202.DescribeStreamSummary",
            json.dumps({"StreamARN": arn.replace("000000000000", "111111111111")}).encode())
        self.assertEqual((status, json_error(body)[0]), (400, "ResourceNotFoundException"))


class FrontDoorWiringTest(unittest.TestCase):
    """The flags, and the front door on shard_store_server."""

    def test_shard_store_server_serves_the_kinesis_api_too(self):
        server = tributary_aws.Tributary(command=tributary_aws.SHARD_STORE_SERVER,
                                         extra_flags=["--aws_region=eu-west-1",
                                                      "--aws_account_id=123456789012"])
        try:
            tributary_aws.isolate_botocore(server.work)
            kinesis = boto3.client(
                "kinesis", endpoint_url=server.endpoint, region_name="eu-west-1",
                aws_access_key_id=tributary_aws.ACCESS_KEY,
                aws_secret_access_key=tributary_aws.SECRET_KEY,
                config=botocore.config.Config(retries={"total_max_attempts": 1}))
            kinesis.create_stream(StreamName="store", ShardCount=1)
            put = kinesis.put_record(StreamName="store", Data=b"x", PartitionKey="k")
            it = kinesis.get_shard_iterator(StreamName="store", ShardId=put["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            self.assertEqual([r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]],
                             [b"x"])
            self.assertEqual(kinesis.describe_stream_summary(StreamName="store")
                             ["StreamDescriptionSummary"]["StreamARN"],
                             "arn:aws:kinesis:eu-west-1:123456789012:stream/store")
        finally:
            self.assertEqual(server.stop(), 0, server.log())

    def test_bad_aws_flags_are_refused_at_start_naming_the_flag(self):
        work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        binary = os.path.join(os.getcwd(), "tools", "tributary", "tributary")
        for flag, says in [("--aws_listen=127.0.0.1:99999", "--aws_listen"),
                           ("--aws_listen=:4566", "--aws_listen"),
                           ("--aws_account_id=12", "--aws_account_id"),
                           ("--aws_region=US East", "--aws_region")]:
            result = subprocess.run(
                [binary, "serve", "--data_dir=" + os.path.join(work, "data"),
                 "--listen=127.0.0.1:0", flag],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 2, flag + ": " + result.stderr)
            self.assertIn(says, result.stderr, flag)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_boto3", KinesisBoto3Test, FrontDoorWiringTest))
