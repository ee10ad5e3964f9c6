"""A small AWS Lambda runtime for Python handlers, standard library only.

It loads a handler written for Lambda (``def handler(event, context)``) from a file and serves it
on the interface of the Lambda Runtime Interface Emulator: ``POST
/2015-03-31/functions/function/invocations`` with the event as the JSON body; the reply is the
handler's return value as JSON, or Lambda's error shape (``errorMessage``, ``errorType``,
``requestId``, ``stackTrace``) with ``X-Amz-Function-Error: Unhandled``. Tributary's poller calls
it with the Kinesis event Lambda sends when a mapping's function endpoint is that URL::

    cd examples/lambda_python
    python3 -m lambda_runtime --handler app.handler --listen 127.0.0.1:9000

The handler gets Lambda's context object (function_name, function_version, invoked_function_arn,
memory_limit_in_mb, aws_request_id, log_group_name, log_stream_name, identity, client_context,
get_remaining_time_in_millis()). The remaining time counts down to the caller's
``Lambda-Runtime-Deadline-Ms`` header (the poller sends it: the mapping's function timeout),
or --timeout seconds from the request's arrival without it.

Like one Lambda execution environment (and the emulator), it runs one invocation at a time by
default; --concurrency N lets N run at once on threads of this process (module globals are then
shared between them, unlike N Lambda instances).
"""

from lambda_runtime.runtime import (  # noqa: F401
    INVOKE_PATH,
    HandlerLoadError,
    LambdaContext,
    Runtime,
    load_handler,
    main,
    serve,
)
