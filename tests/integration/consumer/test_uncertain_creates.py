"""A create whose answer is lost: found on evidence, proven absent, or held for a person; never made twice.

Every story runs under each reading of what BigCommerce's docs leave open about reading refunds back
(refund_sync_sandbox/bigcommerce/readback.py): reasons echoed on the items, only at the top level, not
at all; refund lists that lag the create; requested amounts read back null, concurrent refunds accepted.
The engine must come to the same end under each, or hold the refund for a person; it never creates a
refund on absence of evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from refund_sync.adapters.state_store import StateConflict
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import SyncStatus
from refund_sync.services.operator_decisions import DecisionRefused
from refund_sync.services.refund_state import RefundLedger
from refund_sync_sandbox.bigcommerce import ReadBack, ReasonEcho
from refund_sync_sandbox.bigcommerce.readback import ConcurrentRefunds
from refund_sync_sandbox.lambda_runtime import DrainReport
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import CAP, MUG, TEE, address, order, other_line
from tests.integration.consumer.support import (
    bigcommerce_refunds,
    calls_on,
    case,
    deliver_again,
    operator,
    state,
    sync_now,
)
from tests.integration.poller.support import emf_records

D = Decimal
GRACE = timedelta(seconds=120)  # the default grace period after an unanswered create's last send
READINGS = {
    "item-reasons": ReadBack(ReasonEcho.ITEMS),
    "top-level-reason-only": ReadBack(ReasonEcho.TOP_ONLY),
    "no-reasons": ReadBack(ReasonEcho.NONE),
    "no-reasons-lagging-lists": ReadBack(ReasonEcho.NONE, list_lag_seconds=30),
    "no-reasons-no-amounts-concurrent-accepted": ReadBack(
        ReasonEcho.NONE, amounts_echoed=False, concurrent_refunds=ConcurrentRefunds.ACCEPT
    ),
}


@pytest.fixture(params=list(READINGS.values()), ids=list(READINGS))
def reading(request: pytest.FixtureRequest, sandbox: Sandbox) -> ReadBack:
    read_back: ReadBack = request.param
    sandbox.store.set_read_back(read_back)
    return read_back


class LambdaCrash(Exception):
    """Stands for the function dying (timeout, out of memory) after BigCommerce answered."""


@contextmanager
def later(seconds: float) -> Iterator[None]:
    """Time passes (for the engine, the simulator and SQS alike)."""
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=seconds), tick=True):
        yield


def redeliver(sandbox: Sandbox, report: DrainReport, *, after: timedelta) -> DrainReport:
    """The failed messages come back once `after` has passed, as the consumer's back-off lets them."""
    with later(after.total_seconds()):
        sandbox.let_visibility_lapse(report)
        return sandbox.drain()


def a_refund(sandbox: Sandbox, order_id: int) -> NetSuiteRefund:
    return case(
        sandbox,
        order(order_id, [TEE.order_line(1, 2, order_id)], [address(order_id, D("5.00"))]),
        [TEE.refund_line(1, 1)],
        tran_id=f"CM-{order_id}",
    )


def test_the_common_path_costs_three_calls_whatever_the_reading(sandbox: Sandbox, reading: ReadBack) -> None:
    ns = a_refund(sandbox, 601)
    sync_now(sandbox, ns)
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert len(calls_on(sandbox, 601)) == 3, calls_on(sandbox, 601)


def test_a_crash_after_the_create_is_recovered_never_created_again(
    sandbox: Sandbox, reading: ReadBack, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = a_refund(sandbox, 602)

    def die(*args: object, **kwargs: object) -> None:
        raise LambdaCrash("the function died before recording the sync")

    with monkeypatch.context() as patched:
        patched.setattr(RefundLedger, "synced", die)
        first = sync_now(sandbox, ns)
    (made,) = bigcommerce_refunds(sandbox, 602)

    # the next deliveries, after the grace period (a lagging list shows the refund by then)
    report = redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    assert report.succeeded == 1
    assert len(bigcommerce_refunds(sandbox, 602)) == 1, "never a second refund"
    recovered = state(sandbox, ns)
    assert (recovered.status, recovered.bigcommerce_refund_id) == (SyncStatus.SYNCED, made.id)
    how = "marker" if reading.reason_echo is not ReasonEcho.NONE else "fingerprint"
    assert f"by {how}" in recovered.history[-1].note


def test_a_create_answered_with_a_timeout_after_bigcommerce_made_it_is_recognised(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    sandbox.configure(bigcommerce_timeout_seconds="0.5")
    ns = a_refund(sandbox, 603)
    sandbox.store.commit_then_stall(3.0, order_id=603)

    first = sync_now(sandbox, ns)
    sandbox.store.release_stalls()
    if reading.list_lag_seconds or reading.reason_echo is ReasonEcho.NONE:
        # not shown yet, or shown without the marker: a lookalike is proof only after the grace period
        assert first.failed == 1, "looked for again later, not created"
        first = redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    assert first.succeeded == 1
    (made,) = bigcommerce_refunds(sandbox, 603)
    assert state(sandbox, ns).bigcommerce_refund_id == made.id


def test_a_create_bigcommerce_commits_only_after_the_client_gave_up_is_waited_for(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    sandbox.configure(bigcommerce_timeout_seconds="0.5")
    ns = a_refund(sandbox, 604)
    sandbox.store.commit_late(2.0, 20.0, order_id=604)

    first = sync_now(sandbox, ns)
    sandbox.store.release_stalls()
    assert first.failed == 1 and bigcommerce_refunds(sandbox, 604) == []
    assert state(sandbox, ns).status is SyncStatus.SUBMITTING

    # a minute later (inside the grace period) the late commit has landed; it is found, not repeated
    again = redeliver(sandbox, first, after=timedelta(seconds=61))
    if again.failed:  # a lagging list shows it a little later
        again = redeliver(sandbox, again, after=GRACE + timedelta(seconds=1))

    (made,) = bigcommerce_refunds(sandbox, 604)
    assert state(sandbox, ns).bigcommerce_refund_id == made.id


def test_a_create_that_never_landed_is_repeated_only_after_the_grace_period_with_nothing_new(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    ns = a_refund(sandbox, 605)
    sandbox.store.fail_next("POST", "/v3/orders/605/payment_actions/refunds", 503)
    first = sync_now(sandbox, ns)

    too_soon = redeliver(sandbox, first, after=timedelta(seconds=30))
    assert too_soon.failed == 1 and bigcommerce_refunds(sandbox, 605) == []

    redeliver(sandbox, too_soon, after=GRACE + timedelta(seconds=1))
    assert len(bigcommerce_refunds(sandbox, 605)) == 1
    assert state(sandbox, ns).status is SyncStatus.SYNCED


def test_a_refund_made_by_hand_meanwhile_holds_it_for_a_person_naming_the_candidate(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    ns = a_refund(sandbox, 606)
    sandbox.store.fail_next("POST", "/v3/orders/606/payment_actions/refunds", 503)
    first = sync_now(sandbox, ns)
    # the merchant refunds the shipping in the control panel while the create's outcome is unknown
    by_hand = sandbox.store.create_refund(
        606,
        {
            "items": [{"item_type": "SHIPPING", "item_id": 606, "amount": "5.50"}],
            "payments": [{"provider_id": "braintree", "amount": "5.50", "offline": False}],
        },
    )

    redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
    assert held.candidate_refund_ids == (by_hand.id,)
    assert f"refund {by_hand.id} on order 606" in (held.reason_detail or "")
    assert [r.id for r in bigcommerce_refunds(sandbox, 606)] == [by_hand.id], "nothing created on a doubt"
    (letter,) = sandbox.dead_letters()
    assert letter.reason == "CREATE_UNCERTAIN"

    # When the operator checks the order and confirms the hand refund is not this one
    with later(GRACE.total_seconds() + 2), operator(sandbox) as decide:
        decide.confirm_not_created(ns.id, "refund 1 is a goodwill refund made by hand")
        sync_now(sandbox, ns)

    # Then it is created, once
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert len(bigcommerce_refunds(sandbox, 606)) == 2


def test_a_refund_made_by_hand_just_like_ours_is_told_apart_only_where_read_backs_carry_markers(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    # Given the payout check has seen whether this store's read-backs keep markers
    earlier = a_refund(sandbox, 618)
    sync_now(sandbox, earlier)
    sandbox.run_payout_check()
    ns = a_refund(sandbox, 619)
    sandbox.store.fail_next("POST", "/v3/orders/619/payment_actions/refunds", 503)
    first = sync_now(sandbox, ns)
    # When the merchant refunds by hand exactly what the lost create asked for
    by_hand = sandbox.store.create_refund(
        619,
        {
            "items": [{"item_type": "PRODUCT", "item_id": 1, "quantity": 1}],
            "payments": [{"provider_id": "braintree", "amount": "27.50", "offline": False}],
        },
    )
    redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    after = state(sandbox, ns)
    if reading.reason_echo is ReasonEcho.NONE:
        # Then, with nothing but the content to go by, the one refund that matches is taken for it: the
        # customer has been refunded exactly this, once, and is not refunded again
        assert (after.status, after.bigcommerce_refund_id) == (SyncStatus.SYNCED, by_hand.id)
    else:
        # Then, where refunds keep their markers, an unmarked one is someone else's: held, never assumed
        assert (after.status, after.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
        assert after.candidate_refund_ids == (by_hand.id,)
    assert len(bigcommerce_refunds(sandbox, 619)) == 1


def test_an_operator_cannot_declare_a_create_absent_while_it_may_still_land(sandbox: Sandbox) -> None:
    sandbox.store.set_read_back(ReadBack(ReasonEcho.NONE))
    ns = a_refund(sandbox, 620)
    # a hand refund appears, the create's answer is lost: held at once, within the grace period
    sandbox.store.create_refund(
        620,
        {
            "items": [{"item_type": "SHIPPING", "item_id": 620, "amount": "5.50"}],
            "payments": [{"provider_id": "braintree", "amount": "5.50", "offline": False}],
        },
    )
    sandbox.store.fail_next("POST", "/v3/orders/620/payment_actions/refunds", 503)
    sandbox.configure(consumer_max_receive_count="1")
    sync_now(sandbox, ns)
    assert state(sandbox, ns).reason_code == "CREATE_UNCERTAIN"

    with operator(sandbox) as decide, pytest.raises(DecisionRefused, match="may still land"):
        decide.confirm_not_created(ns.id, "looked too soon")
    assert state(sandbox, ns).status is SyncStatus.HELD


def test_a_lookalike_refund_made_before_the_send_is_told_apart_by_the_ids_read_at_submitting(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    ns = a_refund(sandbox, 621)
    # a refund of the same unit made by hand moments before; then our create's answer is lost
    by_hand = sandbox.store.create_refund(
        621,
        {
            "items": [{"item_type": "PRODUCT", "item_id": 1, "quantity": 1}],
            "payments": [{"provider_id": "braintree", "amount": "27.50", "offline": False}],
        },
    )
    sandbox.store.fail_next("POST", "/v3/orders/621/payment_actions/refunds", 503, after_commit=True)
    first = sync_now(sandbox, ns)
    if first.failed:
        redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    # the order showed a refund already, so its refunds were read before the send: the hand refund is
    # known for an earlier one, and ours is recognised (by marker, or once the grace period is over, by
    # what was sent), never the hand refund
    recorded = state(sandbox, ns)
    (ours,) = [r for r in bigcommerce_refunds(sandbox, 621) if r.id != by_hand.id]
    if reading.list_lag_seconds and reading.reason_echo is ReasonEcho.NONE:
        # unless the list read then lagged behind the hand refund: two lookalikes, held for a person
        assert (recorded.status, recorded.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
        assert set(recorded.candidate_refund_ids) == {by_hand.id, ours.id}
        return
    assert (recorded.status, recorded.bigcommerce_refund_id) == (SyncStatus.SYNCED, ours.id)


def test_an_operator_confirms_which_candidate_is_ours(sandbox: Sandbox, reading: ReadBack) -> None:
    ns = a_refund(sandbox, 607)
    # our create's answer is lost, and before the grace period is over a refund of the same unit is made
    # by hand: two refunds that look like what was sent appeared since
    sandbox.store.fail_next("POST", "/v3/orders/607/payment_actions/refunds", 503, after_commit=True)
    first = sync_now(sandbox, ns)
    if reading.reason_echo is not ReasonEcho.NONE:
        # the marker settles it at once
        assert first.succeeded == 1 and state(sandbox, ns).status is SyncStatus.SYNCED
        return
    sandbox.store.create_refund(
        607,
        {
            "items": [{"item_type": "PRODUCT", "item_id": 1, "quantity": 1}],
            "payments": [{"provider_id": "braintree", "amount": "27.50", "offline": False}],
        },
    )
    redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))
    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
    ours = bigcommerce_refunds(sandbox, 607)[0]
    assert set(held.candidate_refund_ids) == {r.id for r in bigcommerce_refunds(sandbox, 607)}

    shipping_by_hand = sandbox.store.create_refund(
        607,
        {
            "items": [{"item_type": "SHIPPING", "item_id": 607, "amount": "5.50"}],
            "payments": [{"provider_id": "braintree", "amount": "5.50", "offline": False}],
        },
    )
    with operator(sandbox) as decide:
        with pytest.raises(DecisionRefused):
            decide.confirm_ours(ns.id, 424242)  # not on the order
        with pytest.raises(DecisionRefused, match=r"is for 5\.50"):
            decide.confirm_ours(ns.id, shipping_by_hand.id)  # not what this refund gives back
        decide.confirm_ours(ns.id, ours.id)

    confirmed = state(sandbox, ns)
    assert (confirmed.status, confirmed.bigcommerce_refund_id) == (SyncStatus.SYNCED, ours.id)
    deliver_again(sandbox, ns, copy="redrive-after-the-decision")
    assert len(bigcommerce_refunds(sandbox, 607)) == 3, "a redrive afterwards creates nothing"


def test_a_refund_whose_order_changed_after_a_create_was_sent_is_held_never_created_on_the_new_order(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    sandbox.configure(bigcommerce_timeout_seconds="0.5")
    ns = a_refund(sandbox, 608)
    sandbox.store.seed([order(609, [TEE.order_line(1, 2, 609)], [address(609, D("5.00"))])])
    sandbox.store.commit_late(2.0, 20.0, order_id=608)  # the answer is lost; the refund lands later
    first = sync_now(sandbox, ns)
    sandbox.store.release_stalls()
    assert state(sandbox, ns).status is SyncStatus.SUBMITTING

    # NetSuite now names another order; its new version reaches the consumer after the grace period,
    # before the old version's message comes back (its back-off is longer)
    assert first.failed == 1
    sandbox.aws.sqs().purge_queue(QueueUrl=sandbox.aws.refund_queue_url)
    moved = sandbox.account.edit(ns.id, bigcommerce_order_id="609")
    with later(GRACE.total_seconds() + 1):
        sync_now(sandbox, moved)
        held = state(sandbox, ns)
        assert (held.status, held.reason_code) == (SyncStatus.HELD, "ORDER_CHANGED_AFTER_SUBMIT")
        # and the old version's message, when it does come back, changes nothing
        deliver_again(sandbox, ns, copy="the-old-version-back-off-over")
    assert state(sandbox, ns).reason_code == "ORDER_CHANGED_AFTER_SUBMIT"
    (landed,) = bigcommerce_refunds(sandbox, 608)
    assert held.bigcommerce_refund_id == landed.id, "the refund that landed is on record"
    assert bigcommerce_refunds(sandbox, 609) == [], "nothing created on the new order"


def test_a_declined_refund_found_after_a_lost_answer_counts_as_ours_and_is_never_recreated_by_itself(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    ns = case(
        sandbox,
        order(610, [CAP.order_line(1, 1, 610)], [address(610, D("5.00"))], declines=True),
        [CAP.refund_line(1, 1)],
        tran_id="CM-610",
    )
    sandbox.store.fail_next("POST", "/v3/orders/610/payment_actions/refunds", 502, after_commit=True)
    first = sync_now(sandbox, ns)
    if first.failed:  # a lagging list shows the declined refund only later
        redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    declined = state(sandbox, ns)
    assert (declined.status, declined.reason_code) == (SyncStatus.FAILED, "GATEWAY_DECLINED")
    assert declined.bigcommerce_refund_id == bigcommerce_refunds(sandbox, 610)[0].id
    sandbox.store.set_tender(610, "braintree", declines_refunds=False)
    sync_now(sandbox, ns)
    assert len(bigcommerce_refunds(sandbox, 610)) == 1, "a sync alone never creates it again"

    with operator(sandbox) as decide:
        decide.recreate(ns.id)
        with pytest.raises(DecisionRefused):
            decide.recreate(ns.id)  # allowed once: it is no longer a declined refund
    sync_now(sandbox, ns)
    assert state(sandbox, ns).status is SyncStatus.SYNCED
    assert [r.fully_declined for r in bigcommerce_refunds(sandbox, 610)] == [True, False]


def test_recreate_is_refused_for_a_refund_whose_money_moved(sandbox: Sandbox) -> None:
    ns = a_refund(sandbox, 611)
    sync_now(sandbox, ns)
    with operator(sandbox) as decide, pytest.raises(DecisionRefused, match="declined"):
        decide.recreate(ns.id)
    assert state(sandbox, ns).status is SyncStatus.SYNCED


def test_a_synced_refund_edited_in_netsuite_is_held_with_an_alarm_and_nothing_is_refunded_again(
    sandbox: Sandbox, reading: ReadBack, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = a_refund(sandbox, 612)
    sync_now(sandbox, ns)
    (made,) = bigcommerce_refunds(sandbox, 612)

    # Someone adds a goodwill line to the synced credit memo; the next scheduled poll sends it
    extra = other_line(2, "Goodwill Credit", D("5.00"))
    sandbox.account.edit(
        ns.id, lines=[*ns.lines, extra], subtotal=ns.subtotal + extra.amount, total=ns.total + extra.amount
    )
    capsys.readouterr()
    sandbox.run_poller()
    sandbox.drain()

    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "CHANGED_AFTER_SYNC")
    assert held.bigcommerce_refund_id == made.id and held.refunded_amount == made.total_amount
    assert str(ns.total + extra.amount) in (held.reason_detail or "")
    assert len(bigcommerce_refunds(sandbox, 612)) == 1
    metrics = [r for r in emf_records(capsys.readouterr().out) if r.get("reason") == "CHANGED_AFTER_SYNC"]
    assert metrics and metrics[0]["RefundsHeldByReason"] in (1.0, [1.0]), "the held-by-reason alarm sees it"

    # And the old body redriven from the dead-letter queue changes nothing
    deliver_again(sandbox, ns, copy="an-old-body")
    assert state(sandbox, ns).version == held.version
    assert len(bigcommerce_refunds(sandbox, 612)) == 1


def test_an_operator_syncing_an_edited_synced_refund_gets_it_held_not_told_it_is_done(
    sandbox: Sandbox, reading: ReadBack
) -> None:
    ns = a_refund(sandbox, 614)
    sync_now(sandbox, ns)
    extra = other_line(2, "Goodwill Credit", D("5.00"))
    sandbox.account.edit(
        ns.id, lines=[*ns.lines, extra], subtotal=ns.subtotal + extra.amount, total=ns.total + extra.amount
    )

    report = sandbox.run_poller({"action": "sync", "netsuite_ids": [ns.id]})
    sandbox.drain()

    assert [entry["netsuite_id"] for entry in report["enqueued"]] == [ns.id] and not report["not_sent"]
    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "CHANGED_AFTER_SYNC")
    assert len(bigcommerce_refunds(sandbox, 614)) == 1
    # and asked again, the hold stands and nothing more is refunded
    sandbox.run_poller({"action": "sync", "netsuite_ids": [ns.id]})
    sandbox.drain()
    assert len(bigcommerce_refunds(sandbox, 614)) == 1
    assert (state(sandbox, ns).status, state(sandbox, ns).reason_code) == (
        SyncStatus.HELD,
        "CHANGED_AFTER_SYNC",
    )


def test_no_create_starts_with_too_little_of_the_invocation_left(sandbox: Sandbox) -> None:
    ns = a_refund(sandbox, 613)
    sandbox.run_poller({"action": "sync", "netsuite_ids": [ns.id]})

    report = sandbox.drain(timeout_seconds=20)  # less than a refund's three calls may take

    assert report.failed == 1
    assert calls_on(sandbox, 613) == [], "not started: the next delivery takes it"
    later_delivery = redeliver(sandbox, report, after=timedelta(seconds=1))
    assert later_delivery.succeeded == 1
    assert len(bigcommerce_refunds(sandbox, 613)) == 1


def test_the_last_delivery_of_an_uncertain_create_holds_it_for_a_person_never_fails_it(
    sandbox: Sandbox,
) -> None:
    sandbox.configure(consumer_max_receive_count="1")
    ns = a_refund(sandbox, 614)
    sandbox.store.fail_next("POST", "/v3/orders/614/payment_actions/refunds", 503)
    sandbox.store.fail_next("GET", "/v3/orders/614/payment_actions/refunds", 503, count=10)

    sync_now(sandbox, ns)

    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
    assert bigcommerce_refunds(sandbox, 614) == []


def test_a_synced_refund_is_never_overwritten_by_the_last_deliverys_retries_exhausted(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the sync is written, but its answer lost, so the write is retried and conflicts
    sandbox.configure(consumer_max_receive_count="1")
    ns = a_refund(sandbox, 615)
    synced = RefundLedger.synced

    def written_then_lost(ledger: RefundLedger, *args: object, **kwargs: object) -> object:
        synced(ledger, *args, **kwargs)  # type: ignore[arg-type]
        raise StateConflict("refund 615 changed since version 3")

    with monkeypatch.context() as patched:
        patched.setattr(RefundLedger, "synced", written_then_lost)
        sync_now(sandbox, ns)

    # Then the last delivery records nothing over it
    after = state(sandbox, ns)
    assert (after.status, after.reason_code) == (SyncStatus.SYNCED, None)
    assert len(bigcommerce_refunds(sandbox, 615)) == 1


def test_an_unrelated_refund_on_another_order_is_never_taken_for_ours(sandbox: Sandbox) -> None:
    sandbox.store.set_read_back(ReadBack(ReasonEcho.NONE))
    ns = a_refund(sandbox, 616)
    other = case(
        sandbox,
        order(617, [MUG.order_line(1, 1, 617)], [address(617, D("5.00"))]),
        [MUG.refund_line(1, 1)],
        tran_id="CM-617",
    )
    sandbox.store.fail_next("POST", "/v3/orders/616/payment_actions/refunds", 503)
    first = sync_now(sandbox, ns)
    sync_now(sandbox, other)

    redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))
    assert len(bigcommerce_refunds(sandbox, 616)) == 1
    assert state(sandbox, ns).status is SyncStatus.SYNCED


def test_a_refund_list_lagging_past_the_grace_period_is_caught_by_the_order_itself(sandbox: Sandbox) -> None:
    # Given lists that lag far longer than the grace period (BigCommerce documents no bound)
    sandbox.store.set_read_back(ReadBack(ReasonEcho.NONE, list_lag_seconds=3600))
    ns = a_refund(sandbox, 622)
    sandbox.store.fail_next("POST", "/v3/orders/622/payment_actions/refunds", 503, after_commit=True)
    first = sync_now(sandbox, ns)

    # When the next delivery comes after the grace period, the list still showing nothing
    redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))

    # Then the order's own refunded units show the create landed: held, never created again
    held = state(sandbox, ns)
    assert (held.status, held.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
    assert "shows 1 unit(s) refunded" in (held.reason_detail or "")
    assert len(bigcommerce_refunds(sandbox, 622)) == 1

    # And an operator who sees no refund in the (lagging) list cannot declare it not created
    with later(GRACE.total_seconds() + 2), operator(sandbox) as decide:
        with pytest.raises(DecisionRefused, match="a refund landed there"):
            decide.confirm_not_created(ns.id, "the list shows nothing")
        (landed,) = bigcommerce_refunds(sandbox, 622)
        with pytest.raises(DecisionRefused, match="not on order 622"):
            decide.confirm_ours(ns.id, landed.id + 1000)  # not even on the order
        decide.confirm_ours(ns.id, landed.id)  # read by its id, which does not lag
    assert state(sandbox, ns).bigcommerce_refund_id == landed.id


def test_the_creates_answer_is_recorded_even_when_the_item_changed_meanwhile(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = a_refund(sandbox, 623)
    synced = RefundLedger.synced
    conflicts: list[str] = []

    def conflict_once(ledger: RefundLedger, *args: object, **kwargs: object) -> object:
        if not conflicts:
            conflicts.append("another delivery wrote the item first")
            raise StateConflict("refund 623 changed since version 3")
        return synced(ledger, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(RefundLedger, "synced", conflict_once)
        report = sync_now(sandbox, ns)

    assert report.succeeded == 1 and conflicts
    (made,) = bigcommerce_refunds(sandbox, 623)
    recorded = state(sandbox, ns)
    assert (recorded.status, recorded.bigcommerce_refund_id) == (SyncStatus.SYNCED, made.id)
    assert not any("reconciled" in entry.note for entry in recorded.history), "recorded from the answer"


def test_a_transient_error_on_a_held_refund_keeps_the_hold_and_its_candidates(sandbox: Sandbox) -> None:
    sandbox.store.set_read_back(ReadBack(ReasonEcho.NONE))
    ns = a_refund(sandbox, 624)
    sandbox.store.fail_next("POST", "/v3/orders/624/payment_actions/refunds", 503)
    first = sync_now(sandbox, ns)
    sandbox.store.create_refund(
        624,
        {
            "items": [{"item_type": "SHIPPING", "item_id": 624, "amount": "5.50"}],
            "payments": [{"provider_id": "braintree", "amount": "5.50", "offline": False}],
        },
    )
    redeliver(sandbox, first, after=GRACE + timedelta(seconds=1))
    held = state(sandbox, ns)
    assert held.reason_code == "CREATE_UNCERTAIN"

    # When it is redriven and BigCommerce fails the look at the order
    sandbox.store.fail_next("GET", "/v3/orders/624/payment_actions/refunds", 503, count=10)
    deliver_again(sandbox, ns, copy="redriven-into-an-outage")

    # Then it stays HELD, with the candidates a person decides on
    after = state(sandbox, ns)
    assert (after.status, after.reason_code) == (SyncStatus.HELD, "CREATE_UNCERTAIN")
    assert after.candidate_refund_ids == held.candidate_refund_ids
    assert after.reason_detail == held.reason_detail
