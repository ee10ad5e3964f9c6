"""The web console in a real browser, against a real `tributary serve`.

A scripted scenario (tribctl creates a stream, puts records, maps the stream to the example
function and to a function that is down; creates a table with a change stream, writes an item
and maps the table's stream to the example function), then headless Chromium loads the console
and the test reads what the page shows from its DOM (`chromium --headless --dump-dom`, repeated
until the live refresh shows the expected state or a bound runs out), not from pixels. A screenshot is
saved in $TEST_UNDECLARED_OUTPUTS_DIR. The JSON endpoint's shape is checked on the same server,
and actions (--console_actions) on a second one.

Waits are bounded polls (poll_for); nothing sleeps to pass time.
"""

import html.parser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.join(os.environ.get("TEST_SRCDIR", ""), os.environ.get("TEST_WORKSPACE", ""))
TRIBUTARY = os.path.join(ROOT, "tools", "tributary", "tributary")
TRIBCTL = os.path.join(ROOT, "tools", "tribctl", "tribctl")
FUNCTION = os.path.join(ROOT, "examples", "cpp", "example_function")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RECORDS = 20


def poll_for(what, done, timeout_s=90.0, interval_s=0.2, last_seen=lambda: ""):
    """Calls done() until it returns a true value (returned) or timeout_s of real time passes (a
    failure guard: raises AssertionError saying what was awaited and what was last seen)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("waited %ss for %s; last seen: %s" % (timeout_s, what, last_seen()))
        time.sleep(interval_s)


def read_port(path):
    return poll_for("port file " + path,
                    lambda: os.path.exists(path) and open(path).read().strip())


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], ""

    def all(self):
        yield self
        for c in self.children:
            yield from c.all()

    def find(self, **attrs):
        """Every element below (and including) this one whose attributes hold `attrs`
        (class_ matches one class name; data_x matches data-x)."""
        out = []
        for e in self.all():
            ok = True
            for k, v in attrs.items():
                if k == "class_":
                    ok = ok and v in e.attrs.get("class", "").split()
                elif k == "tag":
                    ok = ok and e.tag == v
                else:
                    ok = ok and e.attrs.get(k.replace("_", "-")) == v
            if ok:
                out.append(e)
        return out

    def first(self, **attrs):
        found = self.find(**attrs)
        return found[0] if found else None

    def content(self):
        return self.text + "".join(c.content() for c in self.children)


class DomBuilder(html.parser.HTMLParser):
    VOID = {"meta", "link", "br", "img", "input", "hr", "polyline"}

    def __init__(self):
        super().__init__()
        self.root = Element("#root", {}, None)
        self.at = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, {k: v or "" for k, v in attrs}, self.at)
        self.at.children.append(e)
        if tag not in self.VOID:
            self.at = e

    def handle_startendtag(self, tag, attrs):
        self.at.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.at))

    def handle_endtag(self, tag):
        e = self.at
        while e is not None and e.tag != tag:
            e = e.parent
        if e is not None and e.parent is not None:
            self.at = e.parent

    def handle_data(self, data):
        self.at.children.append(Text(data, self.at))


class Text(Element):
    def __init__(self, data, parent):
        super().__init__("#text", {}, parent)
        self.text = data


def chromium_args(tmp):
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "chromium-profile"),
            "--window-size=1400,1200", "--virtual-time-budget=5000"]


def dump_dom(url, tmp):
    """The page's DOM after it ran for 5 s of virtual time (two refreshes or more)."""
    result = subprocess.run(chromium_args(tmp) + ["--dump-dom", url], capture_output=True,
                            text=True, timeout=120)
    builder = DomBuilder()
    builder.feed(result.stdout)
    return builder.root, result.stdout


class Server:
    """`tributary serve` with its metrics (and console) port, in a fresh directory."""

    def __init__(self, tmp, extra=()):
        self.tmp = tmp
        self.log = open(os.path.join(tmp, "tributary.log"), "w")
        self.process = subprocess.Popen(
            [TRIBUTARY, "serve", "--data_dir=" + os.path.join(tmp, "data"),
             "--listen=127.0.0.1:0", "--port_file=" + os.path.join(tmp, "port"),
             "--metrics_listen=127.0.0.1:0",
             "--metrics_port_file=" + os.path.join(tmp, "metrics_port"),
             "--lease_duration_ms=3000"] + list(extra),
            stdout=self.log, stderr=self.log)
        self.endpoint = "127.0.0.1:" + read_port(os.path.join(tmp, "port"))
        self.console = "http://127.0.0.1:%s" % read_port(os.path.join(tmp, "metrics_port"))

    def tribctl(self, *args, stdin=None):
        result = subprocess.run([TRIBCTL, "--endpoint=" + self.endpoint] + list(args),
                                input=stdin, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError("tribctl %s: %s%s" % (" ".join(args), result.stdout,
                                                       result.stderr))
        return result.stdout

    def overview(self):
        with urllib.request.urlopen(self.console + "/api/overview", timeout=30) as r:
            return json.loads(r.read().decode())

    def post(self, path, headers=None, body=b""):
        request = urllib.request.Request(self.console + path, data=body, method="POST",
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


def create_mapping(server, stream, endpoint):
    out = server.tribctl("mappings", "create", "--stream=" + stream,
                         "--function-endpoint=" + endpoint, "--starting-position=TRIM_HORIZON",
                         "--output=json")
    return json.loads(out)["uuid"]


# The document's shape: key -> type (a dict: an object; a one-element list: an array of that;
# a tuple: one of those types, None for null).
NUM = (int, float)
OLDER_STREAM_SHAPE = {
    "arn": str, "label": str, "store_stream": str, "enabled": bool,
    "disabled_at": (str, type(None)), "open_shards": (int, type(None)),
    "closed_shards": (int, type(None)), "changes_per_second": NUM + (type(None),),
    "mappings": [{"uuid": str, "function": str, "state": str}]}
OVERVIEW_SHAPE = {
    "version": str, "generated_at": str, "actions_enabled": bool,
    "streams": [{"name": str, "status": str, "open_shards": int, "closed_shards": int,
                 "records_in_per_second": NUM + (type(None),),
                 "records_out_per_second": NUM + (type(None),)}],
    "streams_truncated": bool,
    "mappings": [{"uuid": str, "stream": str, "function": str, "state": str, "enabled": bool,
                  "state_transition_reason": str, "last_processing_result": str,
                  "last_error": (type(None), {"kind": str, "message": str, "time": str,
                                              "shard": str}),
                  "records_per_second": NUM + (type(None),),
                  "errors_per_second": NUM + (type(None),),
                  "shards": [{"shard_id": str, "owner": str, "lease_counter": int,
                              "checkpoint": str, "iterator_age_ms": (int, type(None)),
                              "iterator_age_history": [NUM], "expired": bool,
                              "assignable": bool, "enabled": bool,
                              "parked_keys": (int, type(None)),
                              "oldest_parked_age_ms": (int, type(None)),
                              "parked_keys_limit_reached": bool}]}],
    "leases_truncated": bool,
    "pollers": [{"id": str, "live": bool, "capacity": int, "lease_count": int,
                 "last_heartbeat": str, "leases": [{"mapping": str, "shard": str}]}],
    "tables": [{"name": str, "status": str, "billing_mode": (str, type(None)), "created": str,
                "partition_key": {"name": str, "type": str},
                "sort_key": (type(None), {"name": str, "type": str}),
                "stream_enabled": bool, "stream_view_type": (str, type(None)),
                "latest_stream": (type(None), {
                    "arn": str, "label": str, "store_stream": str,
                    "open_shards": (int, type(None)), "closed_shards": (int, type(None)),
                    "changes_per_second": NUM + (type(None),),
                    "mappings": [{"uuid": str, "function": str, "state": str}]}),
                "older_streams": [OLDER_STREAM_SHAPE]}],
    "deleted_tables": [{"name": str, "partition_key": {"name": str, "type": str},
                        "sort_key": (type(None), {"name": str, "type": str}),
                        "streams": [OLDER_STREAM_SHAPE]}],
    "tables_truncated": bool,
    "errors": dict,
}


def shape_errors(value, shape, path="$"):
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return ["%s: expected an object, got %r" % (path, value)]
        errors = []
        if shape and set(value) != set(shape):
            errors.append("%s: keys %s, expected %s" % (path, sorted(value), sorted(shape)))
        for k, s in shape.items():
            if k in value:
                errors += shape_errors(value[k], s, path + "." + k)
        return errors
    if isinstance(shape, list):
        if not isinstance(value, list):
            return ["%s: expected an array, got %r" % (path, value)]
        return [e for i, v in enumerate(value) for e in shape_errors(v, shape[0], "%s[%d]" % (path, i))]
    if isinstance(shape, tuple):
        for s in shape:
            if isinstance(s, dict):
                if isinstance(value, dict) and not shape_errors(value, s, path):
                    return []
            elif isinstance(value, s) and not (s is int and isinstance(value, bool)):
                return []
        return ["%s: %r is none of %s" % (path, value, shape)]
    if isinstance(value, shape) and not (shape in (int, float) and isinstance(value, bool)):
        return []
    return ["%s: expected %s, got %r" % (path, shape.__name__, value)]


class ConsoleBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.server = Server(cls.tmp, ["--table_stream_shards=1"])
        cls.function_log = open(os.path.join(cls.tmp, "function.log"), "w")
        cls.deliveries = os.path.join(cls.tmp, "deliveries")
        cls.function = subprocess.Popen(
            [FUNCTION, "--listen=127.0.0.1:0", "--port_file=" + os.path.join(cls.tmp, "fport"),
             "--deliveries_file=" + cls.deliveries],
            stdout=cls.function_log, stderr=cls.function_log)
        function_address = "127.0.0.1:" + read_port(os.path.join(cls.tmp, "fport"))

        cls.server.tribctl("streams", "create", "--stream=orders", "--shard-count=2")
        cls.server.tribctl("records", "put", "--stream=orders",
                           stdin="".join("key-%d\torder %d\n" % (i, i) for i in range(RECORDS)))
        cls.good = create_mapping(cls.server, "orders", function_address)
        cls.broken = create_mapping(cls.server, "orders", "127.0.0.1:1")  # nothing listens
        table = json.loads(cls.server.tribctl(
            "tables", "create", "--table-name=Carts", "--partition-key=id:S",
            "--sort-key=at:N", "--stream-view-type=NEW_AND_OLD_IMAGES", "--output=json"))
        field = lambda snake, camel: table.get(camel, table.get(snake))
        cls.table_stream = field("latest_stream_name", "latestStreamName")
        cls.table_arn = field("latest_stream_arn", "latestStreamArn")
        assert cls.table_stream.startswith("_tables."), table
        cls.server.tribctl("items", "put", "--table-name=Carts",
                           '--item={"id": {"S": "c-1"}, "at": {"N": "1"}, "n": {"N": "2"}}')
        cls.on_table = create_mapping(cls.server, cls.table_arn, function_address)
        lines = lambda: open(cls.deliveries).read().count("\n") if os.path.exists(
            cls.deliveries) else 0
        poll_for("%d deliveries to the example function" % RECORDS, lambda: lines() >= RECORDS,
                 last_seen=lambda: "%d" % lines())

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.function.send_signal(signal.SIGTERM)
        cls.function.wait(timeout=60)
        cls.function_log.close()

    def test_page_shows_streams_mappings_shards_and_pollers(self):
        host = socket.gethostname()  # the default --poller_id
        state = {}

        def page_settled():
            dom, text = dump_dom(self.server.console + "/", self.tmp)
            state["dom"], state["text"] = dom, text
            good = dom.first(data_mapping=self.good)
            broken = dom.first(data_mapping=self.broken)
            stream = dom.first(data_stream="orders")
            table = dom.first(data_table="Carts")
            if good is None or broken is None or stream is None or table is None:
                return False
            on_table = table.first(data_mapping_ref=self.on_table)
            shards = [e for e in good.find(tag="tr") if "data-shard" in e.attrs]
            return (good.first(class_="result").content() == "OK" and len(shards) == 2 and
                    all(s.first(class_="owner").content() == host for s in shards) and
                    broken.first(class_="last-error") is not None and
                    stream.first(class_="in").content() != "–" and
                    on_table is not None and
                    on_table.first(class_="state").content() == "Enabled")

        poll_for("the page to show the mappings and the table settled", page_settled, timeout_s=120,
                 interval_s=0, last_seen=lambda: state.get("text", "")[-3000:])
        dom = state["dom"]
        self.assertEqual(dom.first(id="status").attrs.get("class"), "status")  # not stale
        self.assertGreaterEqual(int(dom.first(tag="body").attrs["data-refreshes"]), 2)
        self.assertEqual(dom.first(id="mode").content(), "read-only")

        stream = dom.first(data_stream="orders")
        self.assertEqual(stream.first(class_="status").content(), "ACTIVE")
        self.assertEqual(stream.first(class_="open").content(), "2")
        self.assertEqual(stream.first(class_="closed").content(), "0")
        float(stream.first(class_="in").content())  # a rate, once two samples exist

        good = dom.first(data_mapping=self.good)
        self.assertEqual(good.first(class_="stream").content(), "orders")
        self.assertEqual(good.first(class_="state").content(), "Enabled")
        float(good.first(class_="rate-records").content())
        for row in [e for e in good.find(tag="tr") if "data-shard" in e.attrs]:
            self.assertRegex(row.first(class_="checkpoint").content(), r"^\d+$")
            spark = row.first(tag="svg")
            self.assertIsNotNone(spark)
            self.assertGreaterEqual(int(spark.attrs["data-points"]), 1)
        self.assertEqual(good.find(tag="button"), [])  # read-only: no actions

        broken = dom.first(data_mapping=self.broken)
        self.assertTrue(broken.first(class_="result").content().startswith("PROBLEM"))
        self.assertIn("problem", broken.first(class_="result").attrs["class"])
        self.assertIn("last error:", broken.first(class_="last-error").content())

        poller = dom.first(data_poller=host)
        self.assertIsNotNone(poller, state["text"][-3000:])
        self.assertEqual(poller.first(class_="live").content(), "live")
        self.assertEqual(poller.first(class_="lease-count").content(), "5")  # 2 + 2 + 1

        table = dom.first(data_table="Carts")
        self.assertEqual(table.first(class_="status").content(), "ACTIVE")
        self.assertEqual(table.first(class_="keys").content(), "id (S), sort at (N)")
        self.assertEqual(table.first(class_="stream").content(), "on, NEW_AND_OLD_IMAGES")
        self.assertEqual(table.first(class_="arn").content(), self.table_arn)
        self.assertEqual(table.first(class_="store-stream").content(), self.table_stream)
        self.assertEqual(table.first(class_="open").content(), "1")  # --table_stream_shards=1
        self.assertEqual(table.first(class_="closed").content(), "0")
        on_table = table.first(data_mapping_ref=self.on_table)
        self.assertEqual(on_table.first(class_="function").content(),
                         dom.first(data_mapping=self.good).first(class_="function").content())
        self.assertEqual(dom.first(id="tables-note").content(), "")
        # The store stream is listed with the streams, saying which table it holds, and so is
        # the mapping on it.
        store_stream = dom.first(data_stream=self.table_stream)
        self.assertIsNotNone(store_stream, state["text"][-3000:])
        self.assertEqual(store_stream.first(class_="table-ref").content(), " (table Carts)")
        self.assertEqual(dom.first(data_mapping=self.on_table).first(class_="table-ref").content(),
                         " (table Carts)")
        self.assertIsNone(stream.first(class_="table-ref"))  # "orders" is no table's

        out_dir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", self.tmp)
        screenshot = os.path.join(out_dir, "console.png")
        subprocess.run(chromium_args(self.tmp) + ["--screenshot=" + screenshot,
                                                  self.server.console + "/"],
                       capture_output=True, timeout=120)
        self.assertTrue(os.path.exists(screenshot))
        with open(screenshot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_overview_document_has_the_documented_shape(self):
        doc = poll_for("an overview with every mapping's shards leased", lambda: (
            lambda d: d if len(d["mappings"]) == 3 and all(
                len(m["shards"]) == (1 if m["stream"] == self.table_stream else 2) and
                all(s["owner"] for s in m["shards"])
                for m in d["mappings"]) else None)(self.server.overview()))
        self.assertEqual(shape_errors(doc, OVERVIEW_SHAPE), [])
        self.assertEqual(doc["errors"], {})
        self.assertEqual(sorted(s["name"] for s in doc["streams"]),
                         sorted(["orders", self.table_stream]))
        self.assertEqual({m["uuid"] for m in doc["mappings"]},
                         {self.good, self.broken, self.on_table})
        self.assertEqual(len(doc["pollers"]), 1)
        self.assertEqual(doc["pollers"][0]["id"], socket.gethostname())
        self.assertEqual(len(doc["pollers"][0]["leases"]), 5)
        self.assertNotIn("tables_note", doc)
        self.assertFalse(doc["tables_truncated"])
        [table] = doc["tables"]
        self.assertEqual((table["name"], table["status"], table["billing_mode"]),
                         ("Carts", "ACTIVE", "PAY_PER_REQUEST"))
        self.assertEqual(table["partition_key"], {"name": "id", "type": "S"})
        self.assertEqual(table["sort_key"], {"name": "at", "type": "N"})
        self.assertTrue(table["stream_enabled"])
        self.assertEqual(table["stream_view_type"], "NEW_AND_OLD_IMAGES")
        stream = table["latest_stream"]
        self.assertEqual((stream["arn"], stream["store_stream"]),
                         (self.table_arn, self.table_stream))
        self.assertEqual((stream["open_shards"], stream["closed_shards"]), (1, 0))
        self.assertEqual([m["uuid"] for m in stream["mappings"]], [self.on_table])

    def test_actions_are_refused_without_console_actions(self):
        status, body = self.server.post("/api/mappings/%s/disable" % self.good,
                                        {"X-Tributary-Console": "1"})
        self.assertEqual(status, 403, body)
        self.assertIn("--console_actions", body)
        self.assertEqual(
            [m["state"] for m in self.server.overview()["mappings"] if m["uuid"] == self.good],
            ["Enabled"])


class ConsoleActionsTest(unittest.TestCase):
    def test_disable_from_the_page_api_disables_the_mapping(self):
        tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        server = Server(tmp, ["--console_actions"])
        try:
            server.tribctl("streams", "create", "--stream=s", "--shard-count=1")
            uuid = create_mapping(server, "s", "127.0.0.1:1")
            self.assertEqual(server.post("/api/mappings/%s/disable" % uuid)[0], 403)  # no header
            status, body = server.post("/api/mappings/%s/disable" % uuid,
                                       {"X-Tributary-Console": "1"})
            self.assertEqual((status, body), (200, '{"ok":true}'))
            state = lambda: [m["state"] for m in server.overview()["mappings"]]
            poll_for("the mapping to be Disabled", lambda: state() == ["Disabled"],
                     last_seen=lambda: str(state()))
            dom, text = dump_dom(server.console + "/", tmp)
            mapping = dom.first(data_mapping=uuid)
            self.assertIsNotNone(mapping, text[-3000:])
            self.assertEqual(mapping.first(class_="state").content(), "Disabled")
            self.assertEqual(mapping.first(tag="button").attrs.get("data-action"), "enable")
            self.assertEqual(dom.first(id="mode").content(), "actions on")
        finally:
            server.stop()

    def test_checkpoint_move_and_the_tables_earlier_streams(self):
        tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        server = Server(tmp, ["--console_actions", "--table_stream_shards=1"])
        try:
            server.tribctl("streams", "create", "--stream=s", "--shard-count=1")
            uuid = create_mapping(server, "s", "127.0.0.1:1")
            shard_of = lambda d: [s for m in d["mappings"] if m["uuid"] == uuid
                                  for s in m["shards"]]
            before = poll_for("the mapping's shard to be leased",
                              lambda: [s for s in shard_of(server.overview()) if s["owner"]],
                              last_seen=lambda: str(server.overview()["mappings"]))[0]
            path = "/api/mappings/%s/shards/%s/checkpoint" % (uuid, before["shard_id"])
            console = {"X-Tributary-Console": "1", "Content-Type": "application/json"}
            status, body = server.post(path, console, b'{"position": "SOMEWHERE"}')
            self.assertEqual(status, 400, body)
            self.assertIn("INVALID_ARGUMENT", body)
            status, body = server.post(path, console, b'{"position": "LATEST"}')
            self.assertEqual(status, 200, body)
            answer = json.loads(body)
            self.assertEqual(answer["checkpoint"], "LATEST")
            self.assertEqual(answer["fenced_owner"], before["owner"])
            self.assertGreater(answer["lease_counter"], before["lease_counter"])
            after = poll_for("the move to show", lambda: [
                s for s in shard_of(server.overview()) if s["checkpoint"] == "LATEST" and
                s["lease_counter"] >= answer["lease_counter"]],
                last_seen=lambda: str(shard_of(server.overview())))
            self.assertEqual(len(after), 1)

            # A table's stream turned off and on again: the earlier one is listed under it; a
            # deleted table's stream under deleted_tables.
            server.tribctl("tables", "create", "--table-name=Sessions", "--partition-key=id:S",
                           "--stream-view-type=NEW_IMAGE")
            server.tribctl("tables", "update", "--table-name=Sessions", "--no-stream")
            server.tribctl("tables", "update", "--table-name=Sessions",
                           "--stream-view-type=KEYS_ONLY")
            server.tribctl("tables", "create", "--table-name=Gone", "--partition-key=k:N",
                           "--stream-view-type=KEYS_ONLY")
            server.tribctl("tables", "delete", "--table-name=Gone")
            doc = poll_for("the deleted table's stream to be listed", lambda: (
                lambda d: d if [t["name"] for t in d["deleted_tables"]] == ["Gone"] else None)(
                    server.overview()), last_seen=lambda: str(server.overview()["tables"]))
            self.assertEqual(shape_errors(doc, OVERVIEW_SHAPE), [])
            [sessions] = [t for t in doc["tables"] if t["name"] == "Sessions"]
            self.assertEqual(len(sessions["older_streams"]), 1, sessions)
            older = sessions["older_streams"][0]
            self.assertFalse(older["enabled"])
            self.assertIsNotNone(older["disabled_at"])
            self.assertNotEqual(older["arn"], sessions["latest_stream"]["arn"])
            self.assertLess(older["label"], sessions["latest_stream"]["label"])
            [gone] = doc["deleted_tables"]
            self.assertEqual(gone["partition_key"], {"name": "k", "type": "N"})
            self.assertEqual(len(gone["streams"]), 1)

            dom, text = dump_dom(server.console + "/", tmp)
            mapping = dom.first(data_mapping=uuid)
            self.assertIsNotNone(mapping, text[-3000:])
            move = [b for b in mapping.find(tag="button")
                    if b.attrs.get("data-action") == "move-checkpoint"]
            self.assertEqual(len(move), 1, text[-3000:])
            self.assertIsNotNone(dom.first(id="move-form"))
            earlier = dom.first(data_of_table="Sessions")
            self.assertIsNotNone(earlier, text[-3000:])
            self.assertEqual(earlier.attrs.get("data-table-stream"), older["label"])
            deleted = dom.first(data_table="Gone")
            self.assertIsNotNone(deleted, text[-3000:])
            self.assertEqual(deleted.first(class_="status").content(), "DELETED")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
