"""A NetSuite refund as the RESTlet delivers it: the input of the whole engine.

These models are the one source of truth for the shape of a refund on the wire. The RESTlet's
JSON Schema (netsuite/contract/) is generated from them and its Jest tests validate the script's
output against that file, so the script and this code cannot drift apart unnoticed.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from refund_sync.domain.money import Money

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 30
MAX_SIGNIFICANT_DIGITS = 34


def _within_reach(value: Decimal) -> Decimal:
    """Refuse figures no NetSuite record holds: past them, money arithmetic (28 digits) and the state table
    (38 significant digits, exponents -128 to 125) would fail on the refund instead of recording why."""
    if abs(value) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise ValueError(f"beyond any NetSuite figure (at most {MAX_INTEGER_DIGITS} digits before the point)")
    _, digits, exponent = value.as_tuple()
    coefficient = "".join(map(str, digits))
    places = -int(exponent) - (len(coefficient) - len(coefficient.rstrip("0")))
    if places > MAX_DECIMAL_PLACES or len(coefficient) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(
            f"more digits than any NetSuite figure (at most {MAX_SIGNIFICANT_DIGITS}, "
            f"{MAX_DECIMAL_PLACES} after the point)"
        )
    return value


WireMoney = Annotated[
    Money, AfterValidator(_within_reach), WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN})
]
WireQuantity = Annotated[
    Decimal, AfterValidator(_within_reach), WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN})
]
InternalId = Annotated[str, StringConstraints(pattern=r"^[0-9]+$", max_length=20)]


class WireModel(BaseModel):
    """camelCase on the wire (the RESTlet is JavaScript), snake_case in Python; nothing unknown."""

    model_config = ConfigDict(
        defer_build=True,  # the core schema is built on first use, not at import (cold start)
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        serialize_by_alias=True,
        json_schema_serialization_defaults_required=True,
    )


class RecordType(StrEnum):
    CASH_REFUND = "cashrefund"
    CREDIT_MEMO = "creditmemo"

    @property
    def label(self) -> str:
        return "Cash Refund" if self is RecordType.CASH_REFUND else "Credit Memo"


class TransactionRef(WireModel):
    id: InternalId
    type: str = Field(
        description="NetSuite record type, e.g. invoice, cashsale, returnauthorization, salesorder"
    )
    tran_id: str | None = None


class RefundLine(WireModel):
    """One item line of the refund. Amounts are positive for what is given back; discounts negative."""

    line: int = Field(ge=0, description="NetSuite line number, unique within the refund")
    item_id: InternalId
    item_name: str
    item_type: str = Field(
        description="NetSuite item type: InvtPart, NonInvtPart, OthCharge, Service, Kit, Assembly, "
        "Discount, ShipItem, TaxItem, Markup, GiftCert, Description, Subtotal, ..."
    )
    sku: str | None = Field(default=None, description="The item's SKU (itemid or a configured item field)")
    description: str | None = None
    quantity: WireQuantity | None = Field(default=None, description="Absent on discount and tax lines")
    rate: WireMoney | None = None
    amount: WireMoney = Field(description="Line amount before tax, in the refund's currency")
    tax_amount: WireMoney = Field(default=Decimal("0"), description="Tax on this line")
    bigcommerce_line_id: str | None = Field(
        default=None, description="The BigCommerce order line-item id, when a column field stores it"
    )
    bigcommerce_product_id: str | None = None
    bigcommerce_variant_id: str | None = None


class PaidOutMethod(StrEnum):
    PAYMENT_GATEWAY = "payment_gateway"
    CHECK = "check"
    CUSTOMER_REFUND = "customer_refund"


class PaidOut(WireModel):
    """Whether NetSuite itself already gave the money back, so BigCommerce must not pay again."""

    by_netsuite: bool
    method: PaidOutMethod | None = None
    reference: str | None = Field(default=None, description="Gateway reference, check number or refund #")


class Origin(WireModel):
    """Where the refund came from, for the loop guard (refunds imported from BigCommerce)."""

    external_id: str | None = None
    source: str | None = Field(default=None, description="NetSuite's source field (e.g. Web Services, CSV)")
    channel_refund_id: str | None = Field(
        default=None, description="Value of the configured marker field set by a connector importing refunds"
    )


class NetSuiteRefund(WireModel):
    """A cash refund or credit memo, whole: header, lines, shipping and handling, payout, origin.

    Invariant the RESTlet guarantees (and the engine re-checks before refunding anything):
    total = sum(line.amount + line.tax_amount)
            + shipping_amount + shipping_tax + handling_amount + handling_tax
    """

    id: InternalId
    record_type: RecordType
    tran_id: str = Field(description="Document number, e.g. CR-1042")
    tran_date: date
    last_modified: AwareDatetime
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    subtotal: WireMoney
    tax_total: WireMoney
    discount_total: WireMoney = Field(
        default=Decimal("0"),
        description="Sum of the discount lines (the header discount's own line included), zero or negative",
    )
    shipping_amount: WireMoney = Decimal("0")
    shipping_tax: WireMoney = Decimal("0")
    handling_amount: WireMoney = Decimal("0")
    handling_tax: WireMoney = Decimal("0")
    total: WireMoney
    memo: str | None = None
    customer_name: str | None = None
    bigcommerce_order_id: str | None = Field(
        default=None, description="The BigCommerce order id, read from the configured field"
    )
    order_id_source: str | None = Field(
        default=None, description="Where the order id was found, e.g. 'custbody_fa_channel_order on SO-1001'"
    )
    created_from: TransactionRef | None = None
    sales_order: TransactionRef | None = None
    lines: list[RefundLine] = Field(default_factory=list)
    paid_out: PaidOut = PaidOut(by_netsuite=False)
    origin: Origin = Origin()

    @property
    def label(self) -> str:
        """How a person names this refund: 'Credit Memo CM-1042 (NetSuite id 1042)'."""
        return f"{self.record_type.label} {self.tran_id} (NetSuite id {self.id})"


def version_key(refund: NetSuiteRefund) -> str:
    """A stable token of one version of a refund: its id and last-modified instant in UTC."""
    return f"{refund.id}@{refund.last_modified.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
