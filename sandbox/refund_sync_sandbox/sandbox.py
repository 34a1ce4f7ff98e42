"""The whole sandbox in one object: AWS on moto, the NetSuite and BigCommerce simulators, and the real
handlers wired to them exactly as Lambda would run them (environment variables, secrets, SQS events).

    with running_sandbox() as sandbox:
        seed_demo(sandbox)
        sandbox.run_poller()      # the real poller handler, on a scheduled event
        sandbox.drain()           # the real consumer handler, fed from the queue

Lambda's Invoke API is served too (`sandbox.lambda_url`), so the CLI invokes the operator function here
with the same boto3 call as on a stack. One invocation runs at a time, as the functions' environment
and caches are the process's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from aws_lambda_powertools.utilities import parameters

from refund_consumer.handler import lambda_handler as consumer_handler
from refund_operator.handler import lambda_handler as operator_handler
from refund_payout_checker.handler import lambda_handler as payout_check_handler
from refund_poller.handler import lambda_handler as poller_handler
from refund_sync.adapters.refund_queue import DeadLetter, peek_dead_letters
from refund_sync.config import NetSuiteAuthMethod, get_settings
from refund_sync.services.check_payouts import payout_checker
from refund_sync.services.consume_refunds import refund_consumer
from refund_sync.services.operator_actions import operator
from refund_sync.services.poll_refunds import refund_poller
from refund_sync_sandbox.aws import SandboxAws, create_stack_resources, environment, moto_server, put_secret
from refund_sync_sandbox.bigcommerce import BigCommerceStore, start_bigcommerce_server
from refund_sync_sandbox.bigcommerce.server import RunningServer as BigCommerceServer
from refund_sync_sandbox.http_server import HttpServer
from refund_sync_sandbox.lambda_runtime import (
    DrainReport,
    Handler,
    drain_queue,
    function_logs_to,
    invoke,
    serve_lambda_api,
)
from refund_sync_sandbox.netsuite import NetSuiteAccount, SandboxCredentials, start_netsuite_server
from refund_sync_sandbox.netsuite.server import RunningServer as NetSuiteServer

SANDBOX_ACCOUNT_ID = "1234567_SB1"
POLLER_TIMEOUT_SECONDS = 240
CONSUMER_TIMEOUT_SECONDS = 120
PAYOUT_CHECK_TIMEOUT_SECONDS = 120
OPERATOR_TIMEOUT_SECONDS = 180
# The names the sandbox runs the handlers under (the stack's outputs name the deployed ones).
POLLER_FUNCTION_NAME = "refund-sync-poller"
CONSUMER_FUNCTION_NAME = "refund-sync-consumer"
PAYOUT_CHECK_FUNCTION_NAME = "refund-sync-payout-check"
OPERATOR_FUNCTION_NAME = "refund-sync-operator"


class LocalFunction(NamedTuple):
    handler: Handler
    timeout_seconds: int
    feeds_the_queue: bool  # then the consumer takes what it sent, as the SQS event source would


FUNCTIONS = {
    POLLER_FUNCTION_NAME: LocalFunction(poller_handler, POLLER_TIMEOUT_SECONDS, feeds_the_queue=True),
    CONSUMER_FUNCTION_NAME: LocalFunction(consumer_handler, CONSUMER_TIMEOUT_SECONDS, feeds_the_queue=False),
    PAYOUT_CHECK_FUNCTION_NAME: LocalFunction(
        payout_check_handler, PAYOUT_CHECK_TIMEOUT_SECONDS, feeds_the_queue=False
    ),
    OPERATOR_FUNCTION_NAME: LocalFunction(operator_handler, OPERATOR_TIMEOUT_SECONDS, feeds_the_queue=True),
}


def reset_process_caches() -> None:
    """Forget settings, clients and cached secrets, so the next invocation reads the environment anew."""
    get_settings.cache_clear()
    refund_consumer.cache_clear()
    refund_poller.cache_clear()
    payout_checker.cache_clear()
    operator.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@dataclass
class Sandbox:
    aws: SandboxAws
    bigcommerce: BigCommerceServer
    netsuite: NetSuiteServer
    credentials: SandboxCredentials
    auth_method: NetSuiteAuthMethod
    settings: dict[str, str] = field(default_factory=dict)
    lambda_api: HttpServer | None = None
    # Where the functions invoked through the Invoke API log and print their metrics: never onto the
    # caller's output (a CLI run in this process, as the tests run it, reads its own stdout).
    function_log: Path = Path(os.devnull)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def lambda_url(self) -> str:
        assert self.lambda_api is not None, "the sandbox serves no Lambda Invoke API"
        return self.lambda_api.url

    @property
    def store(self) -> BigCommerceStore:
        return self.bigcommerce.store

    @property
    def account(self) -> NetSuiteAccount:
        return self.netsuite.account

    def environment(self) -> dict[str, str]:
        """Everything the functions read: what template.yaml sets in Lambda, pointed at the simulators."""
        return {
            "POWERTOOLS_SERVICE_NAME": "refund-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "RefundSync",
            "STAGE": "sandbox",
            **self.aws.environment(),
            **self.netsuite.environment(),
            "NETSUITE_AUTH_METHOD": self.auth_method.value,
            "BIGCOMMERCE_STORE_HASH": self.bigcommerce.store_hash,
            "BIGCOMMERCE_API_URL": self.bigcommerce.url,
            # The simulator's gateways answer at once, so a rehearsal need not wait to check payouts.
            "PAYOUT_CHECK_DELAY_MINUTES": "0",
            **self.settings,
        }

    @contextmanager
    def active(self) -> Iterator[None]:
        """The functions' environment, set for the duration of a block (with fresh caches around it);
        one block at a time, whichever thread asks (the Invoke API serves each call on its own)."""
        with self._lock, environment(self.environment()):
            reset_process_caches()
            try:
                yield
            finally:
                reset_process_caches()

    def invoke_function(self, name: str, event: dict[str, Any]) -> Any:
        """One invocation of a function by its name, as Lambda runs it; a function that sends refunds to
        the queue (the poller, the operator) is followed by the consumer taking them."""
        function = FUNCTIONS[name]
        with self._lock, function_logs_to(self.function_log, append=True):
            with self.active():
                result = invoke(
                    function.handler, event, function_name=name, timeout_seconds=function.timeout_seconds
                )
            if function.feeds_the_queue:
                self.drain()
        return result

    def run_operator(self, event: dict[str, Any]) -> dict[str, Any]:
        """The operator function's answer to `event` (what the CLI asks)."""
        result: dict[str, Any] = self.invoke_function(OPERATOR_FUNCTION_NAME, event)
        return result

    def configure(self, **settings: str) -> None:
        """Change settings by lower-case environment names, e.g. refund_method_policy="store_credit"."""
        self.settings.update({key.upper(): value for key, value in settings.items()})

    def run_poller(
        self, event: dict[str, Any] | None = None, *, timeout_seconds: int = POLLER_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """The poller handler on `event` (a scheduled poll by default), given `timeout_seconds` to run,
        as the function's Timeout gives it: a short one rehearses a run cut off mid-sweep."""
        with self.active():
            result: dict[str, Any] = invoke(
                poller_handler,
                event or {"action": "poll"},
                function_name=POLLER_FUNCTION_NAME,
                timeout_seconds=timeout_seconds,
            )
        return result

    def run_payout_check(self) -> dict[str, Any]:
        """The payout-check handler, as its schedule runs it: gateway declines of synced refunds."""
        with self.active():
            result: dict[str, Any] = invoke(
                payout_check_handler,
                {},
                function_name=PAYOUT_CHECK_FUNCTION_NAME,
                timeout_seconds=PAYOUT_CHECK_TIMEOUT_SECONDS,
            )
        return result

    def drain(
        self, *, max_batches: int = 1000, timeout_seconds: int = CONSUMER_TIMEOUT_SECONDS
    ) -> DrainReport:
        """The consumer handler on every batch the queue hands out; `timeout_seconds` is each
        invocation's time, as the function's Timeout gives it."""
        with self.active():
            return drain_queue(
                self.aws.sqs(),
                self.aws.refund_queue_url,
                consumer_handler,
                timeout_seconds=timeout_seconds,
                max_batches=max_batches,
            )

    def let_visibility_lapse(self, report: DrainReport) -> None:
        """Fast-forward what SQS does when a failed message's visibility timeout runs out: it is
        visible again (and its FIFO group unblocked), to be delivered once more."""
        sqs = self.aws.sqs()
        for receipt in report.failed_receipts:
            sqs.change_message_visibility(
                QueueUrl=self.aws.refund_queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )

    def redrive(self) -> int:
        """Move every dead-lettered message back to the refund queue, as the console's "Start DLQ redrive"
        does (moto has no StartMessageMoveTask): new message ids, same bodies and groups."""
        sqs = self.aws.sqs()
        moved = 0
        while batch := sqs.receive_message(
            QueueUrl=self.aws.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["MessageGroupId"],
            VisibilityTimeout=30,
        ).get("Messages", []):
            for message in batch:
                sqs.send_message(
                    QueueUrl=self.aws.refund_queue_url,
                    MessageBody=message["Body"],
                    MessageGroupId=message["Attributes"]["MessageGroupId"],
                    MessageDeduplicationId=f"redrive-{message['MessageId']}",
                )
                sqs.delete_message(
                    QueueUrl=self.aws.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                moved += 1
        return moved

    def dead_letters(self) -> list[DeadLetter]:
        """The dead-letter queue's messages with their reason, left in place."""
        return peek_dead_letters(self.aws.sqs(), self.aws.dead_letter_queue_url)


@contextmanager
def running_sandbox(
    *,
    auth_method: NetSuiteAuthMethod = NetSuiteAuthMethod.OAUTH2_M2M,
    account_id: str = SANDBOX_ACCOUNT_ID,
    settings: dict[str, str] | None = None,
    aws_endpoint: str | None = None,
    credentials: SandboxCredentials | None = None,
    bigcommerce_store: BigCommerceStore | None = None,
) -> Iterator[Sandbox]:
    """Start everything on ephemeral local ports; stop everything on the way out.

    `aws_endpoint`: an already running moto server to reuse (it is reset first), as tests do.
    `bigcommerce_store`: the store to serve (e.g. one on a clock the caller moves); an empty one by default.
    """
    credentials = credentials or SandboxCredentials.generate(account_id)
    with ExitStack() as stack:
        endpoint = aws_endpoint or stack.enter_context(moto_server())
        aws = create_stack_resources(endpoint)
        put_secret(aws, aws.netsuite_secret_name, credentials.secret_for(auth_method))
        bigcommerce = start_bigcommerce_server(bigcommerce_store or BigCommerceStore())
        put_secret(aws, aws.bigcommerce_secret_name, {"access_token": bigcommerce.access_token})
        netsuite = start_netsuite_server(NetSuiteAccount(credentials))
        sandbox = Sandbox(aws, bigcommerce, netsuite, credentials, auth_method)
        sandbox.configure(**(settings or {}))
        sandbox.lambda_api = serve_lambda_api(sandbox.invoke_function, FUNCTIONS.__contains__)
        try:
            yield sandbox
        finally:
            sandbox.lambda_api.shutdown()
            netsuite.stop()
            bigcommerce.stop()
