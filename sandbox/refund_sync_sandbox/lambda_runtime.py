"""Runs the real Lambda handlers locally, fed as Lambda feeds them.

`drain_queue` is the SQS event source mapping in miniature: receive a batch from the FIFO queue,
hand it to the consumer handler as an SQS event, delete what succeeded, and leave the reported
failures for redelivery (and, after maxReceiveCount, the dead-letter queue) — which SQS does itself.
`serve_lambda_api` is Lambda's Invoke API on a local port, so a client invokes these handlers with the
same boto3 call as a deployed function.
"""

from __future__ import annotations

import contextlib
import json
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from flask import Flask, Response, request

from refund_sync.observability import logger
from refund_sync_sandbox.http_server import HttpServer, serve

Handler = Callable[[dict[str, Any], Any], Any]


@contextlib.contextmanager
def function_logs_to(path: Path, *, append: bool = False) -> Iterator[None]:
    """The functions' JSON logs and EMF metrics go to a file (as CloudWatch would take them), so a
    terminal shows the story instead. Metrics print to stdout; the logger holds its own stream."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as stream, contextlib.redirect_stdout(stream):
        handler = logger.registered_handler
        previous = handler.setStream(stream)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]


@dataclass
class LocalContext:
    """The parts of Lambda's context object the handlers (and Powertools) read."""

    function_name: str
    timeout_seconds: int = 120
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.started + self.timeout_seconds - time.monotonic()) * 1000), 0)


def invoke(handler: Handler, event: dict[str, Any], *, function_name: str, timeout_seconds: int) -> Any:
    return handler(event, LocalContext(function_name=function_name, timeout_seconds=timeout_seconds))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from a ReceiveMessage batch."""
    records = []
    for message in messages:
        attributes = dict(message.get("Attributes", {}))
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


@dataclass
class DrainReport:
    batches: int = 0
    delivered: int = 0
    succeeded: int = 0
    failed: int = 0
    failed_receipts: list[str] = field(default_factory=list)  # still in flight until their visibility lapses


def drain_queue(
    sqs: Any,
    queue_url: str,
    handler: Handler,
    *,
    function_name: str = "refund-sync-consumer",
    timeout_seconds: int = 120,
    batch_size: int = 10,
    max_batches: int = 1000,
) -> DrainReport:
    """Deliver the queue's visible messages to `handler` until none are left visible."""
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    region = queue_arn.split(":")[3]
    report = DrainReport()
    for _ in range(max_batches):
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = received.get("Messages", [])
        if not messages:
            break
        report.batches += 1
        report.delivered += len(messages)
        try:
            response: PartialItemFailureResponse = invoke(
                handler,
                sqs_event(messages, queue_arn, region),
                function_name=function_name,
                timeout_seconds=timeout_seconds,
            )
            failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        except Exception:
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        report.succeeded += len(done)
        report.failed += len(failed_ids)
        report.failed_receipts += [m["ReceiptHandle"] for m in messages if m["MessageId"] in failed_ids]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
    return report


# -- the Lambda Invoke API, locally --------------------------------------------------------------------------
# What boto3's `lambda.invoke` sends and reads (AWS Lambda API Reference, "Invoke"): POST
# /2015-03-31/functions/{FunctionName}/invocations with the event as the body; the answer is the
# function's result with HTTP 200, or, when the handler raised, 200 with the header X-Amz-Function-Error
# and {"errorMessage", "errorType", "stackTrace"} as the body; an unknown function is a 404
# ResourceNotFoundException. So the CLI invokes the sandbox's functions exactly as it invokes a stack's.
Invoker = Callable[[str, dict[str, Any]], Any]


def lambda_invoke_app(invoke_function: Invoker, known: Callable[[str], bool]) -> Flask:
    app = Flask("refund-sync-sandbox-lambda")

    @app.post("/2015-03-31/functions/<path:name>/invocations")
    def invocations(name: str) -> Response:
        function_name = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
        if not known(function_name):
            return _lambda_error(404, "ResourceNotFoundException", f"Function not found: {function_name}")
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return Response(status=204)
        try:
            event = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _lambda_error(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        try:
            result = invoke_function(function_name, event)
        except Exception as error:  # the handler's own failure, as Lambda reports it
            body = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            headers["X-Amz-Function-Error"] = "Unhandled"
            return Response(json.dumps(body), status=200, headers=headers, mimetype="application/json")
        status = 202 if invocation_type == "Event" else 200
        payload = "" if status == 202 else json.dumps(result)
        return Response(payload, status=status, headers=headers, mimetype="application/json")

    return app


def _lambda_error(status: int, error_type: str, message: str) -> Response:
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status=status,
        headers={"x-amzn-ErrorType": error_type},
        mimetype="application/json",
    )


def serve_lambda_api(invoke_function: Invoker, known: Callable[[str], bool]) -> HttpServer:
    """The Invoke API on an ephemeral local port, on a daemon thread (stop it with .shutdown())."""
    return serve(
        lambda_invoke_app(invoke_function, known),
        name="lambda-api",
        host="127.0.0.1",
        port=0,
        log_requests=False,
    )
