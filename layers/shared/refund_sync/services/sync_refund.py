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
from decimal import Decimal
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
    TaxBasis,
    declined_text,
)
from refund_sync.domain.mapping import (
    MappingRules,
    RefundPlan,
    check_netsuite_totals,
    needs_refund_history,
    plan_refund,
    quote_tolerance,
    refund_marker,
)
from refund_sync.domain.money import to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Outcome, Reason, RefundProblem
from refund_sync.domain.refund_method import choose_payments, offline_note
from refund_sync.domain.state import (
    NextStep,
    RefundState,
    SyncStatus,
    create_may_still_land,
    next_step,
)
from refund_sync.observability import Metric, count, count_by, logger
from refund_sync.services.refund_state import RefundLedger, payment_records

# Where a zero refund may be skipped from: new, or any status a create was never started from.
_SKIPPABLE = frozenset({SyncStatus.PENDING, SyncStatus.FAILED, SyncStatus.HELD, SyncStatus.DRY_RUN})


class TransientFailure(Exception):
    """Worth retrying later (timeouts, 5xx, throttling, a concurrent writer): the queue redelivers."""


class SyncOutcome(StrEnum):
    SYNCED = "synced"
    ALREADY_SYNCED = "already_synced"
    RECOVERED = "recovered"  # an earlier, unanswered create had in fact landed: recorded, not repeated
    DRY_RUN = "dry_run"
    SKIPPED = "skipped"  # nothing to do in BigCommerce (a zero refund): recorded, never dead-lettered


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

    @property
    def refund_total(self) -> Decimal:
        """What the refund gives back, tax included: what the chosen method pays (or records)."""
        return to_cents(sum((payment.amount for payment in self.payments), Decimal(0)))

    @property
    def offline_note(self) -> str:
        """Which parts BigCommerce only records (no money moves): "" when all of it is paid out."""
        return offline_note(self.payments)


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
        fee_items=names(settings.fee_items),
        gift_wrapping_items=names(settings.gift_wrapping_items),
        line_threshold=settings.partial_line_threshold,
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
        write_back: Callable[[NetSuiteRefund, RefundState], None] | None = None,
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
        skipped = self._skip_zero_amount(refund, state)
        if skipped is not None:
            return skipped
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
        quoted = preview.refund_total
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
        # Refused early, with no BigCommerce call (a sync skips a first-seen zero refund before this).
        check_netsuite_totals(refund, self.rules.netsuite_rounding)
        if refund.total <= 0:
            raise RefundProblem(Reason.NOTHING_TO_REFUND, f"the refund's total is {to_cents(refund.total)}")
        order = self.bigcommerce.get_order(order_id)
        with_history = needs_refund_history(refund, order)
        plan, quote = self._plan_and_quote(refund, order, with_history=with_history)
        tolerance = quote_tolerance(plan, self.settings.quote_tolerance_per_line)
        if quote.adjustment < -tolerance and not with_history and plan.amount_items:
            # The order showed no earlier refund, yet BigCommerce finds part of a shipping, handling or
            # fee amount gone (e.g. the order's status was changed by hand since): plan again, knowing
            # what each address and fee has left.
            plan, quote = self._plan_and_quote(refund, order, with_history=True)
            with_history = True
        self._check_quote(refund, plan, quote, knew_history=with_history)
        payments = choose_payments(
            quote,
            order,
            self.settings.refund_method_policy,
            paid_out_by_netsuite=refund.paid_out.by_netsuite,
            offline_rule=self.settings.offline_payment_rule,
        )
        return Preview(plan=plan, quote=quote, payments=payments, order=order)

    # -- steps -----------------------------------------------------------------------------------------
    def _skip_zero_amount(self, refund: NetSuiteRefund, state: RefundState | None) -> SyncResult | None:
        """A zero refund (e.g. a credit memo that only moves a balance) has nothing for BigCommerce: it is
        recorded SKIPPED before any BigCommerce call, and is neither dead-lettered nor alarmed on. Only a
        refund no create was ever attempted for: otherwise the usual path looks for that create first."""
        if refund.total != 0:
            return None
        if state is not None and (state.status not in _SKIPPABLE or state.submit_attempts):
            return None
        try:
            check_netsuite_totals(refund, self.rules.netsuite_rounding)
        except RefundProblem:
            return None  # its parts do not add up to zero: the usual path holds it
        detail = (
            f"{refund.label} totals 0.00 {refund.currency}: nothing to refund in BigCommerce, "
            "so nothing was sent there"
        )
        try:
            skipped = self.ledger.skipped_at_once(state, refund, Reason.ZERO_AMOUNT, detail)
        except StateConflict as error:
            raise TransientFailure(f"could not record {Reason.ZERO_AMOUNT.name}: {error}") from error
        logger.info(
            "Zero refund skipped", extra={"netsuite_id": refund.id, "reason": Reason.ZERO_AMOUNT.name}
        )
        return SyncResult(SyncOutcome.SKIPPED, skipped)

    def _plan_and_quote(
        self, refund: NetSuiteRefund, order: BigCommerceOrder, *, with_history: bool
    ) -> tuple[RefundPlan, RefundQuote]:
        refunded = None
        if with_history:
            refunded = refunded_so_far(self.bigcommerce.list_order_refunds(order.id))
        plan = plan_refund(refund, order, self.rules, refunded)
        return plan, self.bigcommerce.quote(order.id, plan.items)

    def _check_quote(
        self, refund: NetSuiteRefund, plan: RefundPlan, quote: RefundQuote, *, knew_history: bool
    ) -> None:
        """What BigCommerce would refund is what NetSuite refunded, within a cent per taxed item.

        The money that moves is what the quoted methods pay, so that is compared with NetSuite. The quote's
        own total must agree with it in one of the ways BigCommerce's documents leave open: its total with
        tax added when `tax_inclusive` is false (the field's description), or as it stands (the refunds
        guide's example, `is_tax_included: false` with the tax in the total); with a positive adjustment
        inside it or on top of it. `rounding` is what brought the total to cents: never added again.
        """
        tolerance = quote_tolerance(plan, self.settings.quote_tolerance_per_line)
        netsuite = to_cents(refund.total)
        stated = quote.total_in_its_basis
        payout = quote.payout()
        refunded = payout if payout is not None else stated

        def figures() -> str:
            return (
                f"NetSuite total {netsuite} {refund.currency}; BigCommerce quote "
                f"{to_cents(quote.total_refund_amount)} (tax {to_cents(quote.total_refund_tax_amount)}, "
                f"tax_inclusive {str(quote.tax_inclusive).lower()}, rounding {quote.rounding.normalize():f}, "
                f"adjustment {to_cents(quote.adjustment)}), its methods pay "
                + (", ".join(str(t) for t in quote.method_totals) or "nothing")
                + f"; BigCommerce prices suggest {plan.estimated_total}; the order prices "
                + ("with tax" if plan.tax_basis is TaxBasis.INCLUSIVE else "before tax")
            )

        if quote.adjustment < -tolerance:
            if knew_history and plan.amount_items:
                # Each amount was within what the order's refunds leave, yet BigCommerce finds it too much:
                # it reads the amounts in another tax basis than the order's. Held, never a refusal.
                raise RefundProblem(
                    Reason.AMOUNT_MISMATCH,
                    "BigCommerce can refund less than was asked although the order has that much shipping, "
                    f"handling or fee left: it may read those amounts in another tax basis. {figures()}",
                    quoted_amount=refunded,
                )
            raise RefundProblem(
                Reason.AMOUNT_EXCEEDS_REMAINING,
                f"BigCommerce can refund only {refunded} of what was asked "
                f"(adjustment {quote.adjustment}): part of it was already refunded",
            )
        if payout is None and quote.refund_methods:
            raise RefundProblem(
                Reason.AMOUNT_MISMATCH,
                f"BigCommerce's refund methods pay different amounts. {figures()}",
                quoted_amount=stated,
            )
        readings = {stated, to_cents(quote.total_refund_amount)}
        if quote.adjustment:
            readings |= {to_cents(reading + quote.adjustment) for reading in readings}
        if payout is not None and payout not in readings:
            raise RefundProblem(
                Reason.AMOUNT_MISMATCH,
                f"BigCommerce's quote does not add up to what its methods pay. {figures()}",
                quoted_amount=payout,
            )
        difference = refunded - netsuite
        if abs(difference) > tolerance:
            raise RefundProblem(
                Reason.AMOUNT_MISMATCH,
                f"BigCommerce would refund {refunded}, NetSuite refunded {netsuite} "
                f"(difference {difference}; tolerance {tolerance}: "
                f"{self.settings.quote_tolerance_per_line} for each of {plan.taxed_items} taxed item(s)). "
                f"{figures()}",
                quoted_amount=refunded,
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
            self.write_back(refund, state)
            result = f"ok at {self.clock().isoformat(timespec='seconds')}"
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
            self.ledger.problem(
                self.ledger.current(refund.id), refund, problem.reason, problem.detail, **problem.facts
            )
        except StateConflict as error:
            raise TransientFailure(f"could not record {problem.reason.name}: {error}") from error

    def _record_interruption(self, refund: NetSuiteRefund, error: Exception, *, final_attempt: bool) -> None:
        current = self.ledger.current(refund.id)
        try:
            if final_attempt:
                # The queue gives up after this delivery and dead-letters the message: say why.
                self.ledger.problem(current, refund, Reason.RETRIES_EXHAUSTED, str(error))
                count(Metric.RETRIES_EXHAUSTED)
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
