"""Bad input gets a clear reason and loses nothing: never a crashed batch, never a wrong amount."""

from __future__ import annotations

from decimal import Decimal

from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import MUG, TEE, address, order
from tests.integration.consumer.support import bigcommerce_refunds, netsuite_refund, state

D = Decimal


def test_a_message_that_is_not_a_refund_is_dead_lettered_with_the_parsers_words(sandbox: Sandbox) -> None:
    sandbox.store.seed([order(401, [TEE.order_line(1, 1, 11)], [address(11, D("5.00"))])])
    good = netsuite_refund(sandbox, 401, [TEE.refund_line(1, 1)], tran_id="CM-GOOD")
    sandbox.aws.sqs().send_message(
        QueueUrl=sandbox.aws.refund_queue_url,
        MessageBody='{"refund": {"id": "not-a-number"}, "sent_by": "schedule"}',
        MessageGroupId="order-401",
        MessageDeduplicationId="garbage",
    )
    sandbox.run_poller({"action": "sync", "netsuite_ids": [good.id]})

    report = sandbox.drain()

    assert (report.delivered, report.failed) == (2, 0), "neither retried nor blocking its order's group"
    assert state(sandbox, good).status is SyncStatus.SYNCED
    (letter,) = sandbox.dead_letters()
    assert letter.reason == "MALFORMED_MESSAGE"
    assert "refund.id" in letter.detail


def test_a_refund_whose_parts_do_not_add_up_is_held_before_anything_is_asked_of_bigcommerce(
    sandbox: Sandbox,
) -> None:
    sandbox.store.seed([order(402, [MUG.order_line(1, 1, 12)], [address(12, D("5.00"))])])
    ns = netsuite_refund(sandbox, 402, [MUG.refund_line(1, 1)], tran_id="CM-ODD")
    bent = ns.model_copy(update={"total": D("99.99")})
    sandbox.account.set_in_saved_search(ns.id, False)
    sandbox.aws.sqs().send_message(
        QueueUrl=sandbox.aws.refund_queue_url,
        MessageBody='{"refund": '
        + bent.model_dump_json()
        + ', "sent_by": "schedule", "sent_at": "2026-11-20T10:00:00Z"}',
        MessageGroupId="order-402",
        MessageDeduplicationId="inconsistent",
    )

    sandbox.drain()

    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "NETSUITE_TOTALS_INCONSISTENT")
    assert "99.99" in (held.reason_detail or "")
    assert bigcommerce_refunds(sandbox, 402) == []
    assert sandbox.store.calls() == [], "nothing was asked of BigCommerce"
