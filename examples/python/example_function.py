#!/usr/bin/python3
"""An example Tributary function in Python: a tributary.v1.Function gRPC server.

It does what //examples/cpp:example_function does: logs each batch (shard, count, first and
last sequence number), fails records whose data starts with b"poison" -- listed in
batch_item_failures with --report_batch_item_failures, otherwise as a function_error for the
whole batch -- can simulate errors (--fail_rate) and slowness (--latency_ms), and appends
"shard_id sequence_number partition_key" per received record to --deliveries_file.

With a mapping's tumbling windows (requests carrying `window`), it counts records per partition
key in the window's state (the records before the first failed one; a failed batch returns the
state it got) and, on the window's final invocation, appends
"shard_id window_start_ms window_end_ms key=count,..." (" early" when the window was terminated
early) to --windows_file and returns an empty state.

Run it from the repository root with Debian's interpreter (it needs python3-grpcio and
python3-protobuf, and protoc with grpc_python_plugin to generate its stubs):

    /usr/bin/python3 examples/python/example_function.py --listen=127.0.0.1:4571

The Python stubs for proto/function.proto are imported from the path (Bazel generates them
next to this file); when they are missing they are generated into a temporary directory from
the repository's proto/ folder (or --proto_root) with protoc and grpc_python_plugin.
"""

import argparse
import importlib
import ipaddress
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc

POISON_PREFIX = b"poison"


def generate_stubs(proto_root, out):
    """Generates the Python stubs of proto/function.proto (and the streams.proto and
    tables.proto it imports) into `out`.

    Uses the system protoc with grpc_python_plugin (Debian: protobuf-compiler,
    protobuf-compiler-grpc). Debian 12's python3-grpc-tools bundles protoc 3.5.1, which rejects
    the proto3 `optional` fields of proto/streams.proto, so it is only the fallback for machines
    whose grpc_tools is newer.
    """
    sources = ["proto/function.proto", "proto/streams.proto", "proto/tables.proto"]
    plugin = shutil.which("grpc_python_plugin")
    protoc_binary = shutil.which("protoc")
    if protoc_binary and plugin:
        command = [protoc_binary, "-I" + proto_root, "--python_out=" + out,
                   "--grpc_python_out=" + out, "--plugin=protoc-gen-grpc_python=" + plugin]
        if subprocess.call(command + sources) != 0:
            raise RuntimeError("protoc failed on %s/proto" % proto_root)
        return
    from grpc_tools import protoc  # python3-grpc-tools

    if protoc.main(["grpc_tools.protoc", "-I" + proto_root, "--python_out=" + out,
                    "--grpc_python_out=" + out] + sources) != 0:
        raise RuntimeError("grpc_tools.protoc failed on %s/proto" % proto_root)


def load_stubs(proto_root):
    """Returns (function_pb2, function_pb2_grpc), generating them if they are not importable."""
    try:
        return (importlib.import_module("proto.function_pb2"),
                importlib.import_module("proto.function_pb2_grpc"))
    except ImportError:
        pass
    out = tempfile.mkdtemp(prefix="tributary-stubs-")
    generate_stubs(proto_root, out)
    sys.modules.pop("proto", None)
    sys.path.insert(0, out)
    importlib.invalidate_caches()
    return (importlib.import_module("proto.function_pb2"),
            importlib.import_module("proto.function_pb2_grpc"))


class ExampleFunction:
    """The Invoke handler. Thread-safe: gRPC calls it from its worker threads."""

    def __init__(self, pb2, options):
        self._pb2 = pb2
        self._options = options
        self._lock = threading.Lock()
        self._random = random.Random(options.seed)
        self._deliveries = (open(options.deliveries_file, "a", encoding="utf-8")
                            if options.deliveries_file else None)

    @staticmethod
    def _items(request):
        """The batch as (sequence_number, key, poison) per record. A table stream's mapping sends
        DynamoDB Streams records (request.dynamodb_records) instead of request.records: a change
        counts by its dynamodb.sequence_number (what batch_item_failures must name), its key is
        the item's key values ("/"-joined in attribute name order, B as hex), and it is poison
        when the item written (NewImage) has an attribute named "poison"."""
        items = [(r.sequence_number, r.partition_key, r.data.startswith(POISON_PREFIX))
                 for r in request.records]
        for r in request.dynamodb_records:
            keys = r.dynamodb.keys
            key = "/".join(keys[name].b.hex() if keys[name].HasField("b") else
                           keys[name].n if keys[name].HasField("n") else keys[name].s
                           for name in sorted(keys))
            items.append((r.dynamodb.sequence_number, key, "poison" in r.dynamodb.new_image))
        return items

    def Invoke(self, request, context):
        records = self._items(request)
        logging.info("mapping=%s stream=%s shard=%s records=%d first=%s last=%s",
                     request.event_source_mapping_uuid, request.stream_name, request.shard_id,
                     len(records), records[0][0] if records else "-",
                     records[-1][0] if records else "-")
        with self._lock:
            if self._deliveries is not None:
                # Every received record is a delivery, whether or not the batch then fails.
                self._deliveries.write("".join(
                    "%s %s %s\n" % (request.shard_id, sequence_number, key)
                    for sequence_number, key, _ in records))
                self._deliveries.flush()
            simulated_failure = (self._options.fail_rate > 0 and
                                 self._random.random() < self._options.fail_rate)
        if self._options.latency_ms > 0:
            time.sleep(self._options.latency_ms / 1000.0)
        response = self._pb2.InvokeResponse()
        windowed = request.HasField("window")
        if simulated_failure:
            if self._options.fail_with_status:
                context.abort(grpc.StatusCode.INTERNAL, "simulated failure (--fail_rate)")
            response.function_error = "simulated failure (--fail_rate)"
            if windowed:
                response.state.CopyFrom(request.state)
            return response
        succeeded = len(records)  # records before the first failed one
        for i, (sequence_number, _, poison) in enumerate(records):
            if not poison:
                continue
            succeeded = min(succeeded, i)
            if self._options.report_batch_item_failures:
                response.batch_item_failures.add(item_identifier=sequence_number)
            else:
                response.function_error = "poison record at sequence number " + sequence_number
                break
        if windowed:
            if response.function_error:
                response.state.CopyFrom(request.state)
            else:
                self._aggregate_window(request, records[:succeeded], response)
        logging.info("-> %s", response.function_error or
                     ("%d batch item failure(s)" % len(response.batch_item_failures)
                      if response.batch_item_failures else "ok"))
        return response


    def _aggregate_window(self, request, succeeded, response):
        """Counts the `succeeded` records (_items) per key into response.state."""
        counts = dict(request.state.values)
        for _, key, _ in succeeded:
            try:
                counts[key] = str(int(counts.get(key, "0")) + 1)
            except ValueError:  # not a count of ours: start over
                counts[key] = "1"
        if not request.is_final_invoke_for_window:
            response.state.values.update(counts)
            return
        # The window is closed: report its counts and start the next one empty.
        window = request.window
        line = "%s %d %d %s%s\n" % (
            request.shard_id, window.start.ToMilliseconds(), window.end.ToMilliseconds(),
            ",".join("%s=%s" % kv for kv in sorted(counts.items())) or "-",
            " early" if request.is_window_terminated_early else "")
        logging.info("window closed: %s", line.strip())
        response.state.SetInParent()
        if self._options.windows_file:
            with self._lock:
                with open(self._options.windows_file, "a", encoding="utf-8") as out:
                    out.write(line)


def host_port(address, listen):
    """Checks an address as every Tributary binary does (common/host_port.h) and returns it:
    "host:port" with a DNS name or IPv4 host, or an IPv6 one in brackets ("[::1]:80"), and a
    decimal port 0-65535 (0, any free port, only to listen). grpc would take port 99999 modulo
    65536, "host:45x" as port 45 and service names. Raises argparse.ArgumentTypeError saying
    what is wrong."""
    def bad(reason):
        return argparse.ArgumentTypeError('"%s": %s (expected host:port)' % (address, reason))
    if not address:
        raise bad("empty")
    if address.startswith("["):
        host, closed, rest = address[1:].partition("]")
        if not closed:
            raise bad("'[' without ']'")
        if not rest.startswith(":"):
            raise bad("no ':' and port after ']'")
        port = rest[1:]
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            raise bad('"%s" is not an IPv6 address' % host) from None
    else:
        host, colon, port = address.rpartition(":")
        if not colon:
            raise bad("no port")
        if not host:
            raise bad("no host; say 0.0.0.0:%s for every interface or 127.0.0.1:%s for this "
                      "machine only" % (port, port) if listen else "no host")
        if ":" in host:
            raise bad("an IPv6 host needs brackets, as in [::1]:80")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", host):
            raise bad("host \"%s\" may only hold letters, digits, '.', '-' and '_'" % host)
        if re.fullmatch(r"[0-9.]+", host):
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                raise bad("host %s is not an IPv4 address" % host) from None
    if not port:
        raise bad("no port after ':'")
    if not re.fullmatch(r"[0-9]+", port):
        raise bad('port "%s" is not a decimal number' % port)
    lowest = 0 if listen else 1
    if int(port) > 65535:
        raise bad("port %s is out of range %d-65535" % (port, lowest))
    if int(port) < lowest:
        raise bad("port 0 cannot be connected to (port 0, any free port, is only for listening)")
    return address


def tributary_version(root):
    """Tributary's version: the one constant, kVersion in `root`/common/version.h."""
    try:
        with open(os.path.join(root, "common", "version.h")) as f:
            match = re.search(r'kVersion\[\] = "([^"]+)"', f.read())
    except OSError:
        match = None
    return match.group(1) if match else "unknown (no common/version.h under %s)" % root


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version",
                   version="example_function.py " + tributary_version(root))
    p.add_argument("--listen", default="127.0.0.1:4571", type=lambda a: host_port(a, listen=True),
                   help="host:port to serve on (port 0: any free port)")
    p.add_argument("--port_file", default="", help="write the bound port here")
    p.add_argument("--report_batch_item_failures", action="store_true")
    p.add_argument("--fail_rate", type=float, default=0.0)
    p.add_argument("--fail_with_status", action="store_true")
    p.add_argument("--latency_ms", type=int, default=0)
    p.add_argument("--deliveries_file", default="")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--windows_file", default="",
                   help="append each closed tumbling window's per-key counts here")
    p.add_argument("--proto_root", default=os.path.normpath(os.path.join(here, "..", "..")),
                   help="the directory holding proto/function.proto (stub generation only)")
    options = p.parse_args(argv)
    if not 0 <= options.fail_rate <= 1:
        p.error("--fail_rate must be in [0, 1]")
    if options.latency_ms < 0:
        p.error("--latency_ms must be >= 0")
    return options


def main(argv):
    options = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    pb2, pb2_grpc = load_stubs(options.proto_root)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[
        ("grpc.max_receive_message_length", 64 << 20),
        ("grpc.max_send_message_length", 64 << 20),
        ("grpc.so_reuseport", 0),
    ])
    pb2_grpc.add_FunctionServicer_to_server(ExampleFunction(pb2, options), server)
    port = server.add_insecure_port(options.listen)
    if port == 0:
        logging.error("cannot listen on %s", options.listen)
        return 1
    server.start()
    host = options.listen.rsplit(":", 1)[0]
    if options.port_file:
        with open(options.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(options.port_file + ".tmp", options.port_file)
    print("listening on %s:%d" % (host, port), flush=True)
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
