"""The one owner of a refund's state: every transition goes through RefundLedger.

Each method names the kind of change it makes; the domain's table (domain/state.py TRANSITIONS) says
from which status to which that kind may go, and a write outside it raises IllegalTransition. Each
write is conditional on the version it read (optimistic locking), stamps the time, and appends to the
item's history, so the item alone tells what happened and when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.bigcommerce import CreatedRefund, Payment
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason
from refund_sync.domain.revision import content_hash, remember
from refund_sync.domain.state import (
    CreateAttempt,
    FoundBy,
    HistoryEntry,
    IllegalTransition,
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


# Settled creates kept on the item, beyond those still open: the item stays far below DynamoDB's 400 KB.
KEEP_SETTLED_ATTEMPTS = 10


def _settled(attempts: tuple[CreateAttempt, ...]) -> tuple[CreateAttempt, ...]:
    settled = tuple(attempt.model_copy(update={"settled": True}) for attempt in attempts)
    return settled[-KEEP_SETTLED_ATTEMPTS:]


def interrupted_status(previous: RefundState | None) -> SyncStatus:
    """Where a transient error leaves a refund: a create in flight, a hold or a failure stand as they are."""
    if previous is not None and previous.status in (
        SyncStatus.SUBMITTING,
        SyncStatus.FAILED,
        SyncStatus.HELD,
    ):
        return previous.status
    return SyncStatus.PENDING


def _refund_facts(refund: CreatedRefund, found_by: FoundBy) -> dict[str, Any]:
    """What the state records of a BigCommerce refund made for it."""
    return {
        "bigcommerce_refund_id": refund.id,
        "found_by": found_by,
        "refunded_amount": refund.paid,
        "payments": payment_records(refund),
        "candidate_refund_ids": (),
    }


class RefundLedger:
    def __init__(
        self, store: StateStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.clock = clock

    def current(self, netsuite_id: str) -> RefundState | None:
        return self.store.get(netsuite_id)

    def claimants(self, refund_ids: Iterable[int]) -> dict[int, str]:
        """The NetSuite refund each of these BigCommerce refunds is recorded for, where one is."""
        return self.store.claimants(refund_ids)

    def markers_echoed(self) -> bool | None:
        return self.store.markers_echoed()

    def observe_markers_echoed(self, echoed: bool) -> None:
        """What a read-back of refunds already recorded showed: their markers, or none."""
        if self.store.markers_echoed() is not echoed:
            self.store.observe_markers_echoed(echoed, self.clock())

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
        """Write the next version, taken from this delivery of the refund. `attempt`: this delivery worked
        on the refund (counted in `attempts`)."""
        now = self.clock()
        if attempt:
            fields["attempts"] = (previous.attempts if previous else 0) + 1
        revision = content_hash(refund)
        base: dict[str, Any] = {
            "netsuite_id": refund.id,
            "record_type": refund.record_type.value,
            "document_number": refund.tran_id,
            "netsuite_last_modified": refund.last_modified,
            "bigcommerce_order_id": refund.bigcommerce_order_id,
            "currency": refund.currency,
            "netsuite_total": refund.total,
            "content_hash": revision,
            "seen_hashes": remember(
                previous.seen_hashes if previous else (),
                previous.content_hash if previous else None,
                revision,
            ),
            "status": status,
            "updated_at": now,
        }
        if previous is None:
            state = RefundState(created_at=now, version=1, **base, **fields)
            return self._save(transition, None, state, note, now)
        return self._save(transition, previous, previous.model_copy(update={**base, **fields}), note, now)

    def _change(self, transition: Transition, previous: RefundState, note: str, **fields: Any) -> RefundState:
        """A change known by the state alone (no delivery of the refund at hand)."""
        now = self.clock()
        return self._save(transition, previous, previous.model_copy(update=fields), note, now)

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

    # -- the create ------------------------------------------------------------------------------------
    def submitting(
        self,
        previous: RefundState | None,
        refund: NetSuiteRefund,
        *,
        items: tuple[str, ...],
        quoted: Decimal,
        payments: list[Payment],
        create: CreateAttempt,
    ) -> RefundState:
        """Recorded *before* the BigCommerce create, with what it will send and what the order showed,
        so a crash afterwards is never taken for 'not sent' and a later look can tell ours apart. Never
        while an earlier create is unaccounted for, or a BigCommerce refund already stands for it."""
        if previous is not None and (previous.open_attempts or previous.holds_bigcommerce_refund):
            raise IllegalTransition(
                f"submit: refund {previous.netsuite_id} has a create unaccounted for or a BigCommerce refund"
            )
        return self._write(
            previous,
            refund,
            Transition.SUBMIT,
            SyncStatus.SUBMITTING,
            f"creating the refund in BigCommerce ({quoted} {refund.currency}) on order {create.order_id}",
            attempt=True,
            **_quoted(items, quoted, payments),
            submit_attempts=(previous.submit_attempts if previous else 0) + 1,
            submitted_at=create.prepared_at,
            create_attempts=(*(previous.create_attempts if previous else ()), create),
            candidate_refund_ids=(),
            dry_run=False,
        )

    def send_stamped(self, previous: RefundState) -> RefundState:
        """The moment a create request goes out, written just before it does."""
        *earlier, current = previous.create_attempts
        now = self.clock()
        sent = current.model_copy(update={"sends": (*current.sends, now)})
        return self._save(
            Transition.STAMP_SEND,
            previous,
            previous.model_copy(update={"create_attempts": (*earlier, sent)}),
            f"create request sent at {now.isoformat(timespec='seconds')}",
            now,
        )

    def synced(
        self,
        previous: RefundState,
        refund: NetSuiteRefund,
        *,
        created: CreatedRefund,
        transition: Transition,
        found_by: FoundBy,
        note: str,
    ) -> RefundState:
        """The create answered (FINISH), or reconcile found it (RECONCILE): the BigCommerce refund is this
        NetSuite refund's."""
        return self._write(
            previous,
            refund,
            transition,
            SyncStatus.SYNCED,
            note,
            **_refund_facts(created, found_by),
            create_attempts=_settled(previous.create_attempts),
            synced_at=self.clock(),
            payout_checked_at=None,  # a new BigCommerce refund: its payout is yet to be checked
            reason_code=None,
            reason_detail=None,
        )

    def proven_absent(self, previous: RefundState, refund: NetSuiteRefund, detail: str) -> RefundState:
        """Reconcile proved that no earlier create landed: they are settled, a new one may be made."""
        return self._write(
            previous,
            refund,
            Transition.RECONCILE,
            SyncStatus.PENDING,
            f"reconciled: {detail}",
            create_attempts=_settled(previous.create_attempts),
            candidate_refund_ids=(),
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

    # -- what went wrong -------------------------------------------------------------------------------
    def problem(
        self,
        previous: RefundState | None,
        refund: NetSuiteRefund,
        reason: Reason,
        detail: str,
        *,
        transition: Transition | None = None,
        found: CreatedRefund | None = None,
        found_by: FoundBy = FoundBy.CREATE_ANSWER,
        candidates: Iterable[int] = (),
        settle_attempts: bool = False,
        **fields: Any,
    ) -> RefundState:
        """Record a reason a person can act on. Without a named `transition` it is a problem found before
        any create; `found` records the BigCommerce refund the problem is about; `settle_attempts`: the
        creates are accounted for (refused)."""
        status = SyncStatus(reason.outcome.value)
        transition = transition or Transition.PROBLEM
        fields["candidate_refund_ids"] = tuple(candidates)
        if found is not None:
            fields.update(_refund_facts(found, found_by), candidate_refund_ids=fields["candidate_refund_ids"])
        if settle_attempts and previous is not None:
            fields["create_attempts"] = _settled(previous.create_attempts)
        return self._write(
            previous,
            refund,
            transition,
            status,
            f"{reason.name}: {detail}",
            attempt=True,
            reason_code=reason.name,
            reason_detail=detail,
            **fields,
        )

    def interrupted(self, previous: RefundState | None, refund: NetSuiteRefund, error: str) -> RefundState:
        """A transient failure: keep the progress reached, note the error, let the queue retry."""
        status = interrupted_status(previous)
        standing = status in (SyncStatus.FAILED, SyncStatus.HELD)  # its reason and detail stay as they are
        return self._write(
            previous,
            refund,
            Transition.INTERRUPT,
            status,
            f"will retry: {error}",
            attempt=True,
            **({} if standing else {"reason_detail": f"last error (will retry): {error}"}),
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

    def reopened(self, previous: RefundState, refund: NetSuiteRefund) -> RefundState:
        """A refund skipped for its content came back edited: PENDING again, to be worked on as new."""
        return self._write(
            previous,
            refund,
            Transition.REOPEN,
            SyncStatus.PENDING,
            f"edited in NetSuite since it was skipped ({previous.reason_code}): due again",
            reason_code=None,
            reason_detail=None,
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
        return self._change(
            Transition.PAYOUT_CONFIRMED,
            previous,
            "payout check: no payment declined by the gateway",
            payout_checked_at=self.clock(),
            payments=payments,
        )

    def payout_declined(
        self, previous: RefundState, payments: tuple[PaymentRecord, ...], reason: Reason, detail: str
    ) -> RefundState:
        """The gateway declined the payments (GATEWAY_DECLINED) or some of them (PARTLY_DECLINED)."""
        return self._change(
            Transition.PAYOUT_DECLINED,
            previous,
            f"{reason.name}: {detail}",
            status=SyncStatus(reason.outcome.value),
            reason_code=reason.name,
            reason_detail=detail,
            payments=payments,
            payout_checked_at=self.clock(),
        )

    # -- what operators decide ---------------------------------------------------------------------------
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
            create_attempts=_settled(previous.create_attempts) if previous else (),
        )

    def dead_letter_discarded(self, previous: RefundState, note: str) -> RefundState:
        """An operator deleted the refund's dead-lettered message: noted, the status unchanged (the refund
        still shows among the failures, and `sync` can still send it)."""
        return self._change(Transition.NOTE, previous, f"dead-letter message discarded: {note}")

    def confirmed_ours(self, previous: RefundState, created: CreatedRefund, note: str) -> RefundState:
        """An operator named the BigCommerce refund that is this one (checked to exist on a sent order)."""
        return self._change(
            Transition.CONFIRM_OURS,
            previous,
            f"confirmed by an operator: {note}",
            status=SyncStatus.SYNCED,
            **_refund_facts(created, FoundBy.OPERATOR),
            create_attempts=_settled(previous.create_attempts),
            synced_at=self.clock(),
            payout_checked_at=None,
            reason_code=None,
            reason_detail=None,
        )

    def confirmed_not_created(self, previous: RefundState, note: str) -> RefundState:
        """An operator checked the order: none of the candidates is this refund, nothing of it landed."""
        return self._change(
            Transition.CONFIRM_NOT_CREATED,
            previous,
            f"confirmed not created by an operator: {note}",
            status=SyncStatus.PENDING,
            superseded_refund_ids=(*previous.superseded_refund_ids, *previous.candidate_refund_ids),
            candidate_refund_ids=(),
            create_attempts=_settled(previous.create_attempts),
            reason_code=None,
            reason_detail=note,
        )

    def recreate_allowed(self, previous: RefundState, declined: Iterable[int], note: str) -> RefundState:
        """Every BigCommerce refund made for it was declined in full: set them aside; a new create may go."""
        return self._change(
            Transition.ALLOW_RECREATE,
            previous,
            f"re-create allowed by an operator: {note}",
            status=SyncStatus.PENDING,
            superseded_refund_ids=tuple(dict.fromkeys((*previous.superseded_refund_ids, *declined))),
            bigcommerce_refund_id=None,
            refunded_amount=None,
            found_by=None,
            synced_at=None,
            payout_checked_at=None,
            create_attempts=_settled(previous.create_attempts),
            reason_code=None,
            reason_detail=note,
        )
