"""Putting one refund case into the sandbox and reading back what happened to it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync.domain.state import RefundState
from refund_sync.services.operator_decisions import OperatorDecisions, operator_decisions_from_settings
from refund_sync_sandbox.bigcommerce import Order
from refund_sync_sandbox.lambda_runtime import DrainReport
from refund_sync_sandbox.netsuite import BillingType
from refund_sync_sandbox.sandbox import Sandbox

D = Decimal


def netsuite_refund(
    sandbox: Sandbox,
    order_id: int | None,
    lines: Sequence[RefundLine],
    *,
    tran_id: str,
    cash: bool = False,
    **extra: Any,
) -> NetSuiteRefund:
    """A refund made in NetSuite from the billed record of the sales order synced from `order_id`."""
    sales_order = sandbox.account.add_sales_order(bigcommerce_order_id=str(order_id) if order_id else None)
    billing = sandbox.account.add_billing(sales_order, BillingType.CASH_SALE if cash else BillingType.INVOICE)
    return sandbox.account.create_refund(billing, list(lines), tran_id=tran_id, **extra)


def case(
    sandbox: Sandbox, bigcommerce_order: Order | None, lines: Sequence[RefundLine], **extra: Any
) -> NetSuiteRefund:
    if bigcommerce_order is not None:
        sandbox.store.seed([bigcommerce_order])
    order_id = bigcommerce_order.id if bigcommerce_order else extra.pop("order_id", None)
    return netsuite_refund(sandbox, order_id, lines, tran_id=extra.pop("tran_id", "CM-1"), **extra)


def sync_now(sandbox: Sandbox, refund: NetSuiteRefund) -> DrainReport:
    """What `refund-sync sync` does: the real poller on an on-demand event, then the consumer."""
    report = sandbox.run_poller({"action": "sync", "netsuite_ids": [refund.id]})
    assert report["enqueued"] or report["not_sent"], report
    return sandbox.drain()


def deliver_again(sandbox: Sandbox, refund: NetSuiteRefund, *, copy: str) -> DrainReport:
    """The same message once more (an at-least-once redelivery, or a redrive: a new message id)."""
    message = RefundMessage(refund=refund, sent_by="schedule", sent_at=refund.last_modified)
    sandbox.aws.sqs().send_message(
        QueueUrl=sandbox.aws.refund_queue_url,
        MessageBody=message.model_dump_json(),
        MessageGroupId=message.group_id,
        MessageDeduplicationId=copy,
    )
    return sandbox.drain()


@contextmanager
def operator(sandbox: Sandbox) -> Iterator[OperatorDecisions]:
    """An operator's decisions on held or declined refunds, against the sandbox's table and store."""
    with sandbox.active():
        yield operator_decisions_from_settings(Settings())


def state(sandbox: Sandbox, refund: NetSuiteRefund) -> RefundState:
    with sandbox.active():
        found = StateStore(sandbox.aws.table_name).get(refund.id)
    assert found is not None, f"no state recorded for {refund.label}"
    return found


def bigcommerce_refunds(sandbox: Sandbox, order_id: int) -> list[Any]:
    return list(sandbox.store.list_refunds(order_ids=[order_id]))


def calls_on(sandbox: Sandbox, order_id: int) -> list[str]:
    """The BigCommerce calls made about one order: those whose path names it."""
    seen = []
    for call in sandbox.store.calls():
        parts = call.path.strip("/").split("/")
        if "orders" in parts and parts[parts.index("orders") + 1 :][:1] == [str(order_id)]:
            seen.append(f"{call.method} {'/'.join(parts[2:])} -> {call.status}")
    return seen
