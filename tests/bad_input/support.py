"""Tools of the bad-input properties: example budgets, a transport that answers with any body, and the
sandbox seen from the queue's side (deliver a batch to the real consumer handler, read the dead letters).

Budgets: `make test` runs a few examples of each property that drives the sandbox, many of each pure one,
and never shrinks a sandbox failure (a shrink step costs a whole pipeline run). BAD_INPUT_THOROUGH=1
multiplies the examples and shrinks failures, for a deliberate hunt.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from hypothesis import HealthCheck, Phase, settings
from requests.adapters import HTTPAdapter

from refund_consumer.handler import lambda_handler as consumer_handler
from refund_sync.adapters.netsuite.contract import PageResponse, Paging
from refund_sync.adapters.refund_queue import DeadLetter, RefundMessage
from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import RefundState
from refund_sync_sandbox.aws import environment
from refund_sync_sandbox.bigcommerce import CallRecord, Order
from refund_sync_sandbox.lambda_runtime import invoke, sqs_event
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import TEE, address, order

D = Decimal
THOROUGH = os.environ.get("BAD_INPUT_THOROUGH", "") not in ("", "0")
_QUICK_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


def budget(examples: int, *, sandbox: bool) -> settings:
    """Hypothesis settings for a property: `examples` normally, 20x as many (and shrinking) when thorough.

    A sandbox property keeps one sandbox for all its examples (each example uses fresh ids), hence the
    function-scoped-fixture health check is off."""
    return settings(
        max_examples=examples * 20 if THOROUGH else examples,
        deadline=None,
        phases=tuple(Phase) if THOROUGH or not sandbox else _QUICK_PHASES,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# -- fresh ids: examples share one sandbox, so no two may touch the same order or refund -----------------
_order_ids = itertools.count(700_001)
_netsuite_ids = itertools.count(8_000_001)


def fresh_order_id() -> int:
    return next(_order_ids)


def fresh_netsuite_id() -> str:
    return str(next(_netsuite_ids))


def one_tee_order(order_id: int, *, units: int = 2) -> Order:
    """A BigCommerce order of `units` tees (25.00 + 10% tax each) and 5.00 shipping, paid by card."""
    return order(order_id, [TEE.order_line(order_id * 10 + 1, units, order_id)], [address(order_id, D("5"))])


def page_json(
    refunds: list[NetSuiteRefund], *, after_id: str = "0", has_more: bool = False
) -> dict[str, Any]:
    """A RESTlet page answer holding `refunds`, as JSON, keeping the contract."""
    page = PageResponse(
        refunds=refunds,
        paging=Paging(
            after_id=after_id,
            last_id=refunds[-1].id if refunds else None,
            page_size=5,
            count=len(refunds),
            has_more=has_more,
        ),
    )
    document: dict[str, Any] = page.model_dump(mode="json")
    return document


# -- a transport that answers chosen requests with any body ------------------------------------------------
@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass
class _Rule:
    method: str
    path: re.Pattern[str]
    answer: Answer
    pass_first: int
    forward: bool
    matched: int = 0


@dataclass(frozen=True)
class Answered:
    method: str
    path: str
    status: int
    forwarded: bool


class Interceptor(HTTPAdapter):
    """Mounted on a client's session: requests matching a rule get the rule's answer, the rest reach the
    real server. `forward=True` lets the server process the request first and replaces only its answer
    (BigCommerce did the work, the answer was lost or mangled on the way back)."""

    def __init__(self) -> None:
        super().__init__()
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.answered: list[Answered] = []

    def answer(
        self, method: str, path: str, answer: Answer, *, pass_first: int = 0, forward: bool = False
    ) -> None:
        """Answer requests whose path fully matches the regular expression `path`, after `pass_first`."""
        with self._lock:
            self._rules.append(_Rule(method.upper(), re.compile(path), answer, pass_first, forward))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.answered.clear()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        path = urlsplit(request.url or "").path
        rule = self._take(request.method or "", path)
        if rule is None:
            return super().send(request, *args, **kwargs)
        if rule.forward:
            super().send(request, *args, **kwargs).close()
        with self._lock:
            self.answered.append(Answered(request.method or "", path, rule.answer.status, rule.forward))
        response = requests.Response()
        response.status_code = rule.answer.status
        response.raw = io.BytesIO(rule.answer.body)
        response._content = rule.answer.body
        response.headers["Content-Type"] = rule.answer.content_type
        response.request = request
        response.url = request.url or ""
        response.reason = "Intercepted"
        response.connection = self  # as HTTPAdapter does: hooks resend through it
        return response

    def _take(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method.upper() and rule.path.fullmatch(path):
                    rule.matched += 1
                    return rule if rule.matched > rule.pass_first else None
        return None


# -- the sandbox from the queue's side ---------------------------------------------------------------------
@dataclass(frozen=True)
class Outgoing:
    """A message as it will sit in the refund queue: any body, in some message group."""

    body: str
    group_id: str

    @classmethod
    def refund(cls, refund: NetSuiteRefund) -> Outgoing:
        message = RefundMessage(refund=refund, sent_by="schedule", sent_at=refund.last_modified)
        return cls(message.model_dump_json(), message.group_id)


@dataclass
class Delivery:
    """One batch handed to the real consumer handler, and what the handler answered."""

    sent: dict[str, Outgoing] = field(default_factory=dict)  # SQS message id -> what was sent
    failed: set[str] = field(default_factory=set)  # message ids reported as batch item failures
    receipts: dict[str, str] = field(default_factory=dict)  # message id -> receipt handle

    def failed_bodies(self) -> set[str]:
        return {self.sent[message_id].body for message_id in self.failed}


@dataclass(frozen=True)
class Letter:
    body: str
    letter: DeadLetter


class Pipeline:
    """The sandbox seen from the refund queue: batches in, state items, dead letters and BigCommerce calls
    out. The consumer stays warm between batches, as a Lambda container does (its clients are built once);
    each test starts and ends with cold caches."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.sqs = sandbox.aws.sqs()
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=sandbox.aws.refund_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        with sandbox.active():
            self.store = StateStore(sandbox.aws.table_name)

    def deliver(self, outgoing: Sequence[Outgoing]) -> Delivery:
        """Send `outgoing` (ten at most) to the refund queue, receive them and invoke the consumer handler on
        them as one batch, as the SQS event source does. The handler must answer: nothing here catches what
        it raises. Its reported failures stay in flight; the rest are deleted."""
        assert len(outgoing) <= 10, "the event source hands the consumer ten messages at most"
        sent: dict[str, Outgoing] = {}
        for message in outgoing:
            answer = self.sqs.send_message(
                QueueUrl=self.sandbox.aws.refund_queue_url,
                MessageBody=message.body,
                MessageGroupId=message.group_id,
                MessageDeduplicationId=uuid.uuid4().hex,
            )
            sent[answer["MessageId"]] = message
        return self._handle(sent)

    def redeliver_failed(self, earlier: Delivery) -> Delivery:
        """The failed messages of `earlier` once more, as SQS delivers them when their visibility lapses."""
        for message_id in earlier.failed:
            self.sqs.change_message_visibility(
                QueueUrl=self.sandbox.aws.refund_queue_url,
                ReceiptHandle=earlier.receipts[message_id],
                VisibilityTimeout=0,
            )
        return self._handle({message_id: earlier.sent[message_id] for message_id in earlier.failed})

    def _handle(self, expected: dict[str, Outgoing]) -> Delivery:
        url = self.sandbox.aws.refund_queue_url
        received: list[Any] = []
        while len(received) < len(expected):
            batch = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                VisibilityTimeout=600,
            ).get("Messages", [])
            assert batch, f"only {len(received)} of {len(expected)} messages came back from the queue"
            for message in batch:
                if message["MessageId"] in expected:
                    received.append(message)
                else:  # left over by an example that failed before cleaning up: not this batch's
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        with environment(self.sandbox.environment()):
            response = invoke(
                consumer_handler,
                sqs_event(received, self.queue_arn, self.queue_arn.split(":")[3]),
                function_name="refund-sync-consumer",
                timeout_seconds=120,
            )
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        receipts = {m["MessageId"]: m["ReceiptHandle"] for m in received}
        return Delivery(sent=expected, failed=failed, receipts=receipts)

    def discard_failed(self, delivery: Delivery) -> None:
        """Delete what the handler left for redelivery: the example is over, and a message coming back once
        its backoff lapses would land in a later example's batch."""
        for message_id in delivery.failed:
            self.sqs.delete_message(
                QueueUrl=self.sandbox.aws.refund_queue_url, ReceiptHandle=delivery.receipts[message_id]
            )

    def take_dead_letters(self) -> list[Letter]:
        """Every message of the dead-letter queue, removed from it (so the next example starts empty)."""
        url = self.sandbox.aws.dead_letter_queue_url
        letters: list[Letter] = []
        while batch := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=600
        ).get("Messages", []):
            for message in batch:
                letters.append(Letter(message["Body"], DeadLetter.from_message(message)))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return letters

    def recorded(self, netsuite_id: str) -> RefundState | None:
        return self.store.get(netsuite_id)

    def refund_creates(self, order_id: int) -> list[CallRecord]:
        """The refund creates BigCommerce received for one order (a quote is a read: not counted)."""
        path = f"/v3/orders/{order_id}/payment_actions/refunds"
        return [c for c in self.sandbox.store.calls() if c.method == "POST" and c.path.endswith(path)]
