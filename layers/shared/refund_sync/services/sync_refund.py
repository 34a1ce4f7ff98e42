"""The refund engine: one NetSuite refund in, at most one BigCommerce refund out.

Common path, three BigCommerce calls: read the order, quote, create. The order's refund list is read
only when it is needed: to split shipping over several consignments of an order refunded before, and
after a create whose outcome is unknown. BigCommerce sets the order's status (Refunded or Partially
Refunded) itself; gateway declines arrive asynchronously and are found by the bulk payout check
(services/check_payouts.py), one call for many refunds.

Exactly once: BigCommerce has no idempotency key, so the state item is written SUBMITTING *before*
the create, with what it will send and what the order showed, and each send is stamped just before it
goes out. Any later delivery of a refund with a create not yet accounted for reconciles first
(domain/reconcile.py): ours by marker or fingerprint, absent only when proven, otherwise HELD for a
person. Messages of one order are serialised by the FIFO queue's message group; the state item's
version and the domain's table of transitions guard the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import requests
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from refund_sync.adapters.bigcommerce import (
    BigCommerceClient,
    BigCommerceError,
    UncertainRefundCreate,
    refunded_so_far,
)
from refund_sync.adapters.refund_queue import ORDER_NUMBER
from refund_sync.adapters.state_store import StateConflict
from refund_sync.config import STATE_WRITE_SECONDS, Settings
from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    CreatedRefund,
    Payment,
    RefundItem,
    RefundQuote,
    TaxBasis,
    declined_text,
    payments_total,
)
from refund_sync.domain.mapping import (
    MappingRules,
    RefundPlan,
    check_netsuite_totals,
    needs_refund_history,
    plan_refund,
    quote_tolerance,
    refund_marker,
    refund_tolerance,
)
from refund_sync.domain.money import ZERO, to_cents
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason, RefundProblem
from refund_sync.domain.reconcile import (
    Evidence,
    Reconciliation,
    Verdict,
    reconcile,
    shows_something_new,
)
from refund_sync.domain.refund_method import choose_payments, offline_note
from refund_sync.domain.revision import Delivery
from refund_sync.domain.state import (
    CreateAttempt,
    FoundBy,
    LineRefunded,
    NextStep,
    OrderBaseline,
    PaymentRecord,
    RefundState,
    SentItem,
    SyncStatus,
    Transition,
    can_transition,
    delivery_of,
    next_step,
)
from refund_sync.observability import Metric, count, count_by, count_problem, logger
from refund_sync.services.netsuite_write_back import WriteBack
from refund_sync.services.refund_state import RefundLedger, interrupted_status

# Where a zero refund may be skipped from: new, or any status a create was never started from.


class TransientFailure(Exception):
    """Worth retrying later (timeouts, 5xx, throttling, a concurrent writer): the queue redelivers."""


class OutOfTime(TransientFailure):
    """Too little of the invocation is left to send a create and record its answer: not sent."""


class SyncOutcome(StrEnum):
    SYNCED = "synced"
    ALREADY_SYNCED = "already_synced"
    RECOVERED = "recovered"  # an earlier, unanswered create had in fact landed: recorded, not repeated
    DRY_RUN = "dry_run"
    STALE = "stale"  # an older version of the refund than the state has seen: nothing changed
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
    refunds_read: tuple[CreatedRefund, ...] | None = None  # the order's refunds, when they were read

    @property
    def payments_text(self) -> str:
        return " + ".join(
            f"{p.provider_id} {p.amount}{' (offline)' if p.offline else ''}" for p in self.payments
        )

    @property
    def refund_total(self) -> Decimal:
        """What the refund gives back, tax included: what the chosen method pays (or records)."""
        return payments_total(self.payments)

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
        write_back: WriteBack | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.bigcommerce = bigcommerce
        self.rules = mapping_rules(settings)
        self.write_back = write_back
        self._seconds_left: Callable[[], float] = lambda: float("inf")  # of the sync under way
        self.clock = clock

    # -- the use case --------------------------------------------------------------------------------
    def sync(
        self,
        refund: NetSuiteRefund,
        *,
        final_attempt: bool = False,
        seconds_left: Callable[[], float] = lambda: float("inf"),
    ) -> SyncResult:
        """Sync one refund. Raises RefundProblem (recorded; dead-letter it) or TransientFailure (retry)."""
        state = self.ledger.current(refund.id)
        self._seconds_left = seconds_left
        try:
            with self.bigcommerce.time_limit(seconds_left):
                return self._sync(refund, state, seconds_left)
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

    def defer(self, refund: NetSuiteRefund, *, final_attempt: bool) -> None:
        """Not started: too little of the invocation is left (an earlier refund of the batch waited out
        BigCommerce's quota). The queue brings it back; on its last delivery that is recorded."""
        failure = OutOfTime("too little time left in this invocation to start the refund")
        if final_attempt:
            self._record_interruption(refund, failure, final_attempt=True)
        raise failure

    def _sync(
        self, refund: NetSuiteRefund, state: RefundState | None, seconds_left: Callable[[], float]
    ) -> SyncResult:
        step = next_step(state, delivery_of(refund, state), dry_run=self.settings.dry_run)
        if step is NextStep.ALREADY_DONE or step is NextStep.STALE:
            assert state is not None
            logger.info(
                "Refund already handled; nothing to do"
                if step is NextStep.ALREADY_DONE
                else "An older version of the refund than the state has seen; nothing changes",
                extra={"netsuite_id": refund.id, "status": state.status},
            )
            count(Metric.DUPLICATE_DELIVERIES)
            outcome = SyncOutcome.ALREADY_SYNCED if step is NextStep.ALREADY_DONE else SyncOutcome.STALE
            return SyncResult(outcome, state)
        if step is NextStep.CHANGED_AFTER_SYNC:
            assert state is not None
            raise self._changed_after_sync(refund, state)
        if step is NextStep.STANDING:
            assert state is not None
            raise self._standing(refund, state)

        if step is NextStep.REOPEN:
            assert state is not None
            try:
                state = self.ledger.reopened(state, refund)
            except StateConflict as error:
                raise TransientFailure(f"could not reopen the skipped refund: {error}") from error

        order: BigCommerceOrder | None = None
        if step is NextStep.RECONCILE_FIRST:
            assert state is not None
            settled = self._settle_earlier_creates(refund, state, order_id_of(refund))
            if isinstance(settled, SyncResult):
                return settled
            state, order = settled

        skipped = self._skip_zero_amount(refund, state)
        if skipped is not None:
            return skipped
        preview = self.preview(refund, order_id=order_id_of(refund), order=order)
        quoted = preview.refund_total
        if self.settings.dry_run:
            dry = self.ledger.dry_run(
                state, refund, items=preview.plan.descriptions, quoted=quoted, payments=preview.payments
            )
            count(Metric.REFUNDS_DRY_RUN)
            return SyncResult(SyncOutcome.DRY_RUN, dry)
        return self._create(refund, state, preview, seconds_left)

    def preview(
        self,
        refund: NetSuiteRefund,
        *,
        order_id: int | None = None,
        order: BigCommerceOrder | None = None,
    ) -> Preview:
        """Map and quote; check the quote against NetSuite. Creates nothing. `order`: as just read."""
        order_id = order_id if order_id is not None else order_id_of(refund)
        # Refused early, with no BigCommerce call (a sync skips a first-seen zero refund before this).
        check_netsuite_totals(refund, self.rules.netsuite_rounding)
        if refund.total <= 0:
            raise RefundProblem(Reason.NOTHING_TO_REFUND, f"the refund's total is {to_cents(refund.total)}")
        if order is None or order.id != order_id:
            order = self.bigcommerce.get_order(order_id)
        with_history = needs_refund_history(refund, order)
        plan, quote, refunds = self._plan_and_quote(refund, order, with_history=with_history)
        tolerance = quote_tolerance(plan, self.settings.quote_tolerance_per_line)
        if quote.adjustment < -tolerance and not with_history and plan.amount_items:
            # The order showed no earlier refund, yet BigCommerce finds part of a shipping, handling or
            # fee amount gone (e.g. the order's status was changed by hand since): plan again, knowing
            # what each address and fee has left.
            plan, quote, refunds = self._plan_and_quote(refund, order, with_history=True)
            with_history = True
        self._check_quote(refund, plan, quote, knew_history=with_history)
        payments = choose_payments(
            quote,
            order,
            self.settings.refund_method_policy,
            paid_out_by_netsuite=refund.paid_out.by_netsuite,
            offline_rule=self.settings.offline_payment_rule,
        )
        return Preview(plan=plan, quote=quote, payments=payments, order=order, refunds_read=refunds)

    # -- steps -----------------------------------------------------------------------------------------
    def _skip_zero_amount(self, refund: NetSuiteRefund, state: RefundState | None) -> SyncResult | None:
        """A zero refund (e.g. a credit memo that only moves a balance) has nothing for BigCommerce: it is
        recorded SKIPPED before any BigCommerce call, and is neither dead-lettered nor alarmed on. Only a
        refund with no create outstanding: otherwise the usual path looks for that create first."""
        if refund.total != 0:
            return None
        skippable = can_transition(Transition.SKIP, state.status if state else None, SyncStatus.SKIPPED)
        if state is not None and (not skippable or state.open_attempts):
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
    ) -> tuple[RefundPlan, RefundQuote, tuple[CreatedRefund, ...] | None]:
        refunded, history = None, None
        if with_history:
            history = tuple(self.bigcommerce.list_order_refunds(order.id))
            refunded = refunded_so_far(history)
        plan = plan_refund(refund, order, self.rules, refunded)
        return plan, self.bigcommerce.quote(order.id, plan.items), history

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

    # -- the create, and what its answer settles ----------------------------------------------------------
    def _create(
        self,
        refund: NetSuiteRefund,
        state: RefundState | None,
        preview: Preview,
        seconds_left: Callable[[], float],
    ) -> SyncResult:
        order_id, plan, payments = preview.order.id, preview.plan, preview.payments
        self._check_time(seconds_left)
        refunds_read = preview.refunds_read
        if refunds_read is None and preview.order.shows_refunds:
            # The order has refunds already: which ones, so that a lost answer can later be told from them
            # by id, not by time (one call, only for orders refunded before).
            refunds_read = tuple(self.bigcommerce.list_order_refunds(order_id))
        create = CreateAttempt(
            order_id=order_id,
            items=sent_items(plan.items),
            payments=tuple(PaymentRecord(**payment.model_dump()) for payment in payments),
            prepared_at=self.clock(),
            baseline=order_baseline(preview.order, refunds_read),
        )
        submitting = self.ledger.submitting(
            state,
            refund,
            items=plan.descriptions,
            quoted=preview.refund_total,
            payments=payments,
            create=create,
        )
        sending = _Sending(self, submitting, seconds_left)
        try:
            created = self.bigcommerce.create_refund(
                order_id, plan.items, payments, before_send=sending.before_send
            )
        except UncertainRefundCreate:
            # Settle it now if BigCommerce already shows the refund; otherwise a later delivery will.
            verdict = self._reconcile(refund, sending.state)
            if verdict.refund is not None:
                return self._recovered(refund, sending.state, verdict, order_id)
            raise
        except BigCommerceError as error:
            if error.transient:
                raise
            # A definitive refusal (422, 401/403, 404): BigCommerce made nothing.
            raise RefundProblem(
                classify_rejection(error),
                f"BigCommerce: {error.message}",
                transition=Transition.FINISH,
                settle_attempts=True,
            ) from error
        return self._finish(refund, sending.state, created)

    def _check_time(self, seconds_left: Callable[[], float]) -> None:
        needed = self.settings.bigcommerce_timeout_seconds + STATE_WRITE_SECONDS
        if seconds_left() < needed:
            raise OutOfTime(
                f"{seconds_left():.0f} s left in the invocation; a create and its state write "
                f"need {needed:.0f} s"
            )

    def _finish(self, refund: NetSuiteRefund, state: RefundState, created: CreatedRefund) -> SyncResult:
        # The create's own answer is the record: a second read now would learn nothing new, since
        # gateways decline asynchronously. The payout check confirms each refund later, in bulk.
        if created.declined_payments:
            reason = Reason.GATEWAY_DECLINED if created.fully_declined else Reason.PARTLY_DECLINED
            raise RefundProblem(
                reason,
                f"BigCommerce refund {created.id} was declined - {declined_text(created)}",
                transition=Transition.FINISH,
                found=created,
                settle_attempts=True,
            )
        note = f"BigCommerce refund {created.id}: {created.paid} {refund.currency}"
        synced = self._record_created(refund, state, created, note)
        return self._synced(refund, synced, SyncOutcome.SYNCED)

    def _record_created(
        self, refund: NetSuiteRefund, state: RefundState, created: CreatedRefund, note: str
    ) -> RefundState:
        """Record the create's own answer. If the item changed meanwhile (another delivery of the refund
        stamped or noted it), the answer in hand is still the truth: read again and record it over that,
        never drop it for a reconcile to find later."""
        for attempt in Retrying(
            retry=retry_if_exception_type(StateConflict), stop=stop_after_attempt(3), reraise=True
        ):
            with attempt:
                current = state if attempt.retry_state.attempt_number == 1 else self.ledger.current(refund.id)
                assert current is not None
                if current.holds_bigcommerce_refund:  # recorded meanwhile (synced, or held over it)
                    if current.bigcommerce_refund_id != created.id:
                        logger.error(
                            "Two BigCommerce refunds for one NetSuite refund",
                            extra={
                                "netsuite_id": refund.id,
                                "recorded": current.bigcommerce_refund_id,
                                "created": created.id,
                            },
                        )
                    return current
                transition = (
                    Transition.FINISH if current.status is SyncStatus.SUBMITTING else Transition.RECONCILE
                )
                return self.ledger.synced(
                    current,
                    refund,
                    created=created,
                    transition=transition,
                    found_by=FoundBy.CREATE_ANSWER,
                    note=note,
                )
        raise AssertionError("unreachable")  # pragma: no cover - Retrying re-raises the last conflict

    def _synced(self, refund: NetSuiteRefund, synced: RefundState, outcome: SyncOutcome) -> SyncResult:
        self._count_synced(refund, synced)
        if self.write_back is not None:
            synced = self._write_back(refund, synced)
        return SyncResult(outcome, synced)

    # -- creates whose outcome is unknown ---------------------------------------------------------------
    def _reconcile(self, refund: NetSuiteRefund, state: RefundState) -> Reconciliation:
        """Read every order a create was sent to, and weigh the evidence."""
        attempts = state.open_attempts
        refunds_by_order: dict[int, list[CreatedRefund]] = {}
        for order_id in sorted({attempt.order_id for attempt in attempts if attempt.sends}):
            try:
                refunds_by_order[order_id] = self.bigcommerce.list_order_refunds(order_id)
            except BigCommerceError as error:
                if error.status != 404:
                    raise
                refunds_by_order[order_id] = []  # no such order (any more): nothing can have landed on it
        listed = {r.id: r for refunds in refunds_by_order.values() for r in refunds}
        claims = self.ledger.claimants(listed)
        claimed = {refund_id for refund_id, netsuite_id in claims.items() if netsuite_id != refund.id}
        # Whether this store's read-backs keep markers, as the payout check last saw on refunds recorded
        # from BigCommerce's own answers.
        echoed = self.ledger.markers_echoed()
        return reconcile(
            attempts,
            Evidence(
                refunds_by_order=refunds_by_order,
                marker=refund_marker(refund),
                now=self.clock(),
                grace=timedelta(seconds=self.settings.uncertain_create_grace_seconds),
                clock_skew=timedelta(seconds=self.settings.bigcommerce_clock_skew_seconds),
                set_aside=frozenset(claimed | set(state.superseded_refund_ids)),
                markers_echoed=echoed,
            ),
        )

    def _settle_earlier_creates(
        self, refund: NetSuiteRefund, state: RefundState, order_id: int
    ) -> SyncResult | tuple[RefundState, BigCommerceOrder]:
        """Before anything is created again: what became of the earlier creates. Returns the outcome when
        one of them landed, or, when none did (proven), the state to create from and the order as read."""
        verdict = self._reconcile(refund, state)
        logger.info(
            "Reconciled an earlier create",
            extra={"netsuite_id": refund.id, "verdict": verdict.verdict.value, "detail": verdict.detail},
        )
        if verdict.refund is not None:
            return self._recovered(refund, state, verdict, order_id)
        if verdict.verdict is Verdict.TOO_EARLY:
            raise TransientFailure(verdict.detail)
        elsewhere = sorted({a.order_id for a in state.open_attempts if a.sends and a.order_id != order_id})
        if verdict.verdict is Verdict.UNCERTAIN:
            moved = (
                f"NetSuite now names order {order_id}, not {', '.join(map(str, elsewhere))}; "
                if elsewhere
                else ""
            )
            raise RefundProblem(
                Reason.ORDER_CHANGED_AFTER_SUBMIT if elsewhere else Reason.CREATE_UNCERTAIN,
                f"{moved}{verdict.detail}: " + "; ".join(c.describe() for c in verdict.candidates),
                transition=Transition.RECONCILE,
                candidates=[candidate.refund.id for candidate in verdict.candidates],
            )
        if elsewhere:
            raise RefundProblem(
                Reason.ORDER_CHANGED_AFTER_SUBMIT,
                f"NetSuite now names order {order_id}; a create was sent to order "
                f"{', '.join(map(str, elsewhere))} before, and {verdict.detail}",
                transition=Transition.RECONCILE,
            )
        # The refund lists show nothing new; the order itself must not either (lists may lag without
        # any bound BigCommerce documents, the order's refunded units and status are its own record).
        order = self.bigcommerce.get_order(order_id)
        for attempt in state.open_attempts:
            news = shows_something_new(attempt, order) if attempt.sends else None
            if news:
                raise RefundProblem(
                    Reason.CREATE_UNCERTAIN,
                    f"the order's refunds show nothing of it, but {news}",
                    transition=Transition.RECONCILE,
                )
        return self.ledger.proven_absent(state, refund, verdict.detail), order

    def _recovered(
        self, refund: NetSuiteRefund, state: RefundState, verdict: Reconciliation, order_id: int
    ) -> SyncResult:
        """An earlier create is found at BigCommerce: record it, never create it again."""
        found = verdict.refund
        assert found is not None
        if verdict.order_id != order_id:
            raise RefundProblem(
                Reason.ORDER_CHANGED_AFTER_SUBMIT,
                f"NetSuite now names order {order_id}, but {verdict.detail}",
                transition=Transition.RECONCILE,
                found=found,
                found_by=FoundBy(verdict.how) if verdict.how else FoundBy.MARKER,
            )
        if verdict.verdict is not Verdict.FOUND:
            reason = (
                Reason.GATEWAY_DECLINED if verdict.verdict is Verdict.DECLINED else Reason.PARTLY_DECLINED
            )
            raise RefundProblem(
                reason,
                f"{verdict.detail} - {declined_text(found)}",
                transition=Transition.RECONCILE,
                found=found,
                found_by=FoundBy(verdict.how) if verdict.how else FoundBy.MARKER,
            )
        refunded = found.paid
        difference = refunded - to_cents(refund.total)
        if abs(difference) > refund_tolerance(found, self.settings.quote_tolerance_per_line):
            raise RefundProblem(
                Reason.CHANGED_AFTER_SYNC,
                f"{verdict.detail}, for {refunded} {refund.currency}; NetSuite now says "
                f"{to_cents(refund.total)} (difference {difference})",
                transition=Transition.RECONCILE,
                found=found,
                found_by=FoundBy(verdict.how) if verdict.how else FoundBy.MARKER,
            )
        note = (
            f"BigCommerce refund {found.id}: {found.paid} {refund.currency} "
            f"(found at BigCommerce by {verdict.how} after an unanswered create; not created again)"
        )
        synced = self.ledger.synced(
            state,
            refund,
            created=found,
            transition=Transition.RECONCILE,
            found_by=FoundBy(verdict.how),
            note=note,
        )
        return self._synced(refund, synced, SyncOutcome.RECOVERED)

    # -- refunds a BigCommerce refund was already made for ---------------------------------------------
    def _changed_after_sync(self, refund: NetSuiteRefund, state: RefundState) -> RefundProblem:
        return RefundProblem(
            Reason.CHANGED_AFTER_SYNC,
            f"NetSuite now says {to_cents(refund.total)} {refund.currency} on order "
            f"{refund.bigcommerce_order_id or '-'}; BigCommerce refund {state.bigcommerce_refund_id} "
            f"gave back {state.refunded_amount} {state.currency} on order "
            f"{state.bigcommerce_order_id or '-'}. Nothing more was refunded.",
            transition=Transition.CHANGED_AFTER_SYNC,
        )

    def _standing(self, refund: NetSuiteRefund, state: RefundState) -> RefundProblem:
        """A BigCommerce refund stands for this NetSuite refund without settling it (declined, partly
        declined, changed since): nothing is created; the problem stands and is dead-lettered again."""
        reason = Reason.__members__.get(state.reason_code or "", Reason.CHANGED_AFTER_SYNC)
        return RefundProblem(
            reason,
            state.reason_detail or reason.meaning,
            standing=True,
        )

    def _write_back(self, refund: NetSuiteRefund, state: RefundState) -> RefundState:
        assert self.write_back is not None
        try:
            # A note for people, never worth the time the record of it needs afterwards.
            def seconds_left() -> float:
                return self._seconds_left() - STATE_WRITE_SECONDS

            result = self.write_back(refund, state, seconds_left) or (
                f"ok at {self.clock().isoformat(timespec='seconds')}"
            )
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
        if problem.standing:
            return  # recorded already, counted when it was
        count_problem(problem.reason)
        current = self.ledger.current(refund.id)
        transition = problem.transition or Transition.PROBLEM
        target = SyncStatus(problem.reason.outcome.value)
        if not can_transition(transition, current.status if current else None, target):
            # The item moved on meanwhile (another delivery of the refund synced it, or started a create):
            # this delivery's finding is out of date; the next one decides afresh.
            now = current.status.value if current else "-"
            raise TransientFailure(f"{problem.reason.name} not recorded: the refund is {now} by now")
        try:
            recorded = self.ledger.problem(
                current, refund, problem.reason, problem.detail, transition=transition, **problem.facts
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
        source = current.status if current else None
        if current is not None and delivery_of(refund, current) is Delivery.STALE:
            return  # an older version of the refund than the item holds: it must not write over it
        try:
            if not final_attempt:
                if can_transition(Transition.INTERRUPT, source, interrupted_status(current)):
                    self.ledger.interrupted(current, refund, str(error))
                return
            # The queue gives up after this delivery and dead-letters the message: say why.
            if current is not None and current.open_attempts:
                # Whether the create landed could not be settled: a person decides (a redrive looks again).
                recorded = self.ledger.problem(
                    current,
                    refund,
                    Reason.CREATE_UNCERTAIN,
                    f"whether the create landed could not be looked up before the retries ran out: {error}",
                    transition=Transition.RECONCILE,
                )
            elif can_transition(Transition.PROBLEM, source, SyncStatus.FAILED):
                recorded = self.ledger.problem(current, refund, Reason.RETRIES_EXHAUSTED, str(error))
            else:
                return  # synced, skipped or resolved meanwhile: nothing to add
            count(Metric.RETRIES_EXHAUSTED)
            self._note_in_netsuite(refund, recorded)
        except StateConflict:
            logger.warning(
                "State changed while recording a transient error", extra={"netsuite_id": refund.id}
            )

    def _count_synced(self, refund: NetSuiteRefund, state: RefundState) -> None:
        count(Metric.REFUNDS_SYNCED)
        if state.refunded_amount is not None:
            # CloudWatch metric values are doubles; the money itself stays Decimal everywhere else.
            count_by(Metric.AMOUNT_REFUNDED, "currency", refund.currency, float(state.refunded_amount))


class _Sending:
    """Just before each create request goes out: time enough for it and its answer's record? Then
    stamp the send, so a later reconcile measures its grace period from the last actual send."""

    def __init__(self, engine: RefundEngine, state: RefundState, seconds_left: Callable[[], float]) -> None:
        self.engine = engine
        self.state = state
        self.seconds_left = seconds_left

    def before_send(self) -> None:
        self.engine._check_time(self.seconds_left)
        self.state = self.engine.ledger.send_stamped(self.state)


def sent_items(items: tuple[RefundItem, ...]) -> tuple[SentItem, ...]:
    return tuple(
        SentItem(
            item_type=item.item_type.value,
            item_id=item.item_id,
            quantity=item.quantity if item.item_type.quantity_bound else None,
            amount=None if item.item_type.quantity_bound else to_cents(item.amount or ZERO),
        )
        for item in items
    )


def order_baseline(order: BigCommerceOrder, refunds_read: tuple[CreatedRefund, ...] | None) -> OrderBaseline:
    """What the order showed before the create: read from the order (and its refunds when they were read
    anyway), at no extra call."""
    return OrderBaseline(
        had_refunds=order.shows_refunds or bool(refunds_read),
        refund_ids=tuple(refund.id for refund in refunds_read) if refunds_read is not None else None,
        refunded_lines=tuple(
            LineRefunded(line_id=line.id, quantity=line.quantity_refunded)
            for line in order.lines
            if line.quantity_refunded
        ),
    )
