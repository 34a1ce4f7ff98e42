"""The sync state of one NetSuite refund, and what a new delivery of it should do. Pure.

    (new) ─▶ SUBMITTING ─▶ SYNCED ─▶ (payout checked)
      │           │            │
      ├───────────┴────────────┴─▶ FAILED / HELD   (a reason a person can act on; dead-lettered,
      │                                             or, for a late gateway decline, listed for review)
      ├─▶ PENDING                         (a transient error before the create; the queue retries)
      └─▶ DRY_RUN                         (dry-run mode: mapped and quoted, nothing created)

SUBMITTING is written *before* the BigCommerce create; whoever finds a refund that ever reached it
(submit_attempts > 0) reads the order's refunds for our marker before creating anything again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from refund_sync.domain.money import Money


class SyncStatus(StrEnum):
    PENDING = "PENDING"
    SUBMITTING = "SUBMITTING"
    SYNCED = "SYNCED"
    FAILED = "FAILED"
    HELD = "HELD"
    DRY_RUN = "DRY_RUN"
    SKIPPED = "SKIPPED"
    RESOLVED = "RESOLVED"  # settled by a person outside refund-sync (e.g. refunded by hand)


FINAL_STATUSES = frozenset({SyncStatus.SYNCED, SyncStatus.SKIPPED, SyncStatus.RESOLVED})


class Transition(StrEnum):
    """Every kind of change a refund's state can go through; TRANSITIONS says from where to where."""

    SKIP = "skip"  # the loop guard: imported from BigCommerce, never sent
    DRY_RUN = "dry run"  # mapped and quoted, nothing created
    SUBMIT = "submit"  # written before a BigCommerce create
    STAMP_SEND = "stamp send"  # the moment a create attempt goes out
    FINISH = "finish"  # the create's own answer: made, refused, or declined at once
    RECONCILE = "reconcile"  # after an uncertain create: found ours, declined, proven absent, or uncertain
    PROBLEM = "problem"  # cannot sync as it stands (no create in flight)
    INTERRUPT = "interrupt"  # a transient error: the queue retries
    PAYOUT_CONFIRMED = "payout confirmed"
    PAYOUT_DECLINED = "payout declined"  # the gateway declined a synced refund after its create
    CHANGED_AFTER_SYNC = "changed after sync"  # NetSuite edited a refund already synced
    NOTE = "note"  # a fact added without a change of status (the NetSuite write-back's result)
    RESOLVE_BY_HAND = "resolve by hand"  # an operator: refunded outside refund-sync; never create it
    CONFIRM_OURS = "confirm ours"  # an operator: this BigCommerce refund is the one we created
    CONFIRM_NOT_CREATED = "confirm not created"  # an operator: none of the candidates is ours
    ALLOW_RECREATE = "allow recreate"  # an operator: every refund we made was declined; create anew


_S = SyncStatus
NEW = None  # the refund has no state yet
_OPEN: frozenset[SyncStatus | None] = frozenset({NEW, _S.PENDING, _S.FAILED, _S.HELD, _S.DRY_RUN})

# (from, to) pairs each kind of change may make; anything else is a bug (IllegalTransition). SYNCED leaves
# only for a gateway decline or a NetSuite edit, keeping its BigCommerce refund; SUBMITTING only through
# the create's answer or a reconcile; SKIPPED and RESOLVED never.
TRANSITIONS: dict[Transition, frozenset[tuple[SyncStatus | None, SyncStatus]]] = {
    Transition.SKIP: frozenset({(NEW, _S.SKIPPED)}),
    Transition.DRY_RUN: frozenset((source, _S.DRY_RUN) for source in _OPEN),
    Transition.SUBMIT: frozenset((source, _S.SUBMITTING) for source in _OPEN),
    Transition.STAMP_SEND: frozenset({(_S.SUBMITTING, _S.SUBMITTING)}),
    Transition.FINISH: frozenset({(_S.SUBMITTING, target) for target in (_S.SYNCED, _S.FAILED, _S.HELD)}),
    Transition.RECONCILE: frozenset(
        (source, target)
        for source in (_S.SUBMITTING, _S.PENDING, _S.FAILED, _S.HELD)
        for target in (_S.SYNCED, _S.FAILED, _S.HELD, _S.PENDING)
    ),
    Transition.PROBLEM: frozenset((source, target) for source in _OPEN for target in (_S.FAILED, _S.HELD)),
    Transition.INTERRUPT: frozenset(
        {(source, _S.PENDING) for source in _OPEN} | {(_S.SUBMITTING, _S.SUBMITTING)}
    ),
    Transition.PAYOUT_CONFIRMED: frozenset({(_S.SYNCED, _S.SYNCED)}),
    Transition.PAYOUT_DECLINED: frozenset({(_S.SYNCED, _S.FAILED), (_S.SYNCED, _S.HELD)}),
    Transition.CHANGED_AFTER_SYNC: frozenset({(_S.SYNCED, _S.HELD)}),
    Transition.NOTE: frozenset((status, status) for status in SyncStatus),
    Transition.RESOLVE_BY_HAND: frozenset((source, _S.RESOLVED) for source in _OPEN),
    Transition.CONFIRM_OURS: frozenset({(_S.HELD, _S.SYNCED), (_S.SUBMITTING, _S.SYNCED)}),
    Transition.CONFIRM_NOT_CREATED: frozenset({(_S.HELD, _S.PENDING), (_S.SUBMITTING, _S.PENDING)}),
    Transition.ALLOW_RECREATE: frozenset({(_S.FAILED, _S.PENDING), (_S.HELD, _S.PENDING)}),
}


class IllegalTransition(Exception):
    """A write the transition table does not allow: a bug, never an outcome to record."""


def check_transition(transition: Transition, source: SyncStatus | None, target: SyncStatus) -> None:
    if (source, target) not in TRANSITIONS[transition]:
        raise IllegalTransition(
            f"{transition.value}: {source.value if source else 'new'} -> {target.value} is not allowed"
        )


class HistoryEntry(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)
    at: AwareDatetime
    status: SyncStatus
    note: str = ""


class PaymentRecord(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)
    provider_id: str
    amount: Money
    offline: bool


class RefundState(BaseModel):
    """Everything about one NetSuite refund's journey: "what happened to CR-1042?" in one item."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    netsuite_id: str
    record_type: str
    document_number: str
    netsuite_last_modified: AwareDatetime
    bigcommerce_order_id: str | None = None
    currency: str
    netsuite_total: Money

    status: SyncStatus
    reason_code: str | None = None
    reason_detail: str | None = None

    quoted_amount: Money | None = None
    refunded_amount: Money | None = None
    payments: tuple[PaymentRecord, ...] = ()
    items: tuple[str, ...] = Field(default=(), description="The refund request, one line per item")
    bigcommerce_refund_id: int | None = None
    payout_checked_at: AwareDatetime | None = Field(
        default=None, description="When the payout check found the refund not declined by the gateway"
    )
    dry_run: bool = False

    attempts: int = Field(default=0, description="Deliveries that worked on this refund")
    submit_attempts: int = Field(default=0, description="Times a BigCommerce create was started")
    version: int = Field(default=0, description="Optimistic lock: every write bumps it")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    submitted_at: AwareDatetime | None = None
    synced_at: AwareDatetime | None = None
    write_back: str | None = Field(default=None, description="NetSuite write-back result, when enabled")
    history: tuple[HistoryEntry, ...] = ()

    @property
    def refund_method(self) -> str:
        return " + ".join(
            f"{payment.provider_id}{' (offline)' if payment.offline else ''}" for payment in self.payments
        )


class NextStep(StrEnum):
    START = "start"  # map, quote and create
    RECONCILE_FIRST = "reconcile_first"  # an earlier create may exist: look for it before creating
    ALREADY_DONE = "already_done"  # synced (or skipped) already: a duplicate or a redrive


def next_step(state: RefundState | None, *, dry_run: bool, incoming_version: datetime) -> NextStep:
    if state is None:
        return NextStep.START
    if state.status in FINAL_STATUSES:
        return NextStep.ALREADY_DONE
    if state.status is SyncStatus.DRY_RUN and dry_run and incoming_version <= state.netsuite_last_modified:
        return NextStep.ALREADY_DONE
    if state.submit_attempts > 0:
        return NextStep.RECONCILE_FIRST
    return NextStep.START


def create_may_still_land(state: RefundState, now: datetime, grace: timedelta) -> bool:
    """An unanswered create (still SUBMITTING) younger than the grace period may yet commit at BigCommerce."""
    return (
        state.status is SyncStatus.SUBMITTING
        and state.submitted_at is not None
        and now - state.submitted_at < grace
    )


MAX_HISTORY = 30


def with_history(history: tuple[HistoryEntry, ...], entry: HistoryEntry) -> tuple[HistoryEntry, ...]:
    return (*history, entry)[-MAX_HISTORY:]
