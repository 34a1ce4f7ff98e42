"""The simulated BigCommerce store: its orders, the refunds made against them, and the rehearsal controls.

Tests and the demo may drive it directly (seed, inspect, inject faults) or through the HTTP control
API; both end up here. All state is guarded by one lock; refund creation additionally takes a
per-order lock without waiting, because BigCommerce refuses concurrent refunds on one order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from refund_sync_sandbox.bigcommerce.errors import (
    Conflict,
    GatewayTimeout,
    NotFound,
    StoreError,
    Unprocessable,
)
from refund_sync_sandbox.bigcommerce.faults import (
    DEFAULT_QUOTA,
    DEFAULT_WINDOW_MS,
    FaultPlan,
    RateLimiter,
    StallGate,
)
from refund_sync_sandbox.bigcommerce.ledger import OrderLedger
from refund_sync_sandbox.bigcommerce.models import (
    PARTIALLY_REFUNDED,
    REFUNDED,
    STORE_CREDIT,
    CallRecord,
    CreateRefundRequest,
    DropRule,
    FaultRule,
    LateCommitRule,
    Order,
    QuoteRequest,
    RefundedPayment,
    RefundItemRequest,
    RefundRecord,
    StallRule,
    TenderUpdate,
)
from refund_sync_sandbox.bigcommerce.money import cents, has_at_most_two_places
from refund_sync_sandbox.bigcommerce.readback import ConcurrentRefunds, ReadBack
from refund_sync_sandbox.bigcommerce.readings import (
    DEFAULT_READINGS,
    AdjustmentPlace,
    QuoteTotal,
    RefundTotal,
    StoreReadings,
    TaxPricing,
)
from refund_sync_sandbox.bigcommerce.refunds import (
    EXCEEDS_REMAINING,
    PaymentOption,
    PricedRefund,
    match_payments,
    price_items,
    refund_methods,
)

REFUND_IN_PROGRESS = "A refund is already being processed for this order"
_API_USER_ID = 0  # refunds made with an API token carry no control-panel user

_Body = TypeVar("_Body", bound=BaseModel)


@dataclass(frozen=True)
class RefundQuote:
    order_id: int
    priced: PricedRefund
    refund_methods: list[list[PaymentOption]]
    prices_include_tax: bool = True
    readings: StoreReadings = DEFAULT_READINGS

    @property
    def tax_inclusive(self) -> bool:
        return self.prices_include_tax or self.readings.quote_total is QuoteTotal.ALWAYS_INCLUSIVE

    @property
    def total_refund_amount(self) -> Decimal:
        """What the quote calls its total, per the readings (see readings.py): the methods always pay
        `priced.total_amount`, what is refundable with tax."""
        refundable = self.priced.total_amount
        if self.readings.adjustment is AdjustmentPlace.ON_TOP:
            refundable -= self.priced.adjustment
        if not self.tax_inclusive and self.readings.quote_total is QuoteTotal.EXCLUDES_TAX:
            refundable -= self.priced.total_tax
        return refundable

    def to_json(self) -> dict[str, Any]:
        """RefundQuote_Full."""
        return {
            "order_id": self.order_id,
            "total_refund_amount": self.total_refund_amount,
            "total_refund_tax_amount": self.priced.total_tax,
            "order_level_refund_amount": self.priced.order_level_amount,
            "rounding": self.priced.rounding,
            "adjustment": self.priced.adjustment,
            self.readings.tax_flag.value: self.tax_inclusive,
            "refund_methods": [[option.to_json() for option in method] for method in self.refund_methods],
        }


@dataclass(frozen=True)
class _LateCommit:
    due: float
    order_id: int
    request: CreateRefundRequest


@dataclass(frozen=True)
class OrderSnapshot:
    """An order with its refund state, read consistently under the store's lock."""

    order: Order
    ledger: OrderLedger


class BigCommerceStore:
    def __init__(
        self,
        orders: Iterable[Order] = (),
        *,
        clock: Callable[[], float] = time.time,
        quota: int = DEFAULT_QUOTA,
        window_ms: int = DEFAULT_WINDOW_MS,
        readings: StoreReadings = DEFAULT_READINGS,
        read_back: ReadBack | None = None,
    ) -> None:
        self.clock = clock
        self.readings = readings
        self.read_back = read_back or ReadBack()
        self._late_commits: list[_LateCommit] = []
        self._default_quota = quota
        self._default_window_ms = window_ms
        self._lock = threading.RLock()
        self._orders: dict[int, Order] = {}
        self._refunds: list[RefundRecord] = []
        self._order_locks: dict[int, threading.Lock] = {}
        self._status_before_refunds: dict[int, int] = {}
        self._next_refund_id = 1
        self._next_payment_id = 1
        self._next_transaction_id = 1
        self._calls: list[CallRecord] = []
        self.rate_limiter = RateLimiter(clock, quota, window_ms)
        self.faults = FaultPlan()
        self._stalls = StallGate()
        self.seed(orders)

    # ---- seeding and inspection -------------------------------------------------------------

    def reset(self) -> None:
        """Back to an empty store: no orders, refunds, calls or faults; the default quota."""
        self.release_stalls()
        with self._lock:
            self._orders.clear()
            self._refunds.clear()
            self._late_commits.clear()
            self._status_before_refunds.clear()
            self._next_refund_id = self._next_payment_id = self._next_transaction_id = 1
            self._calls.clear()
        self.faults.clear()
        self.rate_limiter.clear_forced()
        self.rate_limiter.configure(quota=self._default_quota, window_ms=self._default_window_ms)

    def use_readings(self, readings: StoreReadings) -> None:
        """The store's tax setting (for orders seeded from now on without their own) and its readings of
        what BigCommerce's documents leave open (see readings.py)."""
        with self._lock:
            self.readings = readings

    def seed(self, orders: Iterable[Order], *, replace: bool = False) -> None:
        """Add orders (a re-seeded order id starts afresh, without refunds); `replace` drops all others.
        An order seeded without its own pricing basis is priced as the store's setting says."""
        copies = [order.model_copy(deep=True) for order in orders]
        for order in copies:
            if order.tax_inclusive_pricing is None:
                order.tax_inclusive_pricing = self.readings.pricing is TaxPricing.INCLUSIVE
        with self._lock:
            if replace:
                self._orders.clear()
                self._refunds.clear()
                self._status_before_refunds.clear()
            for order in copies:
                self._orders[order.id] = order
                self._refunds = [refund for refund in self._refunds if refund.order_id != order.id]
                self._status_before_refunds.pop(order.id, None)

    def orders(self) -> list[Order]:
        with self._lock:
            return [order.model_copy(deep=True) for order in self._orders.values()]

    def snapshot(self, order_id: int) -> OrderSnapshot:
        with self._lock:
            self._commit_late_creates()
            order = self._require_order(order_id).model_copy(deep=True)
            return OrderSnapshot(order, OrderLedger(order, self._refunds))

    def set_tender(
        self,
        order_id: int,
        provider_id: str,
        *,
        settled: bool | None = None,
        declines_refunds: bool | None = None,
        decline_message: str | None = None,
    ) -> None:
        """Mark a tender settled or not, or make its gateway decline refunds."""
        with self._lock:
            order = self._require_order(order_id)
            tender = order.tender(provider_id)
            if tender is None:
                raise NotFound(f"Order {order_id} has no tender {provider_id!r}.")
            if settled is not None:
                tender.settled = settled
            if declines_refunds is not None:
                tender.declines_refunds = declines_refunds
            if decline_message is not None:
                tender.decline_message = decline_message

    def update_tender(self, order_id: int, provider_id: str, update: TenderUpdate) -> None:
        self.set_tender(order_id, provider_id, **update.model_dump())

    # ---- the v2 orders API ------------------------------------------------------------------

    def update_order_status(self, order_id: int, status_id: int) -> OrderSnapshot:
        with self._lock:
            order = self._require_order(order_id)
            order.status_id = status_id
            # A status set by hand is the merchant's decision; refunds change it again from here on.
            self._status_before_refunds.pop(order_id, None)
            return self.snapshot(order_id)

    # ---- the v3 refunds API -----------------------------------------------------------------

    def quote_refund(self, order_id: int, body: object) -> RefundQuote:
        request = _parse(QuoteRequest, body)
        with self._lock:
            self._commit_late_creates()
            order = self._require_order(order_id)
            if self._refusing_concurrent and (
                self._order_lock(order_id).locked() or self._committing_late(order_id)
            ):
                raise Conflict(REFUND_IN_PROGRESS)
            items = _items_or_refuse(request)
            ledger = OrderLedger(order, self._refunds)
            readings = self.readings
            priced = price_items(order, ledger, items, cap=True, readings=readings)
            methods = refund_methods(order, ledger, priced.total_amount, readings)
            return RefundQuote(order_id, priced, methods, order.prices_include_tax, readings)

    def create_refund(self, order_id: int, body: object) -> RefundRecord:
        request = _parse(CreateRefundRequest, body)
        with self._lock:
            self._commit_late_creates()
            self._require_order(order_id)
            order_lock = self._order_lock(order_id) if self._refusing_concurrent else threading.Lock()
            if self._refusing_concurrent and self._committing_late(order_id):
                raise Conflict(REFUND_IN_PROGRESS)
        if not order_lock.acquire(blocking=False):
            raise Conflict(REFUND_IN_PROGRESS)
        try:
            late = self.faults.take_late_commit(order_id)
            if late is not None:
                # Accepted, not yet made: the answer is held past the client's timeout, and the refund is
                # made `commit_after` seconds later (a 504 answers, if anyone is still listening).
                with self._lock:
                    self._late_commits.append(
                        _LateCommit(self.clock() + late.commit_after, order_id, request)
                    )
                self._stalls.hold(late.seconds)
                raise GatewayTimeout("The refund is still being processed.")
            with self._lock:
                record = self._commit_refund(self._require_order(order_id), request)
            stall = self.faults.take_stall(order_id)
            if stall is not None:
                # Committed, but the answer is late: the client sees a timeout (still holding the lock,
                # as BigCommerce is still "processing" the refund).
                self._stalls.hold(stall.seconds)
            return record
        finally:
            order_lock.release()

    def get_refund(self, refund_id: int) -> RefundRecord:
        with self._lock:
            self._commit_late_creates()
            refund = next((refund for refund in self._refunds if refund.id == refund_id), None)
            if refund is None:
                raise NotFound(f"Refund {refund_id} not found.")
            return refund

    def list_refunds(
        self,
        *,
        order_ids: Sequence[int] | None = None,
        refund_ids: Sequence[int] | None = None,
        created_min: datetime | None = None,
        created_max: datetime | None = None,
        transaction_id: str | None = None,
    ) -> list[RefundRecord]:
        """Every refund the store holds, in ascending id order, filtered like GET
        /v3/orders/payment_actions/refunds (what BigCommerce has, whether or not a list shows it yet)."""
        with self._lock:
            self._commit_late_creates()
            refunds = list(self._refunds)
        return [
            refund
            for refund in refunds
            if (order_ids is None or refund.order_id in order_ids)
            and (refund_ids is None or refund.id in refund_ids)
            and (created_min is None or refund.created >= created_min)
            and (created_max is None or refund.created <= created_max)
            and (transaction_id is None or any(p.transaction_id == transaction_id for p in refund.payments))
        ]

    def refunds_for_order(self, order_id: int) -> list[RefundRecord]:
        with self._lock:
            self._require_order(order_id)
        return self.list_refunds(order_ids=[order_id])

    def as_listed(self, refunds: list[RefundRecord]) -> list[RefundRecord]:
        """What the refund lists of the API show of `refunds`: a lagging list (ReadBack.list_lag_seconds)
        leaves out those younger than the lag."""
        if not self.read_back.list_lag_seconds:
            return refunds
        shown_until = self.now() - timedelta(seconds=self.read_back.list_lag_seconds)
        return [refund for refund in refunds if refund.created <= shown_until]

    # ---- rehearsal controls -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        count: int = 1,
        *,
        after_commit: bool = False,
        message: str | None = None,
    ) -> None:
        """Answer the next `count` requests matching `method` and `path` with `status`.

        `path` is an fnmatch pattern on the path after /stores/{hash},
        e.g. /v3/orders/*/payment_actions/refunds.
        """
        self.faults.add(
            FaultRule.model_validate(
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "count": count,
                    "after_commit": after_commit,
                    "message": message,
                }
            )
        )

    def drop_connection_next(
        self, method: str, path: str, count: int = 1, *, after_commit: bool = True
    ) -> None:
        """Close the connection of the next `count` requests matching `method` and `path` unanswered.

        With `after_commit` (the default) the request is processed first: a refund create commits, yet
        the client only sees the connection drop, and cannot tell whether the refund was made.
        """
        self.faults.add_drop(DropRule(method=method, path=path, count=count, after_commit=after_commit))

    def commit_then_stall(self, seconds: float, *, order_id: int | None = None) -> None:
        """The next refund create (on `order_id`, or any order) commits, then holds its response."""
        self.faults.add_stall(StallRule(seconds=seconds, order_id=order_id))

    def commit_late(self, seconds: float, commit_after: float, *, order_id: int | None = None) -> None:
        """The next refund create is accepted but answered only after `seconds` (the client gives up),
        and made `commit_after` seconds after it arrived (see readback.py)."""
        self.faults.add_late_commit(
            LateCommitRule(seconds=seconds, commit_after=commit_after, order_id=order_id)
        )

    def set_read_back(self, read_back: ReadBack) -> None:
        self.read_back = read_back

    def wait_until_stalled(self, timeout: float = 5.0) -> bool:
        return self._stalls.wait_until_stalled(timeout)

    def release_stalls(self) -> None:
        self._stalls.release_all()

    def force_rate_limit(self, count: int = 1) -> None:
        self.rate_limiter.force(count)

    def set_rate_limit(self, *, quota: int | None = None, window_ms: int | None = None) -> None:
        self.rate_limiter.configure(quota=quota, window_ms=window_ms)

    def clear_faults(self) -> None:
        self.faults.clear()
        self.rate_limiter.clear_forced()
        self.release_stalls()

    def record_call(self, method: str, path: str, query: str, status: int, body: Any = None) -> None:
        record = CallRecord(method, path, query, status, self.now(), body)
        with self._lock:
            self._calls.append(record)

    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # ---- internals --------------------------------------------------------------------------

    def _require_order(self, order_id: int) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound(f"Order {order_id} not found.")
        return order

    @property
    def _refusing_concurrent(self) -> bool:
        """Whether a refund of an order that has one in progress is refused (readback.py)."""
        return self.read_back.concurrent_refunds is ConcurrentRefunds.REFUSE

    def _committing_late(self, order_id: int) -> bool:
        return any(late.order_id == order_id for late in self._late_commits)

    def _commit_late_creates(self) -> None:
        """Make the late creates whose time has come (under the store's lock); one that no longer fits the
        order fails silently, as an asynchronous failure nobody was waiting for."""
        now = self.clock()
        due = [late for late in self._late_commits if late.due <= now]
        self._late_commits = [late for late in self._late_commits if late.due > now]
        for late in sorted(due, key=lambda late: late.due):
            with suppress(StoreError):
                self._commit_refund(self._require_order(late.order_id), late.request, at=late.due)

    def _order_lock(self, order_id: int) -> threading.Lock:
        return self._order_locks.setdefault(order_id, threading.Lock())

    def _commit_refund(
        self, order: Order, request: CreateRefundRequest, *, at: float | None = None
    ) -> RefundRecord:
        items = _items_or_refuse(request)
        ledger = OrderLedger(order, self._refunds)
        priced = price_items(order, ledger, items, cap=False, readings=self.readings)
        amount, tax = priced.total_amount, priced.total_tax
        override = request.merchant_calculated_override
        if override is not None:
            if not has_at_most_two_places(override.total_amount):
                raise Unprocessable.at(
                    "merchant_calculated_override.total_amount",
                    "total_amount must have at most 2 decimal places.",
                )
            if override.total_amount > ledger.order_remaining:
                raise Unprocessable.at("merchant_calculated_override.total_amount", EXCEEDS_REMAINING)
            amount, tax = cents(override.total_amount), cents(override.total_tax)
        if amount <= 0:
            raise Unprocessable.at("items", "The refund amount must be greater than zero.")
        methods = refund_methods(order, ledger, amount, self.readings)
        pairs = match_payments(order, methods, amount, request.payments or [])
        payments = tuple(self._payment(order, payment.offline, option) for payment, option in pairs)
        record = RefundRecord(
            id=self._next_refund_id,
            order_id=order.id,
            user_id=_API_USER_ID,
            created=datetime.fromtimestamp(self.clock() if at is None else at, UTC).replace(microsecond=0),
            items=tuple(item.record() for item in priced.items),
            payments=payments,
            total_amount=amount,
            total_tax=tax,
            uses_merchant_override_values=override is not None,
            shown_total_amount=self._shown_total(order, amount, tax),
        )
        self._next_refund_id += 1
        self._refunds.append(record)
        self._settle_status(order)
        return record

    def _shown_total(self, order: Order, amount: Decimal, tax: Decimal) -> Decimal | None:
        """The refund's `total_amount` as the API shows it, where the RefundTotal reading makes it differ
        from what the payments paid: before tax, as the quote's total is on this order."""
        quote_before_tax = (
            not order.prices_include_tax
            and self.readings.quote_total is QuoteTotal.EXCLUDES_TAX
            and self.readings.refund_total is RefundTotal.LIKE_QUOTE
        )
        return amount - tax if quote_before_tax else None

    def _payment(self, order: Order, offline: bool, option: PaymentOption) -> RefundedPayment:
        tender = order.tender(option.tender_provider_id) if option.tender_provider_id else None
        # The gateway answers later: the create succeeds, the decline shows when the refund is read back.
        declined = (
            tender is not None
            and tender.declines_refunds
            and not offline
            and tender.provider_id != STORE_CREDIT
        )
        payment = RefundedPayment(
            id=self._next_payment_id,
            provider_id=option.provider_id,
            amount=option.amount,  # equal to the payment asked for, to the cent
            offline=offline,
            declined=declined,
            declined_message=tender.decline_message if declined and tender is not None else "",
            transaction_id=str(self._next_transaction_id),
            tender_provider_id=option.tender_provider_id,
        )
        self._next_payment_id += 1
        self._next_transaction_id += 1
        return payment

    def _settle_status(self, order: Order) -> None:
        """BigCommerce moves the order to Refunded or Partially Refunded by itself, by amount."""
        ledger = OrderLedger(order, self._refunds)
        refund_statuses = (REFUNDED, PARTIALLY_REFUNDED)
        if ledger.has_refunds:
            if order.status_id not in refund_statuses:
                self._status_before_refunds[order.id] = order.status_id
            order.status_id = REFUNDED if ledger.fully_refunded else PARTIALLY_REFUNDED
        elif order.status_id in refund_statuses and order.id in self._status_before_refunds:
            order.status_id = self._status_before_refunds.pop(order.id)


def _items_or_refuse(request: QuoteRequest) -> list[RefundItemRequest]:
    tax_adjustment = request.tax_adjustment_amount
    if tax_adjustment is not None and (request.items is None or tax_adjustment != 0):
        # The sandbox's orders are taxed consistently, so BigCommerce's calculated overcharge is 0.00.
        raise Unprocessable.at(
            "tax_adjustment_amount",
            "tax_adjustment_amount must equal the calculated overcharged tax, which is 0.00 for this order.",
        )
    if request.items is None:
        raise Unprocessable.at("items", "items is required.")
    return list(request.items)


def _parse(model: type[_Body], body: object) -> _Body:
    if not isinstance(body, dict):
        raise Unprocessable("The request body must be a JSON object.", {"body": "must be a JSON object"})
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors = {
            ".".join(str(part) for part in issue["loc"]) or "body": issue["msg"] for issue in error.errors()
        }
        first = next(iter(errors.items()))
        raise Unprocessable(f"{first[0]}: {first[1]}", errors) from error
