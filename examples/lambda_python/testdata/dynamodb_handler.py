"""A handler written as for Lambda's DynamoDB Streams trigger, for dynamodb_e2e_test.py: it appends
every event it is given as one JSON line to $RECORDING_FILE and reports, the first time it sees
it, a change whose new image has v = 13 as a batch item failure (by its DynamoDB SequenceNumber,
as Lambda's partial batch responses name DynamoDB records)."""

import json
import os
import threading

_lock = threading.Lock()
_seen = set()  # eventIDs already seen once


def _unlucky(record):
    image = record["dynamodb"].get("NewImage", {})
    return image.get("v") == {"N": "13"}


def record_changes(event, context):
    with _lock:
        with open(os.environ["RECORDING_FILE"], "a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")
        failures = []
        for r in event["Records"]:
            if _unlucky(r) and r["eventID"] not in _seen:
                failures.append({"itemIdentifier": r["dynamodb"]["SequenceNumber"]})
            _seen.add(r["eventID"])
    return {"batchItemFailures": failures}
