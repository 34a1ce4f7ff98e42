"""The refund engine: one NetSuite refund in, at most one BigCommerce refund out.

Common path, three BigCommerce calls: read the order, quote, create. The order's refund list is read
only when it is needed: to split shipping over several consignments of an order refunded before, and
before any create that follows an earlier create attempt. BigCommerce sets the order's status
(Refunded or Partially Refunded) itself; gateway declines arrive asynchronously and are found by the
bulk payout check (services/check_payouts.py), one call for many refunds.

Exactly once: BigCommerce has no idempotency key, so the state item is written SUBMITTING *before*
the create, and every later delivery of a refund that reached SUBMITTING first looks among the
order's refunds for our marker ([netsuite:<id>] in the item reasons). Messages of one order are
serialised by the FIFO queue's message group; the state item's version guards the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import requests
from botocore.exceptions import BotoCoreError, ClientError

from refund_sync.adapters.bigcommerce import (
    BigCommerceClient,
    BigCommerceError,
    UncertainRefundCreate,
    refunded_so_far,
)
from refund_sync.adapters.refund_queue import ORDER_NUMBER
from refund_sync.adapters.state_store import StateConflict
from refund_sync.config import Settings
from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    CreatedRefund,
    Payment,
    RefundQuote,
    declined_text,
)
from refund_sync.domain.mapping import (
    MappingRules,
    RefundedSoFar,
    RefundPlan,
    check_netsuite_totals,
    needs_refund_history,
    plan_refund,
    refund_marker,
    splits_shipping,
)
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Outcome, Reason, RefundProblem
from refund_sync.domain.refund_method import choose_payments
from refund_sync.domain.state import NextStep, RefundState, create_may_still_land, next_step
from refund_sync.observability import Metric, count, count_by, logger
from refund_sync.services.refund_state import RefundLedger, payment_records


class TransientFailure(Exception):
    """Worth retrying later (timeouts, 5xx, throttling, a concurrent writer): the queue redelivers."""


class SyncOutcome(StrEnum):
    SYNCED = "synced"
    ALREADY_SYNCED = "already_synced"
    RECOVERED = "recovered"  # an earlier, unanswered create had in fact landed: recorded, not repeated
    DRY_RUN = "dry_run"


@dataclass(frozen=True)
class SyncResult:
    outcome: SyncOutcome
    state: RefundState


@dataclass(frozen=True)
class Preview:
    """What a sync would do, without doing it (the CLI's `preview`, and dry-run mode)."""

    plan: RefundPlan
    quote: RefundQuote
    payments: list[Payment]
    order: BigCommerceOrder

    @property
    def payments_text(self) -> str:
        return " + ".join(
            f"{p.provider_id} {p.amount}{' (offline)' if p.offline else ''}" for p in self.payments
        )


def classify_rejection(error: BigCommerceError) -> Reason:
    """Which runbook entry a definitive BigCommerce refusal belongs to."""
    if error.status in (401, 403):
        return Reason.BIGCOMMERCE_ACCESS_DENIED
    if error.status == 404:
        return Reason.ORDER_NOT_FOUND
    text = error.message.lower()
    if "store credit" in text or "split payment" in text:
        return Reason.REFUND_METHOD_UNAVAILABLE
    if "settle" in text:
        return Reason.PAYMENT_NOT_SETTLED
    if "remaining" in text or "exceed" in text:
        return Reason.AMOUNT_EXCEEDS_REMAINING
    return Reason.BIGCOMMERCE_REJECTED


def mapping_rules(settings: Settings) -> MappingRules:
    """The merchant's mapping choices, as the pure mapping takes them (item names compared case-blind)."""

    def names(values: list[str]) -> frozenset[str]:
        return frozenset(value.casefold() for value in values)

    return MappingRules(
        line_match=settings.line_match_rule,
        partial_line=settings.partial_line_rule,
        discount=settings.discount_rule,
        tax_only=settings.tax_only_rule,
        custom_amount_items=names(settings.custom_amount_items),
        shipping_items=names(settings.shipping_items),
        handling_items=names(settings.handling_items),
        tolerance=settings.amount_tolerance,
    )


def order_id_of(refund: NetSuiteRefund) -> int:
    raw = (refund.bigcommerce_order_id or "").strip()
    if not raw:
        raise RefundProblem(
            Reason.ORDER_ID_MISSING,
            f"{refund.label} carries no BigCommerce order id: NetSuite found none on the refund, "
            "on the record it was created from, or on that record's sales order",
        )
    if not ORDER_NUMBER.fullmatch(raw) or int(raw) <= 0:  # ASCII digits only: str.isdigit() takes "²"
        raise RefundProblem(
            Reason.ORDER_ID_MISSING, f"{refund.label} names order {raw!r}, not a BigCommerce order id"
        )
    return int(raw)


class RefundEngine:
    def __init__(
        self,
        settings: Settings,
        ledger: RefundLedger,
        bigcommerce: BigCommerceClient,
        *,
        write_back: Callable[[NetSuiteRefund, RefundState], str | None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.bigcommerce = bigcommerce
        self.rules = mapping_rules(settings)
        self.write_back = write_back
        self.clock = clock

    # -- the use case --------------------------------------------------------------------------------
    def sync(self, refund: NetSuiteRefund, *, final_attempt: bool = False) -> SyncResult:
        """Sync one refund. Raises RefundProblem (recorded; dead-letter it) or TransientFailure (retry)."""
        state = self.ledger.current(refund.id)
        try:
            return self._sync(refund, state)
        except RefundProblem as problem:
            self._record_problem(refund, problem)
            raise
        except TransientFailure as failure:
            self._record_interruption(refund, failure, final_attempt=final_attempt)
            raise
        except (BigCommerceError, UncertainRefundCreate, StateConflict, requests.RequestException) as error:
            if isinstance(error, BigCommerceError) and not error.transient:
                rejection = RefundProblem(classify_rejection(error), f"BigCommerce: {error.message}")
                self._record_problem(refund, rejection)
                raise rejection from error
            self._record_interruption(refund, error, final_attempt=final_attempt)
            raise TransientFailure(str(error)) from error
        except (BotoCoreError, ClientError) as error:
            # DynamoDB itself is failing: nothing can be recorded; the queue retries.
            raise TransientFailure(f"state table unavailable: {error}") from error

    def _sync(self, refund: NetSuiteRefund, state: RefundState | None) -> SyncResult:
        step = next_step(state, dry_run=self.settings.dry_run, incoming_version=refund.last_modified)
        if step is NextStep.ALREADY_DONE:
            assert state is not None
            logger.info(
                "Refund already handled; nothing to do",
                extra={"netsuite_id": refund.id, "status": state.status},
            )
            count(Metric.DUPLICATE_DELIVERIES)
            return SyncResult(SyncOutcome.ALREADY_SYNCED, state)

        order_id = order_id_of(refund)
        if step is NextStep.RECONCILE_FIRST:
            assert state is not None
            landed = self._find_ours(order_id, refund)
            if landed is not None:
                return self._finish(refund, state, landed, recovered=True)
            if create_may_still_land(
                state, self.clock(), timedelta(seconds=self.settings.uncertain_create_grace_seconds)
            ):
                raise TransientFailure(
                    "an earlier create is not visible yet and may still land; checking again later"
                )
            state = self.ledger.proven_absent(
                state, refund, "no refund of ours on the order after the grace period; creating it"
            )

        preview = self.preview(refund, order_id=order_id)
        payments = preview.payments
        quoted = to_cents(preview.quote.total_refund_amount)
        if self.settings.dry_run:
            dry = self.ledger.dry_run(
                state, refund, items=preview.plan.descriptions, quoted=quoted, payments=payments
            )
            count(Metric.REFUNDS_DRY_RUN)
            return SyncResult(SyncOutcome.DRY_RUN, dry)

        submitting = self.ledger.submitting(
            state, refund, items=preview.plan.descriptions, quoted=quoted, payments=payments
        )
        try:
            created = self.bigcommerce.create_refund(order_id, preview.plan.items, payments)
        except UncertainRefundCreate:
            # Settle it now if BigCommerce already shows the refund; otherwise the retry will.
            landed = self._find_ours(order_id, refund)
            if landed is None:
                raise
            return self._finish(refund, submitting, landed, recovered=True)
        return self._finish(refund, submitting, created, recovered=False)

    def preview(self, refund: NetSuiteRefund, *, order_id: int | None = None) -> Preview:
        """Map and quote; check the quote against NetSuite. Creates nothing."""
        order_id = order_id if order_id is not None else order_id_of(refund)
        check_netsuite_totals(refund, self.rules.tolerance)  # needs no BigCommerce call: refuse early
        order = self.bigcommerce.get_order(order_id)
        with_history = needs_refund_history(refund, order)
        plan, quote = self._plan_and_quote(refund, order, with_history=with_history)
        if quote.adjustment < 0 and not with_history and splits_shipping(refund, order):
            # The order showed no earlier refund, yet BigCommerce finds part of the shipping gone (its
            # status was changed by hand since): split it again, knowing what each address has left.
            plan, quote = self._plan_and_quote(refund, order, with_history=True)
        self._check_quote(refund, plan, quote)
        payments = choose_payments(
            quote, order, self.settings.refund_method_policy, paid_out_by_netsuite=refund.paid_out.by_netsuite
        )
        return Preview(plan=plan, quote=quote, payments=payments, order=order)

    # -- steps -----------------------------------------------------------------------------------------
    def _plan_and_quote(
        self, refund: NetSuiteRefund, order: BigCommerceOrder, *, with_history: bool
    ) -> tuple[RefundPlan, RefundQuote]:
        refunded = None
        if with_history:
            shipping, handling = refunded_so_far(self.bigcommerce.list_order_refunds(order.id))
            refunded = RefundedSoFar(shipping=shipping, handling=handling)
        plan = plan_refund(refund, order, self.rules, refunded)
        return plan, self.bigcommerce.quote(order.id, plan.items)

    def _check_quote(self, refund: NetSuiteRefund, plan: RefundPlan, quote: RefundQuote) -> None:
        if quote.adjustment < 0:
            raise RefundProblem(
                Reason.AMOUNT_EXCEEDS_REMAINING,
                f"BigCommerce can refund only {quote.total_refund_amount} of what was asked "
                f"(adjustment {quote.adjustment}): part of it was already refunded",
            )
        difference = to_cents(quote.total_refund_amount) - to_cents(refund.total)
        if abs(difference) > self.settings.amount_tolerance:
            raise RefundProblem(
                Reason.AMOUNT_MISMATCH,
                f"NetSuite total {to_cents(refund.total)} {refund.currency}, "
                f"BigCommerce quote {to_cents(quote.total_refund_amount)} "
                f"(difference {difference}; tolerance {self.settings.amount_tolerance}; "
                f"BigCommerce prices suggest {plan.estimated_total})",
                quoted_amount=to_cents(quote.total_refund_amount),
            )

    def _find_ours(self, order_id: int, refund: NetSuiteRefund) -> CreatedRefund | None:
        marker = refund_marker(refund)
        for existing in reversed(self.bigcommerce.list_order_refunds(order_id)):
            if existing.carries_marker(marker) and not existing.fully_declined:
                return existing
        return None

    def _finish(
        self, refund: NetSuiteRefund, state: RefundState, created: CreatedRefund, *, recovered: bool
    ) -> SyncResult:
        # The create's own answer is the record: a second read now would learn nothing new, since
        # gateways decline asynchronously. The payout check confirms each refund later, in bulk.
        payments = payment_records(created)
        if created.declined_payments:
            raise RefundProblem(
                Reason.GATEWAY_DECLINED,
                f"BigCommerce refund {created.id} was declined - {declined_text(created)}",
                bigcommerce_refund_id=created.id,
                payments=payments,
            )
        note = f"BigCommerce refund {created.id}: {to_cents(created.total_amount)} {refund.currency}"
        if recovered:
            note += " (found at BigCommerce after an unanswered create; not created again)"
        synced = self.ledger.synced(
            state,
            refund,
            refund_id=created.id,
            refunded=created.total_amount,
            payments=payments,
            note=note,
        )
        self._count_synced(refund, synced)
        if self.write_back is not None:
            synced = self._write_back(refund, synced)
        return SyncResult(SyncOutcome.RECOVERED if recovered else SyncOutcome.SYNCED, synced)

    def _write_back(self, refund: NetSuiteRefund, state: RefundState) -> RefundState:
        assert self.write_back is not None
        try:
            result = self.write_back(refund, state) or f"ok at {self.clock().isoformat(timespec='seconds')}"
        except Exception as error:  # the refund is synced; a failed note must not undo that
            logger.exception("NetSuite write-back failed", extra={"netsuite_id": refund.id})
            count(Metric.WRITE_BACK_FAILURES)
            result = f"failed: {error}"
        return self.ledger.write_back_result(state, refund, result)

    # -- recording what went wrong -------------------------------------------------------------------
    def _record_problem(self, refund: NetSuiteRefund, problem: RefundProblem) -> None:
        logger.warning(
            "Refund cannot sync",
            extra={"netsuite_id": refund.id, "reason": problem.reason.name, "detail": problem.detail},
        )
        held = problem.reason.outcome is Outcome.HELD
        count(Metric.REFUNDS_HELD if held else Metric.REFUNDS_FAILED)
        count_by(
            Metric.REFUNDS_HELD_BY_REASON if held else Metric.REFUNDS_FAILED_BY_REASON,
            "reason",
            problem.reason.name,
        )
        try:
            recorded = self.ledger.problem(
                self.ledger.current(refund.id), refund, problem.reason, problem.detail, **problem.facts
            )
        except StateConflict as error:
            raise TransientFailure(f"could not record {problem.reason.name}: {error}") from error
        self._note_in_netsuite(refund, recorded)

    def _note_in_netsuite(self, refund: NetSuiteRefund, state: RefundState) -> None:
        """The outcome on the NetSuite refund too (services/netsuite_write_back.py); never changes it."""
        if self.write_back is None:
            return
        try:
            self._write_back(refund, state)
        except Exception:  # the outcome is recorded; a note about NetSuite must not undo it
            logger.exception("NetSuite write-back not recorded", extra={"netsuite_id": refund.id})

    def _record_interruption(self, refund: NetSuiteRefund, error: Exception, *, final_attempt: bool) -> None:
        current = self.ledger.current(refund.id)
        try:
            if final_attempt:
                # The queue gives up after this delivery and dead-letters the message: say why.
                exhausted = self.ledger.problem(current, refund, Reason.RETRIES_EXHAUSTED, str(error))
                count(Metric.RETRIES_EXHAUSTED)
                self._note_in_netsuite(refund, exhausted)
            else:
                self.ledger.interrupted(current, refund, str(error))
        except StateConflict:
            logger.warning(
                "State changed while recording a transient error", extra={"netsuite_id": refund.id}
            )

    def _count_synced(self, refund: NetSuiteRefund, state: RefundState) -> None:
        count(Metric.REFUNDS_SYNCED)
        if state.refunded_amount is not None:
            # CloudWatch metric values are doubles; the money itself stays Decimal everywhere else.
            count_by(Metric.AMOUNT_REFUNDED, "currency", refund.currency, float(state.refunded_amount))
