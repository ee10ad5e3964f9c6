"""The Lambda Developer Guide's tumbling-window handler ("Time windows", Handler.py): it counts
records per partition key in the window's state, which Lambda (and Tributary) hands to the next
invocation of the same window, and prints the totals at the window's final invocation. Run it
behind a mapping with --tumbling-window-in-seconds:

    python3 -m lambda_runtime --handler window_app.lambda_handler --listen 127.0.0.1:9001
"""


def lambda_handler(event, context):
    if event["isFinalInvokeForWindow"]:
        print("window %s - %s: %s%s" % (event["window"]["start"], event["window"]["end"],
                                         event["state"],
                                         " (terminated early)" if event["isWindowTerminatedEarly"]
                                         else ""))
    state = event["state"]
    for record in event["Records"]:
        state[record["kinesis"]["partitionKey"]] = state.get(record["kinesis"]["partitionKey"], 0) + 1
    return {"state": state}
