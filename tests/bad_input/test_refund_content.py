"""Refunds that keep the contract but are wrong in substance, through the real consumer handler: each ends
FAILED or HELD in the state table with its specific reason and a detail naming what is wrong, is parked
in the dead-letter queue with the same reason, and BigCommerce never receives a refund create for it (an
order read or a quote, both reads, are allowed where the reason needs them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from hypothesis import event, example, given
from hypothesis import strategies as st

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.domain.money import ZERO, to_cents
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync.domain.reasons import Reason, RefundProblem
from refund_sync.domain.state import SyncStatus
from refund_sync.services.sync_refund import order_id_of
from tests.bad_input.support import (
    Outgoing,
    Pipeline,
    budget,
    fresh_netsuite_id,
    fresh_order_id,
    one_tee_order,
)
from tests.factories import refund

D = Decimal
SKU = "TEE-BLK-M"  # what one_tee_order sells: 2 x 25.00 + 10% tax, 5.00 shipping


@dataclass(frozen=True)
class BadRefund:
    """A refund of a fresh order, what is wrong with it, and what may come of it."""

    kind: str
    refund: NetSuiteRefund
    order_id: int
    seeded: bool  # whether BigCommerce has the order
    reasons: frozenset[Reason]
    detail_names: str  # what the reason's detail must mention, so a person can find the fault


def tee(
    quantity: Decimal | int | None = 1,
    amount: Decimal | str = "25.00",
    *,
    sku: str | None = SKU,
    number: int = 1,
    tax: Decimal | str | None = None,
) -> RefundLine:
    """A line of the order's tee, taxed at 10% unless told otherwise (no rate: NetSuite's own would not be
    amount / quantity, which for odd quantities has more digits than any NetSuite figure)."""
    return RefundLine(
        line=number,
        item_id="301",
        item_name="Organic Tee - Black M",
        item_type="InvtPart",
        sku=sku,
        quantity=None if quantity is None else D(quantity),
        amount=D(amount),
        tax_amount=to_cents(D(amount) / 10) if tax is None else D(tax),
    )


class Make(Protocol):
    def __call__(
        self,
        *lines: RefundLine,
        order: str | None = ...,
        shipping: Decimal = ...,
        currency: str = ...,
        total: Decimal | None = ...,
    ) -> NetSuiteRefund: ...


Case = tuple[NetSuiteRefund, set[Reason], str]  # the refund, its possible reasons, what the detail names


def _no_order_id(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    raw = draw(st.sampled_from([None, "", "   ", "\t"]))
    return make(tee(), order=raw), {Reason.ORDER_ID_MISSING}, "order id"


def _not_an_order_id(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    raw = draw(
        st.sampled_from(["abc", "12a", "-5", "0", "000", "1.5", "#1001", "ORD 1001", "1e3", "SO-1001"])
        | st.text("abcXYZ #-_./:+0123456789", min_size=1, max_size=30).filter(
            lambda text: not (text.strip().isdigit() and int(text) > 0)
        )
    )
    return make(tee(), order=raw), {Reason.ORDER_ID_MISSING}, raw.strip() or "order id"


def _no_such_order(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    raw = draw(st.sampled_from([str(order_id), "9" * 30, f"  {order_id}  ", f"000{order_id}"]))
    return make(tee(), order=raw), {Reason.ORDER_NOT_FOUND}, str(int(raw))


def _unknown_sku(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    sku = draw(st.sampled_from(["TEE-BLK-L", "tee-blk-m-2", "MUG", "\u00a0", None]))
    return make(tee(sku=sku)), {Reason.NO_MATCHING_LINE}, "line 1"


def _quantity_not_whole(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    quantity = draw(st.sampled_from([None, D(0), D(-1), D("-0"), D("0.5"), D("1.000001"), D(-(10**9))]))
    amount = "25.00" if quantity is None or quantity <= 0 else "12.50"
    return make(tee(quantity, amount)), {Reason.QUANTITY_INVALID}, "line 1"


def _quantity_beyond_the_order(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    quantity = draw(st.sampled_from([3, 10**6, 10**14]) | st.integers(3, 10**14))
    return make(tee(quantity)), {Reason.QUANTITY_EXCEEDS_REMAINING}, "line 1"


def _nothing_given_back(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    # (A zero refund is no fault: it is SKIPPED, never dead-lettered; tests/integration/consumer/ says so.)
    amount = draw(st.sampled_from(["-25.00", "-0.01", "-99999999.99"]))
    return make(tee(1, amount)), {Reason.NOTHING_TO_REFUND}, "total"


def _absurd_amount(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    bad = make(tee(1, D(10) ** draw(st.integers(7, 14)) + D("0.01")))
    return bad, {Reason.AMOUNT_MISMATCH}, str(to_cents(bad.total))  # the quote says what the order has


def _absurd_shipping(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    shipping = D(10) ** draw(st.integers(3, 14))
    return make(tee(), shipping=shipping), {Reason.AMOUNT_EXCEEDS_REMAINING}, "shipping"


def _other_currency(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    currency = draw(st.sampled_from(["EUR", "XYZ", "JPY", "AAA"]))
    return make(tee(), currency=currency), {Reason.CURRENCY_MISMATCH}, currency


def _totals_off(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    parts = make(tee()).total
    total = parts + draw(st.sampled_from([D("0.02"), D("-0.02"), D("1000"), -parts, D("0.015")]))
    return make(tee(), total=total), {Reason.NETSUITE_TOTALS_INCONSISTENT}, str(total)


def _thousands_of_lines(draw: st.DrawFn, make: Make, order_id: int) -> Case:
    lines = [tee(number=number) for number in range(1, draw(st.integers(1_000, 3_000)) + 1)]
    return make(*lines), {Reason.QUANTITY_EXCEEDS_REMAINING}, SKU


KINDS: dict[str, Callable[[st.DrawFn, Make, int], Case]] = {
    "no order id": _no_order_id,
    "not an order id": _not_an_order_id,
    "no such order": _no_such_order,
    "unknown sku": _unknown_sku,
    "quantity not whole": _quantity_not_whole,
    "quantity beyond the order": _quantity_beyond_the_order,
    "nothing given back": _nothing_given_back,
    "absurd amount": _absurd_amount,
    "absurd shipping": _absurd_shipping,
    "other currency": _other_currency,
    "totals off": _totals_off,
    "thousands of lines": _thousands_of_lines,
}


@st.composite
def bad_refunds(draw: st.DrawFn) -> BadRefund:
    order_id, netsuite_id = fresh_order_id(), fresh_netsuite_id()

    def make(
        *lines: RefundLine,
        order: str | None = str(order_id),
        shipping: Decimal = ZERO,
        currency: str = "USD",
        total: Decimal | None = None,
    ) -> NetSuiteRefund:
        return refund(
            *lines,
            netsuite_id=netsuite_id,
            tran_id=f"CM-{order_id}",
            order_id=order,
            shipping=shipping,
            currency=currency,
            total_override=total,
        )

    kind = draw(st.sampled_from(sorted(KINDS)))
    event(kind)
    bad, reasons, detail = KINDS[kind](draw, make, order_id)
    return BadRefund(kind, bad, order_id, kind != "no such order", frozenset(reasons), detail)


@budget(8, sandbox=True)
@given(cases=st.lists(bad_refunds(), min_size=1, max_size=3))
def test_a_refund_wrong_in_substance_ends_failed_or_held_with_its_reason_and_is_never_created(
    pipeline: Pipeline, cases: list[BadRefund]
) -> None:
    # Given bad refunds of fresh BigCommerce orders, in one batch
    pipeline.sandbox.store.seed([one_tee_order(case.order_id) for case in cases if case.seeded])

    # When the consumer handler gets them
    delivery = pipeline.deliver([Outgoing.refund(case.refund) for case in cases])

    # Then none is retried: retrying cannot cure them
    assert delivery.failed == set()
    letters = {letter.letter.netsuite_id: letter.letter for letter in pipeline.take_dead_letters()}
    for case in cases:
        # And each is recorded FAILED or HELD with one of its reasons, in words that name the fault
        state = pipeline.recorded(case.refund.id)
        assert state is not None, f"{case.kind}: nothing recorded"
        reason = Reason[state.reason_code or "RETRIES_EXHAUSTED"]
        assert reason in case.reasons, f"{case.kind}: {state.reason_code}: {state.reason_detail}"
        assert state.status is SyncStatus(reason.outcome.value)
        assert case.detail_names in (state.reason_detail or ""), f"{case.kind}: {state.reason_detail}"

        # And it waits in the dead-letter queue with the same reason
        assert letters[case.refund.id].reason == reason.name

        # And BigCommerce never received a refund create for it
        assert pipeline.refund_creates(case.order_id) == [], case.kind


@budget(300, sandbox=False)
@given(raw=st.text(max_size=12) | st.from_regex(r"\s*[0-9]{1,12}\s*", fullmatch=True))
@example(raw="\u00b2")  # SUPERSCRIPT TWO
@example(raw="\u0663")  # ARABIC-INDIC DIGIT THREE
def test_an_order_id_is_ascii_digits_or_the_refund_fails_with_order_id_missing(raw: str) -> None:
    ns = refund(tee(), order_id=raw)
    try:
        order_id = order_id_of(ns)
    except RefundProblem as problem:
        assert problem.reason is Reason.ORDER_ID_MISSING and problem.detail
        return
    assert re.fullmatch(r"[0-9]+", raw.strip()), f"{raw!r} read as order {order_id}"
    assert order_id == int(raw.strip()) > 0
    message = RefundMessage(refund=ns, sent_by="schedule", sent_at=ns.last_modified)
    assert message.group_id == f"order-{order_id}", "serialised with the order's other refunds"
