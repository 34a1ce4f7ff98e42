"""Exactly once, whatever happens: duplicates, redrives, crashes, timeouts and throttling never turn one
NetSuite refund into two BigCommerce refunds, and never lose it either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from refund_sync.domain.state import SyncStatus
from refund_sync.services.refund_state import RefundLedger
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, TEE, address, order
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    calls_on,
    case,
    deliver_again,
    netsuite_refund,
    state,
    sync_now,
)

D = Decimal
GRACE_SECONDS = 120  # the default grace period for an unanswered create


class LambdaCrash(Exception):
    """Stands for the function dying (timeout, out of memory) after BigCommerce answered."""


def test_a_duplicate_message_refunds_once(sandbox: Sandbox) -> None:
    ns = case(
        sandbox, order(201, [TEE.order_line(1, 1, 11)], [address(11, D("5.00"))]), [TEE.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)
    calls_before = len(calls_on(sandbox, 201))

    deliver_again(sandbox, ns, copy="at-least-once-copy")

    assert len(bigcommerce_refunds(sandbox, 201)) == 1
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert len(calls_on(sandbox, 201)) == calls_before, "a known-synced refund costs no BigCommerce call"


def test_a_redrive_of_a_synced_refund_is_recognised_and_not_refunded_again(sandbox: Sandbox) -> None:
    ns = case(
        sandbox, order(202, [CAP.order_line(2, 2, 12)], [address(12, D("5.00"))]), [CAP.refund_line(1, 1)]
    )
    sync_now(sandbox, ns)
    # a redriven message carries a new message id (and here, a NetSuite edit made after the sync)
    edited = sandbox.account.touch(ns.id)
    deliver_again(sandbox, edited, copy="redriven-from-the-dlq")

    assert len(bigcommerce_refunds(sandbox, 202)) == 1
    assert state(sandbox, ns).status is SyncStatus.SYNCED


def test_a_crash_after_the_create_is_recovered_from_bigcommerce_not_created_again(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = case(
        sandbox, order(203, [MUG.order_line(3, 1, 13)], [address(13, D("5.00"))]), [MUG.refund_line(1, 1)]
    )

    def die(*args: object, **kwargs: object) -> None:
        raise LambdaCrash("the function died before recording the sync")

    with monkeypatch.context() as patched:
        patched.setattr(RefundLedger, "synced", die)
        report = sync_now(sandbox, ns)
    assert report.failed == 1, "the message stays in the queue for redelivery"
    assert state(sandbox, ns).status is SyncStatus.SUBMITTING
    (created,) = bigcommerce_refunds(sandbox, 203)

    sandbox.let_visibility_lapse(report)
    sandbox.drain()

    assert len(bigcommerce_refunds(sandbox, 203)) == 1, "never a second refund"
    recovered = state(sandbox, ns)
    assert (recovered.status, recovered.bigcommerce_refund_id) == (SyncStatus.SYNCED, created.id)
    assert "not created again" in recovered.history[-1].note


def test_a_create_that_times_out_after_bigcommerce_committed_it_is_recognised_at_once(
    sandbox: Sandbox,
) -> None:
    sandbox.configure(bigcommerce_timeout_seconds="0.5")
    ns = case(
        sandbox, order(204, [TEE.order_line(4, 1, 14)], [address(14, D("5.00"))]), [TEE.refund_line(1, 1)]
    )
    sandbox.store.commit_then_stall(3.0, order_id=204)

    report = sync_now(sandbox, ns)

    assert report.succeeded == 1
    (created,) = bigcommerce_refunds(sandbox, 204)  # one create, never blindly retried
    synced = state(sandbox, ns)
    assert (synced.status, synced.bigcommerce_refund_id) == (SyncStatus.SYNCED, created.id)
    assert "not created again" in synced.history[-1].note
    methods = [" ".join(c.split(" ")[:2]) for c in calls_on(sandbox, 204)]
    assert "GET v3/orders/204/payment_actions/refunds" in methods, (
        "the order's refunds were read to settle it"
    )


def test_a_create_that_failed_before_committing_is_retried_only_after_checking(sandbox: Sandbox) -> None:
    ns = case(
        sandbox, order(205, [CAP.order_line(5, 1, 15)], [address(15, D("5.00"))]), [CAP.refund_line(1, 1)]
    )
    sandbox.store.fail_next("POST", "/v3/orders/205/payment_actions/refunds", 503)

    first = sync_now(sandbox, ns)
    assert first.failed == 1, "unknown outcome: retry later"
    assert bigcommerce_refunds(sandbox, 205) == []
    assert state(sandbox, ns).status is SyncStatus.SUBMITTING

    # the grace period after the last send passes with nothing new on the order: proven absent
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=GRACE_SECONDS + 1), tick=True):
        sandbox.let_visibility_lapse(first)
        sandbox.drain()

    assert len(bigcommerce_refunds(sandbox, 205)) == 1
    synced = state(sandbox, ns)
    assert synced.status is SyncStatus.SYNCED
    assert any("no refund since the send" in entry.note for entry in synced.history)


def test_an_unanswered_create_is_not_repeated_while_it_may_still_land(sandbox: Sandbox) -> None:
    ns = case(
        sandbox, order(206, [CAP.order_line(6, 1, 16)], [address(16, D("5.00"))]), [CAP.refund_line(1, 1)]
    )
    sandbox.store.fail_next("POST", "/v3/orders/206/payment_actions/refunds", 504)
    first = sync_now(sandbox, ns)

    sandbox.let_visibility_lapse(first)  # redelivered straight away, well inside the grace period
    again = sandbox.drain()

    assert again.failed == 1
    assert bigcommerce_refunds(sandbox, 206) == []
    assert "may still commit it" in (state(sandbox, ns).reason_detail or "")


def test_a_429_storm_is_waited_out_and_the_refund_still_syncs_once(sandbox: Sandbox) -> None:
    sandbox.store.set_rate_limit(window_ms=300)
    ns = case(
        sandbox, order(207, [TEE.order_line(7, 2, 17)], [address(17, D("5.00"))]), [TEE.refund_line(1, 2)]
    )
    sandbox.store.force_rate_limit(4)

    sync_now(sandbox, ns)

    statuses = [c.rsplit(" ", 1)[-1] for c in calls_on(sandbox, 207)]
    assert statuses.count("429") == 4
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert len(bigcommerce_refunds(sandbox, 207)) == 1


def test_the_client_slows_down_before_the_shared_quota_is_spent(sandbox: Sandbox) -> None:
    sandbox.store.set_rate_limit(quota=6, window_ms=400)
    sandbox.configure(bigcommerce_quota_reserve="2")
    orders = [
        order(210 + i, [MUG.order_line(20 + i, 1, 30 + i)], [address(30 + i, D("5.00"))]) for i in range(3)
    ]
    sandbox.store.seed(orders)
    refunds = [netsuite_refund(sandbox, o.id, [MUG.refund_line(1, 1)], tran_id=f"CM-Q{o.id}") for o in orders]

    sandbox.run_poller({"action": "sync", "netsuite_ids": [r.id for r in refunds]})
    sandbox.drain()

    assert all(state(sandbox, r).status is SyncStatus.SYNCED for r in refunds)
    assert all(call.status != 429 for call in sandbox.store.calls()), "15 calls through a quota of 6, no 429"


def test_one_bad_refund_never_holds_back_the_refunds_of_other_orders(sandbox: Sandbox) -> None:
    good = order(221, [TEE.order_line(1, 1, 41)], [address(41, D("5.00"))])
    flaky = order(222, [MUG.order_line(2, 1, 42)], [address(42, D("5.00"))])
    sandbox.store.seed([good, flaky])
    ok = netsuite_refund(sandbox, 221, [TEE.refund_line(1, 1)], tran_id="CM-OK")
    transient = netsuite_refund(sandbox, 222, [MUG.refund_line(1, 1)], tran_id="CM-FLAKY")
    permanent = netsuite_refund(sandbox, 9999, [MUG.refund_line(1, 1)], tran_id="CM-GONE")
    sandbox.store.fail_next("GET", "/v2/orders/222", 503, count=10)

    sandbox.run_poller({"action": "sync", "netsuite_ids": [ok.id, transient.id, permanent.id]})
    report = sandbox.drain()

    assert (report.delivered, report.succeeded, report.failed) == (3, 2, 1)
    assert state(sandbox, ok).status is SyncStatus.SYNCED
    assert state(sandbox, permanent).reason_code == "ORDER_NOT_FOUND"
    waiting = state(sandbox, transient)
    assert (waiting.status, waiting.attempts) == (SyncStatus.PENDING, 1)
    assert "503" in (waiting.reason_detail or "")
    # the transient failure is pushed back (growing with each delivery), not redelivered at once
    attributes = sandbox.aws.sqs().get_queue_attributes(
        QueueUrl=sandbox.aws.refund_queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_the_last_delivery_of_a_transient_failure_records_why_before_sqs_dead_letters_it(
    sandbox: Sandbox,
) -> None:
    sandbox.configure(consumer_max_receive_count="1")
    ns = case(
        sandbox, order(230, [MUG.order_line(1, 1, 51)], [address(51, D("5.00"))]), [MUG.refund_line(1, 1)]
    )
    sandbox.store.fail_next("GET", "/v2/orders/230", 503, count=10)

    sync_now(sandbox, ns)

    gave_up = state(sandbox, ns)
    assert (gave_up.status, gave_up.reason_code) == (SyncStatus.FAILED, "RETRIES_EXHAUSTED")
