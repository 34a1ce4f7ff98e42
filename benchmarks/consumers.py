"""The consumer's real path (RefundConsumer -> RefundEngine -> BigCommerceClient, state in DynamoDB),
run in-process against the BigCommerce simulator's Flask app and moto, several "Lambda instances" at once.

SQS itself is bypassed: each refund is handed to RefundConsumer.handle as the SQS record Lambda would
build (batches of ten, as the event source mapping delivers them); a transient failure puts the refund
back at the end of the backlog with its receive count raised, as SQS redelivers it. The consumer's own
dead-letter and back-off requests are recorded instead of sent.
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest import mock

import boto3
import requests
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from moto import mock_aws

from benchmarks.corpus import CORPUS_SETTINGS, CorpusEntry
from benchmarks.inprocess import SimulatorMeter, WsgiAdapter
from refund_sync.adapters.bigcommerce import BigCommerceClient, BigCommerceError
from refund_sync.adapters.refund_queue import RefundMessage, RefundQueues
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.services.consume_refunds import RefundConsumer
from refund_sync.services.refund_state import RefundLedger
from refund_sync.services.sync_refund import RefundEngine, TransientFailure
from refund_sync_sandbox.aws import REGION, load_template
from refund_sync_sandbox.bigcommerce import BigCommerceStore
from refund_sync_sandbox.bigcommerce.app import create_app
from refund_sync_sandbox.netsuite import NetSuiteAccount, SandboxCredentials

ACCESS_TOKEN = "bench-token"  # noqa: S105 - the simulator's own token, not a secret
STORE_HASH = "bench"
BIGCOMMERCE_ROOT = "http://bigcommerce.bench"
TABLE = "bench-state"
BATCH_SIZE = 10  # the template's SQS event source BatchSize


class RecordingQueues(RefundQueues):
    """The consumer's dead-letter and back-off requests, counted rather than sent to SQS."""

    def __init__(self) -> None:
        super().__init__("bench-refunds.fifo", "bench-refunds-dlq.fifo", client=boto3.client("sqs", REGION))
        self.dead_lettered: list[str] = []
        self.backed_off = 0

    def dead_letter(
        self, body: str, *, group_id: str, message_id: str, reason_code: str, detail: str
    ) -> None:
        self.dead_lettered.append(reason_code)

    def back_off(self, receipt_handle: str, *, receive_count: int, base_seconds: int) -> int:
        self.backed_off += 1
        return base_seconds


def netsuite_refunds(corpus: list[CorpusEntry]) -> list[NetSuiteRefund]:
    """The corpus's refunds as NetSuite exports them (TBA keys only: no RSA key to generate)."""
    account = NetSuiteAccount(SandboxCredentials.generate(m2m=False))
    return [entry.add_to(account) for entry in corpus]


def sqs_record(refund: NetSuiteRefund, receive_count: int) -> SQSRecord:
    message = RefundMessage(refund=refund, sent_by="schedule", sent_at=datetime.now(UTC))
    return SQSRecord(
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": str(uuid.uuid4()),
            "body": message.model_dump_json(),
            "attributes": {
                "ApproximateReceiveCount": str(receive_count),
                "MessageGroupId": message.group_id,
                "MessageDeduplicationId": message.deduplication_id,
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:bench-refunds.fifo",
            "awsRegion": REGION,
        }
    )


@contextmanager
def state_table() -> Iterator[str]:
    """The stack's state table (from template.yaml) on moto, in-process."""
    fake_account = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    with mock.patch.dict(os.environ, fake_account), mock_aws():
        props = load_template()["Resources"]["StateTable"]["Properties"]
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            BillingMode=props["BillingMode"],
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        )
        yield TABLE


@dataclass
class Backlog:
    """The refunds waiting in the queue, with how often each was delivered."""

    pending: deque[tuple[NetSuiteRefund, int]]
    synced: int = 0
    problems: int = 0
    transient_failures: int = 0
    throttled_failures: int = 0  # transient failures caused by a 429
    invocations: int = 0
    failure_messages: list[str] = field(default_factory=list)
    completed_at: list[float] = field(default_factory=list)  # clock reading as each refund was done
    clock: Callable[[], float] | None = None

    @classmethod
    def of(cls, refunds: list[NetSuiteRefund]) -> Backlog:
        return cls(deque((refund, 1) for refund in refunds))

    def take_batch(self) -> list[tuple[NetSuiteRefund, int]]:
        batch: list[tuple[NetSuiteRefund, int]] = []
        while self.pending and len(batch) < BATCH_SIZE:
            batch.append(self.pending.popleft())
        if batch:
            self.invocations += 1
        return batch


def _caused_by_throttling(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, BigCommerceError) and cause.status == 429:
            return True
        cause = cause.__cause__
    return False


class BenchConsumer:
    """One Lambda instance: its own BigCommerce client (and rate limiter), the shared table and store."""

    def __init__(
        self,
        store: BigCommerceStore,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        after_call: Callable[[], None] | None = None,
        meter: SimulatorMeter | None = None,
    ) -> None:
        settings = Settings(state_table_name=TABLE, **CORPUS_SETTINGS)  # type: ignore[arg-type]
        self.adapter = WsgiAdapter(
            create_app(store, access_token=ACCESS_TOKEN, store_hash=STORE_HASH),
            meter=meter,
            after_call=after_call,
        )
        session = requests.Session()
        session.mount(BIGCOMMERCE_ROOT + "/", self.adapter)
        client = BigCommerceClient(
            f"{BIGCOMMERCE_ROOT}/stores/{STORE_HASH}",
            ACCESS_TOKEN,
            quota_reserve=settings.bigcommerce_quota_reserve,
            clock=clock,
            sleep=sleep,
            session=session,
        )
        engine = RefundEngine(settings, RefundLedger(StateStore(TABLE)), client)
        self.queues = RecordingQueues()
        self.consumer = RefundConsumer(settings, engine, self.queues)

    def drain(self, backlog: Backlog) -> None:
        """Take batches until the backlog is empty; a transient failure goes back for redelivery."""
        while batch := backlog.take_batch():
            for refund, receive_count in batch:
                self.handle(backlog, refund, receive_count)

    def handle(self, backlog: Backlog, refund: NetSuiteRefund, receive_count: int) -> None:
        try:
            result = self.consumer.handle(sqs_record(refund, receive_count))
        except TransientFailure as failure:
            backlog.transient_failures += 1
            backlog.throttled_failures += _caused_by_throttling(failure)
            backlog.failure_messages.append(str(failure))
            backlog.pending.append((refund, receive_count + 1))
            return
        if result is None:
            backlog.problems += 1
        else:
            backlog.synced += 1
        if backlog.clock is not None:
            backlog.completed_at.append(backlog.clock())
