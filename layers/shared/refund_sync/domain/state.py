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

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from refund_sync.domain.money import Money
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.revision import Delivery, classify_delivery, content_hash


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
# SKIPPED for what the refund said, not for where it came from: an edit of its content makes it due again
# (a zero credit memo given lines and a total). Reason codes, as Reason names them (reasons.py).
REOPENED_BY_AN_EDIT = frozenset({"ZERO_AMOUNT"})


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
    REOPEN = "reopen"  # a refund skipped for its content (a zero total) was edited: due again


_S = SyncStatus
NEW = None  # the refund has no state yet
_OPEN: frozenset[SyncStatus | None] = frozenset({NEW, _S.PENDING, _S.FAILED, _S.HELD, _S.DRY_RUN})

# (from, to) pairs each kind of change may make; anything else is a bug (IllegalTransition). SYNCED leaves
# only for a gateway decline or a NetSuite edit, keeping its BigCommerce refund; SUBMITTING only through
# the create's answer or a reconcile; SKIPPED only when an edit makes a zero refund due (REOPEN); RESOLVED
# never.
TRANSITIONS: dict[Transition, frozenset[tuple[SyncStatus | None, SyncStatus]]] = {
    Transition.SKIP: frozenset((source, _S.SKIPPED) for source in _OPEN),  # loop guard; zero amount
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
    # A transient error keeps what stands: a hold stays a hold (its candidates with it), a failure a failure.
    Transition.INTERRUPT: frozenset(
        {(NEW, _S.PENDING), (_S.PENDING, _S.PENDING), (_S.DRY_RUN, _S.PENDING)}
        | {(status, status) for status in (_S.SUBMITTING, _S.FAILED, _S.HELD)}
    ),
    Transition.PAYOUT_CONFIRMED: frozenset({(_S.SYNCED, _S.SYNCED)}),
    Transition.PAYOUT_DECLINED: frozenset({(_S.SYNCED, _S.FAILED), (_S.SYNCED, _S.HELD)}),
    Transition.CHANGED_AFTER_SYNC: frozenset({(_S.SYNCED, _S.HELD)}),
    Transition.NOTE: frozenset((status, status) for status in SyncStatus),
    Transition.RESOLVE_BY_HAND: frozenset((source, _S.RESOLVED) for source in _OPEN),
    # Operators decide only what refund-sync stopped on and recorded: never a create still in flight.
    Transition.CONFIRM_OURS: frozenset({(_S.HELD, _S.SYNCED)}),
    Transition.CONFIRM_NOT_CREATED: frozenset({(_S.HELD, _S.PENDING)}),
    Transition.ALLOW_RECREATE: frozenset({(_S.FAILED, _S.PENDING)}),
    Transition.REOPEN: frozenset({(_S.SKIPPED, _S.PENDING)}),
}


class IllegalTransition(Exception):
    """A write the transition table does not allow: a bug, never an outcome to record."""


def can_transition(transition: Transition, source: SyncStatus | None, target: SyncStatus) -> bool:
    return (source, target) in TRANSITIONS[transition]


def check_transition(transition: Transition, source: SyncStatus | None, target: SyncStatus) -> None:
    if not can_transition(transition, source, target):
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


class SentItem(BaseModel):
    """One item of a create as it was sent: what a refund read back must show to be ours."""

    model_config = ConfigDict(frozen=True)
    item_type: str
    item_id: int
    quantity: int | None = None
    amount: Money | None = None


class LineRefunded(BaseModel):
    model_config = ConfigDict(frozen=True)
    line_id: int
    quantity: int


class OrderBaseline(BaseModel):
    """What the order showed before a create was sent: how a refund that appeared since is told apart."""

    model_config = ConfigDict(frozen=True)
    had_refunds: bool = Field(description="The order showed refunds (its status, or units refunded)")
    refund_ids: tuple[int, ...] | None = Field(
        default=None, description="The order's refunds, when its refund list was read (else unknown)"
    )
    refunded_lines: tuple[LineRefunded, ...] = Field(
        default=(), description="Units already refunded per order line"
    )

    def refunded_on(self, line_id: int) -> int:
        return next((line.quantity for line in self.refunded_lines if line.line_id == line_id), 0)


class CreateAttempt(BaseModel):
    """One BigCommerce create prepared for this refund: where it went, what it asked, when it was sent."""

    model_config = ConfigDict(frozen=True)
    order_id: int
    items: tuple[SentItem, ...]
    payments: tuple[PaymentRecord, ...]
    prepared_at: AwareDatetime
    sends: tuple[AwareDatetime, ...] = Field(
        default=(), description="Stamped just before each request went out (a 429 retry is a second send)"
    )
    baseline: OrderBaseline
    settled: bool = Field(
        default=False, description="Accounted for: answered, found, or proven not to have landed"
    )

    @property
    def first_send(self) -> datetime | None:
        return self.sends[0] if self.sends else None

    @property
    def last_send(self) -> datetime | None:
        return self.sends[-1] if self.sends else None


class FoundBy(StrEnum):
    """How the BigCommerce refund a state records was known to be this NetSuite refund's."""

    CREATE_ANSWER = "create answer"  # BigCommerce's own answer to our create
    MARKER = "marker"  # read back carrying our marker
    FINGERPRINT = "fingerprint"  # read back matching what was sent
    OPERATOR = "operator"  # named by a person


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
    content_hash: str | None = Field(
        default=None, description="The refund's content (order, lines, amounts) this state last worked on"
    )
    seen_hashes: tuple[str, ...] = Field(
        default=(), description="Earlier contents, so an old message body is known for what it is"
    )

    status: SyncStatus
    reason_code: str | None = None
    reason_detail: str | None = None

    quoted_amount: Money | None = None
    refunded_amount: Money | None = None
    payments: tuple[PaymentRecord, ...] = ()
    items: tuple[str, ...] = Field(default=(), description="The refund request, one line per item")
    bigcommerce_refund_id: int | None = Field(
        default=None, description="The BigCommerce refund made for this NetSuite refund, once known"
    )
    found_by: FoundBy | None = Field(
        default=None, description="How that refund was known to be this one's (FoundBy)"
    )
    candidate_refund_ids: tuple[int, ...] = Field(
        default=(), description="HELD CREATE_UNCERTAIN: BigCommerce refunds that may be ours"
    )
    superseded_refund_ids: tuple[int, ...] = Field(
        default=(),
        description="BigCommerce refunds an operator set aside (fully declined, or confirmed not ours)",
    )
    create_attempts: tuple[CreateAttempt, ...] = ()
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

    @property
    def open_attempts(self) -> tuple[CreateAttempt, ...]:
        """Creates not yet accounted for: each may have landed at BigCommerce."""
        recorded = tuple(attempt for attempt in self.create_attempts if not attempt.settled)
        if recorded or self.create_attempts or not self.submit_attempts:
            return recorded
        # A state written before attempts were recorded: one create, of unknown content, to its order.
        if self.status is not SyncStatus.SUBMITTING or self.bigcommerce_order_id is None:
            return ()
        sent = self.submitted_at or self.updated_at
        return (
            CreateAttempt(
                order_id=int(self.bigcommerce_order_id),
                items=(),
                payments=(),
                prepared_at=sent,
                sends=(sent,),
                baseline=OrderBaseline(had_refunds=True),
            ),
        )

    @property
    def reopens_when_changed(self) -> bool:
        """SKIPPED for its content (a zero total): an edit in NetSuite makes it due again. Never one that
        a BigCommerce refund or an unsettled create stands for (those are not skipped; this makes sure)."""
        return (
            self.status is SyncStatus.SKIPPED
            and self.reason_code in REOPENED_BY_AN_EDIT
            and not self.holds_bigcommerce_refund
            and not self.open_attempts
        )

    @property
    def holds_bigcommerce_refund(self) -> bool:
        """A BigCommerce refund exists for it (synced, declined, or changed since): never create another."""
        return self.bigcommerce_refund_id is not None


class NextStep(StrEnum):
    START = "start"  # map, quote and create
    RECONCILE_FIRST = "reconcile_first"  # an earlier create may exist: look for it before creating
    ALREADY_DONE = "already_done"  # synced, skipped or resolved already: a duplicate or a redrive
    STALE = "stale"  # an older version than the state has seen (a redrive of an old body): change nothing
    CHANGED_AFTER_SYNC = "changed_after_sync"  # NetSuite edited a refund already synced: hold, create nothing
    STANDING = "standing"  # a BigCommerce refund exists but did not settle it (declined, changed): it stands
    REOPEN = "reopen"  # skipped for its content, which NetSuite has since changed: start again from PENDING


def delivery_of(refund: NetSuiteRefund, state: RefundState | None) -> Delivery:
    """How this version of the refund compares with what its state has seen (by content, then time)."""
    return classify_delivery(
        content_hash(refund),
        refund.last_modified,
        recorded_hash=state.content_hash if state else None,
        recorded_modified=state.netsuite_last_modified if state else None,
        seen_hashes=state.seen_hashes if state else (),
    )


def next_step(state: RefundState | None, delivery: Delivery, *, dry_run: bool) -> NextStep:
    """What a delivery of a refund should do, given its state and how its content compares with it."""
    if state is None:
        return NextStep.START
    if delivery is Delivery.STALE:
        return NextStep.STALE
    if state.status in FINAL_STATUSES:
        if state.status is SyncStatus.SYNCED and delivery is Delivery.CHANGED:
            return NextStep.CHANGED_AFTER_SYNC
        if state.reopens_when_changed and delivery is Delivery.CHANGED:
            return NextStep.REOPEN
        return NextStep.ALREADY_DONE
    if state.holds_bigcommerce_refund:
        return NextStep.STANDING
    if state.status is SyncStatus.DRY_RUN and dry_run and delivery is Delivery.SAME:
        return NextStep.ALREADY_DONE
    if state.open_attempts:
        return NextStep.RECONCILE_FIRST
    return NextStep.START


MAX_HISTORY = 30


def with_history(history: tuple[HistoryEntry, ...], entry: HistoryEntry) -> tuple[HistoryEntry, ...]:
    return (*history, entry)[-MAX_HISTORY:]
