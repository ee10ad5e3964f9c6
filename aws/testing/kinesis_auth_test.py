"""Signature verification on the AWS front door (`--aws_credentials_file`), driven by clients
nobody here wrote: boto3 and the AWS CLI v2 sign with their own SigV4 code, from the same
shared-credentials file the server verifies against. A wrong secret, an unknown key, another
region and a stale date each get AWS's error code, and nothing reaches the store.

Run by //aws/testing:kinesis_auth_test from the runfiles root.
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile
import types
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402

AWS = "/usr/bin/aws"
COMMAND_GUARD_SECONDS = 120  # a failure guard only

CREDENTIALS = """\
# who may call this Tributary
[orders-producer]
aws_access_key_id = AKIAORDERSPRODUCER
aws_secret_access_key = orders/secret+KEY

[auditor]
aws_access_key_id = AKIAAUDITOR
aws_secret_access_key = auditor-secret
region = us-east-1

[raw-requests]
aws_access_key_id = %s
aws_secret_access_key = %s
""" % (tributary_aws.ACCESS_KEY, tributary_aws.SECRET_KEY)


def error_code(error):
    return error.response["Error"]["Code"]


class KinesisAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.credentials_dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.credentials_file = os.path.join(cls.credentials_dir, "credentials")
        with open(cls.credentials_file, "w") as f:
            f.write(CREDENTIALS)
        cls.server = tributary_aws.Tributary(
            extra_flags=["--aws_credentials_file=" + cls.credentials_file])
        tributary_aws.isolate_botocore(cls.server.work)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def client(self, key, secret, region=tributary_aws.REGION):
        session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                        region_name=region)
        return session.client("kinesis", endpoint_url=self.server.endpoint,
                              config=botocore.config.Config(
                                  retries={"total_max_attempts": 1},
                                  connect_timeout=30, read_timeout=60))

    def producer(self):
        return self.client("AKIAORDERSPRODUCER", "orders/secret+KEY")

    def assert_refused(self, call, code):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            call()
        self.assertEqual(error_code(caught.exception), code, caught.exception.response)
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return caught.exception

    def test_a_known_key_with_its_secret_is_served(self):
        kinesis = self.producer()
        kinesis.create_stream(StreamName="signed", ShardCount=1)
        put = kinesis.put_record(StreamName="signed", PartitionKey="k", Data=b"\x00payload")
        self.assertEqual(put["ShardId"], "shardId-000000000000")
        auditor = self.client("AKIAAUDITOR", "auditor-secret")
        self.assertIn("signed", auditor.list_streams()["StreamNames"])

    def test_a_wrong_secret_is_an_invalid_signature_and_changes_nothing(self):
        intruder = self.client("AKIAORDERSPRODUCER", "guessed")
        error = self.assert_refused(
            lambda: intruder.create_stream(StreamName="forged", ShardCount=1),
            "InvalidSignatureException")
        self.assertIn("does not match", error.response["Error"]["Message"])
        self.assertNotIn("forged", self.producer().list_streams()["StreamNames"])

    def test_an_unknown_key_is_an_unrecognized_client(self):
        stranger = self.client("AKIANOBODY", "whatever")
        error = self.assert_refused(stranger.list_streams, "UnrecognizedClientException")
        self.assertEqual(error.response["Error"]["Message"],
                         "The security token included in the request is invalid.")

    def test_a_session_token_is_refused(self):
        session = boto3.session.Session(aws_access_key_id="AKIAORDERSPRODUCER",
                                        aws_secret_access_key="orders/secret+KEY",
                                        aws_session_token="FQoGZXIvYXdzEXAMPLE",
                                        region_name=tributary_aws.REGION)
        kinesis = session.client("kinesis", endpoint_url=self.server.endpoint,
                                 config=botocore.config.Config(retries={"total_max_attempts": 1}))
        self.assert_refused(kinesis.list_streams, "UnrecognizedClientException")

    def test_a_signature_for_another_region_is_refused(self):
        elsewhere = self.client("AKIAORDERSPRODUCER", "orders/secret+KEY", region="eu-west-1")
        error = self.assert_refused(elsewhere.list_streams, "InvalidSignatureException")
        self.assertIn("eu-west-1", error.response["Error"]["Message"])

    def test_a_replayed_request_older_than_fifteen_minutes_is_expired(self):
        signed_at = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)

        class Then(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return signed_at

            @classmethod
            def now(cls, tz=None):
                return signed_at.replace(tzinfo=tz)

        # botocore's own SigV4 signer (tributary_aws.signed_request uses it directly; a client
        # with awscrt installed signs with the CRT instead) reads the time through its module's
        # `datetime`: only the signer is moved back.
        stub = types.SimpleNamespace(datetime=Then, timezone=datetime.timezone,
                                     timedelta=datetime.timedelta)
        with mock.patch.object(botocore.auth, "datetime", stub):
            status, _, body = tributary_aws.signed_request(
                self.server.endpoint, "Kinesis_20131202.ListStreams", b"{}")
        self.assertEqual(status, 400, body)
        code, message = tributary_aws.json_error(body)
        self.assertEqual(code, "InvalidSignatureException")
        self.assertIn("Signature expired: " + signed_at.strftime("%Y%m%dT%H%M%SZ"), message)
        # The same request signed now is served.
        status, _, body = tributary_aws.signed_request(
            self.server.endpoint, "Kinesis_20131202.ListStreams", b"{}")
        self.assertEqual(status, 200, body)

    def test_the_cli_signs_from_the_same_credentials_file(self):
        env = tributary_aws.client_environment(self.server.work)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            del env[key]
        env["AWS_SHARED_CREDENTIALS_FILE"] = self.credentials_file

        def aws(profile, *args):
            return subprocess.run(
                [AWS, "kinesis", *args, "--profile", profile,
                 "--endpoint-url", self.server.endpoint, "--output", "json",
                 "--cli-read-timeout", "60", "--cli-connect-timeout", "30"],
                env=env, capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)

        created = aws("orders-producer", "create-stream", "--stream-name", "cli-signed",
                      "--shard-count", "1")
        self.assertEqual(created.returncode, 0, created.stderr)
        listed = aws("auditor", "list-streams")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("cli-signed", json.loads(listed.stdout)["StreamNames"])

        with open(os.path.join(self.credentials_dir, "wrong"), "w") as f:
            f.write("[orders-producer]\naws_access_key_id = AKIAORDERSPRODUCER\n"
                    "aws_secret_access_key = stale-secret\n")
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(self.credentials_dir, "wrong")
        refused = aws("orders-producer", "list-streams")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("InvalidSignatureException", refused.stderr)


class CredentialsFlagTest(unittest.TestCase):
    def test_an_unreadable_or_malformed_file_stops_the_server_naming_the_flag(self):
        work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        malformed = os.path.join(work, "credentials")
        with open(malformed, "w") as f:
            f.write("[incomplete]\naws_access_key_id = AKIAONLYKEY\n")
        for path, says in ((malformed, "needs both aws_access_key_id and aws_secret_access_key"),
                           (os.path.join(work, "absent"), "cannot be read")):
            result = subprocess.run(
                [os.path.join(os.getcwd(), tributary_aws.TRIBUTARY[0]), "serve",
                 "--data_dir=" + os.path.join(work, "data"), "--listen=127.0.0.1:0",
                 "--aws_listen=127.0.0.1:0", "--aws_credentials_file=" + path],
                capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("--aws_credentials_file", result.stderr)
            self.assertIn(says, result.stderr)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_auth_test", KinesisAuthTest, CredentialsFlagTest))
