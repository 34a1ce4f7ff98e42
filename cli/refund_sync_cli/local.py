"""The sandbox's Lambda: the real handlers, run in this process with the functions' environment.

What a deployed stack does with a Lambda invocation and the SQS event source, the sandbox does here:
set the functions' environment, start from fresh caches, call the handler with a local context, then
feed the refund queue to the consumer handler until nothing is visible (lambda_runtime.drain_queue).
The sandbox's modules (moto, the simulators) are imported only here, so a stack never needs them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from refund_sync.observability import logger
from refund_sync_cli.target import Target

if TYPE_CHECKING:
    from refund_sync_sandbox.lambda_runtime import DrainReport, Handler


def function_logs(target: Target) -> contextlib.AbstractContextManager[None]:
    """The functions' JSON logs and metrics go to a file beside the outputs file, not to the CLI's output."""
    return _runtime().function_logs_to(target.log_file, append=True)


@contextlib.contextmanager
def engine_logs(target: Target) -> Iterator[None]:
    """Where the engine's logs go while the CLI runs it (preview): the sandbox's log file, or, for a
    stack, warnings and errors only, on stderr, so stdout keeps just what the CLI prints."""
    if target.is_sandbox:
        with function_logs(target):
            yield
        return
    handler = logger.registered_handler
    previous_stream = handler.setStream(sys.stderr)  # type: ignore[attr-defined]
    previous_level = logger.log_level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Runtime:
    environment: Callable[[dict[str, str]], AbstractContextManager[None]]
    reset_process_caches: Callable[[], None]
    invoke: Callable[..., Any]
    drain_queue: Callable[..., DrainReport]
    poller: Handler
    consumer: Handler
    poller_timeout_seconds: int
    consumer_timeout_seconds: int
    function_logs_to: Callable[..., AbstractContextManager[None]]


@cache
def _runtime() -> _Runtime:
    # Loaded on first use only: a deployed stack needs neither moto nor the simulators.
    from refund_consumer.handler import lambda_handler as consumer  # noqa: PLC0415
    from refund_poller.handler import lambda_handler as poller  # noqa: PLC0415
    from refund_sync_sandbox import aws, lambda_runtime, sandbox  # noqa: PLC0415

    return _Runtime(
        environment=aws.environment,
        reset_process_caches=sandbox.reset_process_caches,
        invoke=lambda_runtime.invoke,
        drain_queue=lambda_runtime.drain_queue,
        poller=poller,
        consumer=consumer,
        poller_timeout_seconds=sandbox.POLLER_TIMEOUT_SECONDS,
        consumer_timeout_seconds=sandbox.CONSUMER_TIMEOUT_SECONDS,
        function_logs_to=lambda_runtime.function_logs_to,
    )


@contextlib.contextmanager
def function_runtime(target: Target) -> Iterator[_Runtime]:
    """The functions' environment and fresh caches around an invocation, as a new Lambda container has."""
    runtime = _runtime()
    with function_logs(target), runtime.environment(target.environment()):
        runtime.reset_process_caches()
        try:
            yield runtime
        finally:
            runtime.reset_process_caches()


def invoke_poller(target: Target, event: dict[str, Any]) -> dict[str, Any]:
    """The poller's answer to `event`; then the consumer takes what it enqueued, as SQS would hand it over.

    Raises what the poller's handler raised (the consumer's failures stay in the queue, as in AWS)."""
    with function_runtime(target) as runtime:
        result: dict[str, Any] = runtime.invoke(
            runtime.poller,
            event,
            function_name=target.outputs.poller_function_name,
            timeout_seconds=runtime.poller_timeout_seconds,
        )
        _drain(target, runtime)
    return result


def drain(target: Target) -> DrainReport:
    """Deliver the refund queue to the consumer handler, as the event source mapping would."""
    with function_runtime(target) as runtime:
        return _drain(target, runtime)


def _drain(target: Target, runtime: _Runtime) -> DrainReport:
    return runtime.drain_queue(
        target.sqs(),
        target.outputs.refund_queue_url,
        runtime.consumer,
        function_name=target.outputs.consumer_function_name,
        timeout_seconds=runtime.consumer_timeout_seconds,
    )


def move_dead_letters(target: Target) -> list[str]:
    """What "Start DLQ redrive" does, for moto (which lacks StartMessageMoveTask): every dead-lettered
    message back to the refund queue with a new message id, same body and group. Returns the bodies."""
    sqs = target.sqs()
    dead_letter_queue = target.outputs.dead_letter_queue_url
    moved: list[str] = []
    while batch := sqs.receive_message(
        QueueUrl=dead_letter_queue,
        MaxNumberOfMessages=10,
        AttributeNames=["MessageGroupId"],
        MessageAttributeNames=["All"],
        VisibilityTimeout=30,
    ).get("Messages", []):
        for message in batch:
            sqs.send_message(
                QueueUrl=target.outputs.refund_queue_url,
                MessageBody=message["Body"],
                MessageGroupId=message["Attributes"]["MessageGroupId"],
                # A redriven message is a new message: deduplicating it against the original would drop it.
                MessageDeduplicationId=f"redrive-{message['MessageId']}",
            )
            sqs.delete_message(QueueUrl=dead_letter_queue, ReceiptHandle=message["ReceiptHandle"])
            moved.append(message["Body"])
    return moved
