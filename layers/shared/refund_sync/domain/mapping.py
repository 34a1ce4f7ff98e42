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
  split across consignments in proportion to what each still has to refund; handling likewise. Their
  amounts are in the order's tax basis (BigCommerce's is_tax_inclusive_pricing): with tax on a store
  that prices with tax, before tax on one that prices without it, where BigCommerce adds the tax itself.
- Configured fee items become FEE items on the order's fee (amount in the tax basis, like shipping);
  configured gift-wrapping items become GIFT_WRAPPING items (whole wrapped units of an order line).
  Neither is ever turned into a tax-exempt ORDER amount: that would leave BigCommerce's tax records wrong.
- Custom-amount items, and tax-only lines under TaxOnlyRule.ORDER_AMOUNT, become one ORDER item.
- Discount lines under DiscountRule.ABSORB add no item: BigCommerce refunds order lines net of their
  discounts, so the discount is already inside the quote; the totals are reconciled instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from refund_sync.domain.bigcommerce import (
    AmountKind,
    BigCommerceOrder,
    Consignment,
    CreatedRefund,
    Fee,
    Frozen,
    OrderLine,
    RefundItem,
    RefundItemType,
    TaxBasis,
)
from refund_sync.domain.money import CENT, ZERO, Money, allocate, to_cents, total
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync.domain.policy import DiscountRule, LineMatchRule, PartialLineRule, TaxOnlyRule
from refund_sync.domain.reasons import Reason, RefundProblem
from refund_sync.domain.reconcile import marker_for

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
    fee_items: frozenset[str] = frozenset()
    gift_wrapping_items: frozenset[str] = frozenset()
    # A product line refunded at most this much below its price (after discounts, before tax) is a full
    # refund of its units; further below, PartialLineRule decides. Not the quote's tolerance.
    line_threshold: Decimal = CENT
    # NetSuite's own figures may disagree by a cent of rounding (lines and tax against the total).
    netsuite_rounding: Decimal = CENT


@dataclass(frozen=True)
class RefundedSoFar:
    """What the order's earlier (non-declined) refunds already gave back: shipping and handling by
    shipping address and fees by fee id (amounts as requested, in the order's tax basis), and wrapped
    units by order line."""

    shipping: dict[int, Decimal] = field(default_factory=dict)
    handling: dict[int, Decimal] = field(default_factory=dict)
    fees: dict[int, Decimal] = field(default_factory=dict)
    wrapping: dict[int, int] = field(default_factory=dict)


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
    estimated_total: Money = Field(
        description="What BigCommerce's prices suggest, tax included; the quote decides"
    )
    tax_basis: TaxBasis = TaxBasis.INCLUSIVE
    whole_order: bool
    marker: str
    descriptions: tuple[str, ...] = Field(default=(), description="The items in shop words, one per item")

    @property
    def allocated_total(self) -> Decimal:
        return to_cents(total(allocation.amount for allocation in self.allocations))

    @property
    def taxed_items(self) -> int:
        """Items BigCommerce works out the tax of, each of which may round it by a cent (at least 1)."""
        return taxed_item_count(item.item_type for item in self.items)

    @property
    def amount_items(self) -> tuple[RefundItem, ...]:
        """The items bounded by what remains of an amount (shipping, handling, fees)."""
        kinds = (RefundItemType.SHIPPING, RefundItemType.HANDLING, RefundItemType.FEE)
        return tuple(item for item in self.items if item.item_type in kinds)


class LineRole(StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    HANDLING = "handling"
    FEE = "fee"
    GIFT_WRAPPING = "gift wrapping"
    CUSTOM = "custom amount"
    DISCOUNT = "discount"
    TAX_ONLY = "tax only"
    INFORMATIONAL = "informational"
    UNSUPPORTED = "unsupported"


def refund_marker(refund: NetSuiteRefund) -> str:
    """The token that lets us recognise our own refund among an order's refunds at BigCommerce."""
    return marker_for(refund.id)


def refund_reason(refund: NetSuiteRefund) -> str:
    return f"{refund.record_type.label} {refund.tran_id} from NetSuite {refund_marker(refund)}"[:1000]


def line_role(line: RefundLine, rules: MappingRules) -> LineRole:
    keys = {line.item_id.casefold(), line.item_name.casefold()}
    # Fees and gift wrapping first: listed there, a line is never taken for a tax-exempt custom amount.
    if keys & rules.fee_items:
        return LineRole.FEE
    if keys & rules.gift_wrapping_items:
        return LineRole.GIFT_WRAPPING
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


def needs_refund_history(refund: NetSuiteRefund, order: BigCommerceOrder) -> bool:
    """Splitting shipping or handling over several consignments needs what each already refunded."""
    return splits_shipping(refund, order) and order.shows_refunds


def describe(line: RefundLine) -> str:
    identity = f"SKU {line.sku}" if line.sku else line.item_name
    return f"line {line.line} ({identity})"


class _PlanBuilder:
    """Accumulates items and allocations while the NetSuite refund is walked line by line."""

    def __init__(self, refund: NetSuiteRefund, order: BigCommerceOrder, rules: MappingRules) -> None:
        self.refund = refund
        self.order = order
        self.rules = rules
        self.basis = order.tax_basis
        self.reason = refund_reason(refund)
        self.allocations: list[Allocation] = []
        self.product_quantities: dict[int, int] = defaultdict(int)  # read with .get: no phantom lines
        self.product_adjustments: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.wrapped_quantities: dict[int, int] = defaultdict(int)
        self.fee_amounts: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.order_amount = ZERO
        # Shipping and handling asked for, in the order's tax basis (what the SHIPPING/HANDLING items carry).
        self.requested: dict[AmountKind, Decimal] = {AmountKind.SHIPPING: ZERO, AmountKind.HANDLING: ZERO}
        self.estimated = ZERO
        self.lines_by_id = {order_line.id: order_line for order_line in order.lines}
        self.lines_by_sku: dict[str, list[OrderLine]] = defaultdict(list)
        for order_line in order.lines:
            self.lines_by_sku[order_line.sku.strip().casefold()].append(order_line)

    def in_basis(self, amount: Decimal, tax: Decimal) -> Decimal:
        """A NetSuite amount and its tax as BigCommerce reads an amount-bound item in this order's basis."""
        return amount + tax if self.basis is TaxBasis.INCLUSIVE else amount

    def with_tax(self, amount: Decimal, rate: Decimal) -> Decimal:
        """What BigCommerce refunds for an amount-bound item of `amount` in the basis: tax included."""
        return amount if self.basis is TaxBasis.INCLUSIVE else amount + to_cents(amount * rate)

    # -- product lines -------------------------------------------------------------------------
    def candidates(self, line: RefundLine) -> list[OrderLine]:
        rule = self.rules.line_match
        if rule is LineMatchRule.SKU:
            if not line.sku:
                raise RefundProblem(
                    Reason.NO_MATCHING_LINE, f"{describe(line)} has no SKU to match on{self.fee_hint(line)}"
                )
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

    def fee_hint(self, line: RefundLine) -> str:
        """A line named like one of the order's fees is one: say how to refund it as the fee it is."""
        for fee in self.order.fees:
            if _names_fee(line, fee):
                return f"; it is named like the order's fee {fee.id} ({fee.name}): list the item in FeeItems"
        return ""

    def whole_units(self, line: RefundLine) -> int:
        quantity = line.quantity
        if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
            raise RefundProblem(
                Reason.QUANTITY_INVALID, f"{describe(line)} has quantity {quantity}; a whole number is needed"
            )
        return int(quantity)

    def add_product(self, line: RefundLine) -> None:
        matches = self.candidates(line)
        if not matches:
            raise RefundProblem(
                Reason.NO_MATCHING_LINE,
                f"{describe(line)} matches no line of BigCommerce order {self.order.id} "
                f"(by {self.rules.line_match.value}); the order has "
                + ", ".join(f"{o.sku or o.name} (line {o.id})" for o in self.order.lines)
                + self.fee_hint(line),
            )
        units = self.whole_units(line)
        split = self.split_by_remaining(line, units, matches)
        full_price = to_cents(total(o.net_unit_ex_tax * n for o, n in split))
        given_back = line.amount + line.tax_amount
        if line.amount >= full_price - self.rules.line_threshold:
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

    # -- fees and gift wrapping -------------------------------------------------------------------
    def add_fee(self, line: RefundLine, refunded: RefundedSoFar) -> None:
        fees = self.order.fees
        named = [fee for fee in fees if _names_fee(line, fee)]
        matches = named or (list(fees) if len(fees) == 1 else [])
        listed = ", ".join(f"{fee.name or 'fee'} (fee {fee.id}, {fee.cost(self.basis)})" for fee in fees)
        if len(matches) != 1:
            raise RefundProblem(
                Reason.NO_MATCHING_FEE,
                f"{describe(line)} is a fee item, but BigCommerce order {self.order.id} "
                + (
                    f"has several fees it could be: {listed}"
                    if matches
                    else f"has no such fee ({listed or 'no fees'})"
                ),
            )
        (fee,) = matches
        given_back = line.amount + line.tax_amount
        asked = self.in_basis(line.amount, line.tax_amount)
        if asked < 0:
            raise RefundProblem(Reason.UNSUPPORTED_LINE, f"{describe(line)} is a negative fee ({given_back})")
        left = fee.cost(self.basis) - refunded.fees.get(fee.id, ZERO) - self.fee_amounts.get(fee.id, ZERO)
        if asked > left + self.rules.netsuite_rounding:
            raise RefundProblem(
                Reason.AMOUNT_EXCEEDS_REMAINING,
                f"{describe(line)} gives back {asked} of fee {fee.id} ({fee.name}); BigCommerce order "
                f"{self.order.id} has {max(left, ZERO)} of it left to refund",
            )
        asked = min(asked, max(left, ZERO))
        self.fee_amounts[fee.id] += asked
        self.estimated += self.with_tax(asked, fee.tax_rate)
        self.allocations.append(
            Allocation(source=describe(line), target=f"FEE {fee.id} ({fee.name})", amount=given_back)
        )

    def add_gift_wrapping(self, line: RefundLine, refunded: RefundedSoFar) -> None:
        units = self.whole_units(line)
        wrapped = [o for o in self.order.lines if o.is_wrapped]

        def left(order_line: OrderLine) -> int:
            done = refunded.wrapping.get(order_line.id, 0) + self.wrapped_quantities.get(order_line.id, 0)
            return max(order_line.remaining_wrapping_quantity - done, 0)

        open_lines = [o for o in wrapped if left(o) >= units]
        by_sku = [
            o for o in open_lines if line.sku and o.sku.strip().casefold() == line.sku.strip().casefold()
        ]
        by_name = [o for o in open_lines if o.wrapping_name.casefold() == line.item_name.casefold()]
        matches = by_sku or by_name or open_lines
        listed = ", ".join(
            f"{o.sku or o.name} (line {o.id}, {o.wrapping_name or 'wrapped'}, {left(o)} unit(s) left)"
            for o in wrapped
        )
        if len(matches) != 1:
            raise RefundProblem(
                Reason.NO_MATCHING_GIFT_WRAPPING,
                f"{describe(line)} refunds gift wrapping of {units} unit(s), but BigCommerce order "
                f"{self.order.id} has "
                + (
                    f"several wrapped lines it could be: {listed}"
                    if matches
                    else f"no such wrapping left ({listed or 'no wrapped lines'})"
                ),
            )
        (order_line,) = matches
        unit_ex = order_line.wrapping_cost_ex_tax / order_line.quantity
        full_price = to_cents(unit_ex * units)
        given_back = line.amount + line.tax_amount
        if line.amount < full_price - self.rules.line_threshold:
            # GIFT_WRAPPING refunds whole wrapped units; a custom amount would leave the tax records wrong.
            raise RefundProblem(
                Reason.NO_MATCHING_GIFT_WRAPPING,
                f"{describe(line)} refunds {line.amount} of {full_price} gift wrapping (before tax) on line "
                f"{order_line.id}: BigCommerce refunds wrapping only by whole units",
            )
        self.wrapped_quantities[order_line.id] += units
        self.estimated += to_cents(order_line.wrapping_cost_inc_tax / order_line.quantity * units)
        self.allocations.append(
            Allocation(
                source=describe(line), target=f"GIFT_WRAPPING {order_line.id} x {units}", amount=given_back
            )
        )

    # -- the other roles ------------------------------------------------------------------------
    def add_line(self, line: RefundLine, refunded: RefundedSoFar) -> None:
        role = line_role(line, self.rules)
        given_back = line.amount + line.tax_amount
        if role is LineRole.PRODUCT:
            self.add_product(line)
        elif role in (LineRole.SHIPPING, LineRole.HANDLING):
            kind = AmountKind.SHIPPING if role is LineRole.SHIPPING else AmountKind.HANDLING
            self.requested[kind] += self.in_basis(line.amount, line.tax_amount)
            target = kind.value.upper()
            self.allocations.append(Allocation(source=describe(line), target=target, amount=given_back))
        elif role is LineRole.FEE:
            self.add_fee(line, refunded)
        elif role is LineRole.GIFT_WRAPPING:
            self.add_gift_wrapping(line, refunded)
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
    def amount_items(self, kind: AmountKind, refunded: dict[int, Decimal]) -> list[RefundItem]:
        requested = to_cents(self.requested[kind])
        if requested == 0:
            return []
        item_type = RefundItemType.SHIPPING if kind is AmountKind.SHIPPING else RefundItemType.HANDLING
        what = kind.value
        basis = "" if self.basis is TaxBasis.INCLUSIVE else " before tax"

        def charged(consignment: Consignment) -> Decimal:
            return consignment.cost(kind, self.basis) - refunded.get(consignment.address_id, ZERO)

        open_consignments = [c for c in self.order.consignments if charged(c) > 0]
        if not open_consignments:
            raise RefundProblem(
                Reason.SHIPPING_NOT_ON_ORDER if not refunded else Reason.AMOUNT_EXCEEDS_REMAINING,
                f"the refund gives back {requested} {what}{basis}, but BigCommerce order {self.order.id} "
                f"has no {what} left to refund",
            )
        remaining = [charged(c) for c in open_consignments]
        if requested > total(remaining) + self.rules.netsuite_rounding:
            raise RefundProblem(
                Reason.AMOUNT_EXCEEDS_REMAINING,
                f"the refund gives back {requested} {what}{basis}; BigCommerce order {self.order.id} has "
                f"{total(remaining)} left to refund",
            )
        parts = allocate(min(requested, total(remaining)), remaining)
        self.estimated += total(
            self.with_tax(part, c.tax_rate(kind)) for c, part in zip(open_consignments, parts, strict=True)
        )
        return [
            RefundItem(item_type=item_type, item_id=c.address_id, amount=part, reason=self.reason)
            for c, part in zip(open_consignments, parts, strict=True)
            if part > 0
        ]

    def header_amounts(self) -> None:
        refund = self.refund
        for kind, amount, tax in (
            (AmountKind.SHIPPING, refund.shipping_amount, refund.shipping_tax),
            (AmountKind.HANDLING, refund.handling_amount, refund.handling_tax),
        ):
            if amount or tax:
                self.requested[kind] += self.in_basis(amount, tax)
                self.allocations.append(
                    Allocation(source=kind.value, target=kind.value.upper(), amount=amount + tax)
                )

    def build(self, refunded: RefundedSoFar) -> RefundPlan:
        for line in sorted(self.refund.lines, key=lambda line: line.line):
            self.add_line(line, refunded)
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
        items += [
            RefundItem(
                item_type=RefundItemType.GIFT_WRAPPING, item_id=line_id, quantity=quantity, reason=self.reason
            )
            for line_id, quantity in sorted(self.wrapped_quantities.items())
        ]
        items += self.amount_items(AmountKind.SHIPPING, refunded.shipping)
        items += self.amount_items(AmountKind.HANDLING, refunded.handling)
        items += [
            RefundItem(
                item_type=RefundItemType.FEE, item_id=fee_id, amount=to_cents(amount), reason=self.reason
            )
            for fee_id, amount in sorted(self.fee_amounts.items())
            if to_cents(amount) > 0
        ]
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
            tax_basis=self.basis,
            whole_order=self.covers_whole_order(refunded),
            marker=refund_marker(self.refund),
        )

    def describe(self, item: RefundItem) -> str:
        before_tax = " before tax" if self.basis is TaxBasis.EXCLUSIVE else ""
        if item.item_type is RefundItemType.PRODUCT:
            line = self.lines_by_id[item.item_id]
            less = f" less {-item.adjustment}" if item.adjustment else ""
            return f"{line.sku or line.name} x {item.quantity}{less} (line {item.item_id})"
        if item.item_type is RefundItemType.GIFT_WRAPPING:
            line = self.lines_by_id[item.item_id]
            return f"gift wrapping of {line.sku or line.name} x {item.quantity} (line {item.item_id})"
        if item.item_type is RefundItemType.ORDER:
            return f"custom amount {item.amount}"
        if item.item_type is RefundItemType.FEE:
            fee = next((f for f in self.order.fees if f.id == item.item_id), None)
            name = fee.name if fee is not None and fee.name else "fee"
            return f"{name} {item.amount}{before_tax} (fee {item.item_id})"
        return f"{item.item_type.value.lower()} {item.amount}{before_tax} (address {item.item_id})"

    def covers_whole_order(self, refunded: RefundedSoFar) -> bool:
        every_unit = all(
            self.product_quantities.get(line.id, 0) >= line.remaining_quantity for line in self.order.lines
        )
        for kind in AmountKind:
            left = total(
                c.cost(kind, self.basis)
                - (refunded.shipping if kind is AmountKind.SHIPPING else refunded.handling).get(
                    c.address_id, ZERO
                )
                for c in self.order.consignments
            )
            if to_cents(self.requested[kind]) < to_cents(left):
                return False
        return every_unit


def _names_fee(line: RefundLine, fee: Fee) -> bool:
    name = fee.name.strip().casefold()
    return bool(name) and name in {line.item_name.strip().casefold(), (line.sku or "").strip().casefold()}


def check_netsuite_totals(refund: NetSuiteRefund, tolerance: Decimal = CENT) -> None:
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


def check_currency(refund: NetSuiteRefund, order: BigCommerceOrder) -> None:
    """BigCommerce refunds in the order's transactional currency (what the shopper paid in), whatever
    currency the storefront showed the prices in; NetSuite's refund must be in that currency."""
    if refund.currency.upper() == order.currency_code.upper():
        return
    shown = (
        f" (the storefront showed the shopper prices in {order.shown_in} at "
        f"{order.display_exchange_rate.normalize()} per {order.store_default_currency_code}, but BigCommerce "
        f"refunds in the currency paid)"
        if refund.currency.upper() == order.shown_in
        else ""
    )
    raise RefundProblem(
        Reason.CURRENCY_MISMATCH,
        f"the refund is in {refund.currency}; BigCommerce order {order.id} was paid in "
        f"{order.currency_code}{shown}",
    )


def plan_refund(
    refund: NetSuiteRefund,
    order: BigCommerceOrder,
    rules: MappingRules,
    refunded: RefundedSoFar | None = None,
) -> RefundPlan:
    """Map one NetSuite refund onto one BigCommerce refund request, or raise RefundProblem."""
    check_currency(refund, order)
    check_netsuite_totals(refund, rules.netsuite_rounding)
    if refund.total <= 0:
        raise RefundProblem(Reason.NOTHING_TO_REFUND, f"the refund's total is {refund.total}")
    plan = _PlanBuilder(refund, order, rules).build(refunded or RefundedSoFar())
    if not plan.items:
        raise RefundProblem(
            Reason.NOTHING_TO_REFUND, f"no line of the refund gives anything back (total {refund.total})"
        )
    if abs(plan.allocated_total - refund.total) > rules.netsuite_rounding:
        # Cannot happen by construction; kept as the last guard against refunding a wrong amount.
        raise RefundProblem(
            Reason.NETSUITE_TOTALS_INCONSISTENT,
            f"allocated {plan.allocated_total} of a {refund.total} refund",
        )
    return plan


def taxed_item_count(item_types: Iterable[RefundItemType]) -> int:
    """How many of these items BigCommerce works out the tax of (at least 1)."""
    return max(1, sum(1 for item_type in item_types if item_type.taxed))


def refund_tolerance(refund: CreatedRefund, per_line: Decimal) -> Decimal:
    """How far a refund BigCommerce made may be from the NetSuite total: as for its quote, a cent (by
    default) per item whose tax BigCommerce works out."""
    kinds = [RefundItemType(i.item_type) for i in refund.items if i.item_type in RefundItemType.__members__]
    return per_line * taxed_item_count(kinds)


def quote_tolerance(plan: RefundPlan, per_line: Decimal) -> Decimal:
    """How far BigCommerce's quote may be from the NetSuite total: a cent (by default) per item whose tax
    BigCommerce works out, since it and NetSuite each round the tax of every line."""
    return per_line * plan.taxed_items
