"""What a new delivery does given the recorded state; the poller's checkpoint; splitting cents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.money import CENT, allocate, to_cents
from refund_sync.domain.state import NextStep, RefundState, SyncStatus, create_may_still_land, next_step

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def state(status: SyncStatus, *, submit_attempts: int = 0, modified: datetime = T0) -> RefundState:
    return RefundState(
        netsuite_id="1042",
        record_type="creditmemo",
        document_number="CM-1042",
        netsuite_last_modified=modified,
        currency="USD",
        netsuite_total=Decimal("10.00"),
        status=status,
        submit_attempts=submit_attempts,
        created_at=T0,
        updated_at=T0,
        submitted_at=T0 if submit_attempts else None,
    )


def test_a_refund_never_seen_starts() -> None:
    assert next_step(None, dry_run=False, incoming_version=T0) is NextStep.START


def test_a_synced_refund_is_never_synced_again_even_when_redriven_or_edited() -> None:
    assert (
        next_step(state(SyncStatus.SYNCED), dry_run=False, incoming_version=T0 + timedelta(days=1))
        is NextStep.ALREADY_DONE
    )


def test_a_refund_that_ever_reached_submitting_is_reconciled_before_any_new_create() -> None:
    for status in (SyncStatus.SUBMITTING, SyncStatus.FAILED, SyncStatus.PENDING):
        assert (
            next_step(state(status, submit_attempts=1), dry_run=False, incoming_version=T0)
            is NextStep.RECONCILE_FIRST
        )


def test_a_failure_before_any_create_simply_starts_again() -> None:
    assert next_step(state(SyncStatus.FAILED), dry_run=False, incoming_version=T0) is NextStep.START


def test_dry_run_results_stand_until_the_refund_changes_or_dry_run_ends() -> None:
    dry = state(SyncStatus.DRY_RUN)
    assert next_step(dry, dry_run=True, incoming_version=T0) is NextStep.ALREADY_DONE
    assert next_step(dry, dry_run=True, incoming_version=T0 + timedelta(minutes=1)) is NextStep.START
    assert next_step(dry, dry_run=False, incoming_version=T0) is NextStep.START


def test_an_unanswered_create_may_still_land_during_the_grace_period_only() -> None:
    submitting = state(SyncStatus.SUBMITTING, submit_attempts=1)
    assert create_may_still_land(submitting, T0 + timedelta(seconds=30), timedelta(seconds=120))
    assert not create_may_still_land(submitting, T0 + timedelta(seconds=121), timedelta(seconds=120))


def test_an_answered_create_such_as_a_decline_is_not_waited_for() -> None:
    declined = state(SyncStatus.FAILED, submit_attempts=1)
    assert not create_may_still_land(declined, T0 + timedelta(seconds=5), timedelta(seconds=120))


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
