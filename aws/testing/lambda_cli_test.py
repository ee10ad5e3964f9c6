"""Lambda's event-source-mapping API driven by Debian's AWS CLI v2 (/usr/bin/aws), as a user types
it: `aws lambda ... --endpoint-url http://127.0.0.1:PORT` against the real `tributary serve`,
credentials and region from the environment, no config files read from $HOME. The CLI v2 bundles
its own botocore (newer than Debian's boto3), so its serializer, paginator and error parsing are
exercised too. Functions are created with tribctl (Lambda's CreateFunction is not served here).

Run by //aws/testing:lambda_cli_test from the runfiles root.
"""

import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.config  # noqa: E402

import tributary_aws  # noqa: E402

AWS = "/usr/bin/aws"
TRIBCTL = "tools/tribctl/tribctl"
COMMAND_GUARD_SECONDS = 120  # a failure guard only
STATE_GUARD_SECONDS = 60  # a failure guard only: the tracker settles a change within a pass
ORDERS_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
PAYMENTS_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/payments"


class LambdaCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        cls.env = tributary_aws.client_environment(cls.server.work)
        # Waiting for the tracker to settle a state polls with boto3 (in process, fast); what is
        # tested is always the CLI's own call.
        tributary_aws.isolate_botocore(cls.server.work)
        cls.poller = boto3.session.Session(
            aws_access_key_id=tributary_aws.ACCESS_KEY,
            aws_secret_access_key=tributary_aws.SECRET_KEY,
            region_name=tributary_aws.REGION).client(
                "lambda", endpoint_url=cls.server.endpoint,
                config=botocore.config.Config(retries={"total_max_attempts": 1},
                                              connect_timeout=30, read_timeout=60))
        for stream in ("orders", "payments"):
            cls.run_aws(None, "kinesis", "create-stream", "--stream-name", stream,
                        "--shard-count", "1")
        for function in ("f", "g", "h"):
            result = subprocess.run(
                [os.path.join(os.getcwd(), TRIBCTL), "--endpoint=" + cls.server.grpc_address(),
                 "functions", "create", "--function-name", function, "--function-endpoint",
                 "127.0.0.1:1"],
                capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)
            assert result.returncode == 0, result.stdout + result.stderr

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    @classmethod
    def run_aws(cls, test, service, *args):
        """Runs `aws SERVICE ARGS`; returns (exit status, parsed JSON output or None, stderr)."""
        result = subprocess.run(
            [AWS, service, *args, "--endpoint-url", cls.server.endpoint, "--output", "json",
             "--cli-read-timeout", "60", "--cli-connect-timeout", "30"],
            env=cls.env, capture_output=True, text=True, timeout=COMMAND_GUARD_SECONDS)
        if test is None and result.returncode != 0:
            raise AssertionError(result.stderr)
        output = json.loads(result.stdout) if result.stdout.strip() else None
        return result.returncode, output, result.stderr

    def aws(self, *args):
        """Runs `aws lambda ARGS`, which must succeed; returns its JSON output (or None)."""
        status, output, stderr = self.run_aws(self, "lambda", *args)
        self.assertEqual(status, 0, stderr)
        return output

    def aws_error(self, code, *args):
        """Runs `aws lambda ARGS`, which must fail with AWS error `code`; returns stderr."""
        status, _, stderr = self.run_aws(self, "lambda", *args)
        self.assertEqual(status, 254, stderr)  # the CLI's exit status for a service error
        self.assertIn("An error occurred (%s)" % code, stderr)
        return stderr

    def wait_for_state(self, uuid, state):
        deadline = time.monotonic() + STATE_GUARD_SECONDS
        seen = None
        while time.monotonic() < deadline:
            seen = self.poller.get_event_source_mapping(UUID=uuid)["State"]
            if seen == state:
                return
            time.sleep(0.05)
        self.fail("mapping %s still %s, not %s" % (uuid, seen, state))

    def delete_and_wait(self, uuid):
        self.assertEqual(self.aws("delete-event-source-mapping", "--uuid", uuid)["State"],
                         "Deleting")
        deadline = time.monotonic() + STATE_GUARD_SECONDS
        while time.monotonic() < deadline:
            try:
                self.poller.get_event_source_mapping(UUID=uuid)
            except self.poller.exceptions.ResourceNotFoundException:
                return
            time.sleep(0.05)
        self.fail("mapping %s was not removed" % uuid)

    def test_the_cli_is_the_v2_cli(self):
        version = subprocess.run([AWS, "--version"], env=self.env, capture_output=True,
                                 text=True, timeout=COMMAND_GUARD_SECONDS).stdout
        self.assertTrue(version.startswith("aws-cli/2."), version)

    def test_the_issues_command_and_a_mappings_life(self):
        created = self.aws("create-event-source-mapping", "--function-name", "f",
                           "--event-source-arn", ORDERS_ARN, "--starting-position",
                           "TRIM_HORIZON")
        uuid = created["UUID"]
        self.assertEqual(created["State"], "Creating")
        self.assertEqual(created["EventSourceArn"], ORDERS_ARN)
        self.assertEqual(created["FunctionArn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:f")
        self.assertEqual(created["BatchSize"], 100)  # Lambda's default, the tracker's
        self.wait_for_state(uuid, "Enabled")

        updated = self.aws("update-event-source-mapping", "--uuid", uuid, "--batch-size", "50",
                           "--maximum-retry-attempts", "2", "--bisect-batch-on-function-error",
                           "--function-response-types", "ReportBatchItemFailures",
                           "--filter-criteria", '{"Filters": [{"Pattern": "{\\"data\\": '
                           '{\\"k\\": [1]}}"}]}')
        self.assertEqual(updated["State"], "Updating")
        self.assertEqual(updated["BatchSize"], 50)
        self.assertEqual(updated["MaximumRetryAttempts"], 2)
        self.assertTrue(updated["BisectBatchOnFunctionError"])
        self.assertEqual(updated["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(len(updated["FilterCriteria"]["Filters"]), 1)
        self.wait_for_state(uuid, "Enabled")

        cleared = self.aws("update-event-source-mapping", "--uuid", uuid, "--filter-criteria",
                           "{}")
        self.assertNotIn("FilterCriteria", cleared)
        self.wait_for_state(uuid, "Enabled")
        self.assertEqual(self.aws("update-event-source-mapping", "--uuid", uuid,
                                  "--no-enabled")["State"], "Disabling")
        self.wait_for_state(uuid, "Disabled")
        self.assertEqual(self.aws("update-event-source-mapping", "--uuid", uuid,
                                  "--enabled")["State"], "Enabling")
        self.wait_for_state(uuid, "Enabled")
        self.assertEqual(self.aws("get-event-source-mapping", "--uuid", uuid)["BatchSize"], 50)
        self.delete_and_wait(uuid)

    def test_list_follows_next_marker_and_max_items_pages(self):
        uuids = {self.aws("create-event-source-mapping", "--function-name", name,
                          "--event-source-arn", PAYMENTS_ARN, "--starting-position",
                          "LATEST")["UUID"] for name in ("f", "g", "h")}
        try:
            # --page-size 1: the CLI asks one mapping a page and follows NextMarker to the end.
            listed = self.aws("list-event-source-mappings", "--event-source-arn", PAYMENTS_ARN,
                              "--page-size", "1")
            self.assertEqual({m["UUID"] for m in listed["EventSourceMappings"]}, uuids)
            # --max-items 2: two, and a token the CLI resumes from.
            first = self.aws("list-event-source-mappings", "--event-source-arn", PAYMENTS_ARN,
                             "--max-items", "2")
            self.assertEqual(len(first["EventSourceMappings"]), 2)
            rest = self.aws("list-event-source-mappings", "--event-source-arn", PAYMENTS_ARN,
                            "--starting-token", first["NextToken"])
            self.assertEqual({m["UUID"] for m in first["EventSourceMappings"] +
                              rest["EventSourceMappings"]}, uuids)
            by_function = self.aws("list-event-source-mappings", "--function-name", "g",
                                   "--event-source-arn", PAYMENTS_ARN)
            self.assertEqual(len(by_function["EventSourceMappings"]), 1)
        finally:
            for uuid in uuids:
                self.delete_and_wait(uuid)

    def test_errors_carry_lambdas_codes(self):
        self.aws_error("ValidationException", "create-event-source-mapping", "--function-name",
                       "f", "--event-source-arn", ORDERS_ARN, "--starting-position", "LATEST",
                       "--batch-size", "20000")
        self.aws_error("ValidationException", "create-event-source-mapping", "--function-name",
                       "f", "--event-source-arn", ORDERS_ARN, "--starting-position", "LATEST",
                       "--tumbling-window-in-seconds", "901")
        self.aws_error("InvalidParameterValueException", "create-event-source-mapping",
                       "--function-name", "f", "--event-source-arn",
                       "arn:aws:kinesis:us-east-1:000000000000:stream/nope",
                       "--starting-position", "LATEST")
        self.aws_error("InvalidParameterValueException", "create-event-source-mapping",
                       "--function-name", "f", "--event-source-arn", ORDERS_ARN,
                       "--starting-position", "LATEST", "--maximum-record-age-in-seconds", "30")
        self.aws_error("ResourceNotFoundException", "create-event-source-mapping",
                       "--function-name", "nope", "--event-source-arn", ORDERS_ARN,
                       "--starting-position", "LATEST")
        self.aws_error("ResourceNotFoundException", "get-event-source-mapping", "--uuid",
                       "00000000-0000-4000-8000-000000000000")
        uuid = self.aws("create-event-source-mapping", "--function-name", "h",
                        "--event-source-arn", ORDERS_ARN, "--starting-position",
                        "LATEST")["UUID"]
        stderr = self.aws_error("ResourceConflictException", "create-event-source-mapping",
                                "--function-name", "h", "--event-source-arn", ORDERS_ARN,
                                "--starting-position", "LATEST")
        self.assertIn(uuid, stderr)
        self.delete_and_wait(uuid)

    def test_functions_and_concurrency(self):
        names = [f["FunctionName"] for f in
                 self.aws("list-functions", "--page-size", "1")["Functions"]]
        self.assertEqual(names, ["f", "g", "h"])
        configuration = self.aws("get-function", "--function-name", "g")["Configuration"]
        self.assertEqual(configuration["FunctionArn"],
                         "arn:aws:lambda:us-east-1:000000000000:function:g")
        self.assertEqual(configuration["Timeout"], 3)

        self.assertEqual(self.aws("put-function-concurrency", "--function-name", "g",
                                  "--reserved-concurrent-executions", "3"),
                         {"ReservedConcurrentExecutions": 3})
        self.assertEqual(self.aws("get-function-concurrency", "--function-name", "g"),
                         {"ReservedConcurrentExecutions": 3})
        self.assertEqual(self.aws("get-function", "--function-name", "g")["Concurrency"],
                         {"ReservedConcurrentExecutions": 3})
        self.assertIsNone(self.aws("delete-function-concurrency", "--function-name", "g"))
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.aws("get-function-concurrency", "--function-name", "g") or {})
        self.aws_error("ResourceNotFoundException", "get-function", "--function-name", "nope")


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("lambda_cli_test", LambdaCliTest))
