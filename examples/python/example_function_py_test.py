"""Starts examples/python/example_function.py on a free loopback port and calls it over gRPC:
a clean batch succeeds, a poison batch fails (function_error, or batch_item_failures when
reporting), every received record lands in the deliveries file, simulated failures with
--fail_with_status are a non-OK status, and SIGTERM stops it cleanly.

Run by //examples/python:example_function_py_test from the runfiles root. Writes JUnit XML to
$XML_OUTPUT_FILE so that tools/test.sh counts each case.
"""

import os
import select
import signal
import subprocess
import sys
import tempfile
import unittest
from xml.sax.saxutils import quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the generated proto/ stubs sit next to this file

import grpc  # noqa: E402
from proto import function_pb2  # noqa: E402
from proto import function_pb2_grpc  # noqa: E402

FUNCTION = os.path.join(HERE, "example_function.py")
STARTUP_GUARD_SECONDS = 60  # a failure guard only: a healthy start takes well under a second


class FunctionProcess:
    """The example function as a child process on 127.0.0.1:0."""

    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.deliveries = os.path.join(self.dir, "deliveries.txt")
        env = dict(os.environ, PYTHONPATH=HERE)
        self.process = subprocess.Popen(
            ["/usr/bin/python3", FUNCTION, "--listen=127.0.0.1:0",
             "--deliveries_file=" + self.deliveries] + list(flags),
            stdout=subprocess.PIPE, env=env)
        ready, _, _ = select.select([self.process.stdout], [], [], STARTUP_GUARD_SECONDS)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("listening on "):
            self.process.kill()
            raise AssertionError("the function did not start (first line: %r)" % line)
        self.address = line.split()[-1]
        self.channel = grpc.insecure_channel(self.address)
        self.stub = function_pb2_grpc.FunctionStub(self.channel)

    def invoke(self, *data):
        request = function_pb2.InvokeRequest(event_source_mapping_uuid="m-1",
                                             stream_name="orders",
                                             shard_id="shardId-000000000002")
        for i, d in enumerate(data):
            request.records.add(sequence_number=str(100 + i), partition_key="key%d" % i, data=d)
        return self.stub.Invoke(request, timeout=10)

    def invoke_table_changes(self, *changes):
        """A table stream's batch: (item id, poison) per change."""
        request = function_pb2.InvokeRequest(stream_name="_tables.7.20231114221320123",
                                             shard_id="shardId-00000000000000000001-00000007")
        for i, (item_id, poison) in enumerate(changes):
            r = request.dynamodb_records.add(event_name="INSERT")
            r.dynamodb.sequence_number = "10000000000000000000%d" % i
            r.dynamodb.keys["id"].s = item_id
            r.dynamodb.new_image["id"].s = item_id
            if poison:
                r.dynamodb.new_image["poison"].bool = True
        return self.stub.Invoke(request, timeout=10)

    def invoke_window(self, state, data, final=False, early=False):
        request = function_pb2.InvokeRequest(shard_id="shardId-000000000002",
                                             is_final_invoke_for_window=final,
                                             is_window_terminated_early=early)
        request.window.start.FromMilliseconds(60000)
        request.window.end.FromMilliseconds(120000)
        request.state.values.update(state)
        for i, d in enumerate(data):
            request.records.add(sequence_number=str(100 + i), partition_key="key%d" % i, data=d)
        return self.stub.Invoke(request, timeout=10)

    def stop(self):
        self.channel.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


class ExampleFunctionTest(unittest.TestCase):
    def start(self, *flags):
        f = FunctionProcess(*flags)
        self.addCleanup(lambda: f.process.poll() is None and f.process.kill())
        return f

    def test_a_clean_batch_succeeds(self):
        response = self.start().invoke(b"a", b"b", b"not poison")
        self.assertEqual(response.function_error, "")
        self.assertEqual(len(response.batch_item_failures), 0)

    def test_a_poison_batch_fails_with_a_function_error(self):
        response = self.start().invoke(b"a", b"poison pill")
        self.assertEqual(response.function_error, "poison record at sequence number 101")

    def test_poison_records_are_batch_item_failures_when_reporting(self):
        response = self.start("--report_batch_item_failures").invoke(
            b"poison", b"ok", b"poisonous")
        self.assertEqual(response.function_error, "")
        self.assertEqual([f.item_identifier for f in response.batch_item_failures],
                         ["100", "102"])

    def test_every_received_record_is_in_the_deliveries_file(self):
        f = self.start()
        f.invoke(b"a", b"b")
        f.invoke(b"poison")
        with open(f.deliveries) as d:
            self.assertEqual(d.read(), "shardId-000000000002 100 key0\n"
                                       "shardId-000000000002 101 key1\n"
                                       "shardId-000000000002 100 key0\n")

    def test_a_poison_table_change_is_reported_by_its_dynamodb_sequence_number(self):
        f = self.start("--report_batch_item_failures")
        response = f.invoke_table_changes(("o-1", False), ("o-2", True))
        self.assertEqual([x.item_identifier for x in response.batch_item_failures],
                         ["100000000000000000001"])
        with open(f.deliveries) as d:
            self.assertEqual(d.read(),
                             "shardId-00000000000000000001-00000007 100000000000000000000 o-1\n"
                             "shardId-00000000000000000001-00000007 100000000000000000001 o-2\n")

    def test_simulated_failures_with_status_are_internal(self):
        f = self.start("--fail_rate=1", "--fail_with_status")
        with self.assertRaises(grpc.RpcError) as caught:
            f.invoke(b"a")
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INTERNAL)

    def test_a_window_state_counts_records_per_key(self):
        f = self.start("--report_batch_item_failures")
        response = f.invoke_window({"key0": "2"}, [b"a", b"b", b"poison", b"c"])
        self.assertTrue(response.HasField("state"))
        # key2 failed and key3 comes after it: both are retried, so they do not count yet.
        self.assertEqual(dict(response.state.values), {"key0": "3", "key1": "1"})
        self.assertFalse(f.invoke(b"a").HasField("state"))  # no window, no state

    def test_the_final_invocation_writes_the_windows_counts(self):
        windows = os.path.join(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")), "windows")
        f = self.start("--windows_file=" + windows)
        response = f.invoke_window({"b": "2", "a": "5"}, [], final=True)
        self.assertTrue(response.HasField("state"))
        self.assertEqual(dict(response.state.values), {})
        f.invoke_window({}, [], final=True, early=True)
        with open(windows) as w:
            self.assertEqual(w.read(), "shardId-000000000002 60000 120000 a=5,b=2\n"
                                       "shardId-000000000002 60000 120000 - early\n")

    def test_sigterm_stops_it_cleanly(self):
        f = self.start()
        f.invoke(b"a")
        self.assertEqual(f.stop(), 0)

    def test_a_bad_listen_address_is_refused_at_start(self):
        # grpc served --listen=127.0.0.1:99999 on port 34463 (99999 modulo 65536). The timeout
        # only bounds a start that serves instead of refusing.
        for listen, reason in (("127.0.0.1:99999", "port 99999 is out of range 0-65535"),
                               ("127.0.0.1:45x", 'port "45x" is not a decimal number'),
                               ("127.0.0.1", "no port")):
            with self.subTest(listen=listen):
                try:
                    done = subprocess.run(["/usr/bin/python3", FUNCTION, "--listen=" + listen],
                                          capture_output=True, timeout=STARTUP_GUARD_SECONDS,
                                          env=dict(os.environ, PYTHONPATH=HERE))
                except subprocess.TimeoutExpired as e:
                    self.fail("it served instead of refusing: %r" % e.stdout)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(done.stdout, b"")
                self.assertIn('argument --listen: "%s": %s' % (listen, reason),
                              done.stderr.decode())


def write_junit(result, path, test_ids, suite="example_function_py",
                classname="ExampleFunctionTest"):
    """Writes `result` as JUnit XML (what tools/test.sh counts); shared by the Python tests."""
    failed = {t.id(): m for t, m in result.failures + result.errors}
    cases = []
    for test_id in sorted(test_ids):
        body = ""
        if test_id in failed:
            body = "<failure message=%s/>" % quoteattr(failed[test_id][-2000:])
        cases.append('  <testcase name=%s classname=%s status="run">%s</testcase>'
                     % (quoteattr(test_id.split(".")[-1]), quoteattr(classname), body))
    with open(path, "w") as out:
        out.write('<?xml version="1.0"?>\n<testsuites><testsuite name=%s '
                  'tests="%d" failures="%d">\n%s\n</testsuite></testsuites>\n'
                  % (quoteattr(suite), len(test_ids), len(failed), "\n".join(cases)))


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(ExampleFunctionTest)
    test_ids = [t.id() for t in suite]
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if os.environ.get("XML_OUTPUT_FILE"):
        write_junit(result, os.environ["XML_OUTPUT_FILE"], test_ids)
    sys.exit(0 if result.wasSuccessful() else 1)
