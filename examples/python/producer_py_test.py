"""Tests examples/python/producer.py against an in-process Streams service on a free loopback
port that fails records and calls on purpose: every record is acknowledged after retries, each
stored once; whole calls that fail with a retryable status are resent, other statuses stop the
producer; records out of attempts are reported; calls respect 500 records and 5 MiB; the command
line reads stdin and exits 0 / 1 / 2. No real waiting: put_all's sleep is injected. Then the
producer against the real all-in-one binary: every record acknowledged and readable.

Run by //examples/python:producer_py_test from the runfiles root; writes JUnit XML to
$XML_OUTPUT_FILE so that tools/test.sh counts each case.
"""

import contextlib
import io
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the generated proto/ stubs sit next to this file

import grpc  # noqa: E402
from proto import streams_pb2  # noqa: E402
from proto import streams_pb2_grpc  # noqa: E402

import producer  # noqa: E402
from example_function_py_test import write_junit  # noqa: E402

STARTUP_GUARD_SECONDS = 60  # a failure guard only: a healthy start takes about a second


class FlakyStreams(streams_pb2_grpc.StreamsServicer):
    """Stores records of stream "orders"; scripted failures decide what fails first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stored = []          # (partition_key, data) in the order written
        self.calls = []           # record count of each PutRecords call
        self.fail_first_sight = set()  # data values failed (throttled) the first time they come
        self.seen = set()
        self.call_statuses = []   # statuses to fail the next calls with, in order
        self.always_fail = set()  # data values that always fail

    def PutRecords(self, request, context):
        with self.lock:
            self.calls.append(len(request.records))
            if self.call_statuses:
                code = self.call_statuses.pop(0)
                context.abort(code, "scripted %s" % code.name)
            if request.stream_name != "orders":
                context.abort(grpc.StatusCode.NOT_FOUND, "stream %s not found" % request.stream_name)
            response = streams_pb2.PutRecordsResponse()
            for r in request.records:
                entry = response.records.add()
                first = r.data not in self.seen
                self.seen.add(r.data)
                if r.data in self.always_fail or (first and r.data in self.fail_first_sight):
                    entry.error_code = "ProvisionedThroughputExceededException"
                    entry.error_message = "Rate exceeded for shard shardId-000000000000"
                    response.failed_record_count += 1
                    continue
                self.stored.append((r.partition_key, r.data))
                entry.shard_id = "shardId-000000000000"
                entry.sequence_number = str(len(self.stored))
            return response


class ProducerTest(unittest.TestCase):
    def setUp(self):
        self.streams = FlakyStreams()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                                  options=[("grpc.max_receive_message_length", 64 << 20)])
        streams_pb2_grpc.add_StreamsServicer_to_server(self.streams, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.endpoint = "127.0.0.1:%d" % port
        self.channel = grpc.insecure_channel(self.endpoint, options=[
            ("grpc.max_send_message_length", 64 << 20)])
        self.stub = streams_pb2_grpc.StreamsStub(self.channel)
        self.sleeps = []

    def tearDown(self):
        self.channel.close()
        self.server.stop(grace=None)

    def put(self, records, **kwargs):
        return producer.put_all(self.stub, streams_pb2, "orders", records,
                                sleep=self.sleeps.append, rng=random.Random(1), **kwargs)

    def test_throttled_records_are_retried_until_each_is_stored_once(self):
        records = [("key-%d" % (n % 7), b"r%d" % n) for n in range(1200)]
        self.streams.fail_first_sight = {b"r%d" % n for n in range(0, 1200, 3)}
        result = self.put(records)
        self.assertEqual(result.failed, [])
        self.assertEqual(len(result.acked), 1200)
        self.assertEqual(result.retried, 400)
        self.assertEqual(sorted(self.streams.stored), sorted(records), "each record stored once")
        self.assertEqual(len(self.sleeps), 1, "one backoff before the second attempt")
        self.assertTrue(0.05 <= self.sleeps[0] <= 0.1, self.sleeps)
        shard, sequence = result.acked[0]
        self.assertEqual(shard, "shardId-000000000000")
        self.assertEqual(self.streams.stored[int(sequence) - 1], records[0])

    def test_a_call_failing_with_a_retryable_status_is_sent_again(self):
        self.streams.call_statuses = [grpc.StatusCode.UNAVAILABLE,
                                      grpc.StatusCode.RESOURCE_EXHAUSTED]
        result = self.put([("k", b"a"), ("k", b"b")])
        self.assertEqual(result.failed, [])
        self.assertEqual(self.streams.stored, [("k", b"a"), ("k", b"b")])
        self.assertEqual(result.calls, 3)
        self.assertEqual(len(self.sleeps), 2)
        # 0.1 s then 0.2 s, each with up to half taken off by jitter: the backoff doubles.
        self.assertTrue(0.05 <= self.sleeps[0] <= 0.1, self.sleeps)
        self.assertTrue(0.1 <= self.sleeps[1] <= 0.2, self.sleeps)

    def test_other_statuses_are_not_retried(self):
        self.streams.call_statuses = [grpc.StatusCode.INVALID_ARGUMENT]
        with self.assertRaises(grpc.RpcError) as caught:
            self.put([("k", b"a")])
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(self.streams.calls, [1])
        self.assertEqual(self.sleeps, [])

    def test_records_out_of_attempts_are_reported(self):
        self.streams.always_fail = {b"bad"}
        result = self.put([("k", b"ok"), ("k", b"bad"), ("k", b"ok2")], max_attempts=3)
        self.assertEqual(result.failed, [1])
        self.assertEqual(sorted(result.acked), [0, 2])
        self.assertEqual(result.retried, 2)
        self.assertEqual(self.streams.calls, [3, 1, 1])

    def test_calls_hold_at_most_500_records_and_5_mib(self):
        self.put([("k", b"x") for _ in range(1001)])
        self.assertEqual(self.streams.calls, [500, 500, 1])
        self.streams.calls = []
        two_mib = b"y" * (2 << 20)
        self.put([("k", two_mib)] * 5)
        self.assertEqual(self.streams.calls, [2, 2, 1], "three 2 MiB records pass 5 MiB")

    def test_the_command_line_reads_stdin_and_exits_by_the_outcome(self):
        out = io.StringIO()
        code = producer.main(["--endpoint=" + self.endpoint, "--stream=orders"],
                             stdin=io.StringIO("c-1\tfirst\nc-2\tsecond\n\nc-1\tthird\n"),
                             stdout=out)
        self.assertEqual(code, 0)
        self.assertEqual(self.streams.stored,
                         [("c-1", b"first"), ("c-2", b"second"), ("c-1", b"third")])
        self.assertIn("put 3 of 3 record(s)", out.getvalue())
        self.assertEqual(producer.main(["--endpoint=" + self.endpoint, "--stream=nope",
                                        "--generate=3"], stdout=io.StringIO()), 2)
        self.streams.always_fail = {b"record 1"}
        out = io.StringIO()
        self.assertEqual(producer.main(["--endpoint=" + self.endpoint, "--stream=orders",
                                        "--generate=3", "--keys=2", "--max_attempts=1"],
                                       stdout=out), 1)
        self.assertIn("1 failed", out.getvalue())


    def test_a_list_of_endpoints_fails_over_to_the_next(self):
        # The first front-end of the list refuses connections (a port nobody listens on, taken
        # from a server stopped at once): the calls reach the second.
        dead = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        dead_port = dead.add_insecure_port("127.0.0.1:0")
        dead.start()
        dead.stop(grace=None)
        out = io.StringIO()
        code = producer.main(["--endpoint=127.0.0.1:%d,%s" % (dead_port, self.endpoint),
                              "--stream=orders", "--generate=30", "--keys=3"], stdout=out)
        self.assertEqual(code, 0, out.getvalue())
        self.assertEqual(len(self.streams.stored), 30)
        self.assertEqual(producer.channel_target(["127.0.0.1:1", "localhost:2"]),
                         "ipv4:127.0.0.1:1,127.0.0.1:2")
        self.assertEqual(producer.channel_target(["a.example:1"]), "a.example:1")

    def test_a_bad_endpoint_is_a_usage_error(self):
        # grpc dialled 127.0.0.1:99999 as port 34463 (99999 modulo 65536), 127.0.0.1:0 as 0.
        for endpoint, reason in (("127.0.0.1:99999", "port 99999 is out of range 1-65535"),
                                 ("127.0.0.1:0", "port 0 cannot be connected to"),
                                 (":4560", "no host"),
                                 ("127.0.0.1:1,,127.0.0.1:2", "empty address in the list")):
            with self.subTest(endpoint=endpoint):
                err = io.StringIO()
                with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as exited:
                    producer.main(["--endpoint=" + endpoint, "--stream=orders", "--generate=1",
                                   "--max_attempts=1"], stdout=io.StringIO())
                self.assertEqual(exited.exception.code, 2)
                self.assertIn('argument --endpoint: "%s": %s' % (endpoint, reason),
                              err.getvalue())
        self.assertEqual(self.streams.calls, [])


class ProducerAgainstTributaryTest(unittest.TestCase):
    """The producer against the real all-in-one binary (tributary serve) on a free port."""

    def test_every_generated_record_is_acknowledged_and_readable(self):
        work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        binary = os.path.join(os.getcwd(), "tools", "tributary", "tributary")
        server = subprocess.Popen(
            [binary, "serve", "--data_dir=" + os.path.join(work, "data"),
             "--listen=127.0.0.1:0", "--port_file=" + os.path.join(work, "port")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))
        self.addCleanup(lambda: server.poll() is None and server.kill())
        port = wait_for_port_file(os.path.join(work, "port"), server)
        endpoint = "127.0.0.1:%d" % port
        with grpc.insecure_channel(endpoint) as channel:
            grpc.channel_ready_future(channel).result(timeout=STARTUP_GUARD_SECONDS)
            stub = streams_pb2_grpc.StreamsStub(channel)
            stub.CreateStream(streams_pb2.CreateStreamRequest(stream_name="orders", shard_count=2),
                              timeout=10)
            out = io.StringIO()
            code = producer.main(["--endpoint=" + endpoint, "--stream=orders", "--generate=1200",
                                  "--keys=10"], stdout=out)
            self.assertEqual(code, 0, out.getvalue())
            self.assertIn("put 1200 of 1200 record(s) in 3 call(s), 0 resent, 0 failed",
                          out.getvalue())
            read = 0
            for shard in ("shardId-000000000000", "shardId-000000000001"):
                iterator = stub.GetShardIterator(streams_pb2.GetShardIteratorRequest(
                    stream_name="orders", shard_id=shard,
                    shard_iterator_type=streams_pb2.TRIM_HORIZON), timeout=10).shard_iterator
                read += len(stub.GetRecords(streams_pb2.GetRecordsRequest(
                    shard_iterator=iterator), timeout=10).records)
            self.assertEqual(read, 1200)
        server.terminate()
        self.assertEqual(server.wait(timeout=30), 0)


def wait_for_port_file(path, process):
    """The port `process` wrote to `path` (bounded by STARTUP_GUARD_SECONDS, a failure guard)."""
    deadline = time.monotonic() + STARTUP_GUARD_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("tributary serve exited with %d" % process.returncode)
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError("tributary serve wrote no port file")


if __name__ == "__main__":
    suite = unittest.TestSuite()
    for case in (ProducerTest, ProducerAgainstTributaryTest):
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    test_ids = [t.id() for t in suite]
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if os.environ.get("XML_OUTPUT_FILE"):
        write_junit(result, os.environ["XML_OUTPUT_FILE"], test_ids, suite="producer_py",
                    classname="ProducerTest")
    sys.exit(0 if result.wasSuccessful() else 1)
