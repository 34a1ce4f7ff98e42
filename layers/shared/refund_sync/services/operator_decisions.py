"""What an operator decides about one refund that refund-sync stopped on, checked against BigCommerce.

refund-sync never settles these by itself: a create whose outcome stayed uncertain (CREATE_UNCERTAIN,
ORDER_CHANGED_AFTER_SUBMIT), and a refund the gateway declined (GATEWAY_DECLINED). Each decision is
checked against what BigCommerce shows before it is recorded, and goes through the ledger's table of
transitions like every other change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from refund_sync.adapters.bigcommerce import (
    BigCommerceClient,
    BigCommerceError,
    bigcommerce_client_from_settings,
)
from refund_sync.adapters.refund_queue import ORDER_NUMBER
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import Settings
from refund_sync.domain.bigcommerce import CreatedRefund
from refund_sync.domain.mapping import refund_tolerance
from refund_sync.domain.money import to_cents
from refund_sync.domain.reasons import Reason
from refund_sync.domain.reconcile import marker_for, matches, shows_something_new
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services.refund_state import RefundLedger

UNSETTLED_CREATE = frozenset({Reason.CREATE_UNCERTAIN.name, Reason.ORDER_CHANGED_AFTER_SUBMIT.name})


class DecisionRefused(Exception):
    """The decision does not fit what the state or BigCommerce shows; nothing was recorded."""


class OperatorDecisions:
    def __init__(
        self,
        ledger: RefundLedger,
        bigcommerce: BigCommerceClient,
        *,
        clock_skew: timedelta,
        grace: timedelta,
        tolerance_per_line: Decimal,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ledger = ledger
        self.tolerance_per_line = tolerance_per_line
        self.bigcommerce = bigcommerce
        self.clock_skew = clock_skew
        self.grace = grace
        self.clock = clock

    def _state(self, netsuite_id: str) -> RefundState:
        state = self.ledger.current(netsuite_id)
        if state is None:
            raise DecisionRefused(f"refund-sync has no record of NetSuite refund {netsuite_id}")
        return state

    def _orders_sent_to(self, state: RefundState) -> list[int]:
        orders = {attempt.order_id for attempt in state.create_attempts}
        if state.bigcommerce_order_id and ORDER_NUMBER.fullmatch(state.bigcommerce_order_id):
            orders.add(int(state.bigcommerce_order_id))
        return sorted(orders)

    def _refunds_of(self, state: RefundState) -> list[CreatedRefund]:
        found: list[CreatedRefund] = []
        for order_id in self._orders_sent_to(state):
            try:
                found += self.bigcommerce.list_order_refunds(order_id)
            except BigCommerceError as error:
                if error.status != 404:
                    raise
        return found

    def _uncertain(self, netsuite_id: str) -> RefundState:
        """The refund, if it is HELD on an uncertain create: never one whose create may still be in flight."""
        state = self._state(netsuite_id)
        if state.status is not SyncStatus.HELD or state.reason_code not in UNSETTLED_CREATE:
            raise DecisionRefused(
                f"{state.document_number} is {state.status.value} {state.reason_code or ''}: only a refund "
                "HELD CREATE_UNCERTAIN or ORDER_CHANGED_AFTER_SUBMIT can be confirmed"
            )
        return state

    def confirm_ours(self, netsuite_id: str, bigcommerce_refund_id: int) -> RefundState:
        """The named BigCommerce refund is the one refund-sync's uncertain create made: on an order a create
        went to, made after the first send, not another NetSuite refund's, not set aside, and for what
        NetSuite refunds (within a cent per item)."""
        state = self._uncertain(netsuite_id)
        if state.holds_bigcommerce_refund:
            raise DecisionRefused(
                f"{state.document_number} already records BigCommerce refund {state.bigcommerce_refund_id}"
            )
        refund = self.bigcommerce.get_refund(bigcommerce_refund_id)
        if refund is None or refund.order_id not in self._orders_sent_to(state):
            raise DecisionRefused(
                f"BigCommerce refund {bigcommerce_refund_id} is not on order "
                f"{', '.join(map(str, self._orders_sent_to(state)))}, where this refund's creates went"
            )
        if refund.id in state.superseded_refund_ids:
            raise DecisionRefused(f"BigCommerce refund {refund.id} was set aside for this refund before")
        claimant = self.ledger.claimants([refund.id]).get(refund.id)
        if claimant is not None and claimant != netsuite_id:
            raise DecisionRefused(
                f"BigCommerce refund {refund.id} is already recorded for NetSuite refund {claimant}"
            )
        sends = [send for attempt in state.create_attempts for send in attempt.sends]
        if refund.created is not None and sends and refund.created < min(sends) - self.clock_skew:
            raise DecisionRefused(
                f"BigCommerce refund {refund.id} was made at {refund.created.isoformat(timespec='seconds')}, "
                "before this refund's first create was sent"
            )
        if abs(refund.paid - to_cents(state.netsuite_total)) > refund_tolerance(
            refund, self.tolerance_per_line
        ):
            raise DecisionRefused(
                f"BigCommerce refund {refund.id} is for {refund.paid}; this refund is for "
                f"{to_cents(state.netsuite_total)} {state.currency}"
            )
        note = (
            f"BigCommerce refund {refund.id} on order {refund.order_id} "
            f"({refund.paid} {state.currency}) is this refund"
        )
        return self.ledger.confirmed_ours(state, refund, note)

    def confirm_not_created(self, netsuite_id: str, note: str) -> RefundState:
        """None of the candidates is this refund: its creates are settled, a sync may create it. Not while
        BigCommerce may still commit the last one sent (the grace period after it)."""
        state = self._uncertain(netsuite_id)
        if state.holds_bigcommerce_refund:
            raise DecisionRefused(
                f"{state.document_number} records BigCommerce refund {state.bigcommerce_refund_id}: it was "
                "created (on the order NetSuite named then); refund it back by hand if it must go elsewhere"
            )
        sends = [attempt.last_send for attempt in state.open_attempts if attempt.last_send is not None]
        if sends and self.clock() - max(sends) < self.grace:
            wait = int((self.grace - (self.clock() - max(sends))).total_seconds()) + 1
            raise DecisionRefused(
                f"a create of {state.document_number} was sent less than "
                f"{int(self.grace.total_seconds())} s ago and may still land: look at the order again in "
                f"{wait} s"
            )
        # What the order shows now, not only the candidates seen when it was held: a refund of ours listed
        # since, or one more that appeared, must be looked at first.
        known = {*state.candidate_refund_ids, *state.superseded_refund_ids}
        on_orders = self._refunds_of(state)
        claimed = self.ledger.claimants(refund.id for refund in on_orders)
        marker = marker_for(netsuite_id)
        first_send = min((send for attempt in state.create_attempts for send in attempt.sends), default=None)
        unexplained = [
            refund
            for refund in on_orders
            if refund.carries_marker(marker)
            or (
                refund.id not in known
                and claimed.get(refund.id) in (None, netsuite_id)
                and (
                    refund.created is None
                    or first_send is None
                    or refund.created >= first_send - self.clock_skew
                )
            )
        ]
        if unexplained:
            raise DecisionRefused(
                "BigCommerce now shows "
                + ", ".join(f"refund {r.id} ({r.paid})" for r in unexplained)
                + " on the order, not among the candidates you looked at: look again, then decide"
            )
        # And the orders themselves (their refund lists may lag): more units refunded than before the send,
        # or refunds on an order that had none, are refunds nobody has accounted for.
        for attempt in state.open_attempts:
            if not attempt.sends:
                continue
            try:
                order = self.bigcommerce.get_order(attempt.order_id)
            except BigCommerceError as error:
                if error.status == 404:
                    continue
                raise
            news = shows_something_new(attempt, order)
            if news and not known:
                raise DecisionRefused(f"{news}: a refund landed there; find it before deciding")
        return self.ledger.confirmed_not_created(state, note)

    def recreate(self, netsuite_id: str) -> RefundState:
        """Allow a new create after a gateway decline, only if every refund made for it was fully declined."""
        state = self._state(netsuite_id)
        if state.reason_code != Reason.GATEWAY_DECLINED.name:
            raise DecisionRefused(
                f"{state.document_number} is {state.status.value} {state.reason_code or ''}: only a refund "
                "the gateway declined can be created anew"
            )
        marker = marker_for(netsuite_id)
        # Ours: the one recorded (read by its id), those carrying the marker, those matching what a create
        # sent.
        recorded = (
            self.bigcommerce.get_refund(state.bigcommerce_refund_id) if state.bigcommerce_refund_id else None
        )
        ours = {refund.id: refund for refund in ([recorded] if recorded else [])}
        for refund in self._refunds_of(state):
            if refund.id in state.superseded_refund_ids:
                continue
            if refund.carries_marker(marker) or any(
                matches(attempt, refund, self.clock_skew) for attempt in state.create_attempts
            ):
                ours[refund.id] = refund
        if not ours:
            raise DecisionRefused(
                f"BigCommerce shows no refund of {state.document_number} on order "
                f"{', '.join(map(str, self._orders_sent_to(state)))}; check the order before creating anew"
            )
        paid = [refund for refund in ours.values() if not refund.fully_declined]
        if paid:
            raise DecisionRefused(
                "not every refund made for it was declined in full: "
                + ", ".join(f"refund {r.id} ({r.paid})" for r in paid)
                + "; a partly paid refund is never created again"
            )
        note = "every BigCommerce refund made for it was declined in full: " + ", ".join(map(str, ours))
        return self.ledger.recreate_allowed(state, list(ours), note)


def operator_decisions(
    settings: Settings, ledger: RefundLedger, bigcommerce: BigCommerceClient
) -> OperatorDecisions:
    return OperatorDecisions(
        ledger,
        bigcommerce,
        clock_skew=timedelta(seconds=settings.bigcommerce_clock_skew_seconds),
        grace=timedelta(seconds=settings.uncertain_create_grace_seconds),
        tolerance_per_line=settings.quote_tolerance_per_line,
        clock=ledger.clock,
    )


def operator_decisions_from_settings(settings: Settings) -> OperatorDecisions:
    return operator_decisions(
        settings,
        RefundLedger(StateStore(settings.state_table_name)),
        bigcommerce_client_from_settings(settings),
    )
