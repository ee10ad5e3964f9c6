"""Shared by the AWS front door's Python tests: start the real `tributary serve` with
--aws_listen=127.0.0.1:0, learn the port from --aws_port_file, give clients a hermetic
environment (dummy credentials, no config files from $HOME), send raw signed requests, and write
JUnit XML for tools/test.sh.

Run from the runfiles root (aws/testing/py_test.sh does that).
"""

import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from xml.sax.saxutils import quoteattr

import botocore.auth
import botocore.awsrequest
import botocore.credentials

STARTUP_GUARD_SECONDS = 60  # a failure guard only: a healthy start takes about a second
REGION = "us-east-1"
ACCOUNT = "000000000000"
ACCESS_KEY = "AKIDTRIBUTARYTEST"
SECRET_KEY = "not-a-secret"


TRIBUTARY = ["tools/tributary/tributary", "serve"]
SHARD_STORE_SERVER = ["shard_store/shard_store_server"]


class Tributary:
    """A running server with the AWS front door on a free loopback port: `tributary serve` by
    default, or `command` (a runfiles path and its leading arguments)."""

    def __init__(self, extra_flags=(), command=TRIBUTARY):
        self.work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        binary = os.path.join(os.getcwd(), command[0])
        port_file = os.path.join(self.work, "aws_port")
        self.grpc_port_file = os.path.join(self.work, "grpc_port")
        self.log_path = os.path.join(self.work, "serve.log")
        self.process = subprocess.Popen(
            [binary] + list(command[1:]) + [
                "--data_dir=" + os.path.join(self.work, "data"),
                "--listen=127.0.0.1:0", "--aws_listen=127.0.0.1:0",
                "--aws_port_file=" + port_file,
                "--port_file=" + self.grpc_port_file] + list(extra_flags),
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"))
        self.port = self._wait_for_port_file(port_file)
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def _wait_for_port_file(self, path):
        deadline = time.monotonic() + STARTUP_GUARD_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("the server exited with %d:\n%s"
                                     % (self.process.returncode, self.log()))
            try:
                with open(path) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
        raise AssertionError("the server wrote no AWS port file:\n" + self.log())

    def grpc_address(self):
        """host:port of the server's gRPC services (its --port_file is written just after the AWS
        port file)."""
        return "127.0.0.1:%d" % self._wait_for_port_file(self.grpc_port_file)

    def log(self):
        with open(self.log_path) as f:
            return f.read()[-5000:]

    def stop(self):
        """Stops with SIGTERM and returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)

    def stop_checked(self):
        """Stops with SIGTERM and fails unless the server exited cleanly (a crash or a hang at
        shutdown is a defect the test must report, whatever its cases said)."""
        status = self.stop()
        if status != 0:
            raise AssertionError("the server exited with %d:\n%s" % (status, self.log()))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


# botocore model extras (AWS_DATA_PATH) for the operations Debian's clients predate.
MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


def client_environment(work):
    """Environment for AWS clients: dummy credentials and region, no config or credentials files
    read from $HOME, and the model extras of MODELS (TagResource, UntagResource,
    ListTagsForResource, which Debian's botocore 1.29 and AWS CLI 2.9 predate)."""
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("AWS_"):
            del env[key]
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.path.join(work, "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "no-aws-credentials"),
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DATA_PATH": MODELS,
        "HOME": work,
    })
    return env


def isolate_botocore(work):
    """Points botocore (in this process) away from $HOME's config files."""
    for key, value in client_environment(work).items():
        if key.startswith("AWS_"):
            os.environ[key] = value


def session():
    """A boto3 session with the test credentials and region."""
    import boto3  # here: the AWS CLI's tests import this module without needing boto3
    return boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                 region_name=REGION)


def client_config(connect_timeout=30, read_timeout=60):
    """One attempt per call, so a test sees every error as the server sent it; the timeouts are
    failure guards."""
    import botocore.config
    return botocore.config.Config(retries={"total_max_attempts": 1},
                                  connect_timeout=connect_timeout, read_timeout=read_timeout)


def clients(endpoint, *services, **timeouts):
    """A boto3 client of each of `services` ("dynamodb", "kinesis", ...) on `endpoint`, with the
    test credentials and client_config(**timeouts)."""
    s, config = session(), client_config(**timeouts)
    return [s.client(name, endpoint_url=endpoint, config=config) for name in services]


def resource(endpoint, service, **timeouts):
    """boto3's resource API of `service` on `endpoint`, as clients() configures them."""
    return session().resource(service, endpoint_url=endpoint, config=client_config(**timeouts))


def signed_request(endpoint, target, body, content_type="application/x-amz-json-1.1",
                   sign=True, headers=None, secret=SECRET_KEY):
    """POSTs `body` (bytes) to the front door as an SDK would (SigV4 by botocore's signer) and
    returns (HTTP status, headers, body bytes). A reply with an error status is returned too."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=endpoint + "/", data=body,
        headers=dict({"Content-Type": content_type, "X-Amz-Target": target}, **(headers or {})))
    if sign:
        credentials = botocore.credentials.Credentials(ACCESS_KEY, secret)
        botocore.auth.SigV4Auth(credentials, "kinesis", REGION).add_auth(request)
    prepared = request.prepare()
    http_request = urllib.request.Request(prepared.url, data=prepared.body,
                                          headers=dict(prepared.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(http_request, timeout=STARTUP_GUARD_SECONDS) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def json_error(body):
    """The (__type, message) of a JSON error body."""
    parsed = json.loads(body)
    return parsed.get("__type"), parsed.get("message")


def run_suites(suite_name, *cases):
    """Runs the unittest cases and writes JUnit XML where Bazel asks; returns the exit code."""
    suite = unittest.TestSuite()
    for case in cases:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    test_ids = [t.id() for t in suite]
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if os.environ.get("XML_OUTPUT_FILE"):
        failed = {t.id(): m for t, m in result.failures + result.errors}
        lines = []
        for test_id in sorted(test_ids):
            body = ""
            if test_id in failed:
                body = "<failure message=%s/>" % quoteattr(failed[test_id][-2000:])
            lines.append('  <testcase name=%s classname=%s status="run">%s</testcase>'
                         % (quoteattr(test_id.split(".")[-1]),
                            quoteattr(test_id.split(".")[-2]), body))
        with open(os.environ["XML_OUTPUT_FILE"], "w") as out:
            out.write('<?xml version="1.0"?>\n<testsuites><testsuite name=%s tests="%d" '
                      'failures="%d">\n%s\n</testsuite></testsuites>\n'
                      % (quoteattr(suite_name), len(test_ids), len(failed), "\n".join(lines)))
    return 0 if result.wasSuccessful() else 1
