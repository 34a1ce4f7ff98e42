"""BigCommerce orders, quotes and refunds as the engine sees them (parsed by the adapter)."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

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
    shipping_inc_tax: Money = ZERO
    handling_inc_tax: Money = ZERO


class BigCommerceOrder(Frozen):
    id: int
    status_id: int
    customer_id: int
    currency_code: str = Field(description="The transactional currency: what the shopper paid in")
    store_default_currency_code: str
    total_inc_tax: Money
    payment_method: str = ""
    store_credit_amount: Money = ZERO
    lines: tuple[OrderLine, ...] = ()
    consignments: tuple[Consignment, ...] = ()

    @property
    def is_guest(self) -> bool:
        return self.customer_id == 0

    @property
    def in_default_currency(self) -> bool:
        return self.currency_code.upper() == self.store_default_currency_code.upper()


class RefundItemType(StrEnum):
    PRODUCT = "PRODUCT"
    SHIPPING = "SHIPPING"
    HANDLING = "HANDLING"
    ORDER = "ORDER"
    FEE = "FEE"


class RefundItem(Frozen):
    item_type: RefundItemType
    item_id: int
    quantity: int | None = Field(default=None, description="PRODUCT only")
    amount: Money | None = Field(
        default=None, description="Amount-bound items (SHIPPING, HANDLING, ORDER, FEE)"
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
    rounding: Money = ZERO
    adjustment: Money = ZERO
    tax_inclusive: bool = True
    refund_methods: tuple[tuple[PaymentOption, ...], ...] = ()


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
    reason: str = ""
    total_amount: Money
    total_tax: Money = ZERO
    items: tuple[RefundedItem, ...] = ()
    payments: tuple[RefundPayment, ...] = ()

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
