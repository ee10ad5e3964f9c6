"""HTTP/2 (h2c) on the AWS front door, driven by clients nobody here wrote: python3-h2 (hyper-h2)
with prior knowledge, and curl (--http2-prior-knowledge, and --http2, which upgrades from
HTTP/1.1). Requests are signed by botocore's SigV4 signer and verified by the server
(--aws_credentials_file), so the HTTP/2 path goes through the same router as HTTP/1.1 (boto3
sets up the streams over HTTP/1.1 on the same port). SubscribeToShard's event stream is decoded
by botocore's own parser (botocore.eventstream, which checks every CRC), under HTTP/2 flow
control with a tiny window (hyper-h2 fails the connection if a server overruns a window).

Run by //aws/testing:kinesis_http2_test from the runfiles root.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.credentials  # noqa: E402
import botocore.eventstream  # noqa: E402
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402
import h2.settings  # noqa: E402

import tributary_aws  # noqa: E402

GUARD_SECONDS = 60  # a failure guard only
JSON = "application/x-amz-json-1.1"
CREDENTIALS = "[h2-tester]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (
    tributary_aws.ACCESS_KEY, tributary_aws.SECRET_KEY)


def signed_headers(port, target, body, secret=tributary_aws.SECRET_KEY):
    """The headers botocore's SigV4 signer gives a Kinesis call, as HTTP/2 header fields (lower
    case, no Host: the server takes :authority as the host it was signed for)."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url="http://127.0.0.1:%d/" % port, data=body,
        headers={"Content-Type": JSON, "X-Amz-Target": "Kinesis_20131202." + target})
    credentials = botocore.credentials.Credentials(tributary_aws.ACCESS_KEY, secret)
    botocore.auth.SigV4Auth(credentials, "kinesis", tributary_aws.REGION).add_auth(request)
    headers = [(k.lower(), v) for k, v in request.prepare().headers.items()]
    if not any(k == "content-length" for k, _ in headers):
        headers.append(("content-length", str(len(body))))
    return [(k, v) for k, v in headers if k != "host"]


class H2Client:
    """One h2c connection with prior knowledge (hyper-h2 over a blocking socket)."""

    def __init__(self, port, window=None):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD_SECONDS)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.responses = {}
        self.terminated = None
        self.auto_ack = True

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, target, payload, secret=tributary_aws.SECRET_KEY):
        """Sends a signed call; returns its stream id."""
        body = json.dumps(payload).encode()
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "http"), (":path", "/"),
            (":authority", "127.0.0.1:%d" % self.port)] + signed_headers(
                self.port, target, body, secret))
        self.conn.send_data(stream_id, body, end_stream=True)
        self.responses[stream_id] = {"status": None, "headers": {}, "body": bytearray(),
                                     "ended": False, "reset": None}
        self.flush()
        return stream_id

    def reset(self, stream_id):
        self.conn.reset_stream(stream_id)
        self.flush()

    def read_once(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        for event in self.conn.receive_data(data):
            r = self.responses.get(getattr(event, "stream_id", None))
            if isinstance(event, h2.events.ResponseReceived):
                r["headers"] = dict(event.headers)
                r["status"] = int(r["headers"][":status"])
            elif isinstance(event, h2.events.DataReceived):
                r["body"] += event.data
                if self.auto_ack:
                    self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                        event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                r["ended"] = True
            elif isinstance(event, h2.events.StreamReset):
                r["reset"] = event.error_code
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.terminated = event
        self.flush()

    def until(self, predicate):
        deadline = time.monotonic() + GUARD_SECONDS
        while not predicate():
            self.assert_before(deadline)
            self.read_once()

    @staticmethod
    def assert_before(deadline):
        if time.monotonic() > deadline:
            raise AssertionError("the server did not answer within the guard")

    def call(self, target, payload, secret=tributary_aws.SECRET_KEY):
        """A whole call: returns (status, parsed JSON body)."""
        stream_id = self.request(target, payload, secret)
        self.until(lambda: self.responses[stream_id]["ended"])
        r = self.responses[stream_id]
        return r["status"], json.loads(bytes(r["body"]) or b"{}")

    def close(self):
        self.sock.close()


def events_of(body):
    """The messages of an AWS event stream, by botocore's parser: [(headers, payload dict)]."""
    parser = botocore.eventstream.EventStreamBuffer()
    parser.add_data(bytes(body))
    return [(m.headers, json.loads(m.payload or b"{}")) for m in parser]


def records_of(messages):
    return [base64.b64decode(r["Data"]) for headers, payload in messages
            if headers.get(":event-type") == "SubscribeToShardEvent"
            for r in payload["Records"]]


class KinesisHttp2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        credentials = os.path.join(directory, "credentials")
        with open(credentials, "w") as f:
            f.write(CREDENTIALS)
        cls.server = tributary_aws.Tributary(
            extra_flags=["--aws_credentials_file=" + credentials])
        tributary_aws.isolate_botocore(cls.server.work)
        cls.kinesis = boto3.session.Session(
            aws_access_key_id=tributary_aws.ACCESS_KEY,
            aws_secret_access_key=tributary_aws.SECRET_KEY,
            region_name=tributary_aws.REGION).client(
                "kinesis", endpoint_url=cls.server.endpoint,
                config=botocore.config.Config(retries={"total_max_attempts": 1}))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def setUp(self):
        self.client = H2Client(self.server.port)

    def tearDown(self):
        self.client.close()

    def create(self, name, shards=1):
        """Creates a stream over HTTP/1.1 (boto3) and returns a registered consumer's ARN."""
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        arn = self.kinesis.describe_stream_summary(
            StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        return self.kinesis.register_stream_consumer(
            StreamARN=arn, ConsumerName=name + "-reader")["Consumer"]["ConsumerARN"]

    def test_put_records_and_list_shards_with_verified_signatures(self):
        self.create("h2-puts", shards=2)
        status, out = self.client.call("PutRecords", {"StreamName": "h2-puts", "Records": [
            {"Data": base64.b64encode(b"r%d" % i).decode(), "PartitionKey": "k%d" % i}
            for i in range(10)]})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["FailedRecordCount"], 0)
        self.assertEqual(len(out["Records"]), 10)
        status, out = self.client.call("ListShards", {"StreamName": "h2-puts"})
        self.assertEqual(status, 200, out)
        self.assertEqual([s["ShardId"] for s in out["Shards"]],
                         ["shardId-000000000000", "shardId-000000000001"])
        # A wrong signature is refused by the same verifier as over HTTP/1.1.
        status, out = self.client.call("ListShards", {"StreamName": "h2-puts"}, secret="wrong")
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "InvalidSignatureException")

    def test_many_concurrent_streams_on_one_connection(self):
        self.create("h2-many")
        ids = [self.client.request("PutRecord", {"StreamName": "h2-many", "PartitionKey": "k",
                                                 "Data": base64.b64encode(b"%d" % i).decode()})
               for i in range(40)]  # all sent before any answer is read
        self.client.until(lambda: all(self.client.responses[i]["ended"] for i in ids))
        sequence_numbers = set()
        for i in ids:
            r = self.client.responses[i]
            self.assertEqual(r["status"], 200, bytes(r["body"]))
            sequence_numbers.add(json.loads(bytes(r["body"]))["SequenceNumber"])
        self.assertEqual(len(sequence_numbers), 40)

    def subscribe(self, consumer, position=None):
        return self.client.request("SubscribeToShard", {
            "ConsumerARN": consumer, "ShardId": "shardId-000000000000",
            "StartingPosition": position or {"Type": "TRIM_HORIZON"}})

    def test_subscribe_to_shard_streams_events_and_a_reset_cancels_it(self):
        consumer = self.create("h2-sub")
        for i in range(3):
            self.kinesis.put_record(StreamName="h2-sub", PartitionKey="k", Data=b"r%d" % i)
        sub = self.subscribe(consumer)
        body = lambda: self.client.responses[sub]["body"]  # noqa: E731
        self.client.until(lambda: len(records_of(events_of(body()))) >= 3)
        self.assertEqual(self.client.responses[sub]["status"], 200)
        self.assertEqual(self.client.responses[sub]["headers"]["content-type"],
                         "application/vnd.amazon.eventstream")
        # Records put while subscribed are pushed on the same HTTP/2 stream.
        self.kinesis.put_record(StreamName="h2-sub", PartitionKey="k", Data=b"\x00\xffpushed")
        self.client.until(lambda: len(records_of(events_of(body()))) >= 4)
        messages = events_of(body())
        self.assertEqual(messages[0][0][":event-type"], "initial-response")
        self.assertEqual(records_of(messages), [b"r0", b"r1", b"r2", b"\x00\xffpushed"])
        last = [p for h, p in messages if h[":event-type"] == "SubscribeToShardEvent"][-1]
        self.assertEqual(last["ContinuationSequenceNumber"], "4")
        # RST_STREAM ends the subscription; the connection serves on (a call, a new subscription).
        self.client.reset(sub)
        status, out = self.client.call("ListStreams", {})
        self.assertEqual(status, 200, out)
        again = self.subscribe(consumer, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "3"})
        self.client.until(
            lambda: records_of(events_of(self.client.responses[again]["body"])) != [])
        self.assertEqual(records_of(events_of(self.client.responses[again]["body"])),
                         [b"\x00\xffpushed"])

    def test_a_tiny_window_paces_the_subscription_and_loses_nothing(self):
        consumer = self.create("h2-slow")
        expected = [b"%04d" % i + b"x" * 1000 for i in range(200)]
        for start in range(0, 200, 100):
            self.kinesis.put_records(StreamName="h2-slow", Records=[
                {"Data": d, "PartitionKey": "k"} for d in expected[start:start + 100]])
        # A 1 KiB window: the ~200 KiB of events must come a window at a time (hyper-h2 fails
        # the connection if the server sends past it).
        self.client.close()
        self.client = H2Client(self.server.port, window=1024)
        sub = self.subscribe(consumer)
        self.client.until(
            lambda: len(records_of(events_of(self.client.responses[sub]["body"]))) >= 200)
        self.assertEqual(records_of(events_of(self.client.responses[sub]["body"])), expected)
        self.assertIsNone(self.client.terminated)
        self.client.reset(sub)

    def test_a_malformed_frame_ends_its_connection_with_goaway_and_the_server_serves_on(self):
        with socket.create_connection(("127.0.0.1", self.server.port),
                                      timeout=GUARD_SECONDS) as raw:
            # The preface, then a DATA frame on stream 0 (a connection error).
            raw.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x01\x00\x00\x00\x00"
                        b"\x00\x00x")
            received = b""
            while True:
                chunk = raw.recv(65536)
                if not chunk:
                    break
                received += chunk
        types = []
        while len(received) >= 9:
            length = int.from_bytes(received[:3], "big")
            types.append(received[3])
            received = received[9 + length:]
        self.assertIn(7, types, "a GOAWAY frame")
        status, _ = self.client.call("ListStreams", {})
        self.assertEqual(status, 200)

    def curl(self, flag, target, payload):
        """curl with `flag` (--http2-prior-knowledge or --http2): returns (HTTP version, status,
        JSON body)."""
        body = json.dumps(payload).encode()
        command = ["curl", "-sS", flag, "-X", "POST", "--data-binary", "@-",
                   "-w", "\n%{http_version} %{http_code}", "http://127.0.0.1:%d/" % self.server.port]
        for name, value in signed_headers(self.server.port, target, body):
            command += ["-H", "%s: %s" % (name, value)]
        out = subprocess.run(command, input=body, capture_output=True, check=True,
                             timeout=GUARD_SECONDS).stdout.decode()
        text, _, trailer = out.rpartition("\n")
        version, status = trailer.split()
        return version, int(status), json.loads(text)

    def test_curl_with_prior_knowledge_and_with_an_upgrade(self):
        self.create("h2-curl")
        version, status, out = self.curl("--http2-prior-knowledge", "PutRecord", {
            "StreamName": "h2-curl", "PartitionKey": "k", "Data": "aGk="})
        self.assertEqual((version, status), ("2", 200), out)
        self.assertEqual(out["SequenceNumber"], "1")
        version, status, out = self.curl("--http2", "ListShards", {"StreamName": "h2-curl"})
        self.assertEqual((version, status), ("2", 200), out)
        self.assertEqual(len(out["Shards"]), 1)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_http2_test", KinesisHttp2Test))
