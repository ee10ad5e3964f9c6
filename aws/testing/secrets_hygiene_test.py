"""Secrets stay secret (issue 21): a full scripted session against the real `tributary serve`
with TLS on every port, bearer tokens, SigV4 verification and a policy — good and bad tokens
through tribctl, good and bad signatures through boto3 over HTTPS, /metrics over HTTPS — with
its log in a file; then the log, the audit log, /metrics and every error message are searched
for each secret (the SigV4 secret keys, the bearer tokens, the TLS private key), and the files
the server created (its data, where the iterator HMAC key lives, and the audit log) are checked
to be readable by their owner only.

Run by //aws/testing:secrets_hygiene_test from the runfiles root.
"""

import hashlib
import os
import ssl
import stat
import subprocess
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

import tributary_aws  # noqa: E402

TRIBCTL = os.path.join(os.getcwd(), "tools/tribctl/tribctl")
DEV_CERTS = os.path.join(os.getcwd(), "tools/dev_certs.sh")
GUARD_SECONDS = 120  # failure guards only

SIGV4_SECRET = "sigv4-Secret/Key+7f3e9a1c"
WRONG_SIGV4_SECRET = "sigv4-Guessed/Key+0000"
USER_TOKEN = "bearer-user-token-5b2d8e"
WRONG_TOKEN = "bearer-wrong-token-9c4a1f"
SERVE_TOKEN = "bearer-serve-token-e61d07"


class SecretsHygieneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        certs = os.path.join(cls.dir, "certs")
        subprocess.run([DEV_CERTS, certs], check=True, capture_output=True, timeout=GUARD_SECONDS)
        cls.ca = os.path.join(certs, "ca.pem")
        with open(os.path.join(certs, "server.key")) as f:
            # A line of the key's base64 body: never in any output.
            cls.key_line = [l for l in f.read().splitlines() if l and not l.startswith("-")][0]
        p = lambda name: os.path.join(cls.dir, name)  # noqa: E731
        with open(p("credentials"), "w") as f:
            f.write("[producer]\naws_access_key_id = AKIAPRODUCER\n"
                    "aws_secret_access_key = %s\n" % SIGV4_SECRET)
        with open(p("tokens"), "w") as f:
            f.write("%s tributary\n%s operator\n" % (
                hashlib.sha256(SERVE_TOKEN.encode()).hexdigest(),
                hashlib.sha256(USER_TOKEN.encode()).hexdigest()))
        with open(p("own_token"), "w") as f:
            f.write(SERVE_TOKEN + "\n")
        with open(p("policy.json"), "w") as f:
            f.write('{"Statement": [{"Effect": "Allow", "Principal": ["tributary", "operator", '
                    '"producer"], "Action": "*", "Resource": "*"}]}')
        cls.audit = p("audit.log")
        cls.metrics_port_file = p("metrics_port")
        cls.server = tributary_aws.Tributary(extra_flags=[
            "--tls_cert=" + os.path.join(certs, "server.pem"),
            "--tls_key=" + os.path.join(certs, "server.key"),
            "--tls_ca=" + cls.ca,
            "--auth_tokens_file=" + p("tokens"),
            "--auth_token_file=" + p("own_token"),
            "--aws_credentials_file=" + p("credentials"),
            "--policy_file=" + p("policy.json"),
            "--audit_log=" + cls.audit,
            "--metrics_listen=127.0.0.1:0",
            "--metrics_port_file=" + cls.metrics_port_file])
        cls.endpoint = cls.server.endpoint.replace("http://", "https://")
        tributary_aws.isolate_botocore(cls.server.work)
        cls.outputs = []  # every message a client saw
        cls.run_session()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    @classmethod
    def tribctl(cls, token, *args):
        result = subprocess.run(
            [TRIBCTL, "--endpoint=" + cls.server.grpc_address(), "--tls-ca=" + cls.ca,
             "--token=" + token] + list(args),
            capture_output=True, text=True, timeout=GUARD_SECONDS)
        cls.outputs.append(result.stdout + result.stderr)
        return result

    @classmethod
    def kinesis(cls, secret):
        session = boto3.session.Session(aws_access_key_id="AKIAPRODUCER",
                                        aws_secret_access_key=secret,
                                        region_name=tributary_aws.REGION)
        return session.client("kinesis", endpoint_url=cls.endpoint, verify=cls.ca,
                              config=botocore.config.Config(retries={"total_max_attempts": 1}))

    @classmethod
    def run_session(cls):
        cls.created = cls.tribctl(USER_TOKEN, "streams", "create", "--stream=orders",
                                  "--shard-count=1")
        cls.refused_token = cls.tribctl(WRONG_TOKEN, "streams", "list")
        good = cls.kinesis(SIGV4_SECRET)
        good.put_record(StreamName="orders", PartitionKey="k", Data=b"payload")
        cls.outputs.append(str(good.list_streams()))
        try:
            cls.kinesis(WRONG_SIGV4_SECRET).list_streams()
            cls.wrong_signature = None
        except botocore.exceptions.ClientError as e:
            cls.wrong_signature = e.response["Error"]["Code"]
            cls.outputs.append(str(e.response))
        with open(cls.metrics_port_file) as f:
            port = int(f.read().strip())
        context = ssl.create_default_context(cafile=cls.ca)
        with urllib.request.urlopen("https://127.0.0.1:%d/metrics" % port, context=context,
                                    timeout=GUARD_SECONDS) as response:
            cls.metrics = response.read().decode()

    def secrets(self):
        return [SIGV4_SECRET, WRONG_SIGV4_SECRET, USER_TOKEN, WRONG_TOKEN, SERVE_TOKEN,
                self.key_line]

    def test_the_session_did_what_it_says(self):
        self.assertEqual(self.created.returncode, 0, self.created.stderr)
        self.assertNotEqual(self.refused_token.returncode, 0)
        self.assertIn("unknown bearer token", self.refused_token.stderr)
        self.assertEqual(self.wrong_signature, "InvalidSignatureException")
        self.assertIn("tributary_", self.metrics)

    def test_no_secret_appears_in_logs_metrics_or_error_messages(self):
        with open(self.server.log_path) as f:
            log = f.read()
        with open(self.audit) as f:
            audit = f.read()
        self.assertIn("AWS front door", log)  # the log is the server's
        for name, text in (("the server's log", log), ("the audit log", audit),
                           ("/metrics", self.metrics),
                           ("the clients' messages", "\n".join(self.outputs))):
            for secret in self.secrets():
                self.assertNotIn(secret, text, "%s shows a secret" % name)

    def test_files_the_server_created_are_its_owners_only(self):
        data = os.path.join(self.server.work, "data")
        checked = 0
        for root, dirs, files in os.walk(data):
            for name in dirs + files:
                path = os.path.join(root, name)
                mode = stat.S_IMODE(os.lstat(path).st_mode)
                self.assertEqual(mode & 0o077, 0, "%s is mode %o" % (path, mode))
                checked += 1
        self.assertGreater(checked, 0)
        self.assertEqual(stat.S_IMODE(os.stat(self.audit).st_mode), 0o600)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("secrets_hygiene_test", SecretsHygieneTest))
