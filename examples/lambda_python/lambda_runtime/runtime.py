"""The runtime: handler loading, the context object, one invocation, and the HTTP server.

See the package docstring (lambda_runtime/__init__.py) for what it serves.
"""

import argparse
import datetime
import http.server
import importlib
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


class HandlerLoadError(Exception):
    """The handler named by --handler cannot be loaded; `error_type` is Lambda's name for it."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def load_handler(spec, code_dir):
    """Imports MODULE from `code_dir` (as Lambda imports from its task root) and returns its
    FUNCTION, for `spec` "MODULE.FUNCTION" (MODULE may be dotted: "pkg.app.handler")."""
    module_name, dot, function_name = spec.rpartition(".")
    if not dot or not module_name or not function_name:
        raise HandlerLoadError("Runtime.MalformedHandlerName",
                               'Bad handler "%s": expected MODULE.FUNCTION' % spec)
    code_dir = os.path.abspath(code_dir)
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # the handler's own module may raise anything while importing
        raise HandlerLoadError("Runtime.ImportModuleError",
                               'Unable to import module "%s": %s' % (module_name, e)) from e
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise HandlerLoadError("Runtime.HandlerNotFound",
                               "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler


class LambdaContext:
    """Lambda's context object for Python, with the fields the Lambda Developer Guide lists.

    As in Lambda's Python runtime, memory_limit_in_mb is a string ("128") and identity and
    client_context are None for a function not called from a mobile SDK.
    """

    def __init__(self, function_name, invoked_function_arn, memory_limit_in_mb, aws_request_id,
                 log_stream_name, deadline_ms, clock=time.time):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = aws_request_id
        self.log_group_name = "/aws/lambda/" + function_name
        self.log_stream_name = log_stream_name
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms
        self._clock = clock

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - self._clock() * 1000))


class Runtime:
    """Runs invocations of one handler; thread-safe (at most `concurrency` at once)."""

    def __init__(self, handler, function_name="function", timeout_seconds=3, memory_size=128,
                 region="us-east-1", account_id="000000000000", concurrency=1, log=None,
                 clock=time.time):
        self.handler = handler
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self.memory_size = memory_size
        self.function_arn = "arn:aws:lambda:%s:%s:function:%s" % (region, account_id,
                                                                    function_name)
        self.log_stream_name = "%s/[$LATEST]%s" % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d"), uuid.uuid4().hex)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._log = log if log is not None else (lambda line: print(line, file=sys.stderr,
                                                                    flush=True))
        self._clock = clock

    def invoke(self, body, headers):
        """Runs the handler on the JSON `body` (bytes) with `headers` (a mapping, any case of
        names as http.server gives them). Returns (status, headers dict, body bytes)."""
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id") or str(uuid.uuid4())
        deadline = headers.get("Lambda-Runtime-Deadline-Ms")
        try:
            deadline_ms = int(deadline)
        except (TypeError, ValueError):
            deadline_ms = int(self._clock() * 1000) + self.timeout_seconds * 1000
        with self._slots:
            started = self._clock()
            self._log("START RequestId: %s Version: $LATEST" % request_id)
            try:
                try:
                    event = json.loads(body) if body.strip() else {}
                except ValueError as e:
                    return self._error(request_id, "Runtime.UnmarshalError",
                                       "Unable to unmarshal input: %s" % e, [])
                context = LambdaContext(self.function_name, self.function_arn, self.memory_size,
                                        request_id, self.log_stream_name, deadline_ms,
                                        clock=self._clock)
                try:
                    result = self.handler(event, context)
                except Exception as e:  # Lambda reports whatever the handler raised
                    stack = traceback.format_list(traceback.extract_tb(e.__traceback__)[1:])
                    return self._error(request_id, type(e).__name__, str(e), stack)
                try:
                    payload = json.dumps(result).encode("utf-8")
                except (TypeError, ValueError) as e:
                    return self._error(request_id, "Runtime.MarshalError",
                                       "Unable to marshal response: %s" % e, [])
                return 200, {"Content-Type": "application/json"}, payload
            finally:
                self._log("END RequestId: %s" % request_id)
                self._log("REPORT RequestId: %s\tDuration: %.2f ms" %
                          (request_id, (self._clock() - started) * 1000))

    def _error(self, request_id, error_type, message, stack):
        body = {"errorMessage": message, "errorType": error_type, "requestId": request_id,
                "stackTrace": stack}
        self._log("[ERROR] %s: %s" % (error_type, message))
        return 200, {"Content-Type": "application/json",
                     "X-Amz-Function-Error": "Unhandled"}, json.dumps(body).encode("utf-8")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the poller reuses its connections
    runtime = None  # set on the subclass serve() makes

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.split("?")[0] != INVOKE_PATH:
            self._send(404, {"Content-Type": "application/json"},
                       json.dumps({"message": "POST %s only" % INVOKE_PATH}).encode("utf-8"))
            return
        status, headers, payload = self.runtime.invoke(body, self.headers)
        self._send(status, headers, payload)

    def _send(self, status, headers, payload):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass  # START / END / REPORT lines say what happened


def serve(runtime, host, port):
    """Returns a started server (ThreadingHTTPServer on a daemon thread) for `runtime`."""
    handler = type("Handler", (_Handler,), {"runtime": runtime})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def _listen(address):
    host, colon, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not re.fullmatch(r"[0-9]+", port) or int(port) > 65535:
        raise argparse.ArgumentTypeError(
            '"%s": expected host:port with a port 0-65535 (0: any free port)' % address)
    return host, int(port)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python3 -m lambda_runtime",
        description="Serves a Lambda handler on the Lambda Runtime Interface Emulator's "
                    "interface (POST %s)." % INVOKE_PATH)
    p.add_argument("--handler", required=True, help="MODULE.FUNCTION, e.g. app.handler")
    p.add_argument("--listen", type=_listen, default=("127.0.0.1", 9000),
                   help="host:port to serve on (default 127.0.0.1:9000; port 0: any free port)")
    p.add_argument("--code-dir", default=".",
                   help="the directory MODULE is imported from (Lambda's task root; default .)")
    p.add_argument("--function-name",
                   default=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function"),
                   help="context.function_name (default $AWS_LAMBDA_FUNCTION_NAME or function)")
    p.add_argument("--timeout", type=int,
                   default=int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")),
                   help="seconds for get_remaining_time_in_millis when the caller sends no "
                        "deadline (default 3, Lambda's)")
    p.add_argument("--memory-size", type=int,
                   default=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
                   help="context.memory_limit_in_mb (default 128)")
    p.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"),
                   help="the region of context.invoked_function_arn")
    p.add_argument("--account-id", default="000000000000",
                   help="the account of context.invoked_function_arn")
    p.add_argument("--concurrency", type=int, default=1,
                   help="invocations run at once (default 1, as one Lambda environment)")
    p.add_argument("--port-file", default="",
                   help="write the port served on to this file (for --listen host:0)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if args.concurrency < 1:
        print("--concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        handler = load_handler(args.handler, args.code_dir)
    except HandlerLoadError as e:
        print("%s: %s" % (e.error_type, e), file=sys.stderr)
        return 2
    runtime = Runtime(handler, function_name=args.function_name, timeout_seconds=args.timeout,
                      memory_size=args.memory_size, region=args.region,
                      account_id=args.account_id, concurrency=args.concurrency)
    host, port = args.listen
    try:
        server = serve(runtime, host, port)
    except OSError as e:
        print("listening on %s:%d: %s" % (host, port, e), file=sys.stderr)
        return 1
    bound = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("%d\n" % bound)
        os.replace(tmp, args.port_file)
    print("lambda_runtime: %s serving http://%s:%d%s" % (args.handler, host, bound, INVOKE_PATH),
          file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0
