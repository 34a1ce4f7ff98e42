"""One table of allowed state transitions, enforced by the ledger on every write.

Every (kind of change, from, to) triple is tried against the table: its pairs pass, every other pair
raises IllegalTransition. For each kind of change, a forbidden and an allowed pair go through the real
ledger (DynamoDB on moto): the first leaves the item as it was, the second is stored. Where the table
itself must say something particular (a synced refund never overwritten, a hold never lost), it is
pinned below.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.state import (
    TRANSITIONS,
    CreateAttempt,
    IllegalTransition,
    OrderBaseline,
    RefundState,
    SyncStatus,
    Transition,
    check_transition,
)
from refund_sync.services.refund_state import RefundLedger
from refund_sync_sandbox.aws import load_template
from tests.factories import line, refund

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SOURCES: tuple[SyncStatus | None, ...] = (None, *SyncStatus)
EVERY_TRIPLE = [
    (transition, source, target) for transition in Transition for source in SOURCES for target in SyncStatus
]
FORBIDDEN = [t for t in EVERY_TRIPLE if (t[1], t[2]) not in TRANSITIONS[t[0]]]
ALLOWED = [t for t in EVERY_TRIPLE if (t[1], t[2]) in TRANSITIONS[t[0]]]


def a_state(status: SyncStatus) -> RefundState:
    return RefundState(
        netsuite_id="1042",
        record_type="creditmemo",
        document_number="CM-1042",
        netsuite_last_modified=T0,
        currency="USD",
        netsuite_total=Decimal("10.00"),
        status=status,
        created_at=T0,
        updated_at=T0,
        version=1,
    )


@pytest.fixture(scope="module")
def ledger() -> Iterator[RefundLedger]:
    with mock_aws():
        table = load_template()["Resources"]["StateTable"]["Properties"]
        boto3.client("dynamodb").create_table(
            TableName="transitions",
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
            BillingMode="PAY_PER_REQUEST",
        )
        yield RefundLedger(StateStore("transitions"), clock=lambda: T0)


def write(
    ledger: RefundLedger, transition: Transition, source: SyncStatus | None, target: SyncStatus
) -> None:
    """Put `source` in the table (or nothing), then ask the ledger for the change."""
    ledger.store.table.delete_item(Key={"pk": "REFUND#1042"})
    previous = ledger.store.save(a_state(source), expected_version=None) if source else None
    proposed = a_state(target).model_copy(update={"version": 1})
    ledger._save(transition, previous, proposed, "test", T0)


@pytest.mark.parametrize(("transition", "source", "target"), FORBIDDEN)
def test_every_pair_outside_the_table_is_refused(
    transition: Transition, source: SyncStatus | None, target: SyncStatus
) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(transition, source, target)


@pytest.mark.parametrize(("transition", "source", "target"), ALLOWED)
def test_every_pair_in_the_table_is_allowed(
    transition: Transition, source: SyncStatus | None, target: SyncStatus
) -> None:
    check_transition(transition, source, target)


# The ledger enforces the table on every write: for each kind of change, a forbidden pair is refused and
# leaves the item as it was, an allowed one is stored.
SAMPLES = [
    pytest.param(
        kind,
        next(t for t in FORBIDDEN if t[0] is kind),
        next(t for t in ALLOWED if t[0] is kind),
        id=kind.value,
    )
    for kind in Transition
]


@pytest.mark.parametrize(("kind", "forbidden", "allowed"), SAMPLES)
def test_the_ledger_refuses_what_the_table_forbids_and_stores_what_it_allows(
    ledger: RefundLedger,
    kind: Transition,
    forbidden: tuple[Transition, SyncStatus | None, SyncStatus],
    allowed: tuple[Transition, SyncStatus | None, SyncStatus],
) -> None:
    with pytest.raises(IllegalTransition):
        write(ledger, *forbidden)
    stored = ledger.current("1042")
    assert (stored.status if stored else None) == forbidden[1], "nothing was written"

    write(ledger, *allowed)
    stored = ledger.current("1042")
    assert stored is not None and stored.status is allowed[2]


def test_synced_leaves_only_for_a_gateway_decline_or_an_edit_after_the_sync() -> None:
    ways_out = {
        transition
        for transition, pairs in TRANSITIONS.items()
        for source, target in pairs
        if source is SyncStatus.SYNCED and target is not SyncStatus.SYNCED
    }
    assert ways_out == {Transition.PAYOUT_DECLINED, Transition.CHANGED_AFTER_SYNC}


def test_submitting_leaves_only_through_the_creates_answer_or_a_reconcile_never_an_operator() -> None:
    ways_out = {
        transition
        for transition, pairs in TRANSITIONS.items()
        for source, target in pairs
        if source is SyncStatus.SUBMITTING and target is not SyncStatus.SUBMITTING
    }
    assert ways_out == {Transition.FINISH, Transition.RECONCILE}


def test_resolved_never_changes_and_skipped_only_reopens_to_pending() -> None:
    def ways_out(final: SyncStatus) -> set[tuple[Transition, SyncStatus]]:
        return {
            (transition, target)
            for transition, pairs in TRANSITIONS.items()
            for source, target in pairs
            if source is final and transition is not Transition.NOTE
        }

    assert ways_out(SyncStatus.RESOLVED) == set()
    # A zero refund edited in NetSuite (the engine decides which SKIPPED refunds may: next_step)
    assert ways_out(SyncStatus.SKIPPED) == {(Transition.REOPEN, SyncStatus.PENDING)}


def test_retries_exhausted_or_a_refund_too_large_cannot_overwrite_a_synced_refund() -> None:
    # what a state-write conflict followed by the last delivery, or the poller, would attempt
    with pytest.raises(IllegalTransition):
        check_transition(Transition.PROBLEM, SyncStatus.SYNCED, SyncStatus.FAILED)
    with pytest.raises(IllegalTransition):
        check_transition(Transition.INTERRUPT, SyncStatus.SYNCED, SyncStatus.PENDING)


def test_a_transient_error_never_turns_a_hold_or_a_failure_into_pending() -> None:
    for standing in (SyncStatus.HELD, SyncStatus.FAILED, SyncStatus.SUBMITTING):
        assert (standing, standing) in TRANSITIONS[Transition.INTERRUPT]
        assert (standing, SyncStatus.PENDING) not in TRANSITIONS[Transition.INTERRUPT]


def test_operators_decide_only_on_what_refund_sync_recorded_and_stopped_on() -> None:
    assert TRANSITIONS[Transition.CONFIRM_OURS] == {(SyncStatus.HELD, SyncStatus.SYNCED)}
    assert TRANSITIONS[Transition.CONFIRM_NOT_CREATED] == {(SyncStatus.HELD, SyncStatus.PENDING)}
    assert TRANSITIONS[Transition.ALLOW_RECREATE] == {(SyncStatus.FAILED, SyncStatus.PENDING)}
    assert (SyncStatus.SUBMITTING, SyncStatus.RESOLVED) not in TRANSITIONS[Transition.RESOLVE_BY_HAND]


def test_no_create_is_prepared_while_an_earlier_one_is_unaccounted_for_or_a_refund_stands(
    ledger: RefundLedger,
) -> None:
    ns = refund(line(1, "TEE", 1, "25.00", tax="2.50"))
    create = CreateAttempt(
        order_id=100, items=(), payments=(), prepared_at=T0, baseline=OrderBaseline(had_refunds=False)
    )
    ledger.store.table.delete_item(Key={"pk": "REFUND#1042"})
    first = ledger.submitting(None, ns, items=(), quoted=ns.total, payments=[], create=create)
    held = ledger._save(
        Transition.RECONCILE, first, first.model_copy(update={"status": SyncStatus.HELD}), "held", T0
    )
    with pytest.raises(IllegalTransition):
        ledger.submitting(held, ns, items=(), quoted=ns.total, payments=[], create=create)
