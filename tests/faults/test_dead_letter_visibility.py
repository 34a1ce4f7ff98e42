"""Found by the fault campaign: a peek of the (FIFO) dead-letter queue cannot see a whole message group.

SQS hands out no more messages of a FIFO message group while some of it is in flight, and a peek
leaves what it received in flight until it is done. So `peek_dead_letters` (the CLI's `redrive`
preview, the sandbox's `dead_letters()`) sees at most one receive (ten messages) per group; refunds
without a BigCommerce order all share one group, so an operator previewing sees ten of them, silently.
"""

from __future__ import annotations

import pytest

from refund_sync.adapters.refund_queue import NO_ORDER_GROUP, RefundQueues
from refund_sync_sandbox.sandbox import Sandbox


@pytest.mark.xfail(strict=True, reason="peek_dead_letters sees at most ten messages of one FIFO group")
def test_a_peek_of_the_dead_letter_queue_shows_every_refund_of_one_message_group(sandbox: Sandbox) -> None:
    # Given twelve order-less refunds dead-lettered with their reason (they share one message group)
    queues = RefundQueues(
        sandbox.aws.refund_queue_url, sandbox.aws.dead_letter_queue_url, client=sandbox.aws.sqs()
    )
    for number in range(12):
        queues.dead_letter(
            "{}",
            group_id=NO_ORDER_GROUP,
            message_id=f"message-{number}",
            reason_code="ORDER_ID_MISSING",
            detail="the refund carries no BigCommerce order id",
        )

    # When an operator peeks at the dead-letter queue, then all twelve are shown
    assert len(sandbox.dead_letters()) == 12
