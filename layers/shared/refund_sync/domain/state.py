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


FINAL_STATUSES = frozenset({SyncStatus.SYNCED, SyncStatus.SKIPPED})


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)
    at: AwareDatetime
    status: SyncStatus
    note: str = ""


class PaymentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    provider_id: str
    amount: Money
    offline: bool


class RefundState(BaseModel):
    """Everything about one NetSuite refund's journey: "what happened to CR-1042?" in one item."""

    model_config = ConfigDict(frozen=True)

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
