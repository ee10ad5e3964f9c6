"""The Kinesis front door's CBOR path (application/x-amz-cbor-1.1, what the Java SDK v2 — and so
the KCL and Flink — send by default), with a small client written here from the AWS spec:

  - POST / with X-Amz-Target: Kinesis_20131202.<Operation>, Content-Type:
    application/x-amz-cbor-1.1, signed with SigV4 (botocore's signer);
  - a body is a CBOR map with text-string keys; blobs are byte strings; timestamps are tag 1
    followed by epoch MILLISECONDS (the SDKs' convention); errors are a map with "__type".

Requests are encoded two ways: by Debian's cbor2 (definite lengths), and by hand the way
Jackson's CBOR generator in the Java SDK writes them (indefinite-length maps and arrays, a
chunked byte string). Replies are decoded by the small RFC 7049 decoder below, which keeps tag 1
as (tag, value) so that milliseconds are not mistaken for seconds.

Run by //aws/testing:kinesis_cbor_test from the runfiles root.
"""

import base64
import json
import os
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cbor2  # noqa: E402

import tributary_aws  # noqa: E402
from tributary_aws import signed_request  # noqa: E402

CBOR = "application/x-amz-cbor-1.1"


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


def decode(data):
    """Decodes one CBOR item that is the whole of `data` (RFC 7049)."""
    item, end = _decode(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes")
    return item


def _length(data, pos, info):
    if info < 24:
        return info, pos
    size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
    return int.from_bytes(data[pos:pos + size], "big"), pos + size


def _decode(data, pos):
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if major in (2, 3) and info == 31:  # indefinite string: chunks until break
        chunks = []
        while data[pos] != 0xFF:
            chunk, pos = _decode(data, pos)
            chunks.append(chunk)
        return (b"" if major == 2 else "").join(chunks), pos + 1
    if major in (4, 5) and info == 31:  # indefinite list / map
        items = []
        while data[pos] != 0xFF:
            item, pos = _decode(data, pos)
            items.append(item)
        pos += 1
        return (items if major == 4 else dict(zip(items[::2], items[1::2]))), pos
    if major == 7:
        if info == 20:
            return False, pos
        if info == 21:
            return True, pos
        if info == 22:
            return None, pos
        if info == 25:
            return struct.unpack(">e", data[pos:pos + 2])[0], pos + 2
        if info == 26:
            return struct.unpack(">f", data[pos:pos + 4])[0], pos + 4
        if info == 27:
            return struct.unpack(">d", data[pos:pos + 8])[0], pos + 8
        raise ValueError("unsupported simple value %d" % info)
    n, pos = _length(data, pos, info)
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major == 2:
        return bytes(data[pos:pos + n]), pos + n
    if major == 3:
        return data[pos:pos + n].decode("utf-8"), pos + n
    if major == 4:
        items = []
        for _ in range(n):
            item, pos = _decode(data, pos)
            items.append(item)
        return items, pos
    if major == 5:
        result = {}
        for _ in range(n):
            key, pos = _decode(data, pos)
            result[key], pos = _decode(data, pos)
        return result, pos
    value, pos = _decode(data, pos)  # major 6: a tag
    return Tag(n, value), pos


# Jackson-style encoding: indefinite-length maps and arrays (0xBF / 0x9F ... 0xFF).
def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError("too large")


def jackson(value):
    if isinstance(value, dict):
        return b"\xbf" + b"".join(jackson(k) + jackson(v) for k, v in value.items()) + b"\xff"
    if isinstance(value, list):
        return b"\x9f" + b"".join(jackson(v) for v in value) + b"\xff"
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, bytes):
        # A chunked (indefinite-length) byte string: two chunks.
        half = len(value) // 2
        return (b"\x5f" + _head(2, half) + value[:half] + _head(2, len(value) - half) +
                value[half:] + b"\xff")
    if isinstance(value, int) and value >= 0:
        return _head(0, value)
    raise TypeError(type(value))


class KinesisCborTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(cls.server.work)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_checked()

    def call(self, operation, body_bytes, expect_status=200):
        status, headers, body = signed_request(
            self.server.endpoint, "Kinesis_20131202." + operation, body_bytes, content_type=CBOR)
        self.assertEqual(status, expect_status, body)
        content_type = {k.lower(): v for k, v in headers.items()}["content-type"]
        self.assertEqual(content_type, CBOR)
        return decode(body)

    def json_call(self, operation, payload):
        status, _, body = signed_request(self.server.endpoint, "Kinesis_20131202." + operation,
                                         json.dumps(payload).encode())
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def test_put_and_get_with_byte_strings_and_millisecond_timestamps(self):
        self.call("CreateStream", cbor2.dumps({"StreamName": "cbor", "ShardCount": 2}))
        data = bytes(range(256)) * 3
        put = self.call("PutRecord", cbor2.dumps(
            {"StreamName": "cbor", "Data": data, "PartitionKey": "clé"}))
        self.assertIsInstance(put["SequenceNumber"], str)
        self.assertTrue(put["ShardId"].startswith("shardId-"))

        # Java SDK style: indefinite maps and arrays, chunked byte strings.
        batch = self.call("PutRecords", jackson({"StreamName": "cbor", "Records": [
            {"Data": b"jackson-%d" % i, "PartitionKey": "clé"} for i in range(3)]}))
        self.assertEqual(batch["FailedRecordCount"], 0)
        self.assertEqual([r["ShardId"] for r in batch["Records"]], [put["ShardId"]] * 3)

        now_ms = int(time.time() * 1000)
        iterator = self.call("GetShardIterator", cbor2.dumps({
            "StreamName": "cbor", "ShardId": put["ShardId"], "ShardIteratorType": "AT_TIMESTAMP",
            # An hour ago, as the SDK writes it: tag 1 + epoch milliseconds.
            "Timestamp": cbor2.CBORTag(1, now_ms - 3600 * 1000)}))["ShardIterator"]
        got = self.call("GetRecords", cbor2.dumps({"ShardIterator": iterator}))
        records = got["Records"]
        self.assertEqual([r["Data"] for r in records],
                         [data] + [b"jackson-%d" % i for i in range(3)])
        self.assertEqual(records[0]["PartitionKey"], "clé")
        self.assertEqual(records[0]["SequenceNumber"], put["SequenceNumber"])
        stamp = records[0]["ApproximateArrivalTimestamp"]
        self.assertIsInstance(stamp, Tag)
        self.assertEqual(stamp.tag, 1)
        self.assertIsInstance(stamp.value, int)
        self.assertLess(abs(stamp.value - now_ms), 3600 * 1000, "epoch milliseconds")
        self.assertIsInstance(got["NextShardIterator"], str)
        self.assertEqual(got["MillisBehindLatest"], 0)

        # The same record read over JSON: the same bytes and the same instant, in seconds.
        json_iterator = self.json_call("GetShardIterator", {
            "StreamName": "cbor", "ShardId": put["ShardId"],
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": put["SequenceNumber"]})["ShardIterator"]
        json_record = self.json_call("GetRecords", {"ShardIterator": json_iterator})["Records"][0]
        self.assertEqual(base64.b64decode(json_record["Data"]), data)
        self.assertEqual(round(json_record["ApproximateArrivalTimestamp"] * 1000), stamp.value)

        # A timestamp an hour ahead finds nothing.
        later = self.call("GetShardIterator", cbor2.dumps({
            "StreamName": "cbor", "ShardId": put["ShardId"], "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": cbor2.CBORTag(1, now_ms + 3600 * 1000)}))["ShardIterator"]
        self.assertEqual(self.call("GetRecords", cbor2.dumps({"ShardIterator": later}))["Records"],
                         [])

    def test_errors_come_back_in_cbor(self):
        error = self.call("DescribeStreamSummary", cbor2.dumps({"StreamName": "missing"}),
                          expect_status=400)
        self.assertEqual(error["__type"], "ResourceNotFoundException")
        self.assertIsInstance(error["message"], str)
        error = self.call("ListStreams", b"\xa1\x61", expect_status=400)  # truncated map
        self.assertEqual(error["__type"], "SerializationException")
        error = self.call("PutRecord", cbor2.dumps(
            {"StreamName": "missing", "Data": "text, not bytes", "PartitionKey": "k"}),
            expect_status=400)
        self.assertEqual(error["__type"], "SerializationException")
        error = self.call("MakeCoffee", cbor2.dumps({}), expect_status=400)
        self.assertEqual(error["__type"], "UnknownOperationException")


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("kinesis_cbor", KinesisCborTest))
