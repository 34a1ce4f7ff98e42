"""The one owner of a refund's state: every transition goes through RefundLedger.

Each method writes the whole item conditionally on the version it read (optimistic locking), stamps
the time, and appends to the item's history, so the item alone tells what happened and when.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.bigcommerce import CreatedRefund, Payment
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import (
    HistoryEntry,
    PaymentRecord,
    RefundState,
    SyncStatus,
    Transition,
    check_transition,
    with_history,
)


def _quoted(items: tuple[str, ...], quoted: Decimal, payments: list[Payment]) -> dict[str, Any]:
    """What a quote settles: the request, the amount, the method; and that no problem stands."""
    return {
        "items": items,
        "quoted_amount": quoted,
        "payments": tuple(PaymentRecord(**p.model_dump()) for p in payments),
        "reason_code": None,
        "reason_detail": None,
    }


def payment_records(refund: CreatedRefund) -> tuple[PaymentRecord, ...]:
    """A BigCommerce refund's payments as the state item records them (amounts in cents)."""
    return tuple(
        PaymentRecord(provider_id=p.provider_id, amount=to_cents(p.amount), offline=p.offline)
        for p in refund.payments
    )


class RefundLedger:
    def __init__(
        self, store: StateStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.clock = clock

    def current(self, netsuite_id: str) -> RefundState | None:
        return self.store.get(netsuite_id)

    def _write(
        self,
        previous: RefundState | None,
        refund: NetSuiteRefund,
        transition: Transition,
        status: SyncStatus,
        note: str,
        *,
        attempt: bool = False,
        **fields: Any,
    ) -> RefundState:
        """Write the next version. `attempt`: this delivery worked on the refund (counted in `attempts`)."""
        now = self.clock()
        if attempt:
            fields["attempts"] = (previous.attempts if previous else 0) + 1
        base: dict[str, Any] = {
            "netsuite_id": refund.id,
            "record_type": refund.record_type.value,
            "document_number": refund.tran_id,
            "netsuite_last_modified": refund.last_modified,
            "bigcommerce_order_id": refund.bigcommerce_order_id,
            "currency": refund.currency,
            "netsuite_total": refund.total,
            "status": status,
            "updated_at": now,
        }
        if previous is None:
            state = RefundState(created_at=now, version=1, **base, **fields)
            return self._save(transition, None, state, note, now)
        return self._save(transition, previous, previous.model_copy(update={**base, **fields}), note, now)

    def _save(
        self,
        transition: Transition,
        previous: RefundState | None,
        state: RefundState,
        note: str,
        now: datetime,
    ) -> RefundState:
        """Check the transition against the domain's table, stamp, note in the history, validate
        (model_copy does not), and store conditionally on the version read."""
        check_transition(transition, previous.status if previous else None, state.status)
        if previous is not None:
            state = state.model_copy(update={"version": previous.version + 1, "updated_at": now})
        entry = HistoryEntry(at=now, status=state.status, note=note)
        state = RefundState.model_validate(
            state.model_copy(update={"history": with_history(state.history, entry)}).model_dump()
        )
        return self.store.save(state, expected_version=previous.version if previous else None)

    def submitting(
        self,
        previous: RefundState | None,
        refund: NetSuiteRefund,
        *,
        items: tuple[str, ...],
        quoted: Decimal,
        payments: list[Payment],
    ) -> RefundState:
        """Recorded *before* the BigCommerce create, so a crash afterwards is never taken for 'not sent'."""
        return self._write(
            previous,
            refund,
            Transition.SUBMIT,
            SyncStatus.SUBMITTING,
            f"creating the refund in BigCommerce ({quoted} {refund.currency})",
            attempt=True,
            **_quoted(items, quoted, payments),
            submit_attempts=(previous.submit_attempts if previous else 0) + 1,
            submitted_at=self.clock(),
            dry_run=False,
        )

    def synced(
        self,
        previous: RefundState,
        refund: NetSuiteRefund,
        *,
        refund_id: int,
        refunded: Decimal,
        payments: tuple[PaymentRecord, ...],
        note: str,
    ) -> RefundState:
        return self._write(
            previous,
            refund,
            Transition.FINISH if previous.status is SyncStatus.SUBMITTING else Transition.RECONCILE,
            SyncStatus.SYNCED,
            note,
            bigcommerce_refund_id=refund_id,
            refunded_amount=to_cents(refunded),
            payments=payments,
            synced_at=self.clock(),
            payout_checked_at=None,  # a new BigCommerce refund: its payout is yet to be checked
            reason_code=None,
            reason_detail=None,
        )

    def dry_run(
        self,
        previous: RefundState | None,
        refund: NetSuiteRefund,
        *,
        items: tuple[str, ...],
        quoted: Decimal,
        payments: list[Payment],
    ) -> RefundState:
        return self._write(
            previous,
            refund,
            Transition.DRY_RUN,
            SyncStatus.DRY_RUN,
            f"dry run: would refund {quoted} {refund.currency}; nothing was created",
            attempt=True,
            **_quoted(items, quoted, payments),
            dry_run=True,
        )

    def problem(
        self, previous: RefundState | None, refund: NetSuiteRefund, reason: Reason, detail: str, **fields: Any
    ) -> RefundState:
        status = SyncStatus(reason.outcome.value)
        in_flight = previous is not None and previous.status is SyncStatus.SUBMITTING
        return self._write(
            previous,
            refund,
            Transition.FINISH if in_flight else Transition.PROBLEM,
            status,
            f"{reason.name}: {detail}",
            attempt=True,
            reason_code=reason.name,
            reason_detail=detail,
            **fields,
        )

    def proven_absent(self, previous: RefundState, refund: NetSuiteRefund, detail: str) -> RefundState:
        """Reconcile found no trace of the earlier create at BigCommerce: it did not land."""
        return self._write(
            previous, refund, Transition.RECONCILE, SyncStatus.PENDING, f"reconciled: {detail}"
        )

    def resolved_by_hand(
        self, previous: RefundState | None, refund: NetSuiteRefund, note: str
    ) -> RefundState:
        """An operator settled the refund outside refund-sync: nothing ever creates it again."""
        return self._write(
            previous,
            refund,
            Transition.RESOLVE_BY_HAND,
            SyncStatus.RESOLVED,
            f"resolved by hand: {note}",
            reason_code=None,
            reason_detail=note,
        )

    def interrupted(self, previous: RefundState | None, refund: NetSuiteRefund, error: str) -> RefundState:
        """A transient failure: keep the progress reached, note the error, let the queue retry."""
        status = previous.status if previous else SyncStatus.PENDING
        if status in (SyncStatus.FAILED, SyncStatus.HELD, SyncStatus.DRY_RUN):
            status = SyncStatus.PENDING
        return self._write(
            previous,
            refund,
            Transition.INTERRUPT,
            status,
            f"will retry: {error}",
            attempt=True,
            reason_detail=f"last error (will retry): {error}",
        )

    def skipped(self, refund: NetSuiteRefund, reason: Reason, detail: str) -> RefundState | None:
        """Loop guard: remember why a refund was never sent (only the first time it is seen)."""
        previous = self.store.get(refund.id)
        if previous is not None:
            return None
        return self._write(
            None,
            refund,
            Transition.SKIP,
            SyncStatus.SKIPPED,
            f"{reason.name}: {detail}",
            reason_code=reason.name,
            reason_detail=detail,
        )

    def skipped_at_once(
        self, previous: RefundState | None, refund: NetSuiteRefund, reason: Reason, detail: str
    ) -> RefundState:
        """Nothing to do in BigCommerce (a zero refund): SKIPPED for good, from new or any open status."""
        return self._write(
            previous,
            refund,
            Transition.SKIP,
            SyncStatus.SKIPPED,
            f"{reason.name}: {detail}",
            attempt=True,
            reason_code=reason.name,
            reason_detail=detail,
        )

    def write_back_result(self, previous: RefundState, refund: NetSuiteRefund, result: str) -> RefundState:
        return self._write(
            previous,
            refund,
            Transition.NOTE,
            previous.status,
            f"NetSuite write-back: {result}",
            write_back=result,
        )

    # -- the payout check: transitions of a synced refund, known by its state alone ----------------------
    def payout_confirmed(self, previous: RefundState, payments: tuple[PaymentRecord, ...]) -> RefundState:
        now = self.clock()
        checked = previous.model_copy(update={"payout_checked_at": now, "payments": payments})
        return self._save(
            Transition.PAYOUT_CONFIRMED,
            previous,
            checked,
            "payout check: no payment declined by the gateway",
            now,
        )

    def payout_declined(
        self, previous: RefundState, payments: tuple[PaymentRecord, ...], detail: str
    ) -> RefundState:
        reason, now = Reason.GATEWAY_DECLINED, self.clock()
        declined = previous.model_copy(
            update={
                "status": SyncStatus(reason.outcome.value),
                "reason_code": reason.name,
                "reason_detail": detail,
                "payments": payments,
                "payout_checked_at": now,
            }
        )
        return self._save(Transition.PAYOUT_DECLINED, previous, declined, f"{reason.name}: {detail}", now)
