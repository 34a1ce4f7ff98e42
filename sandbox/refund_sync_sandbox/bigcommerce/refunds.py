"""Refund arithmetic: pricing the items of a quote or refund, and offering the ways to pay it out.

A quote and a create price items the same way; they differ only in what happens when a request asks
for more than remains: the quote caps the item and reports the difference as a negative `adjustment`,
the create refuses it (422).

Tax: PRODUCT and GIFT_WRAPPING items are priced from the order (their share of what was paid, tax
included, the last units taking whatever is left so no cent drifts). SHIPPING, HANDLING and FEE amounts
are read per the store's AmountBasis reading (see readings.py): on a tax-exclusive order, by default,
the amount is before tax and BigCommerce adds the tax on it. ORDER amounts are tax-exempt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from refund_sync_sandbox.bigcommerce.errors import Unprocessable
from refund_sync_sandbox.bigcommerce.ledger import OrderLedger
from refund_sync_sandbox.bigcommerce.models import (
    CUSTOM,
    STORE_CREDIT,
    ItemAdjustment,
    Order,
    PaymentRequest,
    RefundedItem,
    RefundItemRequest,
    provider_name,
)
from refund_sync_sandbox.bigcommerce.money import ZERO, cents, has_at_most_two_places, settle, total
from refund_sync_sandbox.bigcommerce.readings import (
    DEFAULT_READINGS,
    AmountBasis,
    GiftCertificateRefund,
    Rounding,
    SecondGateway,
    StoreReadings,
)

EXCEEDS_REMAINING = "Refund amount exceeds remaining amount"
GUEST_STORE_CREDIT = "Unable to provide store credit for a guest customer."
FOREIGN_CURRENCY_STORE_CREDIT = (
    "Unable to provide store credit for an order placed in a currency other than the store default currency."
)
INVALID_SPLIT_PAYMENT = "The requested refund had invalid split payment"
OFFLINE_PROVIDER_REASON = "This is an offline payment provider."
NOT_SETTLED_REASON = "The payment has not been settled yet, so it can only be refunded offline."
MULTIPLE_ONLINE_REASON = "Multiple online refunds are not available."
GIFT_CERTIFICATE_REASON = "Gift certificates are refunded by issuing a new gift certificate."

_AMOUNT_BOUND = ("SHIPPING", "HANDLING", "FEE", "ORDER")
_QUANTITY_BOUND = ("PRODUCT", "GIFT_WRAPPING")


@dataclass(frozen=True)
class PricedItem:
    request: RefundItemRequest
    consumed: Decimal  # what the item gives up, tax included, before adjustments
    tax: Decimal
    shortfall: Decimal  # how much less than asked was granted (quotes only)
    requested: Decimal  # what was asked for, tax included, priced pro rata (before remainders and caps)

    @property
    def refunded(self) -> Decimal:
        return self.consumed + self.deductions

    @property
    def deductions(self) -> Decimal:
        return sum((adjustment.amount for adjustment in self.request.adjustments), ZERO)

    def record(self) -> RefundedItem:
        request = self.request
        amount_bound = request.item_type in _AMOUNT_BOUND and request.amount is not None
        return RefundedItem(
            item_type=request.item_type,
            item_id=request.item_id,
            quantity=request.quantity if request.item_type in _QUANTITY_BOUND else None,
            reason=request.reason,
            adjustments=tuple(
                ItemAdjustment(cents(adjustment.amount), adjustment.description)
                for adjustment in request.adjustments
            ),
            requested_amount=cents(request.amount) if amount_bound and request.amount is not None else None,
            consumed=self.consumed,
            tax=self.tax,
        )


@dataclass(frozen=True)
class PricedRefund:
    items: tuple[PricedItem, ...]
    total_amount: Decimal  # what is refundable, tax included, in cents: what the methods pay
    total_tax: Decimal
    order_level_amount: Decimal
    adjustment: Decimal  # refundable less what was asked (in cents): negative beyond the remainder
    rounding: Decimal = ZERO  # what rounding the exact total to cents added (Rounding.ON_TOTAL only)


@dataclass(frozen=True)
class PaymentOption:
    provider_id: str
    provider_description: str
    amount: Decimal
    offline: bool
    offline_provider: bool
    offline_reason: str
    tender_provider_id: str | None  # set when the option pays back one of the order's own tenders

    def to_json(self) -> dict[str, Any]:
        return {
            "provider_id": self.provider_id,
            "provider_description": self.provider_description,
            "amount": self.amount,
            "offline": self.offline,
            "offline_provider": self.offline_provider,
            "offline_reason": self.offline_reason,
        }


class _Taken:
    """What earlier items of the same request already took, so two items cannot take the same money."""

    def __init__(self) -> None:
        self.quantity: dict[tuple[str, int], int] = defaultdict(int)
        self.amount: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        self.tax: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)


@dataclass(frozen=True)
class _Pricing:
    """How this store rounds (to the cent per item, or exactly until the total) and reads amounts."""

    order: Order
    readings: StoreReadings

    @property
    def exact(self) -> bool:
        return self.readings.rounding is Rounding.ON_TOTAL

    def round(self, amount: Decimal) -> Decimal:
        return amount if self.exact else cents(amount)

    @property
    def amounts_before_tax(self) -> bool:
        """Whether a SHIPPING, HANDLING or FEE amount is read before tax (and its tax added)."""
        if self.readings.amount_basis is AmountBasis.TAX_INCLUSIVE:
            return False
        if self.readings.amount_basis is AmountBasis.TAX_EXCLUSIVE:
            return True
        return not self.order.prices_include_tax


def price_items(
    order: Order,
    ledger: OrderLedger,
    items: Sequence[RefundItemRequest],
    *,
    cap: bool,
    readings: StoreReadings = DEFAULT_READINGS,
) -> PricedRefund:
    if not items:
        raise Unprocessable.at("items", "At least one item is required.")
    pricing = _Pricing(order, readings)
    taken = _Taken()
    priced: dict[int, PricedItem] = {}
    # ORDER amounts come out of whatever the other items leave of the order's remainder.
    ordering = sorted(range(len(items)), key=lambda index: items[index].item_type == "ORDER")
    for index in ordering:
        item = items[index]
        field = f"items.{index}"
        if item.adjustments and item.item_type != "PRODUCT":
            raise Unprocessable.at(
                f"{field}.adjustments", "Adjustments are only supported for PRODUCT items."
            )
        if item.item_type in _QUANTITY_BOUND:
            priced[index] = _price_units(pricing, ledger, item, field, taken)
        elif item.item_type in _AMOUNT_BOUND:
            granted_so_far = sum((entry.refunded for entry in priced.values()), ZERO)
            priced[index] = _price_amount(
                pricing, ledger, item, field, taken, granted_so_far=granted_so_far, cap=cap
            )
        elif item.item_type == "TAX":
            raise Unprocessable.at(
                f"{field}.item_type", "Item type TAX is not supported; use tax_adjustment_amount instead."
            )
        else:
            raise Unprocessable.at(f"{field}.item_type", f"Unsupported item_type {item.item_type!r}.")

    ordered = tuple(priced[index] for index in range(len(items)))
    exact_total = sum((entry.refunded for entry in ordered), ZERO)
    exact_tax = sum((entry.tax for entry in ordered), ZERO)
    shortfall = sum((entry.shortfall for entry in ordered), ZERO)
    remaining = ledger.order_remaining
    if exact_total > remaining:
        # Possible after ORDER amounts or partial declines: the items still have value, the order less.
        if not cap:
            raise Unprocessable(EXCEEDS_REMAINING, {"items": EXCEEDS_REMAINING})
        exact_tax = exact_tax * remaining / exact_total if exact_total else ZERO
        shortfall += exact_total - remaining
        exact_total = remaining
    refund_total, refund_tax = cents(exact_total), cents(exact_tax)
    order_level = cents(sum((e.refunded for e in ordered if e.request.item_type == "ORDER"), ZERO))
    if not pricing.exact:
        return PricedRefund(ordered, refund_total, refund_tax, order_level, -shortfall)
    # Rounded once, on the total: `rounding` is what that added to the exact value asked for, and
    # `adjustment` the difference between what is refundable and what was asked (positive when the last
    # units take more than their share, negative beyond the remainder).
    requested = sum((entry.requested for entry in ordered), ZERO)
    rounding = cents(requested) - requested
    adjustment = refund_total - cents(requested)
    if refund_total == cents(sum((entry.refunded for entry in ordered), ZERO)):
        # What is recorded must add up to what is refunded: the items' exact values settled to cents.
        consumed = settle(
            [e.consumed for e in ordered], refund_total - sum((e.deductions for e in ordered), ZERO)
        )
        taxes = settle([e.tax for e in ordered], refund_tax)
        ordered = tuple(
            replace(entry, consumed=amount, tax=tax)
            for entry, amount, tax in zip(ordered, consumed, taxes, strict=True)
        )
    return PricedRefund(
        ordered, refund_total, refund_tax, order_level, adjustment, rounding.quantize(Decimal("0.0001"))
    )


def _price_units(
    pricing: _Pricing, ledger: OrderLedger, item: RefundItemRequest, field: str, taken: _Taken
) -> PricedItem:
    order = pricing.order
    line = order.product(item.item_id)
    if line is None:
        raise Unprocessable.at(
            f"{field}.item_id", f"Order product {item.item_id} was not found on order {order.id}."
        )
    wrapping = item.item_type == "GIFT_WRAPPING"
    if wrapping and line.wrapping is None:
        raise Unprocessable.at(f"{field}.item_id", f"Order product {line.id} has no gift wrapping to refund.")
    quantity = item.quantity
    if quantity is None:
        raise Unprocessable.at(f"{field}.quantity", f"quantity is required for {item.item_type} items.")
    if quantity < 1:
        raise Unprocessable.at(f"{field}.quantity", "quantity must be a whole number of at least 1.")
    key = (item.item_type, line.id)
    if wrapping:
        left_units = ledger.remaining_wrapped_quantity(line)
        full_ex, full_tax = line.wrapping_ex_tax, line.wrapping_tax
        left_amount, left_tax = ledger.remaining_wrapping(line)
    else:
        left_units = ledger.remaining_quantity(line)
        full_ex, full_tax = line.paid_ex_tax, line.paid_tax
        left_amount, left_tax = ledger.remaining_line_amount(line), ledger.remaining_line_tax(line)
    remaining_quantity = left_units - taken.quantity[key]
    if quantity > remaining_quantity:
        what = "gift-wrapped quantity" if wrapping else "refundable quantity"
        raise Unprocessable.at(
            f"{field}.quantity",
            f"Quantity {quantity} exceeds the remaining {what} {remaining_quantity} "
            f"of order product {line.id}.",
        )
    remaining_amount = left_amount - taken.amount[key]
    remaining_tax = left_tax - taken.tax[key]
    share = Decimal(quantity) / line.quantity
    if order.prices_include_tax:
        pro_rata = pricing.round((full_ex + full_tax) * share)
    else:
        # Priced before tax and taxed on top: each part rounded on its own.
        pro_rata = pricing.round(full_ex * share) + pricing.round(full_tax * share)
    pro_rata_tax = pricing.round(full_tax * share)
    if quantity == remaining_quantity:
        # The last units take whatever is left, so the line's cents never drift.
        consumed, tax = remaining_amount, remaining_tax
    else:
        consumed, tax = min(pro_rata, remaining_amount), min(pro_rata_tax, remaining_tax)
    for position, adjustment in enumerate(item.adjustments):
        if not has_at_most_two_places(adjustment.amount):
            raise Unprocessable.at(
                f"{field}.adjustments.{position}.amount",
                "Adjustment amounts must have at most 2 decimal places.",
            )
    deduction = -sum((adjustment.amount for adjustment in item.adjustments), ZERO)
    if deduction > consumed:
        raise Unprocessable.at(
            f"{field}.adjustments",
            f"Adjustments of {deduction} exceed the refund amount {cents(consumed)} "
            f"of order product {line.id}.",
        )
    taken.quantity[key] += quantity
    taken.amount[key] += consumed
    taken.tax[key] += tax
    exact_share = (full_ex + full_tax) * share
    return PricedItem(item, consumed, tax, ZERO, exact_share - deduction)


def _price_amount(
    pricing: _Pricing,
    ledger: OrderLedger,
    item: RefundItemRequest,
    field: str,
    taken: _Taken,
    *,
    granted_so_far: Decimal,
    cap: bool,
) -> PricedItem:
    amount = item.amount
    if amount is None:
        raise Unprocessable.at(f"{field}.amount", f"amount is required for {item.item_type} items.")
    if not has_at_most_two_places(amount):
        raise Unprocessable.at(f"{field}.amount", "amount must have at most 2 decimal places.")
    key = (item.item_type, item.item_id)
    full_amount, full_tax, remaining, remaining_tax = _amount_bounds(
        pricing.order, ledger, item, field, granted_so_far
    )
    if item.item_type != "ORDER":  # an ORDER item's bound already counts everything granted before it
        remaining -= taken.amount[key]
        remaining_tax -= taken.tax[key]
    before_tax = pricing.amounts_before_tax and item.item_type != "ORDER"
    if before_tax:
        # The amount is before tax; the tax on it is added, at the rate the order charged on the cost.
        full_ex, remaining_ex = full_amount - full_tax, remaining - remaining_tax
        rate = full_tax / full_ex if full_ex > 0 else ZERO
        granted_ex = amount
        if amount > remaining_ex:
            if not cap:
                raise Unprocessable.at(f"{field}.amount", EXCEEDS_REMAINING)
            granted_ex = max(remaining_ex, ZERO)
        tax = remaining_tax if granted_ex == remaining_ex else pricing.round(granted_ex * rate)
        granted = granted_ex + tax
        asked = amount + pricing.round(amount * rate)
        return _taken_amount(
            taken, key, item, granted=granted, tax=tax, asked=asked, exact=amount * (1 + rate)
        )
    granted = amount
    if amount > remaining:
        if not cap:
            raise Unprocessable.at(f"{field}.amount", EXCEEDS_REMAINING)
        granted = max(remaining, ZERO)
    if granted == remaining:
        tax = remaining_tax
    elif full_amount > 0:
        tax = pricing.round(granted * full_tax / full_amount)
    else:
        tax = ZERO
    return _taken_amount(taken, key, item, granted=granted, tax=tax, asked=amount, exact=amount)


def _taken_amount(
    taken: _Taken,
    key: tuple[str, int],
    item: RefundItemRequest,
    *,
    granted: Decimal,
    tax: Decimal,
    asked: Decimal,
    exact: Decimal,
) -> PricedItem:
    taken.amount[key] += granted
    taken.tax[key] += tax
    return PricedItem(item, granted, tax, max(asked - granted, ZERO), exact)


def _amount_bounds(
    order: Order, ledger: OrderLedger, item: RefundItemRequest, field: str, granted_so_far: Decimal
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(full amount, full tax, remaining amount, remaining tax) of an amount-bound item, tax included."""
    if item.item_type == "ORDER":
        if item.item_id != order.id:
            raise Unprocessable.at(
                f"{field}.item_id", f"The item_id of an ORDER item must be the order id ({order.id})."
            )
        # A custom amount: tax is not recalculated, and it is bounded by the order's remainder.
        return order.total_inc_tax, ZERO, ledger.order_remaining - granted_so_far, ZERO
    if item.item_type == "FEE":
        fee = order.fee(item.item_id)
        if fee is None:
            raise Unprocessable.at(
                f"{field}.item_id", f"Fee {item.item_id} was not found on order {order.id}."
            )
        return fee.cost_inc_tax, fee.cost_tax, *ledger.remaining_fee(fee)
    address = order.shipping_address(item.item_id)
    if address is None:
        raise Unprocessable.at(
            f"{field}.item_id", f"Shipping address {item.item_id} was not found on order {order.id}."
        )
    if item.item_type == "SHIPPING":
        return address.cost_inc_tax, address.cost_tax, *ledger.remaining_shipping(address)
    return address.handling_cost_inc_tax, address.handling_cost_tax, *ledger.remaining_handling(address)


# ---- ways to pay a refund out ---------------------------------------------------------------


def store_credit_allowed(order: Order) -> bool:
    return not order.is_guest and order.in_default_currency


def refund_methods(
    order: Order, ledger: OrderLedger, amount: Decimal, readings: StoreReadings = DEFAULT_READINGS
) -> list[list[PaymentOption]]:
    """The alternatives BigCommerce offers: each inner list is one complete way to pay `amount` out."""
    methods: list[list[PaymentOption]] = []
    original = _original_method(order, ledger, amount, readings)
    if original:
        methods.append(original)
    only_store_credit = len(original) == 1 and original[0].provider_id == STORE_CREDIT
    if store_credit_allowed(order) and not only_store_credit:
        methods.append([_option(STORE_CREDIT, provider_name(STORE_CREDIT), amount, offline=False)])
    methods.append(
        [
            _option(
                CUSTOM,
                provider_name(CUSTOM),
                amount,
                offline=True,
                provider=True,
                reason=OFFLINE_PROVIDER_REASON,
            )
        ]
    )
    return methods


def _original_method(
    order: Order, ledger: OrderLedger, amount: Decimal, readings: StoreReadings
) -> list[PaymentOption]:
    """Back to the tenders the order was paid with, first tender first."""
    options: list[PaymentOption] = []
    left = amount
    online_gateways = 0
    for tender in order.tenders:
        if left <= 0:
            break
        share = min(left, ledger.tender_remaining(tender))
        if share <= 0:
            continue
        left -= share
        if tender.is_store_credit:
            option = _option(tender.provider_id, tender.provider_description, share, offline=False)
        elif tender.is_gift_certificate:
            option = _gift_certificate_option(
                order, tender.provider_id, tender.provider_description, share, readings
            )
        elif tender.is_offline_provider:
            option = _option(
                tender.provider_id,
                tender.provider_description,
                share,
                offline=True,
                provider=True,
                reason=OFFLINE_PROVIDER_REASON,
            )
        elif not tender.settled:
            option = _option(
                tender.provider_id,
                tender.provider_description,
                share,
                offline=True,
                reason=NOT_SETTLED_REASON,
            )
        else:
            online_gateways += 1
            reason = "" if online_gateways == 1 else MULTIPLE_ONLINE_REASON
            flagged = bool(reason) and readings.second_gateway is SecondGateway.FLAGGED_PROVIDER
            option = _option(
                tender.provider_id,
                tender.provider_description,
                share,
                offline=bool(reason),
                provider=flagged,
                reason=reason,
            )
        options.append(replace(option, tender_provider_id=tender.provider_id))
    return options if amount > 0 and left == 0 else []


def _gift_certificate_option(
    order: Order, provider_id: str, description: str, share: Decimal, readings: StoreReadings
) -> PaymentOption:
    """The share paid by gift certificate, per the GiftCertificateRefund reading (see readings.py)."""
    how = readings.gift_certificates
    if how is GiftCertificateRefund.ONLINE:
        return _option(provider_id, description, share, offline=False)
    if how is GiftCertificateRefund.STORE_CREDIT and store_credit_allowed(order):
        return _option(STORE_CREDIT, provider_name(STORE_CREDIT), share, offline=False)
    return _option(provider_id, description, share, offline=True, reason=GIFT_CERTIFICATE_REASON)


def _option(
    provider_id: str,
    description: str,
    amount: Decimal,
    *,
    offline: bool,
    provider: bool = False,
    reason: str = "",
) -> PaymentOption:
    return PaymentOption(provider_id, description, cents(amount), offline, provider, reason, None)


def match_payments(
    order: Order,
    methods: Sequence[Sequence[PaymentOption]],
    amount: Decimal,
    payments: Sequence[PaymentRequest],
) -> list[tuple[PaymentRequest, PaymentOption]]:
    """Pair each payment with an option of the one quoted method it copies, or refuse (422)."""
    if not payments:
        raise Unprocessable.at("payments", "At least one payment is required.")
    for index, payment in enumerate(payments):
        if not has_at_most_two_places(payment.amount):
            raise Unprocessable.at(
                f"payments.{index}.amount", "Payment amounts must have at most 2 decimal places."
            )
    if any(payment.provider_id == STORE_CREDIT for payment in payments):
        if order.is_guest:
            raise Unprocessable.at("payments", GUEST_STORE_CREDIT)
        if not order.in_default_currency:
            raise Unprocessable.at("payments", FOREIGN_CURRENCY_STORE_CREDIT)
    for index, payment in enumerate(payments):
        tender = order.tender(payment.provider_id)
        if (
            tender is not None
            and not payment.offline
            and not tender.settled
            and not tender.is_offline_provider
        ):
            raise Unprocessable.at(
                f"payments.{index}",
                f"The payment made with {tender.provider_description} has not been settled yet, "
                "so it cannot be refunded online.",
            )
    paid = total(payment.amount for payment in payments)
    if paid != amount:
        raise Unprocessable.at(
            "payments",
            f"The refund payments add up to {paid}, which does not match the refund amount {amount}.",
        )
    for method in methods:
        pairs = _pair(method, payments)
        if pairs is not None:
            return pairs
    if len(payments) > 1:
        raise Unprocessable.at("payments", INVALID_SPLIT_PAYMENT)
    only = payments[0]
    raise Unprocessable.at(
        "payments",
        f"The payment of {only.amount} to {only.provider_id} (offline: {str(only.offline).lower()}) "
        "does not match any available refund method.",
    )


def _pair(
    method: Sequence[PaymentOption], payments: Sequence[PaymentRequest]
) -> list[tuple[PaymentRequest, PaymentOption]] | None:
    if len(method) != len(payments):
        return None
    unused = list(method)
    pairs: list[tuple[PaymentRequest, PaymentOption]] = []
    for payment in payments:
        match = next(
            (
                option
                for option in unused
                if option.provider_id == payment.provider_id
                and option.amount == payment.amount
                and option.offline == payment.offline
            ),
            None,
        )
        if match is None:
            return None
        unused.remove(match)
        pairs.append((payment, match))
    return pairs
