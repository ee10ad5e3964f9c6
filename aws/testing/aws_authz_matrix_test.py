"""The AWS front door's locks (issue 21) as a matrix: a representative call of each API behind
it (Kinesis PutRecord, DynamoDB PutItem, DynamoDB Streams DescribeStream, Lambda
ListEventSourceMappings) made by each kind of caller — none (unsigned), an unknown key, a wrong
secret, an expired signature, a principal the policy does not allow, one it allows, one allowed
by a wildcard resource on two streams — against the real `tributary serve` with
--aws_credentials_file, --policy_file and --audit_log, through boto3 (signing with botocore's
own SigV4). Also: GetRecords is authorized on the stream its iterator reads, a forged iterator
is refused as such, denials name the action and resource but never the policy, and the audit
log has a line per denial and per control-plane change.

Run by //aws/testing:aws_authz_matrix_test from the runfiles root.
"""

import datetime
import hashlib
import json
import os
import sys
import tempfile
import types
import subprocess
import unittest
import urllib.error
import urllib.request
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402

ACCOUNT = tributary_aws.ACCOUNT
CREDENTIALS = """\
[admin]
aws_access_key_id = AKIAADMIN
aws_secret_access_key = admin-secret-7d1
[writer]
aws_access_key_id = AKIAWRITER
aws_secret_access_key = writer-secret-3c9
[reader]
aws_access_key_id = AKIAREADER
aws_secret_access_key = reader-secret-55e
[wildcard]
aws_access_key_id = AKIAWILDCARD
aws_secret_access_key = wildcard-secret-0ab
"""
SECRETS = {"admin": ("AKIAADMIN", "admin-secret-7d1"),
           "writer": ("AKIAWRITER", "writer-secret-3c9"),
           "reader": ("AKIAREADER", "reader-secret-55e"),
           "wildcard": ("AKIAWILDCARD", "wildcard-secret-0ab")}
SERVE_TOKEN = "serve-itself-token-41"  # `tributary serve`'s own clients (gRPC)
TRIBCTL = os.path.join(os.getcwd(), "tools/tribctl/tribctl")

POLICY = {"Statement": [
    {"Effect": "Allow", "Principal": ["tributary", "admin"], "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "Principal": "writer",
     "Action": ["kinesis:PutRecord", "dynamodb:PutItem", "dynamodb:DescribeStream"],
     "Resource": ["arn:aws:kinesis:*:*:stream/orders", "arn:aws:dynamodb:*:*:table/users",
                  "arn:aws:dynamodb:*:*:table/users/stream/*"]},
    {"Effect": "Allow", "Principal": "writer",
     "Action": ["lambda:ListEventSourceMappings", "lambda:ListFunctions"], "Resource": "*"},
    {"Effect": "Allow", "Principal": "writer",
     "Action": ["kinesis:DescribeStreamSummary", "dynamodb:DescribeTable"],
     "Resource": ["arn:aws:kinesis:*:*:stream/orders", "arn:aws:dynamodb:*:*:table/users"]},
    {"Effect": "Allow", "Principal": "wildcard", "Action": "kinesis:DescribeStreamSummary",
     "Resource": "arn:aws:kinesis:*:*:stream/*"},
    {"Effect": "Allow", "Principal": "wildcard", "Action": ["kinesis:PutRecord", "dynamodb:PutItem"],
     "Resource": ["arn:aws:kinesis:*:*:stream/*", "arn:aws:dynamodb:*:*:table/*"]},
    {"Effect": "Allow", "Principal": "reader", "Action": "kinesis:GetShardIterator",
     "Resource": "arn:aws:kinesis:*:*:stream/*"},
    {"Effect": "Allow", "Principal": "reader", "Action": "kinesis:GetRecords",
     "Resource": "arn:aws:kinesis:*:*:stream/orders"},
]}

# The gRPC front door with the same policy: tribctl (its own gRPC client) with bearer tokens.
GRPC_TOKENS = {"writer": "grpc-writer-token-1a", "reader": "grpc-reader-token-2b",
               "wildcard": "grpc-wildcard-token-3c"}
GRPC_CALLS = {  # service → (tribctl arguments, the action and resource a denial names)
    "Streams": (["streams", "describe", "--stream=orders"],
                "kinesis:DescribeStreamSummary on arn:aws:kinesis:us-east-1:%s:stream/orders"
                % ACCOUNT),
    "Tables": (["tables", "describe", "--table-name=users"],
               "dynamodb:DescribeTable on arn:aws:dynamodb:us-east-1:%s:table/users" % ACCOUNT),
    "EventSourceMappings": (["mappings", "list"], "lambda:ListEventSourceMappings on *"),
    "Functions": (["functions", "list"], "lambda:ListFunctions on *"),
}

SERVICES = ("kinesis", "dynamodb", "dynamodbstreams", "lambda")


def error_of(call):
    """(code, HTTP status, message) of a refused call; None when it succeeded."""
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Message", ""))
    return None


class AwsAuthzMatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        paths = {name: os.path.join(cls.dir, name)
                 for name in ("credentials", "tokens", "own_token", "policy.json", "audit.log")}
        with open(paths["credentials"], "w") as f:
            f.write(CREDENTIALS)
        with open(paths["tokens"], "w") as f:
            f.write("%s tributary\n" % hashlib.sha256(SERVE_TOKEN.encode()).hexdigest())
            for who, token in GRPC_TOKENS.items():
                f.write("%s %s\n" % (hashlib.sha256(token.encode()).hexdigest(), who))
        with open(paths["own_token"], "w") as f:
            f.write(SERVE_TOKEN + "\n")
        with open(paths["policy.json"], "w") as f:
            json.dump(POLICY, f)
        cls.audit_path = paths["audit.log"]
        cls.server = tributary_aws.Tributary(extra_flags=[
            "--aws_credentials_file=" + paths["credentials"],
            "--auth_tokens_file=" + paths["tokens"],
            "--auth_token_file=" + paths["own_token"],
            "--policy_file=" + paths["policy.json"],
            "--audit_log=" + cls.audit_path])
        tributary_aws.isolate_botocore(cls.server.work)
        admin = cls.client("admin", "kinesis")
        for stream in ("orders", "audit"):
            admin.create_stream(StreamName=stream, ShardCount=1)
        dynamodb = cls.client("admin", "dynamodb")
        for table in ("users", "secrets"):
            dynamodb.create_table(
                TableName=table, AttributeDefinitions=[{"AttributeName": "id",
                                                        "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        cls.users_stream = dynamodb.describe_table(TableName="users")["Table"]["LatestStreamArn"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    @classmethod
    def client(cls, who, service, key=None, secret=None, unsigned=False):
        if who is not None:
            key, secret = SECRETS[who]
        session = boto3.session.Session(aws_access_key_id=key or "AKIAX",
                                        aws_secret_access_key=secret or "x",
                                        region_name=tributary_aws.REGION)
        config = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=30,
                                        read_timeout=60)
        if unsigned:
            config = config.merge(botocore.config.Config(signature_version=botocore.UNSIGNED))
        return session.client(service, endpoint_url=cls.server.endpoint, config=config)

    def call(self, service, client, stream="orders", table="users"):
        """The representative call of `service` with `client`."""
        if service == "kinesis":
            return lambda: client.put_record(StreamName=stream, PartitionKey="k", Data=b"x")
        if service == "dynamodb":
            return lambda: client.put_item(TableName=table, Item={"id": {"S": "1"}})
        if service == "dynamodbstreams":
            return lambda: client.describe_stream(StreamArn=self.users_stream)
        return lambda: client.list_event_source_mappings()

    @staticmethod
    def refused_status(service):
        return 403 if service == "lambda" else 400  # Lambda's REST errors; the RPC APIs' 400

    def test_no_credentials_is_missing_authentication_token(self):
        for service in SERVICES:
            with self.subTest(service=service):
                code, status, _ = error_of(
                    self.call(service, self.client(None, service, unsigned=True)))
                self.assertEqual(code, "MissingAuthenticationTokenException")
                self.assertEqual(status, self.refused_status(service))

    def test_an_unknown_key_is_an_unrecognized_client(self):
        for service in SERVICES:
            with self.subTest(service=service):
                code, _, _ = error_of(self.call(service, self.client(
                    None, service, key="AKIANOBODY", secret="whatever")))
                self.assertEqual(code, "UnrecognizedClientException")

    def test_a_wrong_secret_is_an_invalid_signature(self):
        for service in SERVICES:
            with self.subTest(service=service):
                code, _, _ = error_of(self.call(service, self.client(
                    None, service, key="AKIAWRITER", secret="guessed")))
                self.assertEqual(code, "InvalidSignatureException")

    def raw_call(self, service, key, secret):
        """The representative call of `service` signed by botocore's own SigV4 signer (a boto3
        client with awscrt installed signs with the CRT, which the clock patch cannot move):
        (HTTP status, error code, message)."""
        if service == "lambda":
            method, path, target, body = "GET", "/2015-03-31/event-source-mappings/", None, None
        else:
            method, path = "POST", "/"
            target, body = {
                "kinesis": ("Kinesis_20131202.PutRecord",
                            {"StreamName": "orders", "PartitionKey": "k", "Data": "eA=="}),
                "dynamodb": ("DynamoDB_20120810.PutItem",
                             {"TableName": "users", "Item": {"id": {"S": "1"}}}),
                "dynamodbstreams": ("DynamoDBStreams_20120810.DescribeStream",
                                    {"StreamArn": self.users_stream}),
            }[service]
            body = json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"} if target else {}
        if target:
            headers["X-Amz-Target"] = target
        request = botocore.awsrequest.AWSRequest(method=method, url=self.server.endpoint + path,
                                                 data=body, headers=headers)
        signing_name = {"dynamodbstreams": "dynamodb"}.get(service, service)
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), signing_name,
                                tributary_aws.REGION).add_auth(request)
        prepared = request.prepare()
        http_request = urllib.request.Request(prepared.url, data=prepared.body,
                                              headers=dict(prepared.headers.items()),
                                              method=method)
        try:
            with urllib.request.urlopen(http_request, timeout=60) as response:
                return response.status, None, ""
        except urllib.error.HTTPError as error:
            text = error.read()
            parsed = json.loads(text) if text else {}
            code = error.headers.get("x-amzn-ErrorType", parsed.get("__type", ""))
            return error.code, code.split(":")[0], parsed.get("message", parsed.get("Message", ""))

    def test_an_expired_signature_is_an_invalid_signature(self):
        signed_at = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)

        class Then(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return signed_at

            @classmethod
            def now(cls, tz=None):
                return signed_at.replace(tzinfo=tz)

        stub = types.SimpleNamespace(datetime=Then, timezone=datetime.timezone,
                                     timedelta=datetime.timedelta)
        for service in SERVICES:
            with self.subTest(service=service):
                with mock.patch.object(botocore.auth, "datetime", stub):
                    status, code, message = self.raw_call(service, *SECRETS["writer"])
                self.assertEqual(code, "InvalidSignatureException")
                self.assertEqual(status, self.refused_status(service))
                self.assertIn("Signature expired", message)
                # The same request signed now is served.
                status, code, message = self.raw_call(service, *SECRETS["writer"])
                self.assertLess(status, 300, (code, message))

    def test_a_principal_without_permission_is_access_denied_naming_action_and_resource(self):
        expected = {
            "kinesis": "kinesis:PutRecord on resource: arn:aws:kinesis:us-east-1:%s:stream/orders"
                       % ACCOUNT,
            "dynamodb": "dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:%s:table/users"
                        % ACCOUNT,
            "dynamodbstreams": "dynamodb:DescribeStream on resource: " + self.users_stream,
            "lambda": "lambda:ListEventSourceMappings on resource: *",
        }
        for service in SERVICES:
            with self.subTest(service=service):
                code, status, message = error_of(self.call(service, self.client("reader", service)))
                self.assertEqual(code, "AccessDeniedException")
                self.assertEqual(status, self.refused_status(service))
                self.assertEqual(message, "User: reader is not authorized to perform: "
                                 + expected[service])
                self.assertNotIn("Statement", message)
                self.assertNotIn("writer", message)

    def test_a_principal_with_permission_is_served(self):
        for service in SERVICES:
            with self.subTest(service=service):
                self.assertIsNone(error_of(self.call(service, self.client("writer", service))))

    def test_a_scoped_principal_is_denied_other_streams_and_tables(self):
        writer = self.client("writer", "kinesis")
        code, _, _ = error_of(self.call("kinesis", writer, stream="audit"))
        self.assertEqual(code, "AccessDeniedException")
        code, _, _ = error_of(self.call("dynamodb", self.client("writer", "dynamodb"),
                                        table="secrets"))
        self.assertEqual(code, "AccessDeniedException")

    def test_a_wildcard_resource_allows_every_stream_and_table(self):
        for stream in ("orders", "audit"):
            self.assertIsNone(error_of(self.call("kinesis", self.client("wildcard", "kinesis"),
                                                 stream=stream)), stream)
        for table in ("users", "secrets"):
            self.assertIsNone(error_of(self.call("dynamodb", self.client("wildcard", "dynamodb"),
                                                 table=table)), table)
        # ... and nothing its actions do not name.
        code, _, _ = error_of(lambda: self.client("wildcard", "kinesis").delete_stream(
            StreamName="audit"))
        self.assertEqual(code, "AccessDeniedException")

    def test_get_records_is_authorized_on_the_stream_its_iterator_reads(self):
        reader = self.client("reader", "kinesis")

        def iterator(stream):
            return reader.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

        self.assertIsNone(error_of(lambda: reader.get_records(ShardIterator=iterator("orders"))))
        code, _, message = error_of(lambda: reader.get_records(ShardIterator=iterator("audit")))
        self.assertEqual(code, "AccessDeniedException")
        self.assertIn("kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:%s:stream/audit"
                      % ACCOUNT, message)
        # A forged iterator names no stream: refused as forged, not as a stream it claims.
        forged = iterator("audit")
        forged = forged[:-4] + ("AAAA" if forged[-4:] != "AAAA" else "BBBB")
        code, _, _ = error_of(lambda: reader.get_records(ShardIterator=forged))
        self.assertEqual(code, "InvalidArgumentException")

    def test_denials_and_control_plane_changes_are_audited(self):
        error_of(self.call("kinesis", self.client("reader", "kinesis")))
        with open(self.audit_path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        self.assertIn({"principal": "admin", "action": "kinesis:CreateStream",
                       "resource": "arn:aws:kinesis:us-east-1:%s:stream/orders" % ACCOUNT,
                       "outcome": "OK"},
                      [{k: v for k, v in line.items() if k != "time"} for line in lines])
        self.assertIn({"principal": "reader", "action": "kinesis:PutRecord",
                       "resource": "arn:aws:kinesis:us-east-1:%s:stream/orders" % ACCOUNT,
                       "outcome": "PERMISSION_DENIED"},
                      [{k: v for k, v in line.items() if k != "time"} for line in lines])
        for line in lines:
            for who, (_, secret) in SECRETS.items():
                self.assertNotIn(secret, json.dumps(line))


    # The gRPC front door of the same server and policy: a representative call of each
    # tributary.v1 service tributary serve hosts, through tribctl with bearer tokens.
    def tribctl(self, token, args):
        flags = ["--endpoint=" + self.server.grpc_address()]
        if token is not None:
            flags.append("--token=" + token)
        return subprocess.run([TRIBCTL] + flags + args, capture_output=True, text=True,
                              timeout=120)

    def test_grpc_each_caller_gets_the_documented_answer(self):
        for service, (args, denial) in GRPC_CALLS.items():
            with self.subTest(service=service, caller="none"):
                run = self.tribctl(None, args)
                self.assertNotEqual(run.returncode, 0)
                self.assertIn("UNAUTHENTICATED", run.stderr)
            with self.subTest(service=service, caller="wrong token"):
                run = self.tribctl("not-a-token", args)
                self.assertNotEqual(run.returncode, 0)
                self.assertIn("unknown bearer token", run.stderr)
                self.assertNotIn("not-a-token", run.stderr)
            with self.subTest(service=service, caller="without permission"):
                run = self.tribctl(GRPC_TOKENS["reader"], args)
                self.assertNotEqual(run.returncode, 0)
                self.assertIn("PERMISSION_DENIED", run.stderr)
                self.assertIn("reader is not allowed " + denial, run.stderr)
            with self.subTest(service=service, caller="with permission"):
                run = self.tribctl(GRPC_TOKENS["writer"], args)
                self.assertEqual(run.returncode, 0, run.stderr)

    def test_grpc_a_wildcard_resource_reaches_every_stream_and_a_scoped_one_only_its_own(self):
        for stream in ("orders", "audit"):
            run = self.tribctl(GRPC_TOKENS["wildcard"], ["streams", "describe",
                                                         "--stream=" + stream])
            self.assertEqual(run.returncode, 0, run.stderr)
        run = self.tribctl(GRPC_TOKENS["writer"], ["streams", "describe", "--stream=audit"])
        self.assertIn("PERMISSION_DENIED", run.stderr)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("aws_authz_matrix_test", AwsAuthzMatrixTest))
