"""Reading what the real poller did in the sandbox: the queue's messages, the checkpoint, the page calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.bigcommerce import CreatedRefund
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import CreateAttempt, FoundBy, OrderBaseline, RefundState, Transition
from refund_sync.services.refund_state import RefundLedger
from refund_sync_sandbox.netsuite import CallRecord
from refund_sync_sandbox.sandbox import Sandbox

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef


@dataclass(frozen=True)
class Queued:
    """One message of the refund queue, as SQS holds it."""

    message: RefundMessage
    group_id: str
    deduplication_id: str

    @property
    def netsuite_id(self) -> str:
        return self.message.refund.id


def peek_queue(sandbox: Sandbox) -> list[Queued]:
    """Every message in the refund queue, left in place (received, then made visible again).

    FIFO: while one message of a group is in flight, SQS holds back the group's later ones, so this
    sees them only if they come in the same receive (up to ten at a time): enough for these stories."""
    sqs = sandbox.aws.sqs()
    url = sandbox.aws.refund_queue_url
    received: list[MessageTypeDef] = []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        AttributeNames=["MessageGroupId", "MessageDeduplicationId"],
        VisibilityTimeout=60,
    ).get("Messages", []):
        received += batch
    for start in range(0, len(received), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(received[start : start + 10])
            ],
        )
    return [
        Queued(
            message=RefundMessage.model_validate_json(m["Body"]),
            group_id=m["Attributes"]["MessageGroupId"],
            deduplication_id=m["Attributes"]["MessageDeduplicationId"],
        )
        for m in received
    ]


def checkpoint(sandbox: Sandbox) -> Checkpoint:
    with sandbox.active():
        return StateStore(sandbox.aws.table_name).get_checkpoint()


def refund_state(sandbox: Sandbox, netsuite_id: str) -> RefundState | None:
    with sandbox.active():
        return StateStore(sandbox.aws.table_name).get(netsuite_id)


def this_minute() -> datetime:
    """NetSuite stamps lastModified to the minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def record_synced(sandbox: Sandbox, refund: NetSuiteRefund, bigcommerce_refund_id: int) -> RefundState:
    """What the consumer leaves behind once BigCommerce created the refund (through the ledger's steps)."""
    with sandbox.active():
        ledger = RefundLedger(StateStore(sandbox.aws.table_name))
        order_id = int(refund.bigcommerce_order_id or 0)
        create = CreateAttempt(
            order_id=order_id,
            items=(),
            payments=(),
            prepared_at=datetime.now(UTC),
            baseline=OrderBaseline(had_refunds=False),
        )
        submitting = ledger.submitting(
            None, refund, items=(), quoted=refund.total, payments=[], create=create
        )
        created = CreatedRefund(id=bigcommerce_refund_id, order_id=order_id, total_amount=refund.total)
        return ledger.synced(
            submitting,
            refund,
            created=created,
            transition=Transition.FINISH,
            found_by=FoundBy.CREATE_ANSWER,
            note=f"refund {bigcommerce_refund_id} created",
        )


def record_failed(sandbox: Sandbox, refund: NetSuiteRefund) -> RefundState:
    """What the consumer leaves behind when a refund cannot succeed as it stands (here: no such order)."""
    with sandbox.active():
        ledger = RefundLedger(StateStore(sandbox.aws.table_name))
        detail = f"BigCommerce has no order {refund.bigcommerce_order_id}"
        return ledger.problem(None, refund, Reason.ORDER_NOT_FOUND, detail)


def page_calls(sandbox: Sandbox) -> list[CallRecord]:
    """The RESTlet page calls NetSuite answered, in order."""
    return [call for call in sandbox.account.calls if call.endpoint == "restlet" and call.action == "page"]


def expected_group(refund: NetSuiteRefund) -> str:
    return f"order-{refund.bigcommerce_order_id}"


def emf_records(stdout: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric records Powertools printed (one JSON object per line)."""
    records = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "_aws" in record:
            records.append(record)
    return records


def metric_total(stdout: str, name: str) -> float:
    """The sum of metric `name` over every EMF record in `stdout`."""
    total = 0.0
    for record in emf_records(stdout):
        if name in record:
            value = record[name]
            total += sum(value) if isinstance(value, list) else value
    return total
