"""The poller's checkpoint; splitting cents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from refund_sync.domain.bigcommerce import CreatedRefund, RefundPayment
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.money import CENT, allocate, to_cents

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_a_sweep_resumes_where_it_stopped_and_the_next_one_overlaps_its_start() -> None:
    fresh = Checkpoint().sweep_start(T0)
    cut_off = fresh.page_done("500", 500)
    assert cut_off.sweep_start(T0 + timedelta(minutes=5)) == cut_off, (
        "a half-done sweep is resumed, not restarted"
    )
    done = cut_off.page_done("900", 400).sweep_done(timedelta(minutes=5), T0 + timedelta(minutes=6))
    assert (done.after_id, done.modified_since, done.sweep_started_at) == (
        "0",
        T0 - timedelta(minutes=5),
        None,
    )
    assert done.refunds_enqueued == 900 and done.pages == 2


@given(
    amount=st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) * CENT),
    weights=st.lists(
        st.integers(min_value=0, max_value=100_000).map(lambda c: Decimal(c) * CENT), min_size=1, max_size=6
    ),
)
def test_allocation_never_creates_or_loses_a_cent(amount: Decimal, weights: list[Decimal]) -> None:
    parts = allocate(amount, weights)
    assert sum(parts, Decimal(0)) == amount
    assert all(part == to_cents(part) and part >= 0 for part in parts)
    if sum(weights) > 0:
        assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)


def test_rounding_is_half_up_as_bigcommerce_rounds() -> None:
    assert to_cents(Decimal("2.345")) == Decimal("2.35")
    assert to_cents(Decimal("2.344")) == Decimal("2.34")


def test_a_refund_paid_back_is_what_its_payments_paid_not_a_total_that_may_be_before_tax() -> None:
    # On an order priced before tax, a refund's total_amount may be read as the quote's total is: 20.00
    # before 1.65 of tax, while its payments paid 21.65.
    refund = CreatedRefund(
        id=1,
        order_id=100,
        total_amount=Decimal("20.00"),
        total_tax=Decimal("1.65"),
        payments=(
            RefundPayment(provider_id="braintree", amount=Decimal("16.65")),
            RefundPayment(provider_id="giftcertificate", amount=Decimal("5.00"), offline=True),
        ),
    )
    assert refund.paid == Decimal("21.65")
    assert refund.model_copy(update={"payments": ()}).paid == Decimal("20.00")  # nothing else to go by
