"""What the simulated store holds: seed models for orders (pydantic), and the refunds it records.

A seed describes an order as BigCommerce would have it right after checkout: its lines, shipping
addresses, fees and the tenders it was paid with. Everything the API shows about refunds is derived
from the refunds recorded against the order, so a seed never carries refund state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from refund_sync_sandbox.bigcommerce.money import ZERO, cents, total
from refund_sync_sandbox.bigcommerce.readback import ConcurrentRefunds, ReasonEcho

SeedMoney = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]

STORE_CREDIT = "storecredit"
GIFT_CERTIFICATE = "giftcertificate"
CUSTOM = "custom"
# Providers whose money never moves through BigCommerce: a refund against them is only recorded.
OFFLINE_PROVIDERS = frozenset({"bankdeposit", "cod", "cheque", "moneyorder", "instore", "manual"})
_PROVIDER_NAMES = {
    STORE_CREDIT: "Store Credit",
    GIFT_CERTIFICATE: "Gift Certificate",
    CUSTOM: "Custom",
    "bankdeposit": "Bank Deposit",
    "cod": "Cash on Delivery",
    "cheque": "Check",
    "moneyorder": "Money Order",
    "instore": "Pay in Store",
    "manual": "Manual Payment",
    "braintree": "Braintree",
    "stripev3": "Stripe",
    "checkout_paypalexpress": "PayPal Express",
    "authorizenet": "Authorize.Net",
}

ORDER_STATUS_NAMES: dict[int, str] = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
REFUNDED = 4
PARTIALLY_REFUNDED = 14


def provider_name(provider_id: str) -> str:
    return _PROVIDER_NAMES.get(provider_id, provider_id.replace("_", " ").title())


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Tender(_Seed):
    """One way the order was paid, e.g. a card through braintree, store credit or a bank deposit."""

    provider_id: str = Field(min_length=1)
    description: str = ""
    amount: SeedMoney
    settled: bool = True
    declines_refunds: bool = False
    decline_message: str = "The payment gateway declined the refund."
    offline_provider: bool | None = Field(
        default=None, description="Inherently offline; by default decided from the provider id"
    )

    @property
    def provider_description(self) -> str:
        return self.description or provider_name(self.provider_id)

    @property
    def is_offline_provider(self) -> bool:
        if self.offline_provider is not None:
            return self.offline_provider
        return self.provider_id in OFFLINE_PROVIDERS

    @property
    def is_store_credit(self) -> bool:
        return self.provider_id == STORE_CREDIT

    @property
    def is_gift_certificate(self) -> bool:
        return self.provider_id == GIFT_CERTIFICATE


class AppliedDiscount(_Seed):
    """A discount on a line, tax-exclusive: the line's tax is charged on what is left after it."""

    id: str = "manual-discount"
    amount: SeedMoney
    name: str = "Manual Discount"
    code: str | None = None
    target: Literal["order", "product"] = "order"


class GiftWrapping(_Seed):
    """Gift wrapping of every unit of a line; costs per unit (the v2 product shows them times quantity)."""

    id: int = Field(default=1, ge=1)
    name: str = "Gift Wrap"
    cost_ex_tax: SeedMoney
    cost_inc_tax: SeedMoney

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.cost_inc_tax < self.cost_ex_tax:
            raise ValueError("gift wrapping: cost_inc_tax is below cost_ex_tax")
        return self


class ProductLine(_Seed):
    id: int = Field(ge=1, description="The order product id: a PRODUCT refund's item_id")
    product_id: int = Field(ge=0)
    variant_id: int | None = None
    sku: str = ""
    name: str = Field(min_length=1)
    type: Literal["physical", "digital"] = "physical"
    quantity: int = Field(ge=1)
    price_ex_tax: SeedMoney
    price_inc_tax: SeedMoney
    applied_discounts: list[AppliedDiscount] = Field(default_factory=list)
    order_address_id: int = Field(default=0, ge=0, description="The shipping address id; 0 for digital lines")
    wrapping: GiftWrapping | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.price_inc_tax < self.price_ex_tax:
            raise ValueError(f"product line {self.id}: price_inc_tax is below price_ex_tax")
        if self.discount > self.total_ex_tax:
            raise ValueError(f"product line {self.id}: discounts exceed the line total")
        return self

    @property
    def price_tax(self) -> Decimal:
        return self.price_inc_tax - self.price_ex_tax

    @property
    def total_ex_tax(self) -> Decimal:
        return self.price_ex_tax * self.quantity

    @property
    def total_inc_tax(self) -> Decimal:
        return self.price_inc_tax * self.quantity

    @property
    def total_tax(self) -> Decimal:
        return self.total_inc_tax - self.total_ex_tax

    @property
    def discount(self) -> Decimal:
        return total(discount.amount for discount in self.applied_discounts)

    @property
    def paid_ex_tax(self) -> Decimal:
        return self.total_ex_tax - self.discount

    @property
    def paid_tax(self) -> Decimal:
        """Tax on the discounted line: (total_ex_tax - discount) * tax rate, to the cent."""
        if self.price_ex_tax == 0:
            return self.total_tax
        return cents(self.paid_ex_tax * self.price_tax / self.price_ex_tax)

    @property
    def paid_inc_tax(self) -> Decimal:
        """What the shopper actually paid for the line: BigCommerce's discounted_total_inc_tax."""
        return self.paid_ex_tax + self.paid_tax

    @property
    def wrapping_ex_tax(self) -> Decimal:
        return self.wrapping.cost_ex_tax * self.quantity if self.wrapping else ZERO

    @property
    def wrapping_inc_tax(self) -> Decimal:
        return self.wrapping.cost_inc_tax * self.quantity if self.wrapping else ZERO

    @property
    def wrapping_tax(self) -> Decimal:
        return self.wrapping_inc_tax - self.wrapping_ex_tax


class Address(_Seed):
    first_name: str = "Jane"
    last_name: str = "Doe"
    company: str = ""
    street_1: str = "123 Main Street"
    street_2: str = ""
    city: str = "Austin"
    state: str = "Texas"
    zip: str = "78751"
    country: str = "United States"
    country_iso2: str = "US"
    phone: str = ""
    email: str = "janedoe@example.com"


class ShippingAddress(Address):
    id: int = Field(ge=1, description="The order address id: the item_id of SHIPPING and HANDLING refunds")
    shipping_method: str = "Flat Rate"
    cost_ex_tax: SeedMoney = ZERO
    cost_inc_tax: SeedMoney = ZERO
    handling_cost_ex_tax: SeedMoney = ZERO
    handling_cost_inc_tax: SeedMoney = ZERO

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.cost_inc_tax < self.cost_ex_tax or self.handling_cost_inc_tax < self.handling_cost_ex_tax:
            raise ValueError(
                f"shipping address {self.id}: an amount including tax is below its amount before tax"
            )
        return self

    @property
    def cost_tax(self) -> Decimal:
        return self.cost_inc_tax - self.cost_ex_tax

    @property
    def handling_cost_tax(self) -> Decimal:
        return self.handling_cost_inc_tax - self.handling_cost_ex_tax


class Fee(_Seed):
    id: int = Field(ge=1, description="The fee id: a FEE refund's item_id")
    display_name: str = "Fee"
    source: str = "v2"
    cost_ex_tax: SeedMoney
    cost_inc_tax: SeedMoney
    tax_class_id: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.cost_inc_tax < self.cost_ex_tax:
            raise ValueError(f"fee {self.id}: cost_inc_tax is below cost_ex_tax")
        return self

    @property
    def cost_tax(self) -> Decimal:
        return self.cost_inc_tax - self.cost_ex_tax


def _default_created() -> datetime:
    return datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


class Order(_Seed):
    """An order as checkout left it. Tenders must add up to the order total, to the cent."""

    id: int = Field(ge=1)
    customer_id: int = Field(default=0, ge=0, description="0 for a guest order")
    status_id: int = Field(default=11, ge=0, le=14)
    payment_status: str = "captured"
    currency_code: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        description="Transactional currency: what the shopper paid in; every amount of the order is in it",
    )
    store_default_currency_code: str = Field(default="USD", min_length=3, max_length=3)
    store_default_to_transactional_exchange_rate: Decimal = Field(default=Decimal(1), gt=0)
    display_currency_code: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="The currency the storefront showed prices in (v2 currency_code); None: transactional",
    )
    display_exchange_rate: Decimal = Field(
        default=Decimal(1), gt=0, description="Store default to display currency (v2 currency_exchange_rate)"
    )
    tax_inclusive_pricing: bool | None = Field(
        default=None,
        description="is_tax_inclusive_pricing: its base prices include tax; None: the store's setting",
    )
    date_created: datetime = Field(default_factory=_default_created)
    customer_message: str = ""
    staff_notes: str = ""
    billing_address: Address = Field(default_factory=Address)
    products: list[ProductLine] = Field(min_length=1)
    shipping_addresses: list[ShippingAddress] = Field(default_factory=list)
    fees: list[Fee] = Field(default_factory=list)
    tenders: list[Tender] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _require_unique("product line", (line.id for line in self.products))
        _require_unique("shipping address", (address.id for address in self.shipping_addresses))
        _require_unique("fee", (fee.id for fee in self.fees))
        _require_unique("tender provider", (tender.provider_id for tender in self.tenders))
        address_ids = {address.id for address in self.shipping_addresses}
        for line in self.products:
            if line.type == "physical" and line.order_address_id not in address_ids:
                raise ValueError(f"product line {line.id} ships to unknown address {line.order_address_id}")
            if line.type == "digital" and line.order_address_id != 0:
                raise ValueError(f"digital product line {line.id} must have order_address_id 0")
        paid = total(tender.amount for tender in self.tenders)
        if paid != self.total_inc_tax:
            raise ValueError(
                f"order {self.id}: tenders add up to {paid}, the order total is {self.total_inc_tax}"
            )
        if any(tender.is_store_credit for tender in self.tenders):
            if self.is_guest:
                raise ValueError(f"order {self.id}: a guest cannot pay with store credit")
            if not self.in_default_currency:
                raise ValueError(
                    f"order {self.id}: store credit is only spent in the store's default currency"
                )
        return self

    @property
    def is_guest(self) -> bool:
        return self.customer_id == 0

    @property
    def prices_include_tax(self) -> bool:
        """The order's pricing basis (set from the store's setting when it was seeded without one)."""
        return self.tax_inclusive_pricing is not False

    @property
    def in_default_currency(self) -> bool:
        return self.currency_code.upper() == self.store_default_currency_code.upper()

    @property
    def subtotal_ex_tax(self) -> Decimal:
        return total(line.total_ex_tax for line in self.products)

    @property
    def subtotal_inc_tax(self) -> Decimal:
        return total(line.total_inc_tax for line in self.products)

    @property
    def discount_amount(self) -> Decimal:
        return total(line.discount for line in self.products)

    @property
    def shipping_cost_ex_tax(self) -> Decimal:
        return total(address.cost_ex_tax for address in self.shipping_addresses)

    @property
    def shipping_cost_inc_tax(self) -> Decimal:
        return total(address.cost_inc_tax for address in self.shipping_addresses)

    @property
    def handling_cost_ex_tax(self) -> Decimal:
        return total(address.handling_cost_ex_tax for address in self.shipping_addresses)

    @property
    def handling_cost_inc_tax(self) -> Decimal:
        return total(address.handling_cost_inc_tax for address in self.shipping_addresses)

    @property
    def wrapping_cost_ex_tax(self) -> Decimal:
        return total(line.wrapping_ex_tax for line in self.products)

    @property
    def wrapping_cost_inc_tax(self) -> Decimal:
        return total(line.wrapping_inc_tax for line in self.products)

    @property
    def gift_certificate_amount(self) -> Decimal:
        return total(tender.amount for tender in self.tenders if tender.is_gift_certificate)

    @property
    def fees_ex_tax(self) -> Decimal:
        return total(fee.cost_ex_tax for fee in self.fees)

    @property
    def fees_inc_tax(self) -> Decimal:
        return total(fee.cost_inc_tax for fee in self.fees)

    @property
    def total_ex_tax(self) -> Decimal:
        lines = total(line.paid_ex_tax for line in self.products)
        extras = self.shipping_cost_ex_tax + self.handling_cost_ex_tax + self.wrapping_cost_ex_tax
        return lines + extras + self.fees_ex_tax

    @property
    def total_inc_tax(self) -> Decimal:
        return checkout_total(self.products, self.shipping_addresses, self.fees)

    @property
    def total_tax(self) -> Decimal:
        return self.total_inc_tax - self.total_ex_tax

    def product(self, line_id: int) -> ProductLine | None:
        return next((line for line in self.products if line.id == line_id), None)

    def shipping_address(self, address_id: int) -> ShippingAddress | None:
        return next((address for address in self.shipping_addresses if address.id == address_id), None)

    def fee(self, fee_id: int) -> Fee | None:
        return next((fee for fee in self.fees if fee.id == fee_id), None)

    def tender(self, provider_id: str) -> Tender | None:
        return next((tender for tender in self.tenders if tender.provider_id == provider_id), None)


def checkout_total(
    products: Iterable[ProductLine], addresses: Iterable[ShippingAddress] = (), fees: Iterable[Fee] = ()
) -> Decimal:
    """What checkout charges for these lines, addresses and fees, tax included: what the tenders must pay."""
    lines = total(line.paid_inc_tax + line.wrapping_inc_tax for line in products)
    extras = total(address.cost_inc_tax + address.handling_cost_inc_tax for address in addresses)
    return lines + extras + total(fee.cost_inc_tax for fee in fees)


def _require_unique(what: str, ids: Iterable[object]) -> None:
    seen: set[object] = set()
    for identifier in ids:
        if identifier in seen:
            raise ValueError(f"duplicate {what} id {identifier!r}")
        seen.add(identifier)


# ---- refunds as recorded by the store -------------------------------------------------------


@dataclass(frozen=True)
class ItemAdjustment:
    amount: Decimal
    description: str


@dataclass(frozen=True)
class RefundedItem:
    item_type: str
    item_id: int
    quantity: int | None
    reason: str
    adjustments: tuple[ItemAdjustment, ...]
    requested_amount: Decimal | None
    consumed: Decimal  # what the item's remainder gives up, tax included, before adjustments
    tax: Decimal

    @property
    def refunded(self) -> Decimal:
        """What the shopper gets back for the item: its value less any adjustments."""
        return self.consumed + sum((adjustment.amount for adjustment in self.adjustments), ZERO)


@dataclass(frozen=True)
class RefundedPayment:
    id: int
    provider_id: str
    amount: Decimal
    offline: bool
    declined: bool
    declined_message: str
    transaction_id: str
    tender_provider_id: str | None = None  # the tender it pays back, when it follows the original payment


@dataclass(frozen=True)
class RefundRecord:
    id: int
    order_id: int
    user_id: int
    created: datetime
    items: tuple[RefundedItem, ...]
    payments: tuple[RefundedPayment, ...]
    total_amount: Decimal
    total_tax: Decimal
    uses_merchant_override_values: bool
    # What the API shows as `total_amount` when it differs (the RefundTotal reading); None: total_amount
    shown_total_amount: Decimal | None = None

    @property
    def reason(self) -> str:
        """The distinct item reasons, in order, joined with "; " (BigCommerce's mapping is undocumented)."""
        reasons = [item.reason for item in self.items if item.reason]
        return "; ".join(dict.fromkeys(reasons))

    @property
    def effective_amount(self) -> Decimal:
        """What actually reached the shopper: declined payments do not count."""
        return total(payment.amount for payment in self.payments if not payment.declined)

    @property
    def fully_declined(self) -> bool:
        return bool(self.payments) and all(payment.declined for payment in self.payments)


# ---- request bodies of the real API, parsed at the boundary ---------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AdjustmentRequest(_Body):
    amount: Decimal = Field(lt=0)
    description: str = Field(default="", max_length=255)


class RefundItemRequest(_Body):
    item_type: str
    item_id: StrictInt
    quantity: StrictInt | None = None
    amount: Decimal | None = Field(default=None, ge=0)
    reason: str = Field(default="", max_length=1000)
    adjustments: list[AdjustmentRequest] = Field(default_factory=list)


class PaymentRequest(_Body):
    provider_id: str = Field(min_length=1)
    amount: Decimal = Field(ge=0)
    offline: StrictBool = False


class MerchantOverrideRequest(_Body):
    total_amount: Decimal = Field(ge=0)
    total_tax: Decimal


class QuoteRequest(_Body):
    items: list[RefundItemRequest] | None = None
    tax_adjustment_amount: Decimal | None = None


class CreateRefundRequest(QuoteRequest):
    payments: list[PaymentRequest] | None = None
    merchant_calculated_override: MerchantOverrideRequest | None = None


class OrderUpdateRequest(_Body):
    status_id: StrictInt | None = Field(default=None, ge=0, le=14)


# ---- the sandbox control API ----------------------------------------------------------------


class FaultRule(_Seed):
    """Fail the next `count` API requests whose method and store-relative path match."""

    method: str = Field(default="*", description="HTTP method, or * for any")
    path: str = Field(
        description="fnmatch pattern on the path after /stores/{hash}, e.g. /v3/orders/*/payment_actions/*"
    )
    status: Literal[500, 502, 503, 504]
    count: int = Field(default=1, ge=1)
    after_commit: bool = Field(
        default=False,
        description="Process the request first; if it succeeded (a refund was made), answer with the error",
    )
    message: str | None = None


class DropRule(_Seed):
    """Close the connection of the next `count` matching API requests without answering them: the client
    sees the connection drop (no status, no body), as when a load balancer or the network cuts it."""

    method: str = Field(default="*", description="HTTP method, or * for any")
    path: str = Field(
        description="fnmatch pattern on the path after /stores/{hash}, e.g. /v3/orders/*/payment_actions/*"
    )
    count: int = Field(default=1, ge=1)
    after_commit: bool = Field(
        default=True,
        description="Process the request first (a refund create commits), then drop; False: drop unprocessed",
    )


class StallRule(_Seed):
    """Commit the next refund create, then hold its response (so the client times out)."""

    seconds: float = Field(gt=0, le=600)
    order_id: int | None = None


class LateCommitRule(_Seed):
    """Accept the next refund create, hold its answer `seconds` (the client gives up), and make the refund
    `commit_after` seconds after it arrived."""

    seconds: float = Field(gt=0, le=600)
    commit_after: float = Field(gt=0, le=3600)
    order_id: int | None = None


class ReadBackSettings(_Seed):
    reason_echo: ReasonEcho = ReasonEcho.ITEMS
    list_lag_seconds: float = Field(default=0.0, ge=0, le=3600)
    amounts_echoed: bool = True
    concurrent_refunds: ConcurrentRefunds = ConcurrentRefunds.REFUSE


class RateLimitSettings(_Seed):
    quota: int | None = Field(default=None, ge=1)
    window_ms: int | None = Field(default=None, ge=1)


class ForcedRateLimit(_Seed):
    count: int = Field(default=1, ge=1)


class TenderUpdate(_Seed):
    settled: bool | None = None
    declines_refunds: bool | None = None
    decline_message: str | None = None


@dataclass(frozen=True)
class CallRecord:
    method: str
    path: str
    query: str
    status: int
    timestamp: datetime
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "timestamp": self.timestamp.astimezone(UTC).isoformat(),
            "body": self.body,
        }
