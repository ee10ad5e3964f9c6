"""Lambda handlers, unchanged, behind Tributary: the real all-in-one binary (tributary serve) on a
free port, the example runtime (python3 -m lambda_runtime) serving handlers of
testdata/recording_handler.py, and mappings whose function endpoint is the runtime's URL.

Checked: every record reaches the handler with each field of Lambda's Kinesis event exactly as
the Lambda Developer Guide documents it (names, types, values) and the context object's fields;
partial batch responses move on past the records before the reported one and retry from it;
function errors (an exception in the handler, a non-2xx status, a timeout, a refused connection)
are retried, bisected and reported to the on-failure destination as for a gRPC function, in
the record Lambda writes for a Kinesis on-failure destination (a non-2xx status as its
statusCode);
tumbling windows carry the state from one invocation to the next with its JSON types, and each
window's final invocation comes before the next window's first.

Every wait is a failure guard (real time, bounded): nothing is asserted about durations.
Run by //examples/lambda_python:lambda_e2e_test from the runfiles root; writes JUnit XML to
$XML_OUTPUT_FILE so that tools/test.sh counts each case.
"""

import base64
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the generated proto/ stubs and lambda_runtime sit next to this file

import grpc  # noqa: E402
from proto import event_source_mappings_pb2 as esm  # noqa: E402
from proto import event_source_mappings_pb2_grpc as esm_grpc  # noqa: E402
from proto import functions_pb2  # noqa: E402
from proto import functions_pb2_grpc  # noqa: E402
from proto import streams_pb2  # noqa: E402
from proto import streams_pb2_grpc  # noqa: E402

from lambda_runtime_test import run, write_junit  # noqa: E402

GUARD_SECONDS = 60  # a failure guard only
REGION = "eu-west-1"
ACCOUNT = "123456789012"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
RECORD_KEYS = {"kinesis", "eventSource", "eventVersion", "eventID", "eventName",
               "invokeIdentityArn", "awsRegion", "eventSourceARN"}
KINESIS_KEYS = {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                "approximateArrivalTimestamp"}
WINDOW_EVENT_KEYS = {"Records", "window", "state", "shardId", "eventSourceARN",
                     "isFinalInvokeForWindow", "isWindowTerminatedEarly"}


def wait_until(predicate, what, guard=GUARD_SECONDS):
    deadline = time.monotonic() + guard
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("still waiting after %d s for %s" % (guard, what))


def wait_for_port_file(path, process):
    def ready():
        if process.poll() is not None:
            raise AssertionError("process exited with %s before writing %s" %
                                 (process.returncode, path))
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read().strip()
            return int(text) if text else None
        except FileNotFoundError:
            return None
    return wait_until(ready, path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LambdaEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        binary = os.path.join(os.getcwd(), "tools", "tributary", "tributary")
        port_file = os.path.join(cls.work, "port")
        cls.server = subprocess.Popen(
            [binary, "serve", "--data_dir=" + os.path.join(cls.work, "data"),
             "--listen=127.0.0.1:0", "--port_file=" + port_file, "--aws_region=" + REGION,
             "--aws_account_id=" + ACCOUNT, "--sync_interval_ms=200",
             "--window_close_grace_ms=300"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(cls.work, "serve.log"), "w"))
        port = wait_for_port_file(port_file, cls.server)
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        grpc.channel_ready_future(cls.channel).result(timeout=GUARD_SECONDS)
        cls.streams = streams_pb2_grpc.StreamsStub(cls.channel)
        cls.mappings = esm_grpc.EventSourceMappingsStub(cls.channel)
        cls.functions = functions_pb2_grpc.FunctionsStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.kill()
        cls.server.wait()

    # --- helpers ---------------------------------------------------------------------------

    def start_runtime(self, handler, port=0, timeout=None):
        """Serves recording_handler.<handler> with the example runtime; returns its URL."""
        recording = os.path.join(self.work, "%s-%s.jsonl" % (handler, uuid.uuid4().hex[:8]))
        port_file = recording + ".port"
        env = dict(os.environ, RECORDING_FILE=recording)
        command = [sys.executable, "-m", "lambda_runtime",
                   "--handler", "recording_handler." + handler,
                   "--code-dir", os.path.join(HERE, "testdata"),
                   "--listen", "127.0.0.1:%d" % port, "--port-file", port_file,
                   "--function-name", "orders-fn", "--region", REGION, "--account-id", ACCOUNT]
        if timeout is not None:
            command += ["--timeout", str(timeout)]
        process = subprocess.Popen(command, cwd=HERE, env=env, stdout=subprocess.DEVNULL,
                                   stderr=open(recording + ".log", "w"))
        self.addCleanup(lambda: (process.kill(), process.wait()))
        bound = wait_for_port_file(port_file, process)
        self.recording = recording
        return "http://127.0.0.1:%d%s" % (bound, INVOKE_PATH)

    def recorded(self):
        try:
            with open(self.recording, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def delivered(self):
        """(shard id, sequence number) of every record the handler received, in arrival order
        (sequence numbers are per shard)."""
        return [(r["eventID"].split(":")[0], r["kinesis"]["sequenceNumber"])
                for entry in self.recorded() for r in entry["event"]["Records"]]

    def create_stream(self, shards=1):
        name = "s-" + uuid.uuid4().hex[:10]
        self.streams.CreateStream(
            streams_pb2.CreateStreamRequest(stream_name=name, shard_count=shards), timeout=10)
        return name

    def put(self, stream, items):
        """Puts [(partition_key, data bytes)]; returns [(key, data, shard_id, seq, put_time)]."""
        request = streams_pb2.PutRecordsRequest(stream_name=stream)
        for key, data in items:
            request.records.add(partition_key=key, data=data)
        put_time = time.time()
        reply = self.streams.PutRecords(request, timeout=10)
        self.assertEqual(reply.failed_record_count, 0)
        return [(key, data, r.shard_id, r.sequence_number, put_time)
                for (key, data), r in zip(items, reply.records)]

    def create_mapping(self, stream, endpoint, **fields):
        request = esm.CreateEventSourceMappingRequest(
            stream_name=stream, function_endpoint=endpoint,
            starting_position=esm.TRIM_HORIZON_POSITION, **fields)
        return self.mappings.CreateEventSourceMapping(request, timeout=10).uuid

    def wait_for_all(self, acked):
        wanted = {(shard, seq) for _, _, shard, seq, _ in acked}
        wait_until(lambda: wanted <= set(self.delivered()),
                   "every record to reach the handler")

    def read_stream(self, stream):
        shards = self.streams.ListShards(
            streams_pb2.ListShardsRequest(stream_name=stream), timeout=10).shards
        out = []
        for shard in shards:
            iterator = self.streams.GetShardIterator(streams_pb2.GetShardIteratorRequest(
                stream_name=stream, shard_id=shard.shard_id,
                shard_iterator_type=streams_pb2.TRIM_HORIZON), timeout=10).shard_iterator
            out += [r.data for r in self.streams.GetRecords(
                streams_pb2.GetRecordsRequest(shard_iterator=iterator), timeout=10).records]
        return out

    # --- the event --------------------------------------------------------------------------

    def test_every_record_reaches_the_handler_with_lambdas_fields(self):
        endpoint = self.start_runtime("succeed")
        stream = self.create_stream(shards=2)
        acked = self.put(stream, [("key-%d" % (i % 5), ("record %d \u00e9" % i).encode("utf-8"))
                                  for i in range(60)])
        self.create_mapping(stream, endpoint, batch_size=7)
        self.wait_for_all(acked)

        by_id = {(shard, seq): (key, data, put_time) for key, data, shard, seq, put_time in acked}
        last_seq_by_shard = {}
        for entry in self.recorded():
            event = entry["event"]
            self.assertEqual(set(event), {"Records"}, "a plain event carries only Records")
            self.assertLessEqual(len(event["Records"]), 7)
            for r in event["Records"]:
                self.assertEqual(set(r), RECORD_KEYS)
                self.assertEqual(set(r["kinesis"]), KINESIS_KEYS)
                k = r["kinesis"]
                shard = r["eventID"].split(":")[0]
                key, data, put_time = by_id[(shard, k["sequenceNumber"])]
                self.assertEqual(k["kinesisSchemaVersion"], "1.0")
                self.assertIsInstance(k["partitionKey"], str)
                self.assertEqual(k["partitionKey"], key)
                self.assertIsInstance(k["sequenceNumber"], str)
                self.assertIsInstance(k["data"], str)
                self.assertEqual(base64.b64decode(k["data"], validate=True), data)
                self.assertIsInstance(k["approximateArrivalTimestamp"], float)
                self.assertLess(abs(k["approximateArrivalTimestamp"] - put_time), 30)
                self.assertEqual(r["eventSource"], "aws:kinesis")
                self.assertEqual(r["eventVersion"], "1.0")
                self.assertEqual(r["eventID"], "%s:%s" % (shard, k["sequenceNumber"]))
                self.assertRegex(r["eventID"], r"^shardId-\d{12}:\d+$")
                self.assertEqual(r["eventName"], "aws:kinesis:record")
                self.assertEqual(r["invokeIdentityArn"], "arn:aws:iam::%s:role/tributary" % ACCOUNT)
                self.assertEqual(r["awsRegion"], REGION)
                self.assertEqual(r["eventSourceARN"],
                                 "arn:aws:kinesis:%s:%s:stream/%s" % (REGION, ACCOUNT, stream))
                seq = int(k["sequenceNumber"])
                self.assertGreater(seq, last_seq_by_shard.get(shard, -1), "in order per shard")
                last_seq_by_shard[shard] = seq
            context = entry["context"]
            self.assertEqual(context["function_name"], "orders-fn")
            self.assertEqual(context["function_version"], "$LATEST")
            self.assertEqual(context["invoked_function_arn"],
                             "arn:aws:lambda:%s:%s:function:orders-fn" % (REGION, ACCOUNT))
            self.assertEqual(context["memory_limit_in_mb"], "128")
            self.assertEqual(context["log_group_name"], "/aws/lambda/orders-fn")
            self.assertRegex(context["log_stream_name"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
            uuid.UUID(context["aws_request_id"])
            # The mapping's function timeout (30 s by default) reaches the handler's context.
            self.assertTrue(0 < context["remaining_ms"] <= 30000, context)
        self.assertEqual(len(self.delivered()), 60, "each record once: nothing failed")

    # --- outcomes ---------------------------------------------------------------------------

    def test_a_partial_batch_response_retries_from_the_reported_record(self):
        endpoint = self.start_runtime("report_poison_once")
        stream = self.create_stream()
        items = [("k", b"ok %d" % i) for i in range(10)]
        items[4] = ("k", b"poison 4")
        acked = self.put(stream, items)
        self.create_mapping(stream, endpoint, batch_size=10,
                            function_response_types=[esm.REPORT_BATCH_ITEM_FAILURES])
        self.wait_for_all(acked)
        wait_until(lambda: len(self.recorded()) >= 2, "the retry")
        counts = {}
        for _, seq in self.delivered():
            counts[seq] = counts.get(seq, 0) + 1
        seqs = [a[3] for a in acked]
        self.assertEqual([counts[s] for s in seqs[:4]], [1] * 4,
                         "the records before the reported one are done")
        self.assertEqual([counts[s] for s in seqs[4:]], [2] * 6,
                         "the batch is retried from the reported record")
        self.assertEqual([r["kinesis"]["sequenceNumber"]
                          for r in self.recorded()[1]["event"]["Records"]], seqs[4:])

    def test_an_exception_is_retried_bisected_and_reported_to_the_destination(self):
        endpoint = self.start_runtime("raise_on_poison")
        function_name = "fn-" + uuid.uuid4().hex[:8]
        self.functions.CreateFunction(functions_pb2.CreateFunctionRequest(
            function_name=function_name, endpoint=endpoint, timeout_seconds=30), timeout=10)
        stream = self.create_stream()
        failures = self.create_stream()
        items = [("k", b"ok %d" % i) for i in range(8)]
        items[5] = ("k", b"poison 5")
        acked = self.put(stream, items)
        self.mappings.CreateEventSourceMapping(esm.CreateEventSourceMappingRequest(
            stream_name=stream, function_name=function_name,
            starting_position=esm.TRIM_HORIZON_POSITION, batch_size=8,
            bisect_batch_on_function_error=True, maximum_retry_attempts=1,
            destination_config=esm.DestinationConfig(
                on_failure=esm.OnFailure(destination=failures))), timeout=10)
        report = wait_until(lambda: self.read_stream(failures), "the failure record")
        poison_seq = acked[5][3]
        record = json.loads(report[0])
        # What Lambda writes to a Kinesis on-failure destination, then Tributary's two keys.
        self.assertEqual(list(record), ["requestContext", "responseContext", "version",
                                        "timestamp", "KinesisBatchInfo"])
        request_context = record["requestContext"]
        self.assertEqual(list(request_context), ["requestId", "functionArn", "condition",
                                                 "approximateInvokeCount", "functionEndpoint"])
        uuid.UUID(request_context["requestId"])
        self.assertEqual(request_context["functionArn"], "arn:aws:lambda:%s:%s:function:%s"
                         % (REGION, ACCOUNT, function_name))
        self.assertEqual(request_context["condition"], "RetryAttemptsExhausted")
        self.assertEqual(request_context["approximateInvokeCount"], 2)
        self.assertEqual(request_context["functionEndpoint"], endpoint)
        self.assertEqual(record["responseContext"], {
            "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
        self.assertEqual(record["version"], "1.0")
        self.assertRegex(record["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        batch = record["KinesisBatchInfo"]
        self.assertEqual(list(batch), ["shardId", "startSequenceNumber", "endSequenceNumber",
                                       "approximateArrivalOfFirstRecord",
                                       "approximateArrivalOfLastRecord", "batchSize", "streamArn",
                                       "streamName"])
        self.assertEqual(batch["shardId"], acked[5][2])
        self.assertEqual(batch["startSequenceNumber"], poison_seq)
        self.assertEqual(batch["endSequenceNumber"], poison_seq)
        self.assertEqual(batch["batchSize"], 1)
        self.assertEqual(batch["streamArn"],
                         "arn:aws:kinesis:%s:%s:stream/%s" % (REGION, ACCOUNT, stream))
        self.assertEqual(batch["streamName"], stream)
        self.wait_for_all(acked)
        alone = [e["event"]["Records"] for e in self.recorded()
                 if [r["kinesis"]["sequenceNumber"] for r in e["event"]["Records"]] == [poison_seq]]
        self.assertEqual(len(alone), 2, "bisected down to the record, then 1 + 1 retry")

    def test_a_non_2xx_status_is_the_failure_records_status_code(self):
        class NotFound(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(404)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"gone")

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        stream = self.create_stream()
        failures = self.create_stream()
        self.put(stream, [("k", b"a")])
        self.create_mapping(stream, "http://127.0.0.1:%d/fn" % server.server_address[1],
                            maximum_retry_attempts=0,
                            destination_config=esm.DestinationConfig(
                                on_failure=esm.OnFailure(destination=failures)))
        record = json.loads(wait_until(lambda: self.read_stream(failures),
                                       "the failure record")[0])
        self.assertEqual(record["responseContext"],
                         {"statusCode": 404, "executedVersion": "$LATEST"},
                         "the function's status; no function error")
        self.assertNotIn("functionArn", record["requestContext"], "a mapping by endpoint")

    def test_a_timeout_is_a_function_error_and_is_retried(self):
        endpoint = self.start_runtime("hang_on_poison_once")
        stream = self.create_stream()
        acked = self.put(stream, [("k", b"ok 0"), ("k", b"poison 1"), ("k", b"ok 2")])
        uuid_ = self.create_mapping(stream, endpoint, function_timeout_seconds=1)
        wait_until(lambda: "timed out" in self.mappings.GetEventSourceMapping(
            esm.GetEventSourceMappingRequest(uuid=uuid_), timeout=10).last_processing_result,
            "the mapping to report the timeout")
        self.wait_for_all(acked)
        wait_until(lambda: len(self.recorded()) >= 2, "the retry")
        first, second = self.recorded()[:2]
        self.assertEqual(first["event"]["Records"], second["event"]["Records"],
                         "the timed-out batch is invoked again")
        self.assertLessEqual(first["context"]["remaining_ms"], 1000,
                             "the function timeout reaches the context")

    def test_non_2xx_statuses_are_retried(self):
        calls = []

        class Flaky(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                calls.append(json.loads(body))
                status = 500 if len(calls) <= 2 else 200
                payload = b"boom" if status == 500 else b"{}"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        stream = self.create_stream()
        acked = self.put(stream, [("k", b"a"), ("k", b"b")])
        self.create_mapping(stream, "http://127.0.0.1:%d/fn" % server.server_address[1])
        wait_until(lambda: len(calls) >= 3, "two failed calls and a retry")
        self.assertEqual([[r["kinesis"]["sequenceNumber"] for r in c["Records"]]
                          for c in calls[:3]], [[a[3] for a in acked]] * 3)

    def test_a_refused_connection_is_retried_until_the_function_listens(self):
        port = free_port()
        stream = self.create_stream()
        acked = self.put(stream, [("k", b"a"), ("k", b"b")])
        uuid_ = self.create_mapping(stream, "http://127.0.0.1:%d%s" % (port, INVOKE_PATH))
        wait_until(lambda: "Connection error" in self.mappings.GetEventSourceMapping(
            esm.GetEventSourceMappingRequest(uuid=uuid_), timeout=10).last_processing_result,
            "the mapping to report the connection error")
        self.start_runtime("succeed", port=port)
        self.wait_for_all(acked)

    # --- tumbling windows -------------------------------------------------------------------

    def test_tumbling_windows_carry_the_state_with_its_json_types(self):
        endpoint = self.start_runtime("count_in_window")
        stream = self.create_stream()
        acked = []
        for i in range(4):  # records over a few 1-second windows
            acked += self.put(stream, [("a", b"x"), ("b", b"y"), ("a", b"z")])
            time.sleep(0.4)
        self.create_mapping(stream, endpoint, batch_size=2, tumbling_window_in_seconds=1)
        self.wait_for_all(acked)
        windows = {(a[4] // 1) for a in acked}
        wait_until(lambda: sum(1 for e in self.recorded() if e["event"]["isFinalInvokeForWindow"])
                   >= len(windows), "every window's final invocation")

        finals, started = {}, []
        for entry in self.recorded():
            event = entry["event"]
            self.assertEqual(set(event), WINDOW_EVENT_KEYS)
            start, end = event["window"]["start"], event["window"]["end"]
            self.assertRegex(start, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertRegex(end, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertEqual(event["shardId"], acked[0][2])
            self.assertEqual(event["eventSourceARN"],
                             "arn:aws:kinesis:%s:%s:stream/%s" % (REGION, ACCOUNT, stream))
            self.assertIs(event["isWindowTerminatedEarly"], False)
            for r in event["Records"]:
                self.assertEqual(set(r), RECORD_KEYS)
            if event["isFinalInvokeForWindow"]:
                self.assertEqual(event["Records"], [])
                finals[start] = event["state"]
            else:
                self.assertNotIn(start, finals, "no invocation of a window after its final one")
                if not started or started[-1] != start:
                    if started:
                        self.assertIn(started[-1], finals,
                                      "a window's final invocation comes before the next's first")
                    started.append(start)
        counted = 0
        for start, state in finals.items():
            self.assertIsInstance(state["total"], int)
            self.assertIsInstance(state["half"], float)
            self.assertIsInstance(state["seqs"], list)
            self.assertIsInstance(state["shard"], str)
            self.assertEqual(state["half"], 0.5 + state["total"] * 0.5)
            self.assertEqual(state["total"], len(state["seqs"]))
            self.assertEqual(state["total"], state.get("key:a", 0) + state.get("key:b", 0))
            counted += state["total"]
        self.assertEqual(counted, len(acked), "every record counted once, in its window")


if __name__ == "__main__":
    result = run(__name__)
    write_junit(result, "lambda_e2e_test")
    sys.exit(0 if result.wasSuccessful() else 1)
