"""After a create whose outcome is unknown: ours on evidence, absent only when proven, else uncertain.

Each story is read with the marker echoed and without it (BigCommerce's docs do not promise the echo):
the verdict must be the same, or, where only the marker could tell, uncertain, never absent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from refund_sync.domain.bigcommerce import CreatedRefund, RefundedItem, RefundPayment
from refund_sync.domain.reconcile import Evidence, Verdict, reconcile, shows_something_new
from refund_sync.domain.state import CreateAttempt, LineRefunded, OrderBaseline, PaymentRecord, SentItem
from tests.factories import Product, order

D = Decimal
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MARKER = "[netsuite:1042]"
GRACE = timedelta(seconds=120)
SHIPPING, PAID = D("5.00"), D("49.00")
SKEW = timedelta(seconds=60)

SENT = CreateAttempt(
    order_id=100,
    items=(
        SentItem(item_type="PRODUCT", item_id=501, quantity=2),
        SentItem(item_type="SHIPPING", item_id=11, amount=D("5.00")),
    ),
    payments=(PaymentRecord(provider_id="braintree", amount=D("49.00"), offline=False),),
    prepared_at=T0,
    sends=(T0 + timedelta(seconds=1),),
    baseline=OrderBaseline(had_refunds=False),
)


def bc_refund(
    refund_id: int,
    *,
    echo: bool = True,
    created: datetime | None = T0 + timedelta(seconds=2),
    quantity: int = 2,
    shipping: Decimal | None = SHIPPING,
    amount: Decimal = PAID,
    declined: tuple[bool, ...] = (False,),
    order_id: int = 100,
) -> CreatedRefund:
    reason = f"Credit Memo CM-1042 from NetSuite {MARKER}" if echo else ""
    return CreatedRefund(
        id=refund_id,
        order_id=order_id,
        created=created,
        reason=reason,
        total_amount=amount,
        items=(
            RefundedItem(item_type="PRODUCT", item_id=501, quantity=quantity, reason=reason),
            RefundedItem(item_type="SHIPPING", item_id=11, requested_amount=shipping, reason=reason),
        ),
        payments=tuple(
            RefundPayment(provider_id="braintree", amount=amount / len(declined), is_declined=flag)
            for flag in declined
        ),
    )


def evidence(*refunds: CreatedRefund, after: timedelta = timedelta(seconds=200), **extra: object) -> Evidence:
    by_order: dict[int, list[CreatedRefund]] = {}
    for refund in refunds:
        by_order.setdefault(refund.order_id, []).append(refund)
    return Evidence(
        refunds_by_order=by_order,
        marker=MARKER,
        now=T0 + after,
        grace=GRACE,
        clock_skew=SKEW,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("echo", [True, False], ids=["echoed", "no echo"])
def test_our_refund_is_found_with_or_without_the_marker(echo: bool) -> None:
    verdict = reconcile([SENT], evidence(bc_refund(7, echo=echo)))
    assert verdict.verdict is Verdict.FOUND
    assert verdict.refund is not None and verdict.refund.id == 7
    assert verdict.how == ("marker" if echo else "fingerprint")


@pytest.mark.parametrize("echo", [True, False], ids=["echoed", "no echo"])
def test_a_declined_refund_of_ours_counts_as_ours_never_as_absent(echo: bool) -> None:
    assert reconcile([SENT], evidence(bc_refund(7, echo=echo, declined=(True,)))).verdict is Verdict.DECLINED
    split = bc_refund(7, echo=echo, declined=(True, False))
    # the fingerprint compares payments; a split read back differs from what one payment sent
    expected = Verdict.PARTLY_DECLINED if echo else Verdict.UNCERTAIN
    assert reconcile([SENT], evidence(split)).verdict is expected


def test_nothing_on_the_order_within_the_grace_period_is_too_early_to_tell() -> None:
    verdict = reconcile([SENT], evidence(after=timedelta(seconds=60)))
    assert verdict.verdict is Verdict.TOO_EARLY


def test_the_grace_period_runs_from_the_last_actual_send_not_the_submitting_write() -> None:
    # prepared at T0, but held back by a 429 and sent again 100 s later
    retried = SENT.model_copy(update={"sends": (T0 + timedelta(seconds=1), T0 + timedelta(seconds=100))})
    assert reconcile([retried], evidence(after=timedelta(seconds=150))).verdict is Verdict.TOO_EARLY
    assert reconcile([retried], evidence(after=timedelta(seconds=221))).verdict is Verdict.ABSENT


def test_nothing_new_on_the_order_after_the_grace_period_proves_it_absent() -> None:
    assert reconcile([SENT], evidence()).verdict is Verdict.ABSENT


def test_a_create_never_sent_needs_no_waiting() -> None:
    unsent = SENT.model_copy(update={"sends": ()})
    assert reconcile([unsent], evidence(after=timedelta(seconds=1))).verdict is Verdict.ABSENT


@pytest.mark.parametrize("echo", [True, False], ids=["echoed", "no echo"])
def test_a_refund_that_differs_from_what_was_sent_is_a_candidate_not_proof_of_absence(echo: bool) -> None:
    # someone refunded the order by hand meanwhile: one unit, no shipping
    other = bc_refund(8, echo=False, quantity=1, shipping=D("0.00"), amount=D("22.00"))
    verdict = reconcile([SENT], evidence(other, markers_echoed=True if echo else None))
    assert verdict.verdict is Verdict.UNCERTAIN
    assert [c.refund.id for c in verdict.candidates] == [8]


def test_two_refunds_matching_what_was_sent_without_a_marker_are_uncertain() -> None:
    verdict = reconcile([SENT], evidence(bc_refund(7, echo=False), bc_refund(8, echo=False)))
    assert verdict.verdict is Verdict.UNCERTAIN
    assert {c.refund.id for c in verdict.candidates} == {7, 8}


def test_refunds_another_netsuite_refund_claims_are_set_aside() -> None:
    mine, theirs = bc_refund(8, echo=False), bc_refund(7, echo=False)
    assert reconcile([SENT], evidence(theirs, mine, set_aside=frozenset({7}))).refund == mine
    assert reconcile([SENT], evidence(theirs, set_aside=frozenset({7}))).verdict is Verdict.ABSENT


def test_a_refund_created_before_the_send_is_not_taken_for_ours() -> None:
    earlier = bc_refund(7, echo=False, created=T0 - timedelta(minutes=10))
    known = SENT.model_copy(update={"baseline": OrderBaseline(had_refunds=True, refund_ids=(7,))})
    assert reconcile([known], evidence(earlier)).verdict is Verdict.ABSENT


def test_the_refund_ids_read_before_the_send_tell_new_refunds_from_old_ones() -> None:
    known = SENT.model_copy(update={"baseline": OrderBaseline(had_refunds=True, refund_ids=(3,))})
    old = bc_refund(3, echo=False, quantity=1, shipping=D("0.00"), created=T0 + timedelta(seconds=30))
    assert reconcile([known], evidence(old)).verdict is Verdict.ABSENT
    assert reconcile([known], evidence(old, bc_refund(9, echo=False))).refund == bc_refund(9, echo=False)


def test_earlier_refunds_that_do_not_add_up_to_what_the_order_showed_leave_it_uncertain() -> None:
    # the order showed one unit refunded, ids unknown; the refund list shows none before the send:
    # the list is behind, or the clocks disagree, so an empty list proves nothing
    baseline = OrderBaseline(had_refunds=True, refunded_lines=(LineRefunded(line_id=501, quantity=1),))
    unsure = SENT.model_copy(update={"baseline": baseline})
    assert reconcile([unsure], evidence()).verdict is Verdict.UNCERTAIN
    one_earlier = bc_refund(3, echo=False, quantity=1, shipping=D("0.00"), created=T0 - timedelta(hours=1))
    assert reconcile([unsure], evidence(one_earlier)).verdict is Verdict.ABSENT


def test_every_order_a_create_was_sent_to_is_looked_at() -> None:
    first = SENT.model_copy(update={"order_id": 99})
    second = SENT.model_copy(update={"prepared_at": T0 + timedelta(minutes=5)})
    landed_on_the_first = bc_refund(7, order_id=99)
    verdict = reconcile([first, second], evidence(landed_on_the_first, after=timedelta(minutes=10)))
    assert verdict.verdict is Verdict.FOUND and verdict.order_id == 99


def test_an_amount_bigcommerce_does_not_echo_cannot_prove_a_fingerprint() -> None:
    silent = bc_refund(7, echo=False, shipping=None)
    assert reconcile([SENT], evidence(silent)).verdict is Verdict.UNCERTAIN


def test_a_refund_read_without_its_creation_time_may_be_anything() -> None:
    timeless = bc_refund(7, echo=False, created=None)
    assert reconcile([SENT], evidence(timeless)).verdict is Verdict.FOUND
    other = bc_refund(8, echo=False, created=None, quantity=1)
    assert reconcile([SENT], evidence(other)).verdict is Verdict.UNCERTAIN


def test_several_live_refunds_carrying_the_marker_are_held_for_a_person() -> None:
    verdict = reconcile([SENT], evidence(bc_refund(7), bc_refund(8)))
    assert verdict.verdict is Verdict.UNCERTAIN


def test_a_declined_refund_and_a_later_live_one_with_the_marker_settle_on_the_live_one() -> None:
    verdict = reconcile([SENT], evidence(bc_refund(7, declined=(True,)), bc_refund(8)))
    assert verdict.verdict is Verdict.FOUND and verdict.refund is not None and verdict.refund.id == 8


def test_a_lookalike_is_not_proof_until_the_grace_period_has_passed() -> None:
    early = reconcile([SENT], evidence(bc_refund(7, echo=False), after=timedelta(seconds=30)))
    assert early.verdict is Verdict.TOO_EARLY and early.refund is None
    assert reconcile([SENT], evidence(bc_refund(7, echo=False))).verdict is Verdict.FOUND


def test_where_read_backs_keep_markers_an_unmarked_lookalike_is_someone_elses() -> None:
    lookalike = bc_refund(7, echo=False)
    assert reconcile([SENT], evidence(lookalike, markers_echoed=True)).verdict is Verdict.UNCERTAIN
    assert reconcile([SENT], evidence(lookalike, markers_echoed=None)).verdict is Verdict.FOUND


def test_a_lookalike_on_an_order_whose_earlier_refunds_do_not_add_up_is_not_taken_for_ours() -> None:
    # the order showed one unit refunded (ids unknown); the list shows no earlier refund for it
    baseline = OrderBaseline(had_refunds=True, refunded_lines=(LineRefunded(line_id=501, quantity=1),))
    unsure = SENT.model_copy(update={"baseline": baseline})
    verdict = reconcile([unsure], evidence(bc_refund(7, echo=False)))
    assert verdict.verdict is Verdict.UNCERTAIN and verdict.refund is None


def test_refunds_set_aside_still_count_for_what_the_order_showed_before_the_send() -> None:
    # another NetSuite refund's refund (claimed, set aside) explains the unit the order showed refunded
    baseline = OrderBaseline(had_refunds=True, refunded_lines=(LineRefunded(line_id=501, quantity=1),))
    after_another = SENT.model_copy(update={"baseline": baseline})
    theirs = bc_refund(3, echo=False, quantity=1, shipping=D("0.00"), created=T0 - timedelta(hours=1))
    verdict = reconcile([after_another], evidence(theirs, set_aside=frozenset({3})))
    assert verdict.verdict is Verdict.ABSENT


def test_the_order_itself_showing_more_units_refunded_tells_a_create_landed() -> None:
    before = order(Product("TEE", 2, D("25.00")), order_id=100)
    after = order(Product("TEE", 2, D("25.00"), refunded=1), order_id=100, status_id=14)
    known = SENT.model_copy(update={"baseline": OrderBaseline(had_refunds=False)})
    assert shows_something_new(known, before) is None
    assert "unit(s) refunded" in (shows_something_new(known, after) or "")
    # a shipping-only refund shows in the order's status when it had none before
    status_only = order(Product("TEE", 2, D("25.00")), order_id=100, status_id=14)
    assert "shows refunds now" in (shows_something_new(known, status_only) or "")


def test_a_gift_wrapping_item_is_matched_though_read_backs_show_no_quantity_for_it() -> None:
    # orders.v3.yml, RefundItem.quantity: "only be populated for item_type PRODUCT"
    wrapped = SENT.model_copy(
        update={"items": (*SENT.items, SentItem(item_type="GIFT_WRAPPING", item_id=502, quantity=1))}
    )
    plain = bc_refund(9, echo=False)
    for requested in (None, D("3.25")):
        wrap = RefundedItem(item_type="GIFT_WRAPPING", item_id=502, requested_amount=requested)
        lookalike = plain.model_copy(update={"items": (*plain.items, wrap)})
        assert reconcile([wrapped], evidence(lookalike)).verdict is Verdict.FOUND
    # and a wrapping of another line is not it
    other = RefundedItem(item_type="GIFT_WRAPPING", item_id=503)
    assert reconcile(
        [wrapped], evidence(plain.model_copy(update={"items": (*plain.items, other)}))
    ).verdict is (Verdict.UNCERTAIN)
