"""NetSuite refund + BigCommerce order -> the BigCommerce refund request. Pure: no I/O.

Every amount of the NetSuite refund is accounted for: it lands on a BigCommerce refund item, or is
absorbed by a documented rule (discounts), or the refund is held. The allocations always add up to
the NetSuite total, which is what BigCommerce's quote is later checked against.

Rules (all configurable, see Settings and docs/configuration.md):
- Product lines match an order line by SKU (or stored line id, or product/variant id) and become
  PRODUCT items by the order's line-item id; one SKU on several order lines is split in line order by
  the quantity each still has to refund.
- A product line refunded for less than its price (net of discounts) follows PartialLineRule.
- Shipping (header amount, ShipItem lines, configured items) becomes SHIPPING items per shipping address,
  split across consignments in proportion to what each still has to refund; handling likewise.
- Custom-amount items, and tax-only lines under TaxOnlyRule.ORDER_AMOUNT, become one ORDER item.
- Discount lines under DiscountRule.ABSORB add no item: BigCommerce refunds order lines net of their
  discounts, so the discount is already inside the quote; the totals are reconciled instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    Consignment,
    Frozen,
    OrderLine,
    OrderStatus,
    RefundItem,
    RefundItemType,
)
from refund_sync.domain.money import ZERO, Money, allocate, to_cents, total
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync.domain.policy import DiscountRule, LineMatchRule, PartialLineRule, TaxOnlyRule
from refund_sync.domain.reasons import Reason, RefundProblem

INFORMATIONAL_ITEM_TYPES = frozenset({"Description", "Subtotal", "Group", "EndGroup"})
UNSUPPORTED_ITEM_TYPES = frozenset({"GiftCert", "Payment", "Markup"})


@dataclass(frozen=True)
class MappingRules:
    line_match: LineMatchRule = LineMatchRule.SKU
    partial_line: PartialLineRule = PartialLineRule.ORDER_AMOUNT
    discount: DiscountRule = DiscountRule.ABSORB
    tax_only: TaxOnlyRule = TaxOnlyRule.ORDER_AMOUNT
    custom_amount_items: frozenset[str] = frozenset()
    shipping_items: frozenset[str] = frozenset()
    handling_items: frozenset[str] = frozenset()
    tolerance: Decimal = Decimal("0.01")


@dataclass(frozen=True)
class RefundedSoFar:
    """Amounts the order's earlier (non-declined) refunds already gave back, by shipping address."""

    shipping: dict[int, Decimal] = field(default_factory=dict)
    handling: dict[int, Decimal] = field(default_factory=dict)


class Allocation(Frozen):
    """Where one NetSuite amount went: which refund item carries it, or which rule absorbed it."""

    source: str = Field(description="e.g. 'line 2 (SKU TEE-M)' or 'shipping'")
    target: str = Field(description="e.g. 'PRODUCT 501 x 2', 'SHIPPING address 7', 'absorbed discount'")
    amount: Money


class RefundPlan(Frozen):
    order_id: int
    items: tuple[RefundItem, ...]
    allocations: tuple[Allocation, ...]
    netsuite_total: Money
    estimated_total: Money = Field(description="What BigCommerce's prices suggest; the quote decides")
    whole_order: bool
    marker: str
    descriptions: tuple[str, ...] = Field(default=(), description="The items in shop words, one per item")

    @property
    def allocated_total(self) -> Decimal:
        return to_cents(total(allocation.amount for allocation in self.allocations))


class LineRole(StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    HANDLING = "handling"
    CUSTOM = "custom amount"
    DISCOUNT = "discount"
    TAX_ONLY = "tax only"
    INFORMATIONAL = "informational"
    UNSUPPORTED = "unsupported"


def refund_marker(refund: NetSuiteRefund) -> str:
    """The token that lets us recognise our own refund among an order's refunds at BigCommerce."""
    return refund_marker_for(refund.id)


def refund_marker_for(netsuite_id: str) -> str:
    return f"[netsuite:{netsuite_id}]"


def refund_reason(refund: NetSuiteRefund) -> str:
    return f"{refund.record_type.label} {refund.tran_id} from NetSuite {refund_marker(refund)}"[:1000]


def line_role(line: RefundLine, rules: MappingRules) -> LineRole:
    keys = {line.item_id.casefold(), line.item_name.casefold()}
    if keys & rules.custom_amount_items:
        return LineRole.CUSTOM
    if keys & rules.shipping_items or line.item_type == "ShipItem":
        return LineRole.SHIPPING
    if keys & rules.handling_items:
        return LineRole.HANDLING
    if line.item_type == "Discount":
        return LineRole.DISCOUNT
    if line.item_type == "TaxItem" or (line.amount == 0 and line.tax_amount != 0 and not line.quantity):
        return LineRole.TAX_ONLY
    if line.item_type in INFORMATIONAL_ITEM_TYPES:
        return LineRole.INFORMATIONAL
    if line.item_type in UNSUPPORTED_ITEM_TYPES:
        return LineRole.UNSUPPORTED
    return LineRole.PRODUCT


def splits_shipping(refund: NetSuiteRefund, order: BigCommerceOrder) -> bool:
    """The refund gives back shipping or handling that the order charged on several consignments."""
    charged = [c for c in order.consignments if c.shipping_inc_tax > 0 or c.handling_inc_tax > 0]
    gives_back = refund.shipping_amount + refund.handling_amount + refund.shipping_tax + refund.handling_tax
    has_lines = any(line.item_type == "ShipItem" for line in refund.lines)
    return len(charged) > 1 and (gives_back > 0 or has_lines)


def may_hold_refunds(order: BigCommerceOrder) -> bool:
    """Whether BigCommerce may hold earlier refunds of the order. A refund turns the order Refunded or
    Partially Refunded, and a product refund shows on its line; an order showing neither has none.
    (The order's own refunded_amount cannot tell: BigCommerce documents it as always 0.)"""
    refunded_status = order.status_id in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)
    return refunded_status or any(line.quantity_refunded for line in order.lines)


def needs_refund_history(refund: NetSuiteRefund, order: BigCommerceOrder) -> bool:
    """Splitting shipping or handling over several consignments needs what each already refunded."""
    return splits_shipping(refund, order) and may_hold_refunds(order)


def describe(line: RefundLine) -> str:
    identity = f"SKU {line.sku}" if line.sku else line.item_name
    return f"line {line.line} ({identity})"


class _PlanBuilder:
    """Accumulates items and allocations while the NetSuite refund is walked line by line."""

    def __init__(self, refund: NetSuiteRefund, order: BigCommerceOrder, rules: MappingRules) -> None:
        self.refund = refund
        self.order = order
        self.rules = rules
        self.reason = refund_reason(refund)
        self.allocations: list[Allocation] = []
        self.product_quantities: dict[int, int] = defaultdict(int)  # read with .get: no phantom lines
        self.product_adjustments: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.order_amount = ZERO
        self.shipping_requested = ZERO
        self.handling_requested = ZERO
        self.estimated = ZERO
        self.lines_by_id = {order_line.id: order_line for order_line in order.lines}
        self.lines_by_sku: dict[str, list[OrderLine]] = defaultdict(list)
        for order_line in order.lines:
            self.lines_by_sku[order_line.sku.strip().casefold()].append(order_line)

    # -- product lines -------------------------------------------------------------------------
    def candidates(self, line: RefundLine) -> list[OrderLine]:
        rule = self.rules.line_match
        if rule is LineMatchRule.SKU:
            if not line.sku:
                raise RefundProblem(Reason.NO_MATCHING_LINE, f"{describe(line)} has no SKU to match on")
            return self.lines_by_sku.get(line.sku.strip().casefold(), [])
        if rule is LineMatchRule.BIGCOMMERCE_LINE_ID:
            if not line.bigcommerce_line_id:
                raise RefundProblem(
                    Reason.NO_MATCHING_LINE, f"{describe(line)} has no stored BigCommerce line id"
                )
            return [o for o in self.order.lines if str(o.id) == line.bigcommerce_line_id.strip()]
        if not line.bigcommerce_product_id:
            raise RefundProblem(
                Reason.NO_MATCHING_LINE, f"{describe(line)} has no stored BigCommerce product id"
            )
        return [
            o
            for o in self.order.lines
            if str(o.product_id) == line.bigcommerce_product_id.strip()
            and (not line.bigcommerce_variant_id or str(o.variant_id) == line.bigcommerce_variant_id.strip())
        ]

    def whole_units(self, line: RefundLine) -> int:
        quantity = line.quantity
        if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
            raise RefundProblem(
                Reason.QUANTITY_INVALID, f"{describe(line)} has quantity {quantity}; a whole number is needed"
            )
        return int(quantity)

    def add_product(self, line: RefundLine) -> None:
        units = self.whole_units(line)
        matches = self.candidates(line)
        if not matches:
            raise RefundProblem(
                Reason.NO_MATCHING_LINE,
                f"{describe(line)} matches no line of BigCommerce order {self.order.id} "
                f"(by {self.rules.line_match.value}); the order has "
                + ", ".join(f"{o.sku or o.name} (line {o.id})" for o in self.order.lines),
            )
        split = self.split_by_remaining(line, units, matches)
        full_price = to_cents(total(o.net_unit_ex_tax * n for o, n in split))
        given_back = line.amount + line.tax_amount
        if line.amount >= full_price - self.rules.tolerance:
            for order_line, count in split:
                self.product_quantities[order_line.id] += count
                self.estimated += to_cents(order_line.net_unit_inc_tax * count)
            target = ", ".join(f"PRODUCT {o.id} x {n}" for o, n in split)
            self.allocations.append(Allocation(source=describe(line), target=target, amount=given_back))
            return
        self.add_partial(line, split, given_back, full_price)

    def split_by_remaining(
        self, line: RefundLine, units: int, matches: list[OrderLine]
    ) -> list[tuple[OrderLine, int]]:
        split: list[tuple[OrderLine, int]] = []
        left = units
        for order_line in sorted(matches, key=lambda o: o.id):
            available = order_line.remaining_quantity - self.product_quantities.get(order_line.id, 0)
            take = min(available, left)
            if take > 0:
                split.append((order_line, take))
                left -= take
        if left:
            remaining = sum(o.remaining_quantity - self.product_quantities.get(o.id, 0) for o in matches)
            raise RefundProblem(
                Reason.QUANTITY_EXCEEDS_REMAINING,
                f"{describe(line)} refunds {units} unit(s) but BigCommerce order {self.order.id} has "
                f"{max(remaining, 0)} left to refund on the matching line(s)",
            )
        return split

    def add_partial(
        self, line: RefundLine, split: list[tuple[OrderLine, int]], given_back: Decimal, full_price: Decimal
    ) -> None:
        rule = self.rules.partial_line
        if rule is PartialLineRule.HOLD:
            raise RefundProblem(
                Reason.PARTIAL_LINE_HELD,
                f"{describe(line)} refunds {line.amount} of a {full_price} line (before tax)",
            )
        if rule is PartialLineRule.ORDER_AMOUNT:
            self.order_amount += given_back
            self.estimated += given_back
            self.allocations.append(
                Allocation(
                    source=describe(line), target=f"ORDER {self.order.id} (partial line)", amount=given_back
                )
            )
            return
        # PRODUCT_ADJUSTMENT: the units go back, minus what the customer keeps.
        for order_line, count in split:
            self.product_quantities[order_line.id] += count
        full_inc_tax = to_cents(total(o.net_unit_inc_tax * n for o, n in split))
        deduction = to_cents(full_inc_tax - given_back)
        first_line = split[0][0]
        self.product_adjustments[first_line.id] -= deduction
        self.estimated += full_inc_tax - deduction
        target = ", ".join(f"PRODUCT {o.id} x {n}" for o, n in split) + f" less {deduction}"
        self.allocations.append(Allocation(source=describe(line), target=target, amount=given_back))

    # -- the other roles ------------------------------------------------------------------------
    def add_line(self, line: RefundLine) -> None:
        role = line_role(line, self.rules)
        given_back = line.amount + line.tax_amount
        if role is LineRole.PRODUCT:
            self.add_product(line)
        elif role is LineRole.SHIPPING:
            self.shipping_requested += given_back
            self.allocations.append(Allocation(source=describe(line), target="SHIPPING", amount=given_back))
        elif role is LineRole.HANDLING:
            self.handling_requested += given_back
            self.allocations.append(Allocation(source=describe(line), target="HANDLING", amount=given_back))
        elif role is LineRole.CUSTOM:
            self.add_order_amount(line, given_back, "custom amount")
        elif role is LineRole.TAX_ONLY:
            if self.rules.tax_only is TaxOnlyRule.HOLD:
                raise RefundProblem(Reason.TAX_ONLY_HELD, f"{describe(line)} refunds tax only ({given_back})")
            self.add_order_amount(line, given_back, "tax only")
        elif role is LineRole.DISCOUNT:
            if self.rules.discount is DiscountRule.HOLD:
                raise RefundProblem(Reason.DISCOUNT_HELD, f"{describe(line)} is a discount of {given_back}")
            self.allocations.append(
                Allocation(source=describe(line), target="absorbed discount", amount=given_back)
            )
        elif role is LineRole.INFORMATIONAL:
            if given_back != 0:
                raise RefundProblem(
                    Reason.UNSUPPORTED_LINE,
                    f"{describe(line)} is a {line.item_type} line carrying {given_back}",
                )
        else:
            raise RefundProblem(
                Reason.UNSUPPORTED_LINE, f"{describe(line)} is a {line.item_type} line ({given_back})"
            )

    def add_order_amount(self, line: RefundLine, given_back: Decimal, why: str) -> None:
        if given_back < 0:
            raise RefundProblem(
                Reason.UNSUPPORTED_LINE, f"{describe(line)} is a negative {why} ({given_back})"
            )
        self.order_amount += given_back
        self.estimated += given_back
        self.allocations.append(
            Allocation(source=describe(line), target=f"ORDER {self.order.id} ({why})", amount=given_back)
        )

    # -- shipping and handling over consignments -----------------------------------------------------
    def amount_items(
        self, item_type: RefundItemType, requested: Decimal, refunded: dict[int, Decimal]
    ) -> list[RefundItem]:
        if requested == 0:
            return []
        what = "shipping" if item_type is RefundItemType.SHIPPING else "handling"

        def charged(consignment: Consignment) -> Decimal:
            cost = (
                consignment.shipping_inc_tax
                if item_type is RefundItemType.SHIPPING
                else consignment.handling_inc_tax
            )
            return cost - refunded.get(consignment.address_id, ZERO)

        open_consignments = [c for c in self.order.consignments if charged(c) > 0]
        if not open_consignments:
            raise RefundProblem(
                Reason.SHIPPING_NOT_ON_ORDER if not refunded else Reason.AMOUNT_EXCEEDS_REMAINING,
                f"the refund gives back {requested} {what}, but BigCommerce order {self.order.id} has "
                f"no {what} left to refund",
            )
        remaining = [charged(c) for c in open_consignments]
        if requested > total(remaining) + self.rules.tolerance:
            raise RefundProblem(
                Reason.AMOUNT_EXCEEDS_REMAINING,
                f"the refund gives back {requested} {what}; BigCommerce order {self.order.id} has "
                f"{total(remaining)} left to refund",
            )
        parts = allocate(min(requested, total(remaining)), remaining)
        self.estimated += total(parts)
        return [
            RefundItem(item_type=item_type, item_id=c.address_id, amount=part, reason=self.reason)
            for c, part in zip(open_consignments, parts, strict=True)
            if part > 0
        ]

    def header_amounts(self) -> None:
        refund = self.refund
        shipping = refund.shipping_amount + refund.shipping_tax
        handling = refund.handling_amount + refund.handling_tax
        if shipping:
            self.shipping_requested += shipping
            self.allocations.append(Allocation(source="shipping", target="SHIPPING", amount=shipping))
        if handling:
            self.handling_requested += handling
            self.allocations.append(Allocation(source="handling", target="HANDLING", amount=handling))

    def build(self, refunded: RefundedSoFar) -> RefundPlan:
        for line in sorted(self.refund.lines, key=lambda line: line.line):
            self.add_line(line)
        self.header_amounts()
        items: list[RefundItem] = [
            RefundItem(
                item_type=RefundItemType.PRODUCT,
                item_id=line_id,
                quantity=quantity,
                adjustment=self.product_adjustments.get(line_id) or None,
                reason=self.reason,
            )
            for line_id, quantity in sorted(self.product_quantities.items())
        ]
        items += self.amount_items(
            RefundItemType.SHIPPING, to_cents(self.shipping_requested), refunded.shipping
        )
        items += self.amount_items(
            RefundItemType.HANDLING, to_cents(self.handling_requested), refunded.handling
        )
        if self.order_amount:
            items.append(
                RefundItem(
                    item_type=RefundItemType.ORDER,
                    item_id=self.order.id,
                    amount=to_cents(self.order_amount),
                    reason=self.reason,
                )
            )
        return RefundPlan(
            order_id=self.order.id,
            items=tuple(items),
            descriptions=tuple(self.describe(item) for item in items),
            allocations=tuple(self.allocations),
            netsuite_total=self.refund.total,
            estimated_total=to_cents(self.estimated),
            whole_order=self.covers_whole_order(refunded),
            marker=refund_marker(self.refund),
        )

    def describe(self, item: RefundItem) -> str:
        if item.item_type is RefundItemType.PRODUCT:
            line = self.lines_by_id[item.item_id]
            less = f" less {-item.adjustment}" if item.adjustment else ""
            return f"{line.sku or line.name} x {item.quantity}{less} (line {item.item_id})"
        if item.item_type is RefundItemType.ORDER:
            return f"custom amount {item.amount}"
        return f"{item.item_type.value.lower()} {item.amount} (address {item.item_id})"

    def covers_whole_order(self, refunded: RefundedSoFar) -> bool:
        every_unit = all(
            self.product_quantities.get(line.id, 0) >= line.remaining_quantity for line in self.order.lines
        )
        shipping_left = total(
            c.shipping_inc_tax - refunded.shipping.get(c.address_id, ZERO) for c in self.order.consignments
        )
        handling_left = total(
            c.handling_inc_tax - refunded.handling.get(c.address_id, ZERO) for c in self.order.consignments
        )
        return (
            every_unit
            and to_cents(self.shipping_requested) >= to_cents(shipping_left)
            and to_cents(self.handling_requested) >= to_cents(handling_left)
        )


def check_netsuite_totals(refund: NetSuiteRefund, tolerance: Decimal) -> None:
    parts = (
        total(line.amount + line.tax_amount for line in refund.lines)
        + refund.shipping_amount
        + refund.shipping_tax
        + refund.handling_amount
        + refund.handling_tax
    )
    if abs(to_cents(parts) - refund.total) > tolerance:
        raise RefundProblem(
            Reason.NETSUITE_TOTALS_INCONSISTENT,
            f"lines, shipping, handling and tax add up to {to_cents(parts)} but the total is {refund.total}",
        )


def plan_refund(
    refund: NetSuiteRefund,
    order: BigCommerceOrder,
    rules: MappingRules,
    refunded: RefundedSoFar | None = None,
) -> RefundPlan:
    """Map one NetSuite refund onto one BigCommerce refund request, or raise RefundProblem."""
    if refund.currency.upper() != order.currency_code.upper():
        raise RefundProblem(
            Reason.CURRENCY_MISMATCH,
            f"the refund is in {refund.currency}; "
            f"BigCommerce order {order.id} was paid in {order.currency_code}",
        )
    check_netsuite_totals(refund, rules.tolerance)
    if refund.total <= 0:
        raise RefundProblem(Reason.NOTHING_TO_REFUND, f"the refund's total is {refund.total}")
    plan = _PlanBuilder(refund, order, rules).build(refunded or RefundedSoFar())
    if not plan.items:
        raise RefundProblem(
            Reason.NOTHING_TO_REFUND, f"no line of the refund gives anything back (total {refund.total})"
        )
    if abs(plan.allocated_total - refund.total) > rules.tolerance:
        # Cannot happen by construction; kept as the last guard against refunding a wrong amount.
        raise RefundProblem(
            Reason.NETSUITE_TOTALS_INCONSISTENT,
            f"allocated {plan.allocated_total} of a {refund.total} refund",
        )
    return plan
