"""The Kinesis front door driven by Debian's AWS CLI v2 (/usr/bin/aws), as a user types it:
`aws kinesis ... --endpoint-url http://127.0.0.1:PORT`, credentials and region from the
environment, no config files read from $HOME. The CLI v2 bundles a newer botocore than Debian's
boto3, so StreamARN parameters are exercised here too; tag-resource, untag-resource and
list-tags-for-resource come from AWS's model merged in with AWS_DATA_PATH (the CLI 2.9 predates
them).

Run by //aws/testing:kinesis_cli_test from the runfiles root.
"""

import base64
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tributary_aws  # noqa: E402

AWS = "/usr/bin/aws"
COMMAND_GUARD_SECONDS = 120  # a failure guard only


class KinesisCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        cls.env = tributary_aws.client_environment(cls.server.work)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def aws(self, *args, check=True):
        """Runs `aws kinesis ARGS` and returns (exit status, parsed JSON output or None, stderr)."""
        result = subprocess.run(
            [AWS, "kinesis", *args, "--endpoint-url", self.server.endpoint, "--output", "json",
             "--cli-read-timeout", "60", "--cli-connect-timeout", "30"],
            env=self.env, capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)
        if check:
            self.assertEqual(result.returncode, 0, result.stderr)
        output = json.loads(result.stdout) if result.stdout.strip() else None
        return result.returncode, output, result.stderr

    def test_the_cli_is_the_v2_cli(self):
        version = subprocess.run([AWS, "--version"], env=self.env, capture_output=True,
                                 text=True, timeout=COMMAND_GUARD_SECONDS).stdout
        self.assertTrue(version.startswith("aws-cli/2."), version)

    def test_a_producer_and_consumer_session(self):
        self.aws("create-stream", "--stream-name", "cli", "--shard-count", "2")
        self.aws("wait", "stream-exists", "--stream-name", "cli")
        _, listed, _ = self.aws("list-streams")
        self.assertIn("cli", listed["StreamNames"])
        _, summary, _ = self.aws("describe-stream-summary", "--stream-name", "cli")
        description = summary["StreamDescriptionSummary"]
        self.assertEqual(description["StreamStatus"], "ACTIVE")
        self.assertEqual(description["OpenShardCount"], 2)
        arn = description["StreamARN"]
        self.assertEqual(arn, "arn:aws:kinesis:us-east-1:000000000000:stream/cli")
        _, by_arn, _ = self.aws("describe-stream-summary", "--stream-arn", arn)
        self.assertEqual(by_arn["StreamDescriptionSummary"]["StreamName"], "cli")

        # CLI v2 takes blobs as base64 by default.
        payload = "héllo from the CLI".encode("utf-8")
        _, put, _ = self.aws("put-record", "--stream-name", "cli", "--partition-key", "clé",
                             "--data", base64.b64encode(payload).decode())
        self.assertIn(put["ShardId"], ["shardId-000000000000", "shardId-000000000001"])
        _, put_arn, _ = self.aws("put-record", "--stream-arn", arn, "--partition-key", "clé",
                                 "--data", base64.b64encode(b"second").decode())
        self.assertEqual(put_arn["ShardId"], put["ShardId"])

        _, iterator, _ = self.aws("get-shard-iterator", "--stream-name", "cli", "--shard-id",
                                  put["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")
        _, got, _ = self.aws("get-records", "--shard-iterator", iterator["ShardIterator"])
        self.assertEqual([base64.b64decode(r["Data"]) for r in got["Records"]],
                         [payload, b"second"])
        self.assertEqual([r["PartitionKey"] for r in got["Records"]], ["clé", "clé"])
        self.assertEqual(got["Records"][0]["SequenceNumber"], put["SequenceNumber"])
        self.assertIn("NextShardIterator", got)

        _, after, _ = self.aws("get-shard-iterator", "--stream-name", "cli", "--shard-id",
                               put["ShardId"], "--shard-iterator-type", "AFTER_SEQUENCE_NUMBER",
                               "--starting-sequence-number", put["SequenceNumber"])
        _, rest, _ = self.aws("get-records", "--shard-iterator", after["ShardIterator"])
        self.assertEqual([base64.b64decode(r["Data"]) for r in rest["Records"]], [b"second"])

        # list-shards and the CLI's own pagination of list-streams.
        _, shards, _ = self.aws("list-shards", "--stream-name", "cli")
        self.assertEqual(len(shards["Shards"]), 2)
        _, paged, _ = self.aws("list-streams", "--page-size", "1")
        self.assertIn("cli", paged["StreamNames"])

        self.aws("delete-stream", "--stream-name", "cli")

    def test_errors_reach_the_user_with_their_codes(self):
        status, _, stderr = self.aws("describe-stream-summary", "--stream-name", "missing",
                                     check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("ResourceNotFoundException", stderr)
        self.aws("create-stream", "--stream-name", "twice", "--shard-count", "1")
        status, _, stderr = self.aws("create-stream", "--stream-name", "twice",
                                     "--shard-count", "1", check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("ResourceInUseException", stderr)
        status, _, stderr = self.aws("get-records", "--shard-iterator", "bogus-iterator",
                                     check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("InvalidArgumentException", stderr)

    def test_tags(self):
        self.aws("create-stream", "--stream-name", "cli-tags", "--shard-count", "1")
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/cli-tags"
        self.aws("add-tags-to-stream", "--stream-name", "cli-tags", "--tags", "b=2,a=1")
        # tag-resource and friends come from AWS's model merged in by AWS_DATA_PATH.
        self.aws("tag-resource", "--resource-arn", arn, "--tags", "c=3,d=4")
        _, page, _ = self.aws("list-tags-for-stream", "--stream-name", "cli-tags", "--limit", "3")
        self.assertEqual([t["Key"] for t in page["Tags"]], ["a", "b", "c"])
        self.assertTrue(page["HasMoreTags"])
        _, rest, _ = self.aws("list-tags-for-stream", "--stream-arn", arn,
                              "--exclusive-start-tag-key", "c")
        self.assertEqual(rest["Tags"], [{"Key": "d", "Value": "4"}])
        self.assertFalse(rest["HasMoreTags"])
        self.aws("remove-tags-from-stream", "--stream-name", "cli-tags", "--tag-keys", "a", "b")
        self.aws("untag-resource", "--resource-arn", arn, "--tag-keys", "d")
        _, tags, _ = self.aws("list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags["Tags"], [{"Key": "c", "Value": "3"}])
        status, _, stderr = self.aws("add-tags-to-stream", "--stream-name", "cli-tags",
                                     "--tags", "aws:owner=me", check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("InvalidArgumentException", stderr)
        self.aws("delete-stream", "--stream-name", "cli-tags")

    def test_registered_consumers_and_delete_with_enforce_consumer_deletion(self):
        self.aws("create-stream", "--stream-name", "cli-fanout", "--shard-count", "1")
        arn = "arn:aws:kinesis:us-east-1:000000000000:stream/cli-fanout"
        consumer_arns = {}
        for name in ["c", "a", "b"]:
            _, registered, _ = self.aws("register-stream-consumer", "--stream-arn", arn,
                                        "--consumer-name", name)
            consumer = registered["Consumer"]
            self.assertEqual(consumer["ConsumerStatus"], "ACTIVE")
            self.assertTrue(consumer["ConsumerARN"].startswith(arn + "/consumer/%s:" % name))
            consumer_arns[name] = consumer["ConsumerARN"]
        status, _, stderr = self.aws("register-stream-consumer", "--stream-arn", arn,
                                     "--consumer-name", "a", check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("ResourceInUseException", stderr)
        _, described, _ = self.aws("describe-stream-consumer", "--consumer-arn",
                                   consumer_arns["b"])
        self.assertEqual(described["ConsumerDescription"]["ConsumerName"], "b")
        self.assertEqual(described["ConsumerDescription"]["StreamARN"], arn)
        _, summary, _ = self.aws("describe-stream-summary", "--stream-arn", arn)
        self.assertEqual(summary["StreamDescriptionSummary"]["ConsumerCount"], 3)
        # The CLI pages with MaxResults/NextToken itself (--page-size), or hands out its own
        # token (--max-items / --starting-token).
        _, listed, _ = self.aws("list-stream-consumers", "--stream-arn", arn, "--page-size", "1")
        self.assertEqual([c["ConsumerName"] for c in listed["Consumers"]], ["a", "b", "c"])
        _, first, _ = self.aws("list-stream-consumers", "--stream-arn", arn, "--max-items", "2")
        self.assertEqual([c["ConsumerName"] for c in first["Consumers"]], ["a", "b"])
        _, second, _ = self.aws("list-stream-consumers", "--stream-arn", arn,
                                "--starting-token", first["NextToken"])
        self.assertEqual([c["ConsumerName"] for c in second["Consumers"]], ["c"])

        self.aws("deregister-stream-consumer", "--consumer-arn", consumer_arns["a"])
        self.aws("deregister-stream-consumer", "--stream-arn", arn, "--consumer-name", "b")
        # Consumer "c" is still registered: without --enforce-consumer-deletion the stream stays.
        status, _, stderr = self.aws("delete-stream", "--stream-name", "cli-fanout", check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("ResourceInUseException", stderr)
        self.aws("delete-stream", "--stream-name", "cli-fanout", "--enforce-consumer-deletion")
        _, listed, _ = self.aws("list-streams")
        self.assertNotIn("cli-fanout", listed["StreamNames"])


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_cli", KinesisCliTest))
