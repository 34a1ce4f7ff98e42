"""BigCommerce orders, quotes and refunds as the engine sees them (parsed by the adapter)."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from refund_sync.domain.money import ZERO, Money, to_cents, total


class Frozen(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")


class OrderStatus(IntEnum):
    """The statuses that matter here (BigCommerce's /order_statuses has all fifteen)."""

    INCOMPLETE = 0
    PENDING = 1
    SHIPPED = 2
    PARTIALLY_SHIPPED = 3
    REFUNDED = 4
    CANCELLED = 5
    DECLINED = 6
    AWAITING_PAYMENT = 7
    AWAITING_PICKUP = 8
    AWAITING_SHIPMENT = 9
    COMPLETED = 10
    AWAITING_FULFILLMENT = 11
    MANUAL_VERIFICATION_REQUIRED = 12
    DISPUTED = 13
    PARTIALLY_REFUNDED = 14

    @classmethod
    def describe(cls, status: int | None) -> str:
        """How a person reads a status id: 'Partially refunded (14)'."""
        if status is None:
            return "-"
        try:
            return f"{cls(status).name.replace('_', ' ').capitalize()} ({status})"
        except ValueError:
            return str(status)


class OrderLine(Frozen):
    id: int = Field(description="The order line-item id: a PRODUCT refund's item_id")
    product_id: int
    variant_id: int | None = None
    sku: str = ""
    name: str = ""
    quantity: int
    quantity_refunded: int = 0
    price_ex_tax: Money
    price_inc_tax: Money
    total_ex_tax: Money
    total_inc_tax: Money
    discount: Money = Field(default=ZERO, description="Sum of the line's applied discounts")
    discounted_total_inc_tax: Money | None = Field(
        default=None, description="What the shopper paid for the line: tax in, every discount out"
    )
    order_address_id: int = 0
    wrapping_name: str = Field(default="", description="The gift wrapping of the line, if any")
    wrapping_cost_ex_tax: Money = Field(default=ZERO, description="Gift wrapping of every unit, before tax")
    wrapping_cost_inc_tax: Money = Field(default=ZERO, description="Gift wrapping of every unit, with tax")
    wrapping_quantity_refunded: int = Field(
        default=0, description="Wrapped units already refunded (GIFT_WRAPPING refunds; from the refund list)"
    )

    @property
    def is_wrapped(self) -> bool:
        return self.wrapping_cost_inc_tax > 0 or bool(self.wrapping_name)

    @property
    def remaining_wrapping_quantity(self) -> int:
        return max(self.quantity - self.wrapping_quantity_refunded, 0) if self.is_wrapped else 0

    @property
    def remaining_quantity(self) -> int:
        return max(self.quantity - self.quantity_refunded, 0)

    @property
    def net_unit_ex_tax(self) -> Decimal:
        """What one unit cost before tax, after the line's share of discounts."""
        return (self.total_ex_tax - self.discount) / self.quantity if self.quantity else ZERO

    @property
    def net_unit_inc_tax(self) -> Decimal:
        """What one unit cost the customer: tax included, discounts taken off."""
        if not self.quantity:
            return self.price_inc_tax
        if self.discounted_total_inc_tax is not None:
            return self.discounted_total_inc_tax / self.quantity
        if self.total_ex_tax == 0:
            return self.price_inc_tax
        tax_factor = self.total_inc_tax / self.total_ex_tax
        return (self.total_inc_tax - self.discount * tax_factor) / self.quantity


class Consignment(Frozen):
    """A shipping consignment; its shipping address id is the item_id of SHIPPING and HANDLING refunds."""

    address_id: int
    shipping_ex_tax: Money | None = Field(default=None, description="None: taken to be the inc-tax cost")
    shipping_inc_tax: Money = ZERO
    handling_ex_tax: Money | None = None
    handling_inc_tax: Money = ZERO

    def cost(self, kind: AmountKind, basis: TaxBasis) -> Decimal:
        """The consignment's shipping or handling cost in the order's pricing basis."""
        inc = self.shipping_inc_tax if kind is AmountKind.SHIPPING else self.handling_inc_tax
        ex = self.shipping_ex_tax if kind is AmountKind.SHIPPING else self.handling_ex_tax
        return inc if basis is TaxBasis.INCLUSIVE or ex is None else ex

    def tax_rate(self, kind: AmountKind) -> Decimal:
        """The tax BigCommerce charged on the cost, as a share of the cost before tax (0 when untaxed)."""
        inc = self.shipping_inc_tax if kind is AmountKind.SHIPPING else self.handling_inc_tax
        ex = self.shipping_ex_tax if kind is AmountKind.SHIPPING else self.handling_ex_tax
        return rate_of(ex, inc)


class Fee(Frozen):
    """An order fee (v2 /orders/{id}/fees); its id is the item_id of a FEE refund."""

    id: int
    name: str = ""
    cost_ex_tax: Money = ZERO
    cost_inc_tax: Money = ZERO

    def cost(self, basis: TaxBasis) -> Decimal:
        return self.cost_inc_tax if basis is TaxBasis.INCLUSIVE else self.cost_ex_tax

    @property
    def tax_rate(self) -> Decimal:
        return rate_of(self.cost_ex_tax, self.cost_inc_tax)


class TaxBasis(StrEnum):
    """What the order's base prices are: BigCommerce's is_tax_inclusive_pricing. BigCommerce reads the
    amounts of SHIPPING, HANDLING and FEE refund items in it and computes their tax (ORDER amounts are
    tax-exempt); PRODUCT and GIFT_WRAPPING refunds are priced from the order whatever the basis."""

    INCLUSIVE = "inclusive"  # prices entered with tax: an item's amount includes its tax
    EXCLUSIVE = "exclusive"  # prices entered without tax (most US stores): BigCommerce adds the tax


class AmountKind(StrEnum):
    SHIPPING = "shipping"
    HANDLING = "handling"


def rate_of(ex_tax: Decimal | None, inc_tax: Decimal) -> Decimal:
    if ex_tax is None or ex_tax <= 0:
        return ZERO
    return (inc_tax - ex_tax) / ex_tax


class BigCommerceOrder(Frozen):
    id: int
    status_id: int
    customer_id: int
    currency_code: str = Field(description="The transactional currency: what the shopper paid in")
    store_default_currency_code: str
    store_default_to_transactional_exchange_rate: Decimal = Decimal(1)
    display_currency_code: str = Field(
        default="", description="The currency prices were shown in (v2 currency_code); empty: transactional"
    )
    display_exchange_rate: Decimal = Field(
        default=Decimal(1), description="Store default to display currency (v2 currency_exchange_rate)"
    )
    tax_basis: TaxBasis = TaxBasis.INCLUSIVE
    total_inc_tax: Money
    total_tax: Money = ZERO
    payment_method: str = ""
    store_credit_amount: Money = ZERO
    gift_certificate_amount: Money = ZERO
    lines: tuple[OrderLine, ...] = ()
    consignments: tuple[Consignment, ...] = ()
    fees: tuple[Fee, ...] = ()

    @property
    def is_guest(self) -> bool:
        return self.customer_id == 0

    @property
    def shows_refunds(self) -> bool:
        """Whether BigCommerce may hold refunds of the order. A refund turns the order Refunded or Partially
        Refunded, and a product refund shows on its line; an order showing neither has none. (The order's
        own refunded_amount cannot tell: BigCommerce documents it as always 0.)"""
        refunded_status = self.status_id in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)
        return refunded_status or any(line.quantity_refunded for line in self.lines)

    @property
    def in_default_currency(self) -> bool:
        return self.currency_code.upper() == self.store_default_currency_code.upper()

    @property
    def shown_in(self) -> str:
        """The display currency, when the shopper saw prices in another currency than they paid in."""
        display = self.display_currency_code.upper()
        return display if display and display != self.currency_code.upper() else ""


class RefundItemType(StrEnum):
    PRODUCT = "PRODUCT"
    GIFT_WRAPPING = "GIFT_WRAPPING"
    SHIPPING = "SHIPPING"
    HANDLING = "HANDLING"
    ORDER = "ORDER"
    FEE = "FEE"

    @property
    def quantity_bound(self) -> bool:
        """PRODUCT and GIFT_WRAPPING refund whole units, priced by BigCommerce; the others an amount."""
        return self in (RefundItemType.PRODUCT, RefundItemType.GIFT_WRAPPING)

    @property
    def taxed(self) -> bool:
        """BigCommerce works out this item's tax (each such item may round it by a cent); ORDER is exempt."""
        return self is not RefundItemType.ORDER


class RefundItem(Frozen):
    item_type: RefundItemType
    item_id: int
    quantity: int | None = Field(default=None, description="PRODUCT and GIFT_WRAPPING")
    amount: Money | None = Field(
        default=None,
        description="Amount-bound items (SHIPPING, HANDLING, ORDER, FEE), in the order's tax basis",
    )
    adjustment: Money | None = Field(default=None, description="PRODUCT only: a negative deduction")
    reason: str = ""


class PaymentOption(Frozen):
    provider_id: str
    provider_description: str = ""
    amount: Money
    offline: bool = False
    offline_provider: bool = False
    offline_reason: str = ""


class RefundQuote(Frozen):
    order_id: int
    total_refund_amount: Money
    total_refund_tax_amount: Money = ZERO
    order_level_refund_amount: Money = ZERO
    rounding: Money = ZERO
    adjustment: Money = ZERO
    tax_inclusive: bool = True
    refund_methods: tuple[tuple[PaymentOption, ...], ...] = ()

    @property
    def total_in_its_basis(self) -> Decimal:
        """What the quote says is refunded, tax included: `total_refund_amount`, plus the tax when the
        quote says that total excludes it (`tax_inclusive: false`)."""
        tax = ZERO if self.tax_inclusive else self.total_refund_tax_amount
        return to_cents(self.total_refund_amount + tax)

    @property
    def method_totals(self) -> tuple[Decimal, ...]:
        """What each offered method pays out: the money a refund copying it moves (or records)."""
        return tuple(to_cents(total(option.amount for option in method)) for method in self.refund_methods)

    def payout(self) -> Decimal | None:
        """The one amount every offered method pays; None when they disagree or none is offered."""
        totals = set(self.method_totals)
        return totals.pop() if len(totals) == 1 else None


class Payment(Frozen):
    """One entry of a refund's `payments`: copied from exactly one quoted method."""

    provider_id: str
    amount: Money
    offline: bool


class RefundPayment(Frozen):
    id: int | None = None
    provider_id: str
    amount: Money
    offline: bool = False
    is_declined: bool = False
    declined_message: str = ""


class RefundedItem(Frozen):
    item_type: str
    item_id: int
    quantity: int | None = None
    requested_amount: Money | None = None
    reason: str = ""


class CreatedRefund(Frozen):
    """A refund as BigCommerce reports it (created, listed or read back)."""

    id: int
    order_id: int
    created: AwareDatetime | None = None
    reason: str = ""
    total_amount: Money
    total_tax: Money = ZERO
    items: tuple[RefundedItem, ...] = ()
    payments: tuple[RefundPayment, ...] = ()

    @property
    def paid(self) -> Decimal:
        """What the refund paid back, tax included: the sum of its payments, each an `Amount` "that can be
        charged/refunded with payment providers" (orders.v3.yml). `total_amount` only where it lists no
        payments: on an order priced before tax it may be read before tax, as a quote's total is."""
        if self.payments:
            return to_cents(total(payment.amount for payment in self.payments))
        return to_cents(self.total_amount)

    @property
    def declined_payments(self) -> tuple[RefundPayment, ...]:
        return tuple(payment for payment in self.payments if payment.is_declined)

    @property
    def fully_declined(self) -> bool:
        """Every payment was declined: no money moved and BigCommerce gave the remainder back."""
        return bool(self.payments) and all(payment.is_declined for payment in self.payments)

    def carries_marker(self, marker: str) -> bool:
        return marker in self.reason or any(marker in item.reason for item in self.items)


def declined_text(refund: CreatedRefund) -> str:
    """What the gateway said, payment by payment: "braintree: Processor declined"."""
    return "; ".join(f"{p.provider_id}: {p.declined_message or 'declined'}" for p in refund.declined_payments)


def payments_total(payments: tuple[Payment, ...] | list[Payment]) -> Decimal:
    return to_cents(total(payment.amount for payment in payments))
