"""The payout check: finds gateway declines of refunds already synced, many refunds per BigCommerce call.

BigCommerce answers a refund create before the gateway has: a decline shows up later on the refund's
payments. Rather than spend a read per refund right after the create (too early to see most declines),
a scheduled run looks up every refund synced at least `payout_check_delay_minutes` ago and not yet
checked, REFUNDS_PER_LOOKUP at a time, and records each one: confirmed, or FAILED GATEWAY_DECLINED
with the gateway's words, where operators see it (`refund-sync failures`, the failure alarm).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import islice
from typing import Any

from refund_sync.adapters.bigcommerce import (
    REFUNDS_PER_LOOKUP,
    BigCommerceClient,
    bigcommerce_client_from_settings,
)
from refund_sync.adapters.state_store import StateConflict, StateStore
from refund_sync.config import Settings, get_settings
from refund_sync.domain.bigcommerce import CreatedRefund, declined_text
from refund_sync.domain.reasons import Reason
from refund_sync.domain.reconcile import markers_echoed
from refund_sync.domain.state import FoundBy, RefundState
from refund_sync.observability import Metric, count, count_problem, logger
from refund_sync.services.refund_state import RefundLedger, payment_records


@dataclass
class PayoutCheckReport:
    checked: int = 0
    confirmed: int = 0
    declined: list[str] = field(default_factory=list)  # document numbers
    not_found: list[str] = field(default_factory=list)  # BigCommerce knows no such refund (yet)
    lookups: int = 0
    stopped_early: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "confirmed": self.confirmed,
            "declined": self.declined,
            "not_found": self.not_found,
            "lookups": self.lookups,
            "stopped_early": self.stopped_early,
        }


def _batches(states: Iterator[RefundState], size: int) -> Iterator[list[RefundState]]:
    while batch := list(islice(states, size)):
        yield batch


class PayoutChecker:
    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        bigcommerce: BigCommerceClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.ledger = RefundLedger(store, clock=clock)
        self.bigcommerce = bigcommerce
        self.clock = clock

    def run(self, seconds_left: Callable[[], float] = lambda: float("inf")) -> PayoutCheckReport:
        report = PayoutCheckReport()
        now = self.clock()
        due = self.store.awaiting_payout_check(
            synced_after=now - timedelta(days=self.settings.payout_check_window_days),
            synced_before=now - timedelta(minutes=self.settings.payout_check_delay_minutes),
        )
        for batch in _batches(due, REFUNDS_PER_LOOKUP):
            if seconds_left() < self.settings.payout_check_stop_margin_seconds:
                report.stopped_early = True  # the next run picks up where this one stopped
                break
            self._check(batch, report)
        # Counted once per run, zero included: the dashboard shows the check running even when idle.
        count(Metric.PAYOUTS_CONFIRMED, report.confirmed)
        logger.info("Payout check", extra=report.as_dict())
        return report

    def _check(self, batch: list[RefundState], report: PayoutCheckReport) -> None:
        found = self.bigcommerce.refunds_by_id(
            [s.bigcommerce_refund_id for s in batch if s.bigcommerce_refund_id]
        )
        report.lookups += 1
        # Read back, refunds already recorded show whether the store keeps the markers they were made with.
        # Only refunds recorded from BigCommerce's own answer to our create are surely ours: whether they
        # read back with their marker is what the store's read-backs do.
        echoed = markers_echoed(
            (found[state.bigcommerce_refund_id], state.netsuite_id)
            for state in batch
            if state.bigcommerce_refund_id in found and state.found_by == FoundBy.CREATE_ANSWER
        )
        if echoed is not None:
            self.ledger.observe_markers_echoed(echoed)
        for state in batch:
            refund = found.get(state.bigcommerce_refund_id or 0)
            report.checked += 1
            if refund is None:
                # Left unchecked: it is looked up again next run, until it leaves the window.
                logger.warning(
                    "Synced refund not found at BigCommerce",
                    extra={
                        "netsuite_id": state.netsuite_id,
                        "bigcommerce_refund_id": state.bigcommerce_refund_id,
                    },
                )
                report.not_found.append(state.document_number)
                continue
            try:
                if refund.declined_payments:
                    self._declined(state, refund)
                    report.declined.append(state.document_number)
                else:
                    self.ledger.payout_confirmed(state, payment_records(refund))
                    report.confirmed += 1
            except StateConflict:
                # Someone wrote the item meanwhile (a write-back, an operator): next run sees it afresh.
                logger.info(
                    "Refund changed during the payout check", extra={"netsuite_id": state.netsuite_id}
                )

    def _declined(self, state: RefundState, refund: CreatedRefund) -> None:
        detail = (
            f"BigCommerce refund {refund.id} ({refund.paid} {state.currency}) was "
            f"declined after it was created - {declined_text(refund)}"
        )
        reason = Reason.GATEWAY_DECLINED if refund.fully_declined else Reason.PARTLY_DECLINED
        logger.warning(
            "Refund declined by the payment gateway",
            extra={"netsuite_id": state.netsuite_id, "reason": reason.name, "detail": detail},
        )
        self.ledger.payout_declined(state, payment_records(refund), reason, detail)
        count_problem(reason)
        count(Metric.PAYOUTS_DECLINED)


@cache
def payout_checker() -> PayoutChecker:
    """Built once per Lambda container, on first use."""
    settings = get_settings()
    return PayoutChecker(
        settings, StateStore(settings.state_table_name), bigcommerce_client_from_settings(settings)
    )
