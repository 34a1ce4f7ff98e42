"""One table of allowed state transitions, enforced by the ledger on every write.

Every (kind of change, from, to) triple is tried against the real ledger (DynamoDB on moto): the table's
pairs are written, every other pair raises IllegalTransition and leaves the item as it was.
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
    IllegalTransition,
    RefundState,
    SyncStatus,
    Transition,
    check_transition,
)
from refund_sync.services.refund_state import RefundLedger
from refund_sync_sandbox.aws import load_template

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
def test_every_pair_outside_the_table_is_refused_and_nothing_is_written(
    ledger: RefundLedger, transition: Transition, source: SyncStatus | None, target: SyncStatus
) -> None:
    with pytest.raises(IllegalTransition):
        write(ledger, transition, source, target)
    stored = ledger.current("1042")
    assert (stored.status if stored else None) == source


@pytest.mark.parametrize(("transition", "source", "target"), ALLOWED)
def test_every_pair_in_the_table_is_written(
    ledger: RefundLedger, transition: Transition, source: SyncStatus | None, target: SyncStatus
) -> None:
    write(ledger, transition, source, target)
    stored = ledger.current("1042")
    assert stored is not None and stored.status is target


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


@pytest.mark.parametrize("final", [SyncStatus.SKIPPED, SyncStatus.RESOLVED])
def test_skipped_and_resolved_never_change(final: SyncStatus) -> None:
    assert not [
        (transition, target)
        for transition, pairs in TRANSITIONS.items()
        for source, target in pairs
        if source is final and transition is not Transition.NOTE
    ]


def test_retries_exhausted_or_a_refund_too_large_cannot_overwrite_a_synced_refund() -> None:
    # what a state-write conflict followed by the last delivery, or the poller, would attempt
    with pytest.raises(IllegalTransition):
        check_transition(Transition.PROBLEM, SyncStatus.SYNCED, SyncStatus.FAILED)
    with pytest.raises(IllegalTransition):
        check_transition(Transition.INTERRUPT, SyncStatus.SYNCED, SyncStatus.PENDING)
