"""Checks tools/monitoring/ against promtool and a running server.

- the alert rules load (`promtool check rules`) and fire as tributary_alerts_test.yml says
  (`promtool test rules`);
- every expression of the Grafana dashboard parses as PromQL (checked as recording rules by
  promtool, with Grafana's $__rate_interval as 5m);
- every metric the rules and the dashboard name is a family that `tributary serve` exports on
  its /metrics (so a renamed metric fails here, not on an operator's empty graph).
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""),
                    "tools", "monitoring")
ROOT = os.path.dirname(os.path.dirname(HERE))
RULES = os.path.join(HERE, "tributary_alerts.yml")
RULES_TEST = os.path.join(HERE, "tributary_alerts_test.yml")
DASHBOARD = os.path.join(HERE, "tributary_dashboard.json")


def poll_for(what, done, timeout_s=60.0, interval_s=0.1):
    """Calls done() until it returns a true value (returned) or timeout_s passes (a failure guard:
    raises AssertionError naming what was awaited)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("waited %ss for %s" % (timeout_s, what))
        time.sleep(interval_s)


def promtool(*args):
    result = subprocess.run(["promtool"] + list(args), capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def dashboard_exprs():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    exprs = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            exprs.append(target["expr"])
    return exprs


def rule_exprs():
    # The rules file is YAML; its `expr:` values are either one line or a `|` block.
    exprs, block = [], None
    with open(RULES) as f:
        for line in f:
            if block is not None:
                if line.strip() and len(line) - len(line.lstrip()) > block[0]:
                    block[1].append(line.strip())
                    continue
                exprs.append(" ".join(block[1]))
                block = None
            m = re.match(r"^(\s*)expr:\s*(.*)$", line)
            if m:
                if m.group(2).strip() == "|":
                    block = (len(m.group(1)), [])
                else:
                    exprs.append(m.group(2))
    if block is not None:
        exprs.append(" ".join(block[1]))
    return exprs


def metric_names(exprs):
    names = set()
    for e in exprs:
        for name in re.findall(r"\b((?:tributary|process)_[a-z_]+)", e):
            names.add(re.sub(r"_(bucket|sum|count)$", "", name))
    return names


class MonitoringTest(unittest.TestCase):
    def test_alert_rules_load(self):
        code, out = promtool("check", "rules", RULES)
        self.assertEqual(code, 0, out)
        self.assertIn("SUCCESS: 6 rules found", out)

    def test_alerts_fire_as_specified(self):
        code, out = promtool("test", "rules", RULES_TEST)
        self.assertEqual(code, 0, out)
        self.assertIn("SUCCESS", out)

    def test_dashboard_expressions_parse(self):
        exprs = dashboard_exprs()
        self.assertGreater(len(exprs), 20)
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, e in enumerate(exprs):
                f.write("      - record: dashboard:expr%d\n        expr: %s\n"
                        % (i, json.dumps(e.replace("$__rate_interval", "5m"))))
        code, out = promtool("check", "rules", f.name)
        self.assertEqual(code, 0, out)
        self.assertIn("SUCCESS: %d rules found" % len(exprs), out)

    def test_every_named_metric_is_exported(self):
        tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        log = open(os.path.join(tmp, "log"), "w")
        server = subprocess.Popen(
            [os.path.join(ROOT, "tools", "tributary", "tributary"), "serve",
             "--data_dir=" + os.path.join(tmp, "data"), "--listen=127.0.0.1:0",
             "--port_file=" + os.path.join(tmp, "port"), "--metrics_listen=127.0.0.1:0",
             "--metrics_port_file=" + os.path.join(tmp, "metrics_port")],
            stdout=log, stderr=log)
        try:
            path = os.path.join(tmp, "metrics_port")
            port = poll_for("the metrics port file", lambda: os.path.exists(path) and
                            open(path).read().strip())
            text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port,
                                          timeout=30).read().decode()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        named = metric_names(dashboard_exprs()) | metric_names(rule_exprs())
        self.assertGreater(len(named), 25)
        self.assertEqual(sorted(named - families), [], "named but not exported")


if __name__ == "__main__":
    unittest.main()
