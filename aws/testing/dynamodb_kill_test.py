"""kill -9 of the real `tributary serve` while boto3 clients write items of a table with a change
stream: after a restart on the same data directory, every write the server acknowledged is there
with its change record, and no item and no record is there without the other.

Checked per item, over every change record the DynamoDB Streams API returns after the restart
(all shards, TRIM_HORIZON to the end) and the item GetItem returns:
  - every acknowledged write has its record (a put: a record whose NewImage is it; a delete: a
    REMOVE after the put it removed);
  - the item as it is equals the last record's NewImage (none after a REMOVE): a write whose item
    landed without its record, or whose record landed without its item, breaks this for its item;
  - an item's records are in its write order (values only increase) and never repeat.
Writes in flight at the kill may have landed (both) or not (neither); both are allowed.

Run by //aws/testing:dynamodb_kill_test from the runfiles root.
"""

import os
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


import tributary_aws  # noqa: E402

WRITERS = 4
KEYS_PER_WRITER = 5
KILL_AFTER_ACKS = 300  # acknowledged writes before the kill
TABLE = "killed"


def session_clients(endpoint):
    return tuple(tributary_aws.clients(endpoint, "dynamodb", "dynamodbstreams",
                                       connect_timeout=5, read_timeout=30))


class DynamoDbKillTest(unittest.TestCase):
    def test_acknowledged_items_and_their_records_survive_kill_9_together(self):
        first = tributary_aws.Tributary()
        tributary_aws.isolate_botocore(first.work)
        self.addCleanup(first.kill)
        ddb, _ = session_clients(first.endpoint)
        ddb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})

        lock = threading.Lock()
        acked = []  # (key, value) of acknowledged puts; value None: an acknowledged delete
        killed = threading.Event()

        def writer(w):
            client, _ = session_clients(first.endpoint)
            value = 0
            while not killed.is_set():
                value += 1
                key = "w%d-k%d" % (w, value % KEYS_PER_WRITER)
                try:
                    if value % 7 == 0:
                        client.delete_item(TableName=TABLE, Key={"id": {"S": key}})
                        done = (key, None, value)
                    else:
                        client.put_item(TableName=TABLE,
                                        Item={"id": {"S": key}, "v": {"N": str(value)}})
                        done = (key, str(value), value)
                except Exception:  # the server was killed: this write's outcome is unknown
                    return
                with lock:
                    acked.append(done)
                    if len(acked) >= KILL_AFTER_ACKS and not killed.is_set():
                        killed.set()
                        first.process.kill()  # SIGKILL, with writes of the others in flight

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=tributary_aws.STARTUP_GUARD_SECONDS)
            self.assertFalse(t.is_alive(), "a writer did not stop after the kill")
        first.process.wait(timeout=30)
        self.assertGreaterEqual(len(acked), KILL_AFTER_ACKS)

        second = tributary_aws.Tributary(
            extra_flags=["--data_dir=" + os.path.join(first.work, "data")])
        self.addCleanup(second.stop_checked)
        ddb, streams = session_clients(second.endpoint)
        arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        records = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while it:
                page = streams.get_records(ShardIterator=it, Limit=1000)
                records += page["Records"]
                if not page["Records"]:
                    break
                it = page.get("NextShardIterator")

        by_key = {}  # key → [(eventName, new value or None, old value or None)], in stream order
        for r in records:
            db = r["dynamodb"]
            new = db.get("NewImage", {}).get("v", {}).get("N")
            old = db.get("OldImage", {}).get("v", {}).get("N")
            by_key.setdefault(db["Keys"]["id"]["S"], []).append((r["eventName"], new, old))
        self.assertEqual(len({r["eventID"] for r in records}), len(records), "no record twice")

        for key, changes in by_key.items():
            values = [int(new) for _, new, _ in changes if new is not None]
            self.assertEqual(values, sorted(set(values)), "%s: write order: %s" % (key, changes))
            # Each record follows from the one before: its old image is the previous new image.
            previous = None
            for name, new, old in changes:
                self.assertEqual(old, previous, "%s: a change is missing before %s: %s"
                                 % (key, (name, new), changes))
                self.assertEqual(name, "REMOVE" if new is None else
                                 ("INSERT" if previous is None else "MODIFY"), (key, changes))
                previous = new

        keys = {k for k, _, _ in acked} | set(by_key)
        for key in keys:
            item = ddb.get_item(TableName=TABLE, Key={"id": {"S": key}}).get("Item")
            changes = by_key.get(key, [])
            last = changes[-1][1] if changes else None
            self.assertEqual(item["v"]["N"] if item else None, last,
                             "%s: the item and its last record disagree: %s" % (key, changes))

        for key, value, order in acked:
            changes = by_key.get(key, [])
            if value is not None:
                self.assertIn(value, [new for _, new, _ in changes],
                              "acknowledged put %s=%s has no record" % (key, value))
            else:
                # An acknowledged delete: some REMOVE comes after every put acknowledged before it
                # (or the item never existed then: a delete of nothing writes no record).
                earlier = [v for k, v, o in acked if k == key and v is not None and o < order]
                if earlier:
                    at = max(i for i, (_, new, _) in enumerate(changes) if new == earlier[-1])
                    self.assertIn("REMOVE", [name for name, _, _ in changes[at + 1:]],
                                  "acknowledged delete of %s has no record" % key)


if __name__ == "__main__":
    sys.exit(tributary_aws.run_suites("dynamodb_kill_test", DynamoDbKillTest))
