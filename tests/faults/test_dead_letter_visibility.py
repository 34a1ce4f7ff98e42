"""Found by the fault campaign: a peek of the (FIFO) dead-letter queue cannot see past the first ten
messages of one message group.

SQS hands out no more messages of a FIFO message group while some of it is in flight, and a peek
leaves what it received in flight until it is done. Refunds without a BigCommerce order therefore get
a message group each (those of one order share theirs: BigCommerce must get them one at a time), so
an operator's peek (`refund-sync redrive`, `Sandbox.dead_letters()`) shows every one of them.
"""

from __future__ import annotations

from refund_sync.adapters.refund_queue import RefundMessage, RefundQueues
from refund_sync_sandbox.sandbox import Sandbox
from tests.factories import refund


def test_a_peek_of_the_dead_letter_queue_shows_every_refund_without_an_order(sandbox: Sandbox) -> None:
    # Given twelve order-less refunds dead-lettered with their reason, as the consumer does
    queues = RefundQueues(
        sandbox.aws.refund_queue_url, sandbox.aws.dead_letter_queue_url, client=sandbox.aws.sqs()
    )
    messages = [
        RefundMessage(
            refund=refund(netsuite_id=str(5000 + n), tran_id=f"CM-{5000 + n}", order_id=None),
            sent_by="schedule",
            sent_at=refund().last_modified,
        )
        for n in range(12)
    ]
    for number, message in enumerate(messages):
        queues.dead_letter(
            message.body,
            group_id=message.group_id,
            message_id=f"message-{number}",
            reason_code="ORDER_ID_MISSING",
            detail="the refund carries no BigCommerce order id",
        )

    # When an operator peeks at the dead-letter queue, then all twelve are shown
    assert sorted(letter.netsuite_id or "" for letter in sandbox.dead_letters()) == sorted(
        m.refund.id for m in messages
    )
