"""Which version of a refund a delivery carries (by content, not a minute-resolution timestamp), and what
the delivery should do given the recorded state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from refund_sync.domain.reasons import Reason
from refund_sync.domain.revision import Delivery, classify_delivery, content_hash, remember
from refund_sync.domain.state import (
    REOPENED_BY_AN_EDIT,
    CreateAttempt,
    NextStep,
    OrderBaseline,
    RefundState,
    SyncStatus,
    next_step,
)
from tests.factories import line, refund

T0 = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
ORIGINAL = refund(line(1, "TEE", 2, "40.00", tax="4.00"))


def test_the_content_hash_covers_order_lines_and_amounts_but_not_the_memo_or_timestamps() -> None:
    same_content = ORIGINAL.model_copy(
        update={"memo": "written back by refund-sync", "last_modified": T0 + timedelta(hours=1)}
    )
    assert content_hash(same_content) == content_hash(ORIGINAL)
    for changed in (
        ORIGINAL.model_copy(update={"bigcommerce_order_id": "101"}),
        ORIGINAL.model_copy(update={"currency": "EUR"}),
        refund(line(1, "TEE", 1, "20.00", tax="2.00")),
        refund(line(1, "TEE", 2, "40.00", tax="4.00"), shipping="5.00"),
        refund(line(1, "CAP", 2, "40.00", tax="4.00")),
        refund(line(1, "TEE", 2, "40.00", tax="4.00"), paid_out=True),
    ):
        assert content_hash(changed) != content_hash(ORIGINAL)


def test_the_same_amount_written_with_other_digits_is_the_same_content() -> None:
    padded = refund(line(1, "TEE", Decimal("2.000"), "40.0000", tax="4.0"))
    assert content_hash(padded) == content_hash(ORIGINAL)


def deliver(
    incoming: str, modified: datetime, recorded: str, recorded_at: datetime, seen: tuple[str, ...] = ()
) -> Delivery:
    return classify_delivery(
        incoming, modified, recorded_hash=recorded, recorded_modified=recorded_at, seen_hashes=seen
    )


def test_a_delivery_is_same_changed_or_stale_by_content_then_time() -> None:
    assert deliver("a", T0, "a", T0) is Delivery.SAME
    assert deliver("b", T0 + timedelta(minutes=1), "a", T0) is Delivery.CHANGED
    assert deliver("b", T0 - timedelta(minutes=1), "a", T0) is Delivery.STALE
    # two edits within one minute: the newer content is told apart although the timestamps agree
    assert deliver("b", T0, "a", T0) is Delivery.CHANGED
    # and an old body of that same minute, redriven, is known for what it is
    assert deliver("a", T0, "b", T0, seen=("a",)) is Delivery.STALE
    # an edit that restores earlier content later is a change all the same
    assert deliver("a", T0 + timedelta(minutes=2), "b", T0, seen=("a",)) is Delivery.CHANGED


def test_earlier_contents_are_remembered_newest_last_and_bounded() -> None:
    seen: tuple[str, ...] = ()
    for index in range(30):
        seen = remember(seen, f"h{index}", f"h{index + 1}")
    assert seen[-1] == "h29" and len(seen) == 20
    assert remember(seen, "h30", "h30") == seen


def a_state(status: SyncStatus, **fields: object) -> RefundState:
    base: dict[str, object] = {
        "netsuite_id": "1042",
        "record_type": "creditmemo",
        "document_number": "CM-1042",
        "netsuite_last_modified": T0,
        "currency": "USD",
        "netsuite_total": Decimal("44.00"),
        "status": status,
        "created_at": T0,
        "updated_at": T0,
    }
    return RefundState.model_validate({**base, **fields})


SENT = CreateAttempt(
    order_id=100,
    items=(),
    payments=(),
    prepared_at=T0,
    sends=(T0,),
    baseline=OrderBaseline(had_refunds=False),
)


def test_a_refund_never_seen_starts() -> None:
    assert next_step(None, Delivery.FIRST, dry_run=False) is NextStep.START


@pytest.mark.parametrize(
    ("delivery", "expected"), [(Delivery.SAME, NextStep.ALREADY_DONE), (Delivery.STALE, NextStep.STALE)]
)
def test_a_synced_refund_is_never_synced_again(delivery: Delivery, expected: NextStep) -> None:
    step = next_step(a_state(SyncStatus.SYNCED, bigcommerce_refund_id=5), delivery, dry_run=False)
    assert step is expected


def test_a_synced_refund_edited_in_netsuite_is_held_not_created_again() -> None:
    synced = a_state(SyncStatus.SYNCED, bigcommerce_refund_id=5)
    assert next_step(synced, Delivery.CHANGED, dry_run=False) is NextStep.CHANGED_AFTER_SYNC


@pytest.mark.parametrize(
    ("status", "reason_code"),
    [(SyncStatus.SKIPPED, "CREATED_FROM_BIGCOMMERCE"), (SyncStatus.RESOLVED, "RESOLVED_BY_HAND")],
)
def test_refunds_skipped_by_the_loop_guard_or_resolved_stay_so_whatever_arrives(
    status: SyncStatus, reason_code: str
) -> None:
    for delivery in (Delivery.SAME, Delivery.CHANGED):
        state = a_state(status, reason_code=reason_code)
        assert next_step(state, delivery, dry_run=False) is NextStep.ALREADY_DONE


def test_a_zero_refund_skipped_is_due_again_only_when_its_content_changes() -> None:
    skipped = a_state(SyncStatus.SKIPPED, reason_code=Reason.ZERO_AMOUNT.name)
    assert next_step(skipped, Delivery.CHANGED, dry_run=False) is NextStep.REOPEN
    assert next_step(skipped, Delivery.SAME, dry_run=False) is NextStep.ALREADY_DONE
    assert next_step(skipped, Delivery.STALE, dry_run=False) is NextStep.STALE
    # never past a BigCommerce refund that stands for it
    standing = skipped.model_copy(update={"bigcommerce_refund_id": 5})
    assert next_step(standing, Delivery.CHANGED, dry_run=False) is NextStep.ALREADY_DONE


def test_the_reasons_an_edit_reopens_are_reasons_that_skip() -> None:
    for code in REOPENED_BY_AN_EDIT:
        assert Reason[code].outcome.value == SyncStatus.SKIPPED.value


def test_an_old_body_redriven_changes_nothing_whatever_the_status() -> None:
    for status in SyncStatus:
        assert next_step(a_state(status), Delivery.STALE, dry_run=False) is NextStep.STALE


def test_a_refund_with_a_create_not_accounted_for_is_reconciled_before_anything_else() -> None:
    for status in (SyncStatus.SUBMITTING, SyncStatus.FAILED, SyncStatus.HELD, SyncStatus.PENDING):
        state = a_state(status, create_attempts=(SENT,), submit_attempts=1)
        assert next_step(state, Delivery.SAME, dry_run=False) is NextStep.RECONCILE_FIRST
        assert next_step(state, Delivery.CHANGED, dry_run=False) is NextStep.RECONCILE_FIRST


def test_a_declined_or_changed_refund_with_a_bigcommerce_refund_is_never_created_again() -> None:
    declined = a_state(SyncStatus.FAILED, bigcommerce_refund_id=5, reason_code="GATEWAY_DECLINED")
    assert next_step(declined, Delivery.SAME, dry_run=False) is NextStep.STANDING
    assert next_step(declined, Delivery.CHANGED, dry_run=False) is NextStep.STANDING


def test_once_every_create_is_accounted_for_a_failed_refund_starts_again() -> None:
    settled = SENT.model_copy(update={"settled": True})
    state = a_state(SyncStatus.FAILED, create_attempts=(settled,), submit_attempts=1)
    assert next_step(state, Delivery.CHANGED, dry_run=False) is NextStep.START


def test_dry_run_results_stand_until_the_refund_changes_or_dry_run_ends() -> None:
    dry = a_state(SyncStatus.DRY_RUN)
    assert next_step(dry, Delivery.SAME, dry_run=True) is NextStep.ALREADY_DONE
    assert next_step(dry, Delivery.CHANGED, dry_run=True) is NextStep.START
    assert next_step(dry, Delivery.SAME, dry_run=False) is NextStep.START


def test_a_state_from_before_attempts_were_recorded_still_reconciles_its_create() -> None:
    legacy = a_state(SyncStatus.SUBMITTING, submit_attempts=1, submitted_at=T0, bigcommerce_order_id="100")
    (attempt,) = legacy.open_attempts
    assert attempt.order_id == 100 and attempt.sends == (T0,)
    assert next_step(legacy, Delivery.SAME, dry_run=False) is NextStep.RECONCILE_FIRST
