"""Messages that are not refunds, in a batch with refunds that are: the real consumer handler answers (it
never raises), parks each unreadable message in the dead-letter queue with the parser's words, retries
none of them, and syncs the good refunds of the same batch, in the same message groups, once each."""

from __future__ import annotations

import json

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import ValidationError

from refund_sync.adapters.refund_queue import NO_ORDER_GROUP, RefundMessage
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.scenarios import TEE
from tests.bad_input.strategies import bent_refunds, json_values, sqs_text, truncations
from tests.bad_input.support import Outgoing, Pipeline, budget, fresh_order_id, one_tee_order
from tests.integration.consumer.support import netsuite_refund

MALFORMED_MESSAGE = "MALFORMED_MESSAGE"


def good_refund(pipeline: Pipeline) -> NetSuiteRefund:
    """One tee of a fresh two-tee BigCommerce order, refunded in NetSuite: syncs as it stands."""
    order_id = fresh_order_id()
    pipeline.sandbox.store.seed([one_tee_order(order_id)])
    return netsuite_refund(pipeline.sandbox, order_id, [TEE.refund_line(1, 1)], tran_id=f"CM-{order_id}")


@st.composite
def unreadable_bodies(draw: st.DrawFn, readable: str) -> str:
    """A message body the consumer cannot read as a refund message; `readable` is one it can."""
    kind = draw(
        st.sampled_from(["text", "json", "truncated", "bent refund", "bent envelope", "deeply nested"])
    )
    event(f"body: {kind}")
    if kind == "text":
        body = draw(sqs_text)
    elif kind == "json":
        body = json.dumps(draw(json_values))
    elif kind == "truncated":
        body = draw(truncations(readable.encode()).filter(bool)).decode(errors="ignore") or "{"
    elif kind == "bent refund":
        document = json.loads(readable)
        document["refund"], _ = draw(bent_refunds(document["refund"]))
        body = json.dumps(document)
    elif kind == "bent envelope":
        document = json.loads(readable)
        bend = draw(st.sampled_from(["no refund", "no sent_by", "sent_by", "naive sent_at", "extra"]))
        if bend.startswith("no "):
            del document[bend.removeprefix("no ")]
        elif bend == "sent_by":
            document["sent_by"] = draw(st.sampled_from(["cron", "", None, 1]))
        elif bend == "naive sent_at":
            document["sent_at"] = "2026-11-20T10:00:00"
        else:
            document["priority"] = "high"
        body = json.dumps(document)
    else:
        body = "[" * 5_000 + "]" * 5_000
    with pytest.raises(ValidationError):
        RefundMessage.model_validate_json(body)
    return body


@budget(5, sandbox=True)
@given(data=st.data(), goods=st.integers(1, 2), bads=st.integers(1, 5))
def test_unreadable_messages_are_dead_lettered_with_a_reason_and_the_good_ones_of_the_batch_sync(
    pipeline: Pipeline, data: st.DataObject, goods: int, bads: int
) -> None:
    # Given a batch of good refunds and unreadable messages, some of them in the good refunds' groups
    refunds = [good_refund(pipeline) for _ in range(goods)]
    good = [Outgoing.refund(refund) for refund in refunds]
    groups = [message.group_id for message in good] + [NO_ORDER_GROUP, f"order-{fresh_order_id()}"]
    bad = [
        Outgoing(data.draw(unreadable_bodies(good[0].body)), data.draw(st.sampled_from(groups)))
        for _ in range(bads)
    ]
    batch = data.draw(st.permutations(good + bad), label="batch")

    # When the consumer handler gets the batch
    delivery = pipeline.deliver(batch)

    # Then it reports no failure: nothing is retried, so no group is held back
    assert delivery.failed == set()

    # And every good refund synced, once
    for refund in refunds:
        state = pipeline.recorded(refund.id)
        assert state is not None and state.status is SyncStatus.SYNCED, state
        assert len(pipeline.refund_creates(int(refund.bigcommerce_order_id or 0))) == 1

    # And every unreadable message sits in the dead-letter queue, unchanged, with the parser's words
    letters = pipeline.take_dead_letters()
    assert sorted(letter.body for letter in letters) == sorted(message.body for message in bad)
    for letter in letters:
        assert letter.letter.reason == MALFORMED_MESSAGE
        assert letter.letter.detail.strip("- "), "the detail says what could not be read"
        assert letter.letter.refund == "(unreadable message)"
