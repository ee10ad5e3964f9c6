#!/usr/bin/python3
"""An example Tributary producer in Python: PutRecords in batches, retrying what failed.

Reads "partition_key<TAB>data" lines from stdin (or makes --generate records over --keys keys),
sends them with tributary.v1.Streams/PutRecords in calls of at most 500 records and 5 MiB, and
retries, with exponential backoff and jitter, every record the store answered with an error code
(ProvisionedThroughputExceededException when a shard's write limit is reached, InternalFailure)
and every call that failed as a whole with a retryable status (UNAVAILABLE, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED). Other statuses (INVALID_ARGUMENT for a bad record, NOT_FOUND for an unknown
stream) are not retried: they stop the producer with the store's message.

    /usr/bin/python3 examples/python/producer.py --endpoint=127.0.0.1:4560 --stream=orders \\
        --generate=10000 --keys=100

Several store front-ends (cluster mode): --endpoint=10.0.0.1:4561,10.0.0.2:4561. The producer
sends to the first that answers and, when it goes away (its calls fail with UNAVAILABLE, which
are retried), to the next (gRPC's pick_first over the list, as Tributary's own clients do).

What a retry means, as with Kinesis: a record that failed is written after records of the same
partition key that succeeded in the same call, so per-key order holds only for what succeeded
on the first attempt (send one key's records in separate calls, or with PutRecord and
sequence_number_for_ordering, when order across retries matters); and a call that timed out may
have been written, so its records can be stored twice (consumers see it as at-least-once).

Exit status: 0 when every record was acknowledged, 1 when some ran out of attempts, 2 for a
non-retryable error.
"""

import argparse
import importlib
import ipaddress
import os
import random
import re
import socket
import sys
import time

import grpc

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024  # partition keys and data, as Kinesis counts them
RETRYABLE_STATUS = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                    grpc.StatusCode.RESOURCE_EXHAUSTED)


def load_stubs():
    """Returns (streams_pb2, streams_pb2_grpc) from the path, as example_function.py does."""
    try:
        return (importlib.import_module("proto.streams_pb2"),
                importlib.import_module("proto.streams_pb2_grpc"))
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, here)
        import example_function  # noqa: E402  (generates the stubs when they are missing)

        example_function.load_stubs(os.path.normpath(os.path.join(here, "..", "..")))
        return (importlib.import_module("proto.streams_pb2"),
                importlib.import_module("proto.streams_pb2_grpc"))


def batches(records, indices):
    """Splits `indices` (into `records`, (key, data) pairs) into calls within the limits."""
    batch, size = [], 0
    for i in indices:
        key, data = records[i]
        record_size = len(key.encode()) + len(data)
        if batch and (len(batch) == MAX_RECORDS_PER_CALL or size + record_size > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(i)
        size += record_size
    if batch:
        yield batch


class PutResult:
    def __init__(self):
        self.acked = {}    # record index -> (shard_id, sequence_number)
        self.failed = []   # record indices out of attempts
        self.retried = 0   # record sends after the first
        self.calls = 0


def put_all(stub, pb2, stream, records, max_attempts=5, base_delay_s=0.1, max_delay_s=5.0,
            timeout_s=10.0, sleep=time.sleep, rng=None):
    """Puts every (partition_key, data bytes) record of `records`; returns a PutResult.

    Raises grpc.RpcError for a call that failed with a status that is not retryable.
    `sleep` and `rng` are injectable so that tests do not wait.
    """
    rng = rng or random.Random()
    result = PutResult()
    pending = list(range(len(records)))
    for attempt in range(max_attempts):
        if not pending:
            break
        if attempt > 0:
            result.retried += len(pending)
            delay = min(max_delay_s, base_delay_s * (2 ** (attempt - 1)))
            sleep(delay * (0.5 + rng.random() / 2))  # jitter: callers do not retry in step
        failed = []
        for batch in batches(records, pending):
            request = pb2.PutRecordsRequest(stream_name=stream)
            for i in batch:
                key, data = records[i]
                request.records.add(partition_key=key, data=data)
            result.calls += 1
            try:
                response = stub.PutRecords(request, timeout=timeout_s)
            except grpc.RpcError as e:
                if e.code() not in RETRYABLE_STATUS:
                    raise
                failed.extend(batch)
                continue
            for i, entry in zip(batch, response.records):
                if entry.error_code:
                    failed.append(i)
                else:
                    result.acked[i] = (entry.shard_id, entry.sequence_number)
        pending = failed
    result.failed = pending
    return result


def read_records(args, stdin):
    if args.generate > 0:
        return [("key-%d" % (n % args.keys), ("record %d" % n).encode())
                for n in range(args.generate)]
    records = []
    for line in stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        key, _, data = line.partition("\t")
        records.append((key, data.encode()))
    return records


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


def endpoint_list(value):
    """Checks "host:port[,host:port...]" (each as host_port does) and returns the list."""
    addresses = value.split(",")
    if len(addresses) > 1 and "" in addresses:
        raise argparse.ArgumentTypeError('"%s": empty address in the list' % value)
    return [host_port(a, listen=False) for a in addresses]


def channel_target(addresses):
    """The gRPC target for a list of addresses: one as it is; several as
    "ipv4:1.2.3.4:5,1.2.3.5:5" (or "ipv6:[::1]:5,..."), host names resolved once (IPv4
    preferred), so that gRPC's pick_first fails over between them (common/replica_channel.h)."""
    if len(addresses) == 1:
        return addresses[0]
    resolved = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        infos = socket.getaddrinfo(host, int(port), proto=socket.IPPROTO_TCP)
        infos.sort(key=lambda i: i[0] != socket.AF_INET)  # IPv4 first
        family, _, _, _, sockaddr = infos[0]
        resolved.append((family, sockaddr[0], port))
    families = {f for f, _, _ in resolved}
    if len(families) != 1:
        raise ValueError("the addresses mix IPv4 and IPv6: %s" % ",".join(addresses))
    if families == {socket.AF_INET}:
        return "ipv4:" + ",".join("%s:%s" % (h, p) for _, h, p in resolved)
    return "ipv6:" + ",".join("[%s]:%s" % (h, p) for _, h, p in resolved)


def main(argv, stdin=sys.stdin, stdout=sys.stdout):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", default="127.0.0.1:4560", type=endpoint_list,
                   help="host:port of tributary.v1.Streams, or a comma-separated list of "
                        "store front-ends to fail over between")
    p.add_argument("--stream", required=True)
    p.add_argument("--generate", type=int, default=0,
                   help="make this many records instead of reading stdin")
    p.add_argument("--keys", type=int, default=100, help="partition keys of --generate")
    p.add_argument("--max_attempts", type=int, default=5)
    args = p.parse_args(argv)
    if args.keys < 1 or args.max_attempts < 1:
        p.error("--keys and --max_attempts must be >= 1")
    pb2, pb2_grpc = load_stubs()
    records = read_records(args, stdin)
    with grpc.insecure_channel(channel_target(args.endpoint), options=[
            ("grpc.max_send_message_length", 64 << 20),
            ("grpc.max_receive_message_length", 64 << 20)]) as channel:
        stub = pb2_grpc.StreamsStub(channel)
        try:
            result = put_all(stub, pb2, args.stream, records, max_attempts=args.max_attempts)
        except grpc.RpcError as e:
            print("PutRecords failed: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
            return 2
    print("put %d of %d record(s) in %d call(s), %d resent, %d failed"
          % (len(result.acked), len(records), result.calls, result.retried, len(result.failed)),
          file=stdout)
    return 0 if not result.failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
