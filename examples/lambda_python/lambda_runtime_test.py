"""Tests of the example Lambda runtime (lambda_runtime/), in process on a free loopback port: the
handler's return value comes back as JSON; an exception is Lambda's error shape with
X-Amz-Function-Error: Unhandled; the context object has Lambda's fields and counts down to the
caller's deadline; what cannot be marshalled or unmarshalled is a Runtime error; only the
emulator's path is served; a bad --handler stops the command with exit status 2. The clock is
injected: no real waiting.

Run by //examples/lambda_python:lambda_runtime_test from the runfiles root; writes JUnit XML to
$XML_OUTPUT_FILE so that tools/test.sh counts each case.
"""

import http.client
import io
import json
import os
import sys
import unittest
from contextlib import redirect_stderr
from xml.sax.saxutils import quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lambda_runtime  # noqa: E402
from lambda_runtime import INVOKE_PATH, Runtime, load_handler, serve  # noqa: E402


def write_junit(result, suite_name):
    """Writes `result` as JUnit XML to $XML_OUTPUT_FILE (what tools/test.sh counts)."""
    path = os.environ.get("XML_OUTPUT_FILE")
    if not path:
        return
    failed = {t.id(): m for t, m in result.failures + result.errors}
    cases = []
    for test_id in sorted(result.test_ids):
        body = ""
        if test_id in failed:
            body = "<failure message=%s/>" % quoteattr(failed[test_id][-2000:])
        cases.append('  <testcase name=%s classname=%s status="run">%s</testcase>'
                     % (quoteattr(test_id.split(".")[-1]),
                        quoteattr(test_id.split(".")[-2]), body))
    with open(path, "w") as out:
        out.write('<?xml version="1.0"?>\n<testsuites><testsuite name=%s tests="%d" '
                  'failures="%d">\n%s\n</testsuite></testsuites>\n'
                  % (quoteattr(suite_name), len(result.test_ids), len(failed), "\n".join(cases)))


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_ids = []

    def startTest(self, test):  # noqa: N802
        self.test_ids.append(test.id())
        super().startTest(test)


def run(module_name):
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    result = unittest.TextTestRunner(verbosity=2, resultclass=RecordingResult).run(suite)
    return result


class FakeClock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


class RuntimeTest(unittest.TestCase):
    def serve(self, handler, **options):
        self.clock = FakeClock()
        self.runtime = Runtime(handler, function_name="orders-fn", region="eu-west-1",
                               account_id="123456789012", log=lambda line: None,
                               clock=self.clock, **options)
        server = serve(self.runtime, "127.0.0.1", 0)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1],
                                                     timeout=30)
        self.addCleanup(self.connection.close)

    def post(self, body, path=INVOKE_PATH, headers=None):
        self.connection.request("POST", path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.getheader("X-Amz-Function-Error"), response.read()

    def test_the_return_value_comes_back_as_json(self):
        self.serve(lambda event, context: {"batchItemFailures": [], "got": event["Records"]})
        status, error, body = self.post(b'{"Records": [1, 2]}')
        self.assertEqual((status, error), (200, None))
        self.assertEqual(json.loads(body), {"batchItemFailures": [], "got": [1, 2]})
        status, error, body = self.post(b'{"Records": []}')  # the same connection, kept alive
        self.assertEqual(status, 200)

    def test_none_is_null(self):
        self.serve(lambda event, context: None)
        self.assertEqual(self.post(b"{}"), (200, None, b"null"))

    def test_an_exception_is_lambdas_error_shape(self):
        def handler(event, context):
            return {"x": 1 / event["zero"]}
        self.serve(handler)
        status, error, body = self.post(b'{"zero": 0}',
                                        headers={"Lambda-Runtime-Aws-Request-Id": "req-1"})
        self.assertEqual((status, error), (200, "Unhandled"))
        shape = json.loads(body)
        self.assertEqual(set(shape), {"errorMessage", "errorType", "requestId", "stackTrace"})
        self.assertEqual(shape["errorType"], "ZeroDivisionError")
        self.assertEqual(shape["errorMessage"], "division by zero")
        self.assertEqual(shape["requestId"], "req-1")
        self.assertEqual(len(shape["stackTrace"]), 1, "the handler's frame, not the runtime's")
        self.assertIn("in handler", shape["stackTrace"][0])

    def test_the_context_has_lambdas_fields_and_counts_down_to_the_deadline(self):
        seen = {}

        def handler(event, context):
            seen.update(vars(context))
            seen["remaining"] = context.get_remaining_time_in_millis()
            self.clock.now += 0.25
            seen["later"] = context.get_remaining_time_in_millis()
            return {}
        self.serve(handler, memory_size=256)
        deadline_ms = int(self.clock.now * 1000) + 1500
        self.post(b"{}", headers={"Lambda-Runtime-Deadline-Ms": str(deadline_ms)})
        self.assertEqual(seen["function_name"], "orders-fn")
        self.assertEqual(seen["function_version"], "$LATEST")
        self.assertEqual(seen["invoked_function_arn"],
                         "arn:aws:lambda:eu-west-1:123456789012:function:orders-fn")
        self.assertEqual(seen["memory_limit_in_mb"], "256")
        self.assertEqual(seen["log_group_name"], "/aws/lambda/orders-fn")
        self.assertIsNone(seen["identity"])
        self.assertIsNone(seen["client_context"])
        self.assertEqual(len(seen["aws_request_id"]), 36)
        self.assertEqual(seen["remaining"], 1500)
        self.assertEqual(seen["later"], 1250)

    def test_without_a_deadline_the_timeout_counts(self):
        seen = []
        self.serve(lambda event, context: seen.append(context.get_remaining_time_in_millis()),
                   timeout_seconds=7)
        self.post(b"{}")
        self.assertEqual(seen, [7000])

    def test_an_unmarshallable_result_or_event_is_a_runtime_error(self):
        self.serve(lambda event, context: {"set": {1, 2}})
        status, error, body = self.post(b"{}")
        self.assertEqual((status, error), (200, "Unhandled"))
        self.assertEqual(json.loads(body)["errorType"], "Runtime.MarshalError")
        status, error, body = self.post(b"{not json")
        self.assertEqual(json.loads(body)["errorType"], "Runtime.UnmarshalError")

    def test_only_the_emulators_path_is_served(self):
        self.serve(lambda event, context: {})
        status, _, _ = self.post(b"{}", path="/other")
        self.assertEqual(status, 404)


class LoadHandlerTest(unittest.TestCase):
    def test_handlers_load_from_the_code_directory(self):
        handler = load_handler("app.handler", HERE)
        self.assertTrue(callable(handler))

    def test_a_bad_handler_names_lambdas_error(self):
        for spec, error_type in (("nodot", "Runtime.MalformedHandlerName"),
                                 ("no_such_module.handler", "Runtime.ImportModuleError"),
                                 ("app.no_such_function", "Runtime.HandlerNotFound")):
            with self.subTest(spec=spec):
                with self.assertRaises(lambda_runtime.HandlerLoadError) as caught:
                    load_handler(spec, HERE)
                self.assertEqual(caught.exception.error_type, error_type)

    def test_the_command_exits_2_on_a_bad_handler(self):
        err = io.StringIO()
        with redirect_stderr(err):
            code = lambda_runtime.main(["--handler", "app.nope", "--code-dir", HERE,
                                        "--listen", "127.0.0.1:0"])
        self.assertEqual(code, 2)
        self.assertIn("Runtime.HandlerNotFound", err.getvalue())


class ExampleHandlersTest(unittest.TestCase):
    """The example handlers of this folder, as Lambda would call them."""

    def test_app_reports_poison_records(self):
        handler = load_handler("app.handler", HERE)
        event = {"Records": [
            {"eventID": "shardId-000000000000:1",
             "kinesis": {"partitionKey": "k", "sequenceNumber": "1", "data": "aGk="}},
            {"eventID": "shardId-000000000000:2",
             "kinesis": {"partitionKey": "k", "sequenceNumber": "2", "data": "cG9pc29uIQ=="}}]}
        context = lambda_runtime.LambdaContext("f", "arn", 128, "id", "stream", 0)
        with redirect_stdout_to_null():
            self.assertEqual(handler(event, context), {"batchItemFailures": [{"itemIdentifier": "2"}]})

    def test_window_app_counts_per_key_in_the_state(self):
        handler = load_handler("window_app.lambda_handler", HERE)
        event = {"Records": [{"kinesis": {"partitionKey": "a"}}, {"kinesis": {"partitionKey": "a"}}],
                 "state": {"a": 1}, "isFinalInvokeForWindow": False,
                 "isWindowTerminatedEarly": False, "window": {"start": "s", "end": "e"}}
        self.assertEqual(handler(event, None), {"state": {"a": 3}})


class redirect_stdout_to_null:  # noqa: N801 (a context manager used like contextlib's)
    def __enter__(self):
        self.saved, sys.stdout = sys.stdout, io.StringIO()

    def __exit__(self, *exc):
        sys.stdout = self.saved


if __name__ == "__main__":
    result = run(__name__)
    write_junit(result, "lambda_runtime_test")
    sys.exit(0 if result.wasSuccessful() else 1)
