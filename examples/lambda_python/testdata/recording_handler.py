"""Handlers written as for Lambda, for lambda_e2e_test.py: each appends what it was given (the
event, and the context's fields) as one JSON line to $RECORDING_FILE, then behaves as its name
says with records whose data starts with "poison". The runtime keeps this module loaded, so
module globals last across invocations (as in one warm Lambda environment)."""

import base64
import json
import os
import threading
import time

_lock = threading.Lock()
_seen = set()  # sequence numbers already seen once


def _record(event, context):
    entry = {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
    with _lock, open(os.environ["RECORDING_FILE"], "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def _poison(record):
    return base64.b64decode(record["kinesis"]["data"]).startswith(b"poison")


def _first_sight(record):
    with _lock:
        seq = record["kinesis"]["sequenceNumber"]
        first = seq not in _seen
        _seen.add(seq)
        return first


def succeed(event, context):
    _record(event, context)
    return None


def report_poison_once(event, context):
    """Partial batch response: a poison record is reported as failed the first time it comes."""
    _record(event, context)
    failures = [{"itemIdentifier": r["kinesis"]["sequenceNumber"]}
                for r in event["Records"] if _poison(r) and _first_sight(r)]
    return {"batchItemFailures": failures}


def raise_on_poison(event, context):
    """An exception for every batch holding a poison record."""
    _record(event, context)
    for r in event["Records"]:
        if _poison(r):
            raise ValueError("cannot process %s" % r["kinesis"]["sequenceNumber"])
    return {"batchItemFailures": []}


def hang_on_poison_once(event, context):
    """Runs past the function timeout the first time a poison record comes."""
    _record(event, context)
    if any(_poison(r) and _first_sight(r) for r in event["Records"]):
        time.sleep(4)
    return {}


def count_in_window(event, context):
    """The Developer Guide's tumbling-window handler, with state values of several JSON types:
    the counts per partition key (numbers) plus a total, a float, a list and a string, each
    checked to have come back with its type."""
    _record(event, context)
    state = event["state"]
    if state:
        assert isinstance(state["total"], int), state
        assert isinstance(state["half"], float), state
        assert isinstance(state["seqs"], list), state
        assert isinstance(state["shard"], str), state
    else:
        state = {"total": 0, "half": 0.5, "seqs": [], "shard": event["shardId"]}
    for r in event["Records"]:
        key = "key:" + r["kinesis"]["partitionKey"]
        state[key] = state.get(key, 0) + 1
        state["total"] += 1
        state["half"] += 0.5
        state["seqs"].append(r["kinesis"]["sequenceNumber"])
    return {"state": state, "batchItemFailures": []}
