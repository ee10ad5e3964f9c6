"""An unchanged Lambda handler for Kinesis, as the Lambda Developer Guide writes them: it
decodes each record's data, and reports the records it could not process as partial batch
failures (a mapping with FunctionResponseTypes ReportBatchItemFailures retries from the first of
them; without it the list is ignored). Here a record "fails" when its data starts with
"poison".

    python3 -m lambda_runtime --handler app.handler --listen 127.0.0.1:9000
"""

import base64


def handler(event, context):
    failures = []
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8", "replace")
        print("%s %s %s" % (record["eventID"], record["kinesis"]["partitionKey"], payload))
        if payload.startswith("poison"):
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
    print("%d records, %d failed, %d ms left" % (
        len(event["Records"]), len(failures), context.get_remaining_time_in_millis()))
    return {"batchItemFailures": failures}
