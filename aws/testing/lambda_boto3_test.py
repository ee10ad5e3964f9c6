"""Lambda's event-source-mapping API on the AWS front door, driven by Debian's boto3 lambda client
(a client nobody here wrote) against the real `tributary serve --aws_listen=127.0.0.1:0`: create,
get, list with paging (by hand and with botocore's paginator), update, disable/enable, delete,
every validation error with the code a boto3 user branches on, ListFunctions, GetFunction and
the concurrency calls. Functions are created with tribctl (they are endpoints, not code: Lambda's
CreateFunction is not served). Also: a standalone shard_store_server answers Lambda's routes with
501 unless --stream_tracker names a tracker, and signatures are verified for the service name
"lambda".

Run by //aws/testing:lambda_boto3_test from the runfiles root.
"""

import datetime
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402

TRIBCTL = "tools/tribctl/tribctl"
STATE_GUARD_SECONDS = 60  # a failure guard only: the tracker settles a change within a pass
ACCOUNT = tributary_aws.ACCOUNT
REGION = tributary_aws.REGION
FUNCTION_ENDPOINT = "127.0.0.1:1"  # never invoked: the streams stay empty


def stream_arn(name):
    return "arn:aws:kinesis:%s:%s:stream/%s" % (REGION, ACCOUNT, name)


def function_arn(name):
    return "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)


def error_code(error):
    return error.response["Error"]["Code"]


def tribctl(server, *args):
    """Runs tribctl against the server's gRPC port; fails the test on a non-zero exit."""
    result = subprocess.run(
        [os.path.join(os.getcwd(), TRIBCTL), "--endpoint=" + server.grpc_address(), *args],
        capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError("tribctl %s: %s%s" % (" ".join(args), result.stdout, result.stderr))
    return result.stdout


def clients(server, parameter_validation=True):
    session = boto3.session.Session(aws_access_key_id=tributary_aws.ACCESS_KEY,
                                    aws_secret_access_key=tributary_aws.SECRET_KEY,
                                    region_name=REGION)
    config = botocore.config.Config(
        retries={"total_max_attempts": 1},  # every error is seen as the server sent it
        connect_timeout=30, read_timeout=60,  # failure guards
        parameter_validation=parameter_validation)
    return (session.client("lambda", endpoint_url=server.endpoint, config=config),
            session.client("kinesis", endpoint_url=server.endpoint, config=config))


class LambdaBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)
        cls.lam, cls.kinesis = clients(cls.server)
        # Without botocore's own checks (min values), so that the server's errors are reached.
        cls.unchecked, _ = clients(cls.server, parameter_validation=False)
        for stream in ("orders", "payments", "refunds", "dlq"):
            cls.kinesis.create_stream(StreamName=stream, ShardCount=1)
        for function in ("f", "g", "h", "lister-a", "lister-b", "lister-c"):
            tribctl(cls.server, "functions", "create", "--function-name", function,
                    "--function-endpoint", FUNCTION_ENDPOINT)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def create(self, function="f", stream="orders", client=None, **members):
        members.setdefault("StartingPosition", "TRIM_HORIZON")
        return (client or self.lam).create_event_source_mapping(
            FunctionName=function, EventSourceArn=stream_arn(stream), **members)

    def wait_for_state(self, uuid, state):
        deadline = time.monotonic() + STATE_GUARD_SECONDS
        seen = None
        while time.monotonic() < deadline:
            seen = self.lam.get_event_source_mapping(UUID=uuid)["State"]
            if seen == state:
                return
            time.sleep(0.05)
        self.fail("mapping %s still %s, not %s, after %d s" % (uuid, seen, state,
                                                               STATE_GUARD_SECONDS))

    def wait_until_gone(self, uuid):
        deadline = time.monotonic() + STATE_GUARD_SECONDS
        while time.monotonic() < deadline:
            try:
                self.lam.get_event_source_mapping(UUID=uuid)
            except self.lam.exceptions.ResourceNotFoundException:
                return
            time.sleep(0.05)
        self.fail("mapping %s was not removed after %d s" % (uuid, STATE_GUARD_SECONDS))

    def assert_error(self, call, code, status, fragment=None, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            call(**kwargs)
        error = caught.exception
        self.assertEqual(error_code(error), code, error.response)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], status)
        modeled = {shape.name for shape in self.lam.meta.service_model.error_shapes}
        if code in modeled:  # botocore parses a modeled error's members, Type among them
            self.assertEqual(error.response.get("Type"), "User", error.response)
        if fragment is not None:
            self.assertIn(fragment, error.response["Error"]["Message"])
        return error

    # --- the life of a mapping ---------------------------------------------------------------

    def test_create_get_update_disable_enable_delete(self):
        created = self.create(function="g", stream="orders", BatchSize=25,
                              MaximumBatchingWindowInSeconds=1, ParallelizationFactor=2,
                              MaximumRecordAgeInSeconds=3600, BisectBatchOnFunctionError=True,
                              MaximumRetryAttempts=5, TumblingWindowInSeconds=30,
                              FunctionResponseTypes=["ReportBatchItemFailures"],
                              DestinationConfig={"OnFailure": {"Destination": stream_arn("dlq")}},
                              FilterCriteria={"Filters": [{"Pattern": '{"data": {"k": [1]}}'}]})
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 202)
        uuid = created["UUID"]
        self.assertEqual(created["State"], "Creating")
        self.assertEqual(created["StateTransitionReason"], "User action")
        self.assertEqual(created["LastProcessingResult"], "No records processed")
        self.assertEqual(created["EventSourceArn"], stream_arn("orders"))
        self.assertEqual(created["FunctionArn"], function_arn("g"))
        self.assertEqual(created["StartingPosition"], "TRIM_HORIZON")
        self.assertEqual(created["BatchSize"], 25)
        self.assertEqual(created["MaximumBatchingWindowInSeconds"], 1)
        self.assertEqual(created["ParallelizationFactor"], 2)
        self.assertEqual(created["MaximumRecordAgeInSeconds"], 3600)
        self.assertTrue(created["BisectBatchOnFunctionError"])
        self.assertEqual(created["MaximumRetryAttempts"], 5)
        self.assertEqual(created["TumblingWindowInSeconds"], 30)
        self.assertEqual(created["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(created["DestinationConfig"],
                         {"OnFailure": {"Destination": stream_arn("dlq")}})
        self.assertEqual(created["FilterCriteria"],
                         {"Filters": [{"Pattern": '{"data": {"k": [1]}}'}]})
        # LastModified is epoch seconds on the wire; botocore makes it a datetime.
        self.assertIsInstance(created["LastModified"], datetime.datetime)
        age = datetime.datetime.now(datetime.timezone.utc) - created["LastModified"]
        self.assertLess(abs(age.total_seconds()), 300)

        got = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(got["UUID"], uuid)
        self.assertEqual(got["BatchSize"], 25)
        self.wait_for_state(uuid, "Enabled")

        updated = self.lam.update_event_source_mapping(UUID=uuid, BatchSize=50,
                                                       FilterCriteria={},
                                                       DestinationConfig={"OnFailure": {}})
        self.assertEqual(updated["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(updated["State"], "Updating")
        self.assertEqual(updated["BatchSize"], 50)
        self.assertNotIn("FilterCriteria", updated)  # {} removed the filters
        self.assertEqual(updated["DestinationConfig"], {"OnFailure": {}})
        self.assertEqual(updated["ParallelizationFactor"], 2, "what was not given stays")
        self.wait_for_state(uuid, "Enabled")

        disabled = self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.assertEqual(disabled["State"], "Disabling")
        self.wait_for_state(uuid, "Disabled")
        enabled = self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.assertEqual(enabled["State"], "Enabling")
        self.wait_for_state(uuid, "Enabled")

        deleted = self.lam.delete_event_source_mapping(UUID=uuid)
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(deleted["State"], "Deleting")
        self.wait_until_gone(uuid)
        self.assert_error(self.lam.get_event_source_mapping, "ResourceNotFoundException", 404,
                          UUID=uuid)

    def test_an_on_success_stream_is_taken_as_tributarys_extension(self):
        # Lambda refuses OnSuccess for stream sources; Tributary takes a stream here (issue 23).
        created = self.create(function="h", stream="dlq",
                              DestinationConfig={"OnSuccess": {"Destination": stream_arn("refunds")}})
        self.assertEqual(created["DestinationConfig"],
                         {"OnFailure": {}, "OnSuccess": {"Destination": stream_arn("refunds")}})
        uuid = created["UUID"]
        self.wait_for_state(uuid, "Enabled")
        # An update replaces the whole DestinationConfig, as Lambda's.
        updated = self.lam.update_event_source_mapping(
            UUID=uuid, DestinationConfig={"OnFailure": {"Destination": stream_arn("dlq")}})
        self.assertEqual(updated["DestinationConfig"],
                         {"OnFailure": {"Destination": stream_arn("dlq")}})
        self.wait_for_state(uuid, "Enabled")
        self.lam.delete_event_source_mapping(UUID=uuid)
        self.wait_until_gone(uuid)
        self.assert_error(self.create, "InvalidParameterValueException", 400,
                          "destination_config.on_success.destination", function="h", stream="dlq",
                          DestinationConfig={"OnSuccess": {"Destination": stream_arn("nope")}})

    def test_a_mapping_created_disabled_settles_disabled(self):
        created = self.create(function="h", stream="refunds", Enabled=False,
                              StartingPosition="LATEST")
        self.wait_for_state(created["UUID"], "Disabled")
        self.lam.delete_event_source_mapping(UUID=created["UUID"])
        self.wait_until_gone(created["UUID"])

    def test_at_timestamp_keeps_its_timestamp(self):
        when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        created = self.create(function="h", stream="payments", StartingPosition="AT_TIMESTAMP",
                              StartingPositionTimestamp=when)
        self.assertEqual(created["StartingPosition"], "AT_TIMESTAMP")
        self.assertEqual(created["StartingPositionTimestamp"], when)
        self.lam.delete_event_source_mapping(UUID=created["UUID"])
        self.wait_until_gone(created["UUID"])

    def test_list_pages_with_marker_and_filters_by_function_and_stream(self):
        uuids = set()
        for function in ("lister-a", "lister-b", "lister-c"):
            for stream in ("orders", "payments"):
                uuids.add(self.create(function=function, stream=stream)["UUID"])
        try:
            # By hand: MaxItems and Marker, NextMarker until the last page.
            seen, marker, pages = [], None, 0
            while True:
                kwargs = {"MaxItems": 2}
                if marker:
                    kwargs["Marker"] = marker
                page = self.lam.list_event_source_mappings(**kwargs)
                pages += 1
                self.assertLessEqual(len(page["EventSourceMappings"]), 2)
                seen += [m["UUID"] for m in page["EventSourceMappings"]]
                marker = page.get("NextMarker")
                if not marker:
                    break
            self.assertTrue(uuids <= set(seen), (uuids, seen))
            self.assertEqual(len(seen), len(set(seen)), "no mapping twice")
            self.assertGreaterEqual(pages, 3)

            # botocore's paginator follows NextMarker the same way.
            paginator = self.lam.get_paginator("list_event_source_mappings")
            paged = [m["UUID"] for page in paginator.paginate(PaginationConfig={"PageSize": 1})
                     for m in page["EventSourceMappings"]]
            self.assertEqual(paged, seen)

            by_function = self.lam.list_event_source_mappings(FunctionName="lister-b")
            self.assertEqual({m["FunctionArn"] for m in by_function["EventSourceMappings"]},
                             {function_arn("lister-b")})
            self.assertEqual(len(by_function["EventSourceMappings"]), 2)
            by_arn = self.lam.list_event_source_mappings(FunctionName=function_arn("lister-b"))
            self.assertEqual(by_arn["EventSourceMappings"], by_function["EventSourceMappings"])
            both = self.lam.list_event_source_mappings(FunctionName="lister-c",
                                                       EventSourceArn=stream_arn("payments"))
            self.assertEqual(len(both["EventSourceMappings"]), 1)
            self.assertEqual(both["EventSourceMappings"][0]["EventSourceArn"],
                             stream_arn("payments"))
            elsewhere = self.lam.list_event_source_mappings(
                EventSourceArn="arn:aws:kinesis:eu-west-1:%s:stream/orders" % ACCOUNT)
            self.assertEqual(elsewhere["EventSourceMappings"], [])
        finally:
            for uuid in uuids:
                self.lam.delete_event_source_mapping(UUID=uuid)
            for uuid in uuids:
                self.wait_until_gone(uuid)

    def test_a_second_mapping_of_a_function_and_stream_is_a_conflict(self):
        first = self.create(function="f", stream="payments")["UUID"]
        error = self.assert_error(self.create, "ResourceConflictException", 409, first,
                                  function=function_arn("f"), stream="payments")
        self.assertIsInstance(error, self.lam.exceptions.ResourceConflictException)
        other = self.create(function="f", stream="refunds")["UUID"]  # another stream is fine
        g_on_payments = self.create(function="g", stream="payments")["UUID"]
        self.assert_error(self.lam.update_event_source_mapping, "ResourceConflictException", 409,
                          first, UUID=g_on_payments, FunctionName="f")
        self.lam.delete_event_source_mapping(UUID=first)
        again = self.create(function="f", stream="payments")["UUID"]  # the old one is going
        for uuid in (other, again, g_on_payments):
            self.lam.delete_event_source_mapping(UUID=uuid)
        for uuid in (first, other, again, g_on_payments):
            self.wait_until_gone(uuid)

    # --- errors --------------------------------------------------------------------------------

    def test_values_outside_the_models_ranges_are_validation_exception(self):
        for member, value in (("BatchSize", 0), ("BatchSize", 10001),
                              ("MaximumBatchingWindowInSeconds", -1),
                              ("MaximumBatchingWindowInSeconds", 301),
                              ("ParallelizationFactor", 0), ("ParallelizationFactor", 11),
                              ("MaximumRecordAgeInSeconds", -2),
                              ("MaximumRecordAgeInSeconds", 604801),
                              ("MaximumRetryAttempts", -2), ("MaximumRetryAttempts", 10001),
                              ("TumblingWindowInSeconds", -1), ("TumblingWindowInSeconds", 901)):
            with self.subTest(member=member, value=value):
                wire_name = member[0].lower() + member[1:]
                self.assert_error(self.create, "ValidationException", 400,
                                  "Value '%d' at '%s'" % (value, wire_name),
                                  client=self.unchecked, **{member: value})
                self.assert_error(self.unchecked.update_event_source_mapping,
                                  "ValidationException", 400, UUID="any", **{member: value})
        for kwargs in ({"StartingPosition": "OLDEST"},
                       {"FunctionResponseTypes": ["Everything"]}):
            self.assert_error(self.create, "ValidationException", 400, client=self.unchecked,
                              **kwargs)
        self.assert_error(self.unchecked.create_event_source_mapping, "ValidationException", 400,
                          "'functionName'", FunctionName="a b",
                          EventSourceArn=stream_arn("orders"), StartingPosition="LATEST")
        self.assert_error(self.unchecked.create_event_source_mapping, "ValidationException", 400,
                          "'eventSourceArn'", FunctionName="f", EventSourceArn="orders",
                          StartingPosition="LATEST")
        self.assert_error(self.unchecked.list_event_source_mappings, "ValidationException", 400,
                          "'maxItems'", MaxItems=0)
        self.assert_error(self.unchecked.list_functions, "ValidationException", 400, MaxItems=0)
        self.assert_error(self.unchecked.put_function_concurrency, "ValidationException", 400,
                          FunctionName="f", ReservedConcurrentExecutions=-1)

    def test_what_the_tracker_refuses_is_invalid_parameter_value(self):
        for kwargs, fragment in (
                ({"stream": "nope"}, "nope"),
                ({"MaximumRecordAgeInSeconds": 30}, "maximum_record_age_in_seconds"),
                ({"StartingPosition": "AT_TIMESTAMP"}, "starting_position_timestamp"),
                ({"FilterCriteria": {"Filters": [{"Pattern": "not json"}]}}, "filter"),
                ({"DestinationConfig": {"OnFailure": {"Destination": stream_arn("nope")}}},
                 "nope"),
                ({"function": "arn:aws:lambda:eu-west-1:%s:function:f" % ACCOUNT}, "function"),
                ({"function": "f:1"}, "function")):
            with self.subTest(kwargs=kwargs):
                self.assert_error(self.create, "InvalidParameterValueException", 400, fragment,
                                  **kwargs)
        for arn in ("arn:aws:sqs:%s:%s:queue" % (REGION, ACCOUNT),
                    "arn:aws:kinesis:eu-west-1:%s:stream/orders" % ACCOUNT,
                    stream_arn("orders") + "/consumer/c:1"):
            with self.subTest(arn=arn):
                self.assert_error(self.lam.create_event_source_mapping,
                                  "InvalidParameterValueException", 400, arn, FunctionName="f",
                                  EventSourceArn=arn, StartingPosition="LATEST")
        self.assert_error(self.create, "InvalidParameterValueException", 400, "Queues",
                          Queues=["q"])
        self.assertEqual(
            self.lam.list_event_source_mappings(FunctionName="f")["EventSourceMappings"], [],
            "nothing was created")

    def test_unknown_functions_and_mappings_are_resource_not_found(self):
        error = self.assert_error(self.create, "ResourceNotFoundException", 404, "nope",
                                  function="nope")
        self.assertIsInstance(error, self.lam.exceptions.ResourceNotFoundException)
        self.assertIn("nope", error.response["Message"])  # the model's member, as botocore parses
        uuid = "00000000-0000-4000-8000-000000000000"
        self.assert_error(self.lam.get_event_source_mapping, "ResourceNotFoundException", 404,
                          UUID=uuid)
        self.assert_error(self.lam.update_event_source_mapping, "ResourceNotFoundException", 404,
                          UUID=uuid, BatchSize=5)
        self.assert_error(self.lam.delete_event_source_mapping, "ResourceNotFoundException", 404,
                          UUID=uuid)
        self.assert_error(self.lam.get_function, "ResourceNotFoundException", 404,
                          FunctionName="nope")
        self.assert_error(self.lam.put_function_concurrency, "ResourceNotFoundException", 404,
                          FunctionName="nope", ReservedConcurrentExecutions=1)
        self.assert_error(self.lam.get_function_concurrency, "ResourceNotFoundException", 404,
                          FunctionName="nope")
        self.assert_error(self.lam.delete_function_concurrency, "ResourceNotFoundException", 404,
                          FunctionName="nope")

    def test_create_function_is_not_served_and_says_why(self):
        self.assert_error(self.unchecked.create_function, "UnknownOperationException", 404,
                          "tribctl functions", FunctionName="z", Role="r", Code={})

    # --- functions and concurrency ----------------------------------------------------------------

    def test_list_functions_pages_and_get_function_shows_configuration(self):
        names, marker = [], None
        while True:
            page = self.lam.list_functions(MaxItems=2, **({"Marker": marker} if marker else {}))
            self.assertLessEqual(len(page["Functions"]), 2)
            names += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertTrue({"f", "g", "h", "lister-a", "lister-b", "lister-c"} <= set(names), names)
        self.assertEqual(names, sorted(names))
        paged = [f["FunctionName"] for page in
                 self.lam.get_paginator("list_functions").paginate(
                     PaginationConfig={"PageSize": 4}) for f in page["Functions"]]
        self.assertEqual(paged, names)

        for name in ("f", function_arn("f")):
            got = self.lam.get_function(FunctionName=name)
            configuration = got["Configuration"]
            self.assertEqual(configuration["FunctionName"], "f")
            self.assertEqual(configuration["FunctionArn"], function_arn("f"))
            self.assertEqual(configuration["Timeout"], 3)  # Lambda's default
            self.assertEqual(configuration["Version"], "$LATEST")
            self.assertRegex(configuration["LastModified"],
                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")

    def test_concurrency_is_put_read_and_deleted(self):
        tribctl(self.server, "functions", "create", "--function-name", "conc",
                "--function-endpoint", FUNCTION_ENDPOINT)
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.lam.get_function_concurrency(FunctionName="conc"))
        self.assertNotIn("Concurrency", self.lam.get_function(FunctionName="conc"))
        put = self.lam.put_function_concurrency(FunctionName="conc",
                                                ReservedConcurrentExecutions=7)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(put["ReservedConcurrentExecutions"], 7)
        self.assertEqual(
            self.lam.get_function_concurrency(FunctionName=function_arn("conc"))
            ["ReservedConcurrentExecutions"], 7)
        self.assertEqual(self.lam.get_function(FunctionName="conc")["Concurrency"],
                         {"ReservedConcurrentExecutions": 7})
        deleted = self.lam.delete_function_concurrency(FunctionName="conc")
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.lam.get_function_concurrency(FunctionName="conc"))
        self.assertIn("-", tribctl(self.server, "functions", "get", "--function-name", "conc"))


class LambdaOnShardStoreServerTest(unittest.TestCase):
    """A standalone shard_store_server's front door serves Lambda's API only with
    --stream_tracker: without it every Lambda route says so (501); with it the calls reach that
    tracker (here, the one of a `tributary serve`)."""

    @classmethod
    def setUpClass(cls):
        cls.tracker_host = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.tracker_host.work)
        tribctl(cls.tracker_host, "functions", "create", "--function-name", "remote-f",
                "--function-endpoint", FUNCTION_ENDPOINT)

    @classmethod
    def tearDownClass(cls):
        cls.tracker_host.stop_checked()

    def test_without_stream_tracker_lambda_routes_answer_501(self):
        store = tributary_aws.Tributary(command=tributary_aws.SHARD_STORE_SERVER)
        try:
            lam, kinesis = clients(store)
            with self.assertRaises(botocore.exceptions.ClientError) as caught:
                lam.list_functions()
            self.assertEqual(error_code(caught.exception), "UnknownOperationException")
            self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 501)
            self.assertIn("--stream_tracker", caught.exception.response["Error"]["Message"])
            self.assertEqual(kinesis.list_streams()["StreamNames"], [], "Kinesis still served")
        finally:
            store.stop_checked()

    def test_with_stream_tracker_lambda_calls_reach_that_tracker(self):
        store = tributary_aws.Tributary(
            command=tributary_aws.SHARD_STORE_SERVER,
            extra_flags=["--stream_tracker=" + self.tracker_host.grpc_address()])
        try:
            lam, _ = clients(store)
            names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
            self.assertEqual(names, ["remote-f"])
        finally:
            store.stop_checked()


class LambdaSignatureTest(unittest.TestCase):
    """With --aws_credentials_file, Lambda's requests are verified for the service name
    "lambda", as boto3 signs them; a wrong secret is InvalidSignatureException (403)."""

    @classmethod
    def setUpClass(cls):
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        credentials = os.path.join(directory, "credentials")
        with open(credentials, "w") as f:
            f.write("[operator]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (tributary_aws.ACCESS_KEY, tributary_aws.SECRET_KEY))
        cls.server = tributary_aws.Tributary(extra_flags=["--aws_credentials_file=" + credentials])
        tributary_aws.isolate_botocore(cls.server.work)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def test_signed_calls_pass_and_a_wrong_secret_is_refused(self):
        lam, _ = clients(self.server)
        self.assertEqual(lam.list_functions()["Functions"], [])
        wrong = boto3.session.Session(
            aws_access_key_id=tributary_aws.ACCESS_KEY, aws_secret_access_key="wrong",
            region_name=REGION).client(
                "lambda", endpoint_url=self.server.endpoint,
                config=botocore.config.Config(retries={"total_max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            wrong.list_functions()
        self.assertEqual(error_code(caught.exception), "InvalidSignatureException")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("lambda_boto3_test", LambdaBoto3Test,
                                      LambdaOnShardStoreServerTest, LambdaSignatureTest))
